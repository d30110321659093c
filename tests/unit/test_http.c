/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP connection layer (net/http.c) through its public header and a
 * real socket on 127.0.0.1, port 0, with a tiny set of hf_http_ops: limits
 * (413 before the body is read, 431, too many connections), the
 * per-request deadline a trickling sender cannot extend (408), idle
 * keep-alive, deferred answers given from other threads (in order behind
 * pipelined requests, to a peer that left, during a stop), keep-alive and
 * pipelining. */
#define _GNU_SOURCE
#include "tu_runtime.h"
#include "http.h"

#include <errno.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- the server side: a few routes ---- */

#define MAX_DEFERRED 64

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int heads, requests;
    struct hf_http_defer *deferred[MAX_DEFERRED];
    char deferred_id[MAX_DEFERRED][32];
    int ndeferred, taken;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int on_headers(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    (void)arg;
    pthread_mutex_lock(&srv.mu);
    srv.heads++;
    pthread_mutex_unlock(&srv.mu);
    if (!strcmp(req->path, "/forbidden")) {
        hf_http_error(resp, 403, "not for you");
        return 403;
    }
    return 0;
}

static void on_request(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    (void)arg;
    pthread_mutex_lock(&srv.mu);
    srv.requests++;
    pthread_mutex_unlock(&srv.mu);
    if (!strcmp(req->path, "/defer")) {
        struct hf_http_defer *d = hf_http_defer(resp);
        const char *id = hf_http_header(req, "x-id");
        pthread_mutex_lock(&srv.mu);
        snprintf(srv.deferred_id[srv.ndeferred], sizeof(srv.deferred_id[0]), "%s", id ? id : "");
        srv.deferred[srv.ndeferred++] = d;
        pthread_cond_broadcast(&srv.cv);
        pthread_mutex_unlock(&srv.mu);
        return;
    }
    resp->status = 200;
    resp->close = !strcmp(req->path, "/close");
    hf_buf_printf(&resp->body, "{\"path\":\"%s\",\"len\":%zu}", req->path, req->body_len);
}

static const struct hf_http_ops ops = {.on_headers = on_headers, .on_request = on_request};

static int counter(int *p)
{
    pthread_mutex_lock(&srv.mu);
    int v = *p;
    pthread_mutex_unlock(&srv.mu);
    return v;
}

/* The next deferred answer's handle (and the X-Id it came with). */
static struct hf_http_defer *take_deferred(char *id, size_t idlen)
{
    struct hf_http_defer *d = NULL;
    int64_t deadline = hf_mono_ms() + 10000;
    pthread_mutex_lock(&srv.mu);
    while (srv.taken == srv.ndeferred && hf_mono_ms() < deadline) {
        pthread_mutex_unlock(&srv.mu);
        tu_nap();
        pthread_mutex_lock(&srv.mu);
    }
    if (srv.taken < srv.ndeferred) {
        if (id)
            snprintf(id, idlen, "%s", srv.deferred_id[srv.taken]);
        d = srv.deferred[srv.taken++];
    }
    pthread_mutex_unlock(&srv.mu);
    if (!d)
        fail_msg("no deferred request arrived");
    return d;
}

static struct hf_http_server *server_up(int64_t read_timeout_ms, int64_t max_connections)
{
    pthread_mutex_lock(&srv.mu);
    srv.heads = srv.requests = srv.ndeferred = srv.taken = 0;
    pthread_mutex_unlock(&srv.mu);
    struct hf_http_limits lim = {
        .max_body = 1024, .max_header = 2048, .max_connections = max_connections, .read_timeout_ms = read_timeout_ms};
    char err[256];
    /* one thread: requests on different connections meet in one loop */
    struct hf_http_server *s = hf_http_new("127.0.0.1:0", 1, &lim, NULL, NULL, &ops, NULL, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    assert_true(hf_http_port(s) > 0);
    assert_int_equal(hf_http_start(s), 0);
    return s;
}

static void server_down(struct hf_http_server *s)
{
    hf_http_stop(s);
    hf_http_free(s);
}

/* ---- the client side: plain blocking sockets, reads with a deadline ---- */

struct client {
    int fd;
    char buf[16384];
    size_t len;
};

struct answer {
    int status;
    char head[2048];
    char body[2048];
    size_t body_len;
};

static struct client *cl_connect(int port)
{
    struct client *c = calloc(1, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return c;
}

static void cl_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static void cl_send(struct client *c, const char *data, size_t len)
{
    while (len) {
        ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail_msg("send: %s", strerror(errno));
        data += w;
        len -= (size_t)w;
    }
}

static void cl_puts(struct client *c, const char *s) { cl_send(c, s, strlen(s)); }

/* Reads more into the buffer, waiting up to ms: 1 read, 0 nothing yet, -1 EOF or reset. */
static int cl_fill(struct client *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int rc = poll(&p, 1, ms);
    if (rc <= 0)
        return 0;
    if (c->len == sizeof(c->buf))
        fail_msg("client buffer full");
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    return 1;
}

/* Takes one whole answer off the buffer if there is one. An answer to
 * HEAD (head_only) is its head alone: the body its Content-Length states
 * is not sent. */
static bool cl_take(struct client *c, struct answer *a, bool head_only)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t hl = (size_t)(end - c->buf) + 4;
    if (hl >= sizeof(a->head))
        fail_msg("answer head too long");
    memcpy(a->head, c->buf, hl);
    a->head[hl] = '\0';
    const char *cl = strcasestr(a->head, "\r\ncontent-length:");
    if (!cl && !head_only)
        fail_msg("answer without Content-Length: %s", a->head);
    size_t blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
    size_t sent = head_only ? 0 : blen;
    if (c->len < hl + sent)
        return false;
    if (sent >= sizeof(a->body))
        fail_msg("answer body too long");
    memcpy(a->body, c->buf + hl, sent);
    a->body[sent] = '\0';
    a->body_len = blen; /* for HEAD, the length stated, not sent */
    a->status = (int)strtol(a->head + 9, NULL, 10);
    memmove(c->buf, c->buf + hl + sent, c->len - hl - sent);
    c->len -= hl + sent;
    return true;
}

/* The next answer (to HEAD: head_only), within ms; false at EOF or when
 * none came. */
static bool cl_next(struct client *c, struct answer *a, int ms, bool head_only)
{
    int64_t deadline = hf_mono_ms() + ms;
    while (!cl_take(c, a, head_only)) {
        int64_t left = deadline - hf_mono_ms();
        if (left <= 0 || cl_fill(c, (int)left) < 0)
            return false;
    }
    return true;
}

static bool cl_answer(struct client *c, struct answer *a, int ms) { return cl_next(c, a, ms, false); }
static bool cl_answer_head(struct client *c, struct answer *a, int ms) { return cl_next(c, a, ms, true); }

/* True once the server has closed the connection (EOF or reset), within
 * ms; bytes that arrive first are kept in the buffer. */
static bool cl_closed(struct client *c, int ms)
{
    int64_t deadline = hf_mono_ms() + ms;
    for (;;) {
        int64_t left = deadline - hf_mono_ms();
        if (left <= 0)
            return false;
        if (cl_fill(c, (int)left) < 0)
            return true;
    }
}

static bool has_header(const struct answer *a, const char *line) { return strcasestr(a->head, line) != NULL; }

static void post(struct client *c, const char *path, const char *body, const char *extra)
{
    char req[4096];
    int n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n%s\r\n%s", path,
                     strlen(body), extra ? extra : "", body);
    cl_send(c, req, (size_t)n);
}

/* ---- keep-alive and pipelining ---- */

static void test_keepalive_pipelining(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct client *c = cl_connect(hf_http_port(s));
    /* three requests in one write, one of them chunked */
    cl_puts(c, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
               "POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n2\r\n!!\r\n0\r\n\r\n"
               "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    struct answer a;
    const char *want[] = {"{\"path\":\"/a\",\"len\":3}", "{\"path\":\"/b\",\"len\":7}", "{\"path\":\"/c\",\"len\":0}"};
    for (int i = 0; i < 3; i++) {
        assert_true(cl_answer(c, &a, 5000));
        assert_int_equal(a.status, 200);
        assert_string_equal(a.body, want[i]);
        assert_false(has_header(&a, "connection: close"));
    }
    /* the connection stays open for more, sent in pieces */
    cl_puts(c, "POST /d HTTP/1.1\r\nHo");
    cl_puts(c, "st: t\r\nContent-Length: 2\r\n\r\nx");
    cl_puts(c, "y");
    assert_true(cl_answer(c, &a, 5000));
    assert_string_equal(a.body, "{\"path\":\"/d\",\"len\":2}");
    /* Connection: close from the client: answered, then closed */
    post(c, "/e", "", "Connection: close\r\n");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);

    /* HTTP/1.0 without keep-alive: one request per connection */
    c = cl_connect(hf_http_port(s));
    cl_puts(c, "POST /f HTTP/1.0\r\nContent-Length: 1\r\n\r\nz");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);

    /* the handler may close */
    c = cl_connect(hf_http_port(s));
    post(c, "/close", "", NULL);
    assert_true(cl_answer(c, &a, 5000));
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);
    assert_int_equal(counter(&srv.requests), 7);
    server_down(s);
}

/* ---- limits ---- */

static void test_body_limit(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct answer a;
    /* a declared length over max_body is refused before a byte of the body
     * is sent */
    struct client *c = cl_connect(hf_http_port(s));
    cl_puts(c, "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 413);
    assert_true(has_header(&a, "connection: close"));
    assert_non_null(strstr(a.body, "max_body"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);
    assert_int_equal(counter(&srv.heads), 1);
    assert_int_equal(counter(&srv.requests), 0);

    /* on_headers may refuse as well, before the body */
    c = cl_connect(hf_http_port(s));
    cl_puts(c, "POST /forbidden HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 403);
    assert_true(cl_closed(c, 5000));
    cl_close(c);

    /* a chunked body that grows past max_body: 413 once it does */
    c = cl_connect(hf_http_port(s));
    char chunk[600];
    memset(chunk, 'q', 512);
    snprintf(chunk + 512, sizeof(chunk) - 512, "\r\n");
    cl_puts(c, "POST /chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    cl_puts(c, "200\r\n");
    cl_puts(c, chunk);
    cl_puts(c, "200\r\n");
    cl_puts(c, chunk);
    assert_int_equal(cl_fill(c, 50), 0); /* 1024 bytes: still within the limit */
    cl_puts(c, "1\r\nq\r\n");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 413);
    cl_close(c);

    /* exactly max_body is fine */
    c = cl_connect(hf_http_port(s));
    char body[1025];
    memset(body, 'b', 1024);
    body[1024] = '\0';
    post(c, "/full", body, NULL);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"path\":\"/full\",\"len\":1024}");
    cl_close(c);
    assert_int_equal(counter(&srv.requests), 1);
    server_down(s);
}

static void test_header_limits(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct answer a;
    char pad[4096];

    /* a header block growing past max_header, never finished: 431 */
    struct client *c = cl_connect(hf_http_port(s));
    cl_puts(c, "POST /h HTTP/1.1\r\nHost: t\r\nX-Pad: ");
    memset(pad, 'p', 3000);
    pad[3000] = '\0';
    cl_puts(c, pad);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 431);
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);

    /* more than HF_HTTP_MAX_HEADERS fields, each small: 431 */
    c = cl_connect(hf_http_port(s));
    size_t n = (size_t)snprintf(pad, sizeof(pad), "POST /h HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < HF_HTTP_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(pad + n, sizeof(pad) - n, "X%d: 1\r\n", i);
    snprintf(pad + n, sizeof(pad) - n, "\r\n");
    assert_true(strlen(pad) < 2048);
    cl_puts(c, pad);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 431);
    cl_close(c);

    /* a header block just within max_header passes */
    c = cl_connect(hf_http_port(s));
    n = (size_t)snprintf(pad, sizeof(pad), "POST /h HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nX-Pad: ");
    size_t fill = 2048 - n - 4;
    memset(pad + n, 'p', fill);
    snprintf(pad + n + fill, sizeof(pad) - n - fill, "\r\n\r\n");
    assert_int_equal(strlen(pad), 2048);
    cl_puts(c, pad);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    cl_close(c);
    assert_int_equal(counter(&srv.requests), 1);
    server_down(s);
}

/* One request on a new connection; its status (0: none). Send errors are
 * ignored: a refused connection may be closed before it is written to. */
static int try_request(int port)
{
    struct client *c = cl_connect(port);
    static const char req[] = "POST /try HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n";
    ssize_t w = send(c->fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    (void)w;
    struct answer a = {0};
    int status = cl_answer(c, &a, 5000) ? a.status : 0;
    cl_close(c);
    return status;
}

static void test_max_connections(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 2);
    struct client *c1 = cl_connect(hf_http_port(s)), *c2 = cl_connect(hf_http_port(s));
    struct answer a;
    /* both are accepted (each answers) before the third comes */
    post(c1, "/1", "", NULL);
    post(c2, "/2", "", NULL);
    assert_true(cl_answer(c1, &a, 5000));
    assert_true(cl_answer(c2, &a, 5000));
    struct client *c3 = cl_connect(hf_http_port(s));
    if (!cl_answer(c3, &a, 5000))
        fail_msg("no answer to a connection over max_connections; got '%.*s'", (int)c3->len, c3->buf);
    assert_int_equal(a.status, 503);
    assert_true(has_header(&a, "retry-after: 1"));
    assert_true(cl_closed(c3, 5000));
    cl_close(c3);
    /* a slot freed is a slot for the next */
    cl_close(c2);
    assert_true(TU_POLL(try_request(hf_http_port(s)) == 200, 5000));
    cl_close(c1);
    server_down(s);
}

/* ---- the per-request deadline ---- */

/* Sends text a byte at a time, every 20 ms, until an answer comes or
 * the text is all sent; returns when, in ms since the first byte, and
 * fills a (status 0: no answer). */
static int64_t trickle(struct client *c, const char *text, struct answer *a)
{
    int64_t start = hf_mono_ms();
    a->status = 0;
    for (size_t i = 0; text[i]; i++) {
        if (send(c->fd, text + i, 1, MSG_NOSIGNAL) != 1)
            break; /* closed on us */
        int64_t next = hf_mono_ms() + 20;
        while (hf_mono_ms() < next) {
            int r = cl_fill(c, (int)(next - hf_mono_ms()));
            if (cl_take(c, a, false))
                return hf_mono_ms() - start;
            if (r < 0)
                return hf_mono_ms() - start;
        }
    }
    cl_answer(c, a, 5000);
    return hf_mono_ms() - start;
}

static void test_deadline(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(300, 64);
    struct answer a;
    char text[512];

    /* headers trickling in, each byte well within the timeout: the
     * request still has 300 ms in all (the text would take ~2.5 s) */
    struct client *c = cl_connect(hf_http_port(s));
    snprintf(text, sizeof(text), "POST /slow HTTP/1.1\r\nHost: t\r\nX-Padding: %0100d\r\nContent-Length: 0\r\n\r\n", 0);
    int64_t took = trickle(c, text, &a);
    if (a.status != 408)
        fail_msg("a sender trickling its headers got status %d after %lld ms, not 408", a.status, (long long)took);
    assert_true(took >= 250);
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    cl_close(c);

    /* the same with the body */
    c = cl_connect(hf_http_port(s));
    cl_puts(c, "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 120\r\n\r\n");
    memset(text, 'b', 120);
    text[120] = '\0';
    took = trickle(c, text, &a);
    if (a.status != 408)
        fail_msg("a sender trickling its body got status %d after %lld ms, not 408", a.status, (long long)took);
    cl_close(c);
    assert_int_equal(counter(&srv.requests), 0);

    /* a request that keeps to the deadline is answered; the idle
     * connection after it is closed without a word */
    c = cl_connect(hf_http_port(s));
    int64_t sent = hf_mono_ms(); /* the idle time starts after this */
    post(c, "/quick", "ok", NULL);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_true(cl_closed(c, 5000));
    assert_true(hf_mono_ms() - sent >= 290);
    assert_int_equal(c->len, 0);
    cl_close(c);
    server_down(s);
}

/* ---- deferred answers ---- */

struct resumer {
    struct hf_http_defer *d;
    int status;
    char body[64];
};

static void *resume_main(void *arg)
{
    struct resumer *r = arg;
    hf_http_resume(r->d, r->status, r->body, strlen(r->body), 0);
    return NULL;
}

static void resume_from_thread(struct hf_http_defer *d, int status, const char *body)
{
    struct resumer r = {.d = d, .status = status};
    snprintf(r.body, sizeof(r.body), "%s", body);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resume_main, &r), 0);
    pthread_join(t, NULL);
}

/* The answer comes from another thread, later; a request pipelined
 * behind it is not read until then, and is answered after it. */
static void test_deferred_in_order(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct answer a;
    struct client *c = cl_connect(hf_http_port(s));
    post(c, "/defer", "{}", "X-Id: one\r\n");
    struct hf_http_defer *d = take_deferred(NULL, 0);
    post(c, "/after", "x", NULL);
    /* a request on another connection, through the same (only) loop: once
     * it is answered, the loop has seen the pipelined bytes too */
    struct client *other = cl_connect(hf_http_port(s));
    post(other, "/other", "", NULL);
    assert_true(cl_answer(other, &a, 5000));
    cl_close(other);
    assert_int_equal(counter(&srv.requests), 2); /* /defer and /other, not /after */
    assert_int_equal(cl_fill(c, 0), 0); /* and no answer yet */

    resume_from_thread(d, 202, "{\"status\":\"accepted\"}");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 202);
    assert_string_equal(a.body, "{\"status\":\"accepted\"}");
    assert_false(has_header(&a, "connection: close"));
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"path\":\"/after\",\"len\":1}");
    assert_int_equal(counter(&srv.requests), 3);
    cl_close(c);
    server_down(s);
}

/* A deferred request is not timed out by read_timeout: the wait is ours,
 * not the sender's. */
static void test_deferred_outlives_read_timeout(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(200, 64);
    struct answer a;
    struct client *c = cl_connect(hf_http_port(s));
    post(c, "/defer", "{}", NULL);
    struct hf_http_defer *d = take_deferred(NULL, 0);
    /* three timeouts pass with nothing to read */
    assert_int_equal(cl_fill(c, 600), 0);
    resume_from_thread(d, 202, "{}");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 202);
    cl_close(c);
    server_down(s);
}

struct many {
    struct hf_http_defer *d[MAX_DEFERRED];
    char id[MAX_DEFERRED][32];
    int from, n, step;
};

static void *resume_many(void *arg)
{
    struct many *m = arg;
    for (int i = m->from; i < m->n; i += m->step) {
        char body[64];
        snprintf(body, sizeof(body), "{\"id\":\"%s\"}", m->id[i]);
        hf_http_resume(m->d[i], 202, body, strlen(body), 0);
    }
    return NULL;
}

/* Thirty connections wait; four threads answer them in an interleaved
 * order; each client gets its own answer. */
static void test_deferred_many_threads(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    enum { N = 30 };
    struct client *c[N];
    static struct many m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < N; i++) {
        c[i] = cl_connect(hf_http_port(s));
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "X-Id: c%d\r\n", i);
        post(c[i], "/defer", "{}", hdr);
    }
    for (int i = 0; i < N; i++)
        m.d[i] = take_deferred(m.id[i], sizeof(m.id[i]));
    m.n = N;
    pthread_t t[4];
    struct many parts[4];
    for (int k = 0; k < 4; k++) {
        parts[k] = m;
        parts[k].from = k;
        parts[k].step = 4;
        assert_int_equal(pthread_create(&t[k], NULL, resume_many, &parts[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    for (int i = 0; i < N; i++) {
        struct answer a;
        assert_true(cl_answer(c[i], &a, 5000));
        assert_int_equal(a.status, 202);
        char want[64];
        snprintf(want, sizeof(want), "{\"id\":\"c%d\"}", i);
        assert_string_equal(a.body, want);
        cl_close(c[i]);
    }
    server_down(s);
}

/* The sender leaves before its answer: the answer is dropped with the
 * connection, and the server goes on. */
static void test_deferred_peer_gone(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct client *c = cl_connect(hf_http_port(s));
    post(c, "/defer", "{}", NULL);
    struct hf_http_defer *d = take_deferred(NULL, 0);
    cl_close(c);
    /* once the server has seen the close, a new connection is served
     * (the same loop handles both) */
    struct answer a;
    struct client *c2 = cl_connect(hf_http_port(s));
    post(c2, "/next", "", NULL);
    assert_true(cl_answer(c2, &a, 5000));
    resume_from_thread(d, 202, "{}");
    post(c2, "/again", "", NULL);
    assert_true(cl_answer(c2, &a, 5000));
    assert_int_equal(a.status, 200);
    cl_close(c2);
    server_down(s);
}

struct stopper {
    struct hf_http_server *s;
    bool done;
    pthread_mutex_t mu;
};

static void *stop_main(void *arg)
{
    struct stopper *st = arg;
    hf_http_stop(st->s);
    pthread_mutex_lock(&st->mu);
    st->done = true;
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static bool connect_refused(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool refused = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}

/* A stop waits for the answers still coming and writes them: the sender
 * of an event the journal has taken hears that it was accepted. */
static void test_stop_writes_pending_answers(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    int port = hf_http_port(s);
    struct client *c = cl_connect(port);
    post(c, "/defer", "{}", NULL);
    struct hf_http_defer *d = take_deferred(NULL, 0);
    struct client *idle = cl_connect(port);

    struct stopper st = {.s = s, .mu = PTHREAD_MUTEX_INITIALIZER};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_main, &st), 0);
    /* the stop has begun: no new connections, the idle one is closed */
    assert_true(TU_POLL(connect_refused(port), 5000));
    assert_true(cl_closed(idle, 5000));
    cl_close(idle);
    pthread_mutex_lock(&st.mu);
    assert_false(st.done); /* still waiting for the answer */
    pthread_mutex_unlock(&st.mu);

    hf_http_resume(d, 202, "{\"status\":\"accepted\"}", 21, 0);
    struct answer a;
    if (!cl_answer(c, &a, 5000))
        fail_msg("the answer given during the stop never reached the sender");
    assert_int_equal(a.status, 202);
    assert_true(has_header(&a, "connection: close"));
    assert_true(cl_closed(c, 5000));
    pthread_join(t, NULL);
    cl_close(c);
    hf_http_free(s);
}

/* ---- HEAD: every answer without a body ---- */

/* The answer to HEAD is the head a GET would get and no body (RFC 9110
 * 9.3.2), on every path: the handler's answer, one given later, a refusal
 * by on_headers or by the limits, malformed framing, the deadline. A body
 * would be read as the next answer. */
static void test_head_has_no_body(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct answer a;
    /* the handler's answer, pipelined with a POST on a kept connection */
    struct client *c = cl_connect(hf_http_port(s));
    cl_puts(c, "HEAD /a HTTP/1.1\r\nHost: t\r\n\r\n"
               "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
    assert_true(cl_answer_head(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_int_equal(a.body_len, strlen("{\"path\":\"/a\",\"len\":0}"));
    assert_true(has_header(&a, "content-type: application/json"));
    assert_false(has_header(&a, "connection: close"));
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"path\":\"/b\",\"len\":1}");
    /* an answer given later, from another thread */
    cl_puts(c, "HEAD /defer HTTP/1.1\r\nHost: t\r\n\r\n");
    resume_from_thread(take_deferred(NULL, 0), 202, "{\"status\":\"accepted\"}");
    assert_true(cl_answer_head(c, &a, 5000));
    assert_int_equal(a.status, 202);
    assert_int_equal(a.body_len, 21);
    /* a refusal after a HEAD on the same connection has its body */
    cl_puts(c, "HEAD /c HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE\r\n\r\n");
    assert_true(cl_answer_head(c, &a, 5000));
    assert_int_equal(a.status, 200);
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "\"error\""));
    assert_true(cl_closed(c, 5000));
    assert_int_equal(c->len, 0);
    cl_close(c);

    /* refusals that close the connection: nothing follows the head */
    static const struct {
        const char *name, *raw;
        int status;
    } refused[] = {
        {"on_headers", "HEAD /forbidden HTTP/1.1\r\nHost: t\r\n\r\n", 403},
        {"max_body", "HEAD /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", 413},
        {"max_header", NULL, 431},
        {"no Host", "HEAD /a HTTP/1.1\r\n\r\n", 400},
        {"malformed chunk extension",
         "HEAD /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2;=\r\n{}\r\n0\r\n\r\n", 400},
        {"HTTP/1.2", "HEAD /a HTTP/1.2\r\nHost: t\r\n\r\n", 505},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        char raw[4200] = "HEAD /h HTTP/1.1\r\nHost: t\r\nX-Pad: ";
        if (refused[i].raw)
            snprintf(raw, sizeof(raw), "%s", refused[i].raw);
        else
            memset(raw + strlen(raw), 'p', 4000); /* over max_header, never finished */
        c = cl_connect(hf_http_port(s));
        cl_puts(c, raw);
        if (!cl_answer_head(c, &a, 5000))
            fail_msg("HEAD, %s: no answer", refused[i].name);
        if (a.status != refused[i].status || a.body_len == 0 || !has_header(&a, "connection: close"))
            fail_msg("HEAD, %s: %s", refused[i].name, a.head);
        if (!cl_closed(c, 5000) || c->len)
            fail_msg("HEAD, %s: %zu bytes after the head: '%.*s'", refused[i].name, c->len, (int)c->len, c->buf);
        cl_close(c);
    }
    server_down(s);

    /* the deadline */
    s = server_up(300, 64);
    c = cl_connect(hf_http_port(s));
    cl_puts(c, "HEAD /slow HTTP/1.1\r\nHost: t\r\n");
    assert_true(cl_answer_head(c, &a, 5000));
    assert_int_equal(a.status, 408);
    assert_true(a.body_len > 0);
    assert_true(cl_closed(c, 5000));
    assert_int_equal(c->len, 0);
    cl_close(c);
    server_down(s);
}

/* RFC 9112 3.2.2: the absolute-form a client sends to a proxy is routed
 * on its path, the query cut off as for the origin-form. */
static void test_absolute_form(void **state)
{
    (void)state;
    struct hf_http_server *s = server_up(5000, 64);
    struct client *c = cl_connect(hf_http_port(s));
    struct answer a;
    cl_puts(c, "POST http://t/a?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
               "POST HTTPS://other.example:8443/b/c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
               "POST http://t?q HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    const char *want[] = {"{\"path\":\"/a\",\"len\":2}", "{\"path\":\"/b/c\",\"len\":0}", "{\"path\":\"/\",\"len\":0}"};
    for (int i = 0; i < 3; i++) {
        assert_true(cl_answer(c, &a, 5000));
        assert_int_equal(a.status, 200);
        assert_string_equal(a.body, want[i]);
    }
    /* other schemes stay refused */
    cl_puts(c, "POST ftp://t/a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_true(cl_answer(c, &a, 5000));
    assert_int_equal(a.status, 400);
    assert_true(cl_closed(c, 5000));
    cl_close(c);
    server_down(s);
}

int main(void)
{
    evthread_use_pthreads();
    hf_log_set_level(HF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_pipelining),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_head_has_no_body),
        cmocka_unit_test(test_absolute_form),
        cmocka_unit_test(test_deferred_in_order),
        cmocka_unit_test(test_deferred_outlives_read_timeout),
        cmocka_unit_test(test_deferred_many_threads),
        cmocka_unit_test(test_deferred_peer_gone),
        cmocka_unit_test(test_stop_writes_pending_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
