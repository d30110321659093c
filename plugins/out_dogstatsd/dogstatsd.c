/* SPDX-License-Identifier: Apache-2.0 */
/* The dogstatsd sink: metric points as DogStatsD datagrams
 * ("name:value|c|#tag:v,..."), packed with '\n' up to the datagram size, to
 * a local Datadog Agent over UDP (a connected socket) or its unix datagram
 * socket. No aggregation: the Agent aggregates. A record's lines are kept
 * in one datagram whenever they fit, so a failed send retries whole records
 * and never repeats a count that already went out. Over UDP a datagram the
 * Agent drops is not noticed; the unix socket reports it. */
#define _GNU_SOURCE
#include "dd_names.h"
#include "plugin.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define UDP_DEFAULT_SIZE 1432 /* no fragmentation on a 1500-byte MTU (datadog-go) */
#define UNIX_DEFAULT_SIZE 8192 /* the Agent's dogstatsd_buffer_size default */
#define UDP_MAX_SIZE 65467

/* The options as the core binds them; owned by the core. */
struct dsd_options {
    char *address;
    struct hf_strlist tags;
    char *prefix;
    int64_t max_datagram_size; /* 0: by transport */
};

#define OPT(m) HF_OPT_AT(struct dsd_options, m)

static const struct hf_option dsd_options[] = {
    {.name = "address",
     .type = HF_OPT_STR,
     .def = "udp://127.0.0.1:8125",
     .help = "udp://host:port or unix:///path/to/dsd.socket",
     OPT(address)},
    {.name = "tags", .type = HF_OPT_STRLIST, .help = "added to every metric", OPT(tags)},
    {.name = "prefix", .type = HF_OPT_STR, .help = "prepended to every metric name", OPT(prefix)},
    {.name = "max_datagram_size",
     .type = HF_OPT_SIZE,
     .min = 512,
     .max = UDP_MAX_SIZE,
     .help = "bytes per datagram; default 1432 over UDP, 8192 over the unix socket",
     OPT(max_datagram_size)},
    {0}};

/* Where the datagrams go. */
struct dsd_address {
    bool is_unix;
    char host[256], port[16];
    struct sockaddr_un sun;
};

struct dsd_ctx {
    struct dsd_address addr;
    int fd;
    size_t max_size;
    const char *prefix;
    struct hf_dd_tags tags;
    struct hf_buf key, rec, pkt;
};

/* udp://host:port or unix:///absolute/path; -1 when it is neither. */
static int parse_address(const char *a, struct dsd_address *out)
{
    memset(out, 0, sizeof(*out));
    if (!strncmp(a, "unix://", 7) && a[7] == '/' && strlen(a + 7) < sizeof(out->sun.sun_path)) {
        out->is_unix = true;
        out->sun.sun_family = AF_UNIX;
        memcpy(out->sun.sun_path, a + 7, strlen(a + 7) + 1);
        return 0;
    }
    if (!strncmp(a, "udp://", 6) &&
        hf_split_hostport(a + 6, out->host, sizeof(out->host), out->port, sizeof(out->port)) == 0)
        return 0;
    return -1;
}

/* `hookfwd check`: metrics only, and an address it can use. */
static int dsd_check(const void *conf, const struct hf_check *ck)
{
    const struct dsd_options *o = conf;
    struct dsd_address addr;
    if (ck->takes & HF_TAKES_RECORDS)
        return hf_check_fail(ck, "takes", "the dogstatsd sink takes metrics only (takes: metrics)");
    if (parse_address(o->address, &addr) < 0)
        return hf_check_fail(ck, "address", "must be udp://host:port or unix:///path, not '%s'", o->address);
    if (!addr.is_unix && !strcmp(addr.port, "0"))
        return hf_check_fail(ck, "address", "needs a port from 1 to 65535");
    return 0;
}

static int dsd_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct dsd_options *o = hf_sink_conf(s);
    struct dsd_ctx *c = hf_calloc(1, sizeof(*c));
    hf_sink_set_state(s, c);
    c->fd = -1;
    hf_buf_init(&c->key, 0);
    hf_buf_init(&c->rec, 0);
    hf_buf_init(&c->pkt, 0);
    if (parse_address(o->address, &c->addr) < 0) { /* checked at load: not reached */
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': bad address", hf_sink_config_file(s), hf_sink_name(s));
        return -1;
    }
    c->max_size = o->max_datagram_size > 0 ? (size_t)o->max_datagram_size
                  : c->addr.is_unix        ? UNIX_DEFAULT_SIZE
                                           : UDP_DEFAULT_SIZE;
    for (size_t i = 0; i < o->tags.n; i++)
        hf_dd_tags_add(&c->tags, o->tags.v[i]);
    c->prefix = o->prefix;
    return 0;
}

/* Connects lazily, so an Agent that starts after hookfwd is picked up. */
static int dsd_connect(struct dsd_ctx *c, char *why, size_t whylen)
{
    if (c->fd >= 0)
        return 0;
    if (c->addr.is_unix) {
        c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (c->fd >= 0 && connect(c->fd, (struct sockaddr *)&c->addr.sun, sizeof(c->addr.sun)) == 0)
            goto connected;
        snprintf(why, whylen, "cannot connect to %s: %s", c->addr.sun.sun_path, strerror(errno));
    } else {
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
        int rc = getaddrinfo(c->addr.host, c->addr.port, &hints, &res);
        if (rc != 0) {
            snprintf(why, whylen, "cannot resolve %s: %s", c->addr.host, gai_strerror(rc));
            return -1;
        }
        c->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int ok = c->fd >= 0 && connect(c->fd, res->ai_addr, res->ai_addrlen) == 0;
        snprintf(why, whylen, "cannot connect to %s:%s: %s", c->addr.host, c->addr.port, strerror(errno));
        freeaddrinfo(res);
        if (ok)
            goto connected;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    return -1;
connected:;
    /* a busy Agent must not stall the worker for long */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return 0;
}

static int dsd_write(struct dsd_ctx *c, const char *p, size_t n, char *why, size_t whylen)
{
    for (;;) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w == (ssize_t)n)
            return 0;
        if (w < 0 && errno == EINTR)
            continue;
        snprintf(why, whylen, "send of a %zu-byte datagram failed: %s", n, w < 0 ? strerror(errno) : "short write");
        /* reconnect next time: the Agent may have restarted */
        close(c->fd);
        c->fd = -1;
        return -1;
    }
}

static const char *type_code(enum hf_metric_type t) { return t == HF_MT_COUNT ? "c" : t == HF_MT_GAUGE ? "g" : "d"; }

/* A record's lines, '\n'-separated, into c->rec; returns how many. */
static size_t record_lines(struct dsd_ctx *c, const struct hf_record *r)
{
    size_t n = 0;
    hf_buf_reset(&c->rec);
    for (size_t j = 0; j < r->npoints; j++) {
        const struct hf_point *pt = &r->points[j];
        size_t name_len, klen = hf_dd_point_key(c->prefix, &c->tags, pt, &c->key, &name_len);
        if (klen == 0 || !isfinite(pt->value))
            continue;
        if (n++ > 0)
            hf_buf_putc(&c->rec, '\n');
        hf_buf_append(&c->rec, c->key.data, name_len);
        hf_buf_putc(&c->rec, ':');
        hf_buf_json_double(&c->rec, pt->value);
        hf_buf_putc(&c->rec, '|');
        hf_buf_puts(&c->rec, type_code(pt->type));
        if (klen > name_len + 1) {
            hf_buf_puts(&c->rec, "|#");
            hf_buf_append(&c->rec, c->key.data + name_len + 1, klen - name_len - 1);
        }
    }
    return n;
}

static int flush_pkt(struct dsd_ctx *c, char *why, size_t whylen)
{
    if (c->pkt.len == 0)
        return 0;
    int rc = dsd_write(c, c->pkt.data, c->pkt.len, why, whylen);
    hf_buf_reset(&c->pkt);
    return rc;
}

/* A record too large for one datagram goes line by line; a line larger
 * than a datagram cannot go at all. */
static int send_big_record(struct dsd_ctx *c, char *why, size_t whylen, bool *too_big)
{
    const char *p = c->rec.data, *end = c->rec.data + c->rec.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - p);
        if (len > c->max_size) {
            *too_big = true;
        } else {
            if (c->pkt.len && c->pkt.len + 1 + len > c->max_size && flush_pkt(c, why, whylen) < 0)
                return -1;
            if (c->pkt.len)
                hf_buf_putc(&c->pkt, '\n');
            hf_buf_append(&c->pkt, p, len);
        }
        p = stop + 1;
    }
    return flush_pkt(c, why, whylen);
}

static void dsd_send(struct hf_sink *s, struct hf_batch *b)
{
    struct dsd_ctx *c = hf_sink_state(s);
    char why[300] = "";
    if (dsd_connect(c, why, sizeof(why)) < 0) {
        hf_batch_done(b, HF_OUT_RETRY, 0, why);
        return;
    }
    hf_buf_reset(&c->pkt);
    size_t sent_upto = 0; /* records before this one are out */
    int rc = 0;
    size_t i = 0;
    for (; i < b->n && rc == 0; i++) {
        if (record_lines(c, b->recs[i]) == 0)
            continue;
        if (c->pkt.len && c->pkt.len + 1 + c->rec.len > c->max_size) {
            if ((rc = flush_pkt(c, why, sizeof(why))) < 0)
                break;
            sent_upto = i;
        }
        if (c->rec.len <= c->max_size) {
            if (c->pkt.len)
                hf_buf_putc(&c->pkt, '\n');
            hf_buf_append(&c->pkt, c->rec.data, c->rec.len);
            continue;
        }
        bool too_big = false;
        if ((rc = flush_pkt(c, why, sizeof(why))) < 0)
            break;
        sent_upto = i;
        if ((rc = send_big_record(c, why, sizeof(why), &too_big)) < 0)
            break;
        sent_upto = i + 1;
        if (too_big)
            hf_batch_mark(b, i, HF_OUT_REJECTED, "a metric line is larger than max_datagram_size");
    }
    if (rc == 0 && flush_pkt(c, why, sizeof(why)) == 0) {
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
        return;
    }
    /* what went out is delivered; the rest is tried again */
    for (size_t k = sent_upto; k < b->n; k++)
        hf_batch_mark(b, k, HF_OUT_RETRY, why);
    hf_batch_done(b, sent_upto ? HF_OUT_DELIVERED : HF_OUT_RETRY, 0, why);
}

static void dsd_destroy(struct hf_sink *s)
{
    struct dsd_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    hf_dd_tags_free(&c->tags);
    hf_buf_free(&c->key);
    hf_buf_free(&c->rec);
    hf_buf_free(&c->pkt);
    free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_dogstatsd = {
    .name = "dogstatsd",
    .options = dsd_options,
    .conf_size = sizeof(struct dsd_options),
    .check = dsd_check,
    .default_takes = HF_TAKES_METRICS,
    .init = dsd_init,
    .send = dsd_send,
    .destroy = dsd_destroy,
};
