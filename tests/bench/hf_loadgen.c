/* SPDX-License-Identifier: Apache-2.0 */
/* hf_loadgen: an open-loop, rate-limited HTTP/1.1 load generator for
 * tests/bench (wrk cannot hold a rate, and wrk2 is not in Debian).
 *
 *   hf_loadgen -f REQUESTS -a HOST:PORT -r RATE -d SECONDS [-c CONNS] [-o OFFSET]
 *
 * Request k is due at start + k/RATE whatever happened to earlier ones; it
 * goes out on a free keep-alive connection, and its latency is measured
 * from its due time, not from when it was written. A server that stalls
 * therefore shows the stall in every request that waited behind it (no
 * coordinated omission), as wrk2 does. REQUESTS is the corpus file written
 * by gen_requests.py. Prints one "HFBENCH key=value ..." line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RBUF 65536

struct req {
    const char *p;
    size_t len;
};

struct conn {
    int fd;
    bool busy;
    const struct req *rq;
    size_t sent;
    int64_t due_ns;
    char rbuf[RBUF];
    size_t rlen;
};

static struct req *reqs;
static size_t nreqs;
static uint32_t *lat_us;
static size_t nlat, lat_cap;
static uint64_t by_class[6]; /* 1xx..5xx, other */
static uint64_t n200, n202, n401, errors;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "hf_loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void load_corpus(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        die(path);
    char *data = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (data && got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r <= 0)
            die("read corpus");
        got += (size_t)r;
    }
    close(fd);
    size_t cap = 1024;
    reqs = malloc(cap * sizeof(*reqs));
    for (size_t off = 0; off < got;) {
        char *end;
        unsigned long len = strtoul(data + off, &end, 10);
        if (*end != '\n' || end + 1 + len > data + got) {
            fprintf(stderr, "hf_loadgen: %s: malformed at byte %zu\n", path, off);
            exit(1);
        }
        if (nreqs == cap)
            reqs = realloc(reqs, (cap *= 2) * sizeof(*reqs));
        reqs[nreqs++] = (struct req){end + 1, len};
        off = (size_t)(end + 1 - data) + len;
    }
    if (!nreqs) {
        fprintf(stderr, "hf_loadgen: %s is empty\n", path);
        exit(1);
    }
}

static int connect_to(const char *addr)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
        fprintf(stderr, "hf_loadgen: address must be HOST:PORT\n");
        exit(2);
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "hf_loadgen: %s is not an IPv4 address\n", host);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void record(int64_t lat_ns, int status)
{
    if (nlat == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
        lat_us = realloc(lat_us, lat_cap * sizeof(*lat_us));
    }
    int64_t us = lat_ns / 1000;
    lat_us[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    by_class[status >= 100 && status < 600 ? status / 100 - 1 : 5]++;
    n200 += status == 200;
    n202 += status == 202;
    n401 += status == 401;
}

/* Writes what is left of the request; false on a dead connection. */
static bool pump_write(struct conn *c)
{
    while (c->sent < c->rq->len) {
        ssize_t w = write(c->fd, c->rq->p + c->sent, c->rq->len - c->sent);
        if (w < 0 && errno == EAGAIN)
            return true;
        if (w <= 0)
            return false;
        c->sent += (size_t)w;
    }
    return true;
}

/* Reads and completes responses; false on a dead connection. */
static bool pump_read(struct conn *c, int64_t t)
{
    for (;;) {
        ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0)
            return false;
        c->rlen += (size_t)r;
    }
    c->rbuf[c->rlen < RBUF ? c->rlen : RBUF - 1] = '\0';
    char *hend = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!hend)
        return c->rlen < RBUF - 1;
    size_t hl = (size_t)(hend - c->rbuf) + 4;
    size_t cl = 0;
    for (char *p = c->rbuf; p && p < hend; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
        if (!strncasecmp(p, "content-length:", 15))
            cl = strtoul(p + 15, NULL, 10);
    if (c->rlen < hl + cl)
        return true;
    int status = c->rlen > 12 ? (int)strtol(c->rbuf + 9, NULL, 10) : 0;
    record(t - c->due_ns, status);
    memmove(c->rbuf, c->rbuf + hl + cl, c->rlen - hl - cl);
    c->rlen -= hl + cl;
    c->busy = false;
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(double p)
{
    if (!nlat)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)nlat);
    return lat_us[i < nlat ? i : nlat - 1];
}

/* The schedule and what was seen of it. */
struct run {
    struct conn *conns;
    int nconns, ep, free_hint;
    size_t offset;
    int64_t period, start, stop, max_late_ns;
    uint64_t k, max_backlog;
};

static int64_t due(const struct run *r, uint64_t k) { return r->start + (int64_t)k * r->period; }

/* Sends every request that is due while a connection is free; the rest
 * wait, and their latency still counts from their due time. */
static bool send_due(struct run *r, int64_t t)
{
    while (due(r, r->k) <= t && due(r, r->k) < r->stop) {
        struct conn *c = NULL;
        for (int i = 0; i < r->nconns && !c; i++) {
            struct conn *cand = &r->conns[(r->free_hint + i) % r->nconns];
            if (!cand->busy)
                c = cand;
        }
        if (!c)
            break;
        r->free_hint = (int)(c - r->conns + 1) % r->nconns;
        c->busy = true;
        c->rq = &reqs[(r->offset + r->k) % nreqs];
        c->sent = 0;
        c->due_ns = due(r, r->k);
        if (t - c->due_ns > r->max_late_ns)
            r->max_late_ns = t - c->due_ns;
        if (!pump_write(c))
            return false;
        r->k++;
    }
    uint64_t backlog = (uint64_t)((t < r->stop ? t : r->stop) - r->start) / (uint64_t)r->period + 1 - r->k;
    if (t < r->stop && backlog > r->max_backlog)
        r->max_backlog = backlog;
    return true;
}

/* Waits for the next due time or socket activity, and handles the latter. */
static bool pump_events(struct run *r, int64_t t)
{
    struct epoll_event evs[MAX_CONNS];
    int64_t next = due(r, r->k), wait = next > t ? next - t : 0;
    if (t >= r->stop)
        wait = 100000000;
    else if (next <= t)
        wait = 1000000; /* requests are waiting for a free connection */
    struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
    int n = epoll_pwait2(r->ep, evs, MAX_CONNS, &ts, NULL);
    int64_t t2 = now_ns();
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        bool ok = true;
        if (c->busy && (evs[i].events & EPOLLOUT))
            ok = pump_write(c);
        if (ok && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            ok = pump_read(c, t2);
        if (!ok)
            return false;
    }
    return true;
}

static void report(const struct run *r, double rate, double secs)
{
    uint64_t non2xx = 0;
    for (int i = 0; i < 6; i++)
        non2xx += i == 1 ? 0 : by_class[i];
    qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
    printf("HFBENCH requests=%zu duration_us=%.0f non2xx=%llu s200=%llu s202=%llu s401=%llu target_rate=%.0f "
           "rate=%.0f p50_us=%u p90_us=%u p99_us=%u p999_us=%u max_us=%u max_send_late_us=%lld max_backlog=%llu\n",
           nlat, (double)(now_ns() - r->start) / 1e3, (unsigned long long)non2xx, (unsigned long long)n200,
           (unsigned long long)n202, (unsigned long long)n401, rate, (double)nlat / secs, pct(50), pct(90), pct(99),
           pct(99.9), nlat ? lat_us[nlat - 1] : 0, (long long)(r->max_late_ns / 1000),
           (unsigned long long)r->max_backlog);
}

int main(int argc, char **argv)
{
    const char *file = NULL, *addr = NULL;
    double rate = 0, secs = 10;
    struct run r = {.nconns = 64};
    int opt;
    while ((opt = getopt(argc, argv, "f:a:r:d:c:o:")) != -1) {
        switch (opt) {
        case 'f': file = optarg; break;
        case 'a': addr = optarg; break;
        case 'r': rate = strtod(optarg, NULL); break;
        case 'd': secs = strtod(optarg, NULL); break;
        case 'c': r.nconns = (int)strtol(optarg, NULL, 10); break;
        case 'o': r.offset = strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: hf_loadgen -f REQUESTS -a HOST:PORT -r RATE -d SECONDS [-c CONNS] [-o OFFSET]\n");
            return 2;
        }
    }
    if (!file || !addr || rate <= 0 || r.nconns < 1 || r.nconns > MAX_CONNS) {
        fprintf(stderr, "hf_loadgen: -f, -a and a positive -r are required; -c is 1..%d\n", MAX_CONNS);
        return 2;
    }
    load_corpus(file);
    r.ep = epoll_create1(0);
    r.conns = calloc((size_t)r.nconns, sizeof(*r.conns));
    for (int i = 0; i < r.nconns; i++) {
        r.conns[i].fd = connect_to(addr);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &r.conns[i]};
        epoll_ctl(r.ep, EPOLL_CTL_ADD, r.conns[i].fd, &ev);
    }
    r.period = (int64_t)(1e9 / rate);
    r.start = now_ns();
    r.stop = r.start + (int64_t)(secs * 1e9);
    for (;;) {
        int64_t t = now_ns();
        if (!send_due(&r, t) || !pump_events(&r, t)) {
            fprintf(stderr, "hf_loadgen: the server closed a connection\n");
            return 1;
        }
        bool any_busy = false;
        for (int i = 0; i < r.nconns && !any_busy; i++)
            any_busy = r.conns[i].busy;
        if (now_ns() >= r.stop && !any_busy && due(&r, r.k) >= r.stop)
            break;
        if (now_ns() >= r.stop + 10 * (int64_t)1000000000) {
            fprintf(stderr, "hf_loadgen: responses still missing 10 s after the end\n");
            errors++;
            break;
        }
    }
    report(&r, rate, secs);
    return errors ? 1 : 0;
}
