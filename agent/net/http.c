/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/1.1 server for webhook ingest and the admin endpoints: the
 * connection layer (limits, deadlines, deferred answers, TLS, keep-alive,
 * pipelining) around llhttp's framing (http_frame.c). */
#define _GNU_SOURCE
#include "http.h"
#include "http_frame.h"
#include "http_listen.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_HIGH_WATER (256 * 1024)
#define LINGER_MS 1000
#define READ_CHUNK 16384

struct worker;

struct conn {
    struct conn *prev, *next; /* the worker's list, for shutdown */
    struct worker *w;
    struct bufferevent *bev;
    struct event *rev; /* plain TCP: reads are ours, one recv each (the bufferevent asks FIONREAD first) */
    struct event *timer;
    struct hf_frame fr; /* llhttp and the request's header block and body */
    struct hf_http_req req;
    struct hf_http_resp resp;
    struct hf_buf out; /* answers not yet sent (a pipelined group goes out in one send) */
    bool in_request; /* first byte of a request seen */
    bool closing;
    bool pending; /* a deferred answer is outstanding */
    bool pending_keep; /* keep-alive decision for it */
    bool dead; /* the peer went away while pending */
    bool linger_wanted; /* refused mid-request: linger after the answer */
    bool lingering; /* answered and half-closed; dropping input until EOF */
    unsigned requests;
};

struct worker {
    struct hf_http_server *srv;
    struct event_base *base;
    struct evconnlistener *lis;
    struct event *stop_ev;
    pthread_t thread;
    int nconns;
    struct conn *conns;
    struct event *resume_ev;
    pthread_mutex_t resume_mu;
    struct hf_http_defer *resumed;
    int npending;
    bool stopping;
};

struct hf_http_defer {
    struct hf_http_defer *next;
    struct conn *c;
    int status;
    int retry_after;
    char *body;
    size_t len;
    char small[256]; /* the body when it fits: most answers are a short JSON object */
};

struct hf_http_server {
    struct hf_http_limits lim;
    const struct hf_http_ops *ops;
    void *arg;
    SSL_CTX *tls;
    struct worker *workers;
    int nworkers;
    int port;
    atomic_int conns;
    atomic_bool stopping;
};

static void conn_free(struct conn *c)
{
    struct worker *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->w->nconns--;
    atomic_fetch_sub(&c->w->srv->conns, 1);
    if (c->timer)
        event_free(c->timer);
    if (c->rev)
        event_free(c->rev); /* before the bufferevent closes the socket */
    if (c->bev) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl)
            SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
        bufferevent_free(c->bev);
    }
    hf_frame_free(&c->fr);
    hf_buf_free(&c->resp.body);
    hf_buf_free(&c->out);
    free(c);
    /* a stopping worker ends with its last connection (answers given
     * during the stop are written first) */
    if (w->stopping && w->nconns == 0)
        event_base_loopexit(w->base, NULL);
}

static void arm_timer(struct conn *c)
{
    int64_t ms = c->w->srv->lim.read_timeout_ms;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* A response head under construction: every answer has one, so it is
 * assembled with memcpy rather than snprintf. */
struct head {
    char buf[512];
    size_t n;
};

static void head_put(struct head *h, const char *s)
{
    size_t len = strlen(s), room = sizeof(h->buf) - h->n;
    memcpy(h->buf + h->n, s, len < room ? len : room);
    h->n += len < room ? len : room;
}

static void head_num(struct head *h, long long v)
{
    char t[24], *e = t + sizeof(t) - 1;
    *e = '\0';
    char *q = hf_digits_before(e, v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v);
    if (v < 0)
        *--q = '-';
    head_put(h, q);
}

static void read_enable(struct conn *c, bool on)
{
    if (c->rev && on)
        event_add(c->rev, NULL);
    else if (c->rev)
        event_del(c->rev);
    else if (on)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

/* Sends what c->out holds: straight to the socket when nothing is queued
 * ahead of it, so an answer costs one send and no write event is armed and
 * disarmed (two epoll_ctl calls) for it; whatever the socket does not take
 * goes through the bufferevent, which then waits for the socket. */
static void flush_out(struct conn *c)
{
    struct hf_buf *o = &c->out;
    if (o->len == 0)
        return;
    struct evbuffer *eo = bufferevent_get_output(c->bev);
    size_t off = 0;
    if (!c->w->srv->tls && evbuffer_get_length(eo) == 0) {
        ssize_t n = send(bufferevent_getfd(c->bev), o->data, o->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            off = (size_t)n;
        /* an error shows again when the bufferevent writes the rest */
    }
    if (off < o->len)
        evbuffer_add(eo, o->data + off, o->len - off);
    hf_buf_reset(o);
}

static size_t out_pending(struct conn *c) { return c->out.len + evbuffer_get_length(bufferevent_get_output(c->bev)); }

/* Appends the answer to c->out; flush_out() sends it. An answer to HEAD,
 * whichever path gives it, has the head a GET would get (Content-Length
 * included) and no body: the client would read one as the next answer. */
static void write_response(struct conn *c, struct hf_http_resp *r, bool keepalive)
{
    struct head h = {.n = 0};
    head_put(&h, "HTTP/1.1 ");
    head_num(&h, r->status);
    head_put(&h, " ");
    head_put(&h, hf_http_status_text(r->status));
    head_put(&h, "\r\nContent-Type: ");
    head_put(&h, r->content_type ? r->content_type : "application/json");
    head_put(&h, "\r\nContent-Length: ");
    head_num(&h, (long long)r->body.len);
    head_put(&h, "\r\n");
    if (!keepalive)
        head_put(&h, "Connection: close\r\n");
    if (r->status == 405)
        head_put(&h, "Allow: POST\r\n");
    if (r->retry_after > 0) {
        head_put(&h, "Retry-After: ");
        head_num(&h, r->retry_after);
        head_put(&h, "\r\n");
    }
    head_put(&h, "\r\n");
    hf_buf_append(&c->out, h.buf, h.n);
    if (!c->fr.head_method)
        hf_buf_append(&c->out, r->body.data ? r->body.data : "", r->body.len);
}

/* The answer is out: send a FIN, then read and drop what the client still
 * sends for a moment before closing. Closing a socket with unread bytes
 * makes the kernel send a RST, which can destroy our answer (a 400 for a
 * malformed request, say) before the client has read it. */
static void linger(struct conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (c->w->srv->tls || fd < 0 || c->w->stopping) {
        conn_free(c);
        return;
    }
    c->lingering = true;
    shutdown(fd, SHUT_WR);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    read_enable(c, true);
    struct timeval tv = {.tv_sec = LINGER_MS / 1000, .tv_usec = (LINGER_MS % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Sends the last answer and closes: from the timer, never from here, so
 * no caller is left holding a freed connection. */
static void finish_close(struct conn *c, bool with_linger)
{
    c->closing = true;
    c->linger_wanted = with_linger;
    read_enable(c, false);
    flush_out(c);
    /* sent: close on the next turn of the loop; else give a slow reader a
     * bounded time to take the answer */
    struct timeval tv = {.tv_sec = out_pending(c) ? 5 : 0, .tv_usec = 0};
    evtimer_add(c->timer, &tv);
}

/* Answers without reading the rest of the request, then closes. */
static void reject_now(struct conn *c, int status, const char *reason)
{
    hf_http_error(&c->resp, status, reason);
    write_response(c, &c->resp, false);
    /* a sender we timed out gets no grace; one refused mid-request may
     * still be sending the rest of it */
    finish_close(c, status != 408);
}

static void process(struct conn *c);

static void handle_request(struct conn *c)
{
    struct hf_http_server *s = c->w->srv;
    struct hf_http_req *q = &c->req;
    c->resp.status = 500;
    c->resp.retry_after = 0;
    c->resp.content_type = NULL;
    c->resp.close = false;
    hf_buf_reset(&c->resp.body);
    c->resp.deferred = false;
    c->resp.conn = c;
    s->ops->on_request(s->arg, q, &c->resp);
    c->requests++;
    bool keep = q->keepalive && !c->resp.close && !atomic_load(&s->stopping) &&
                (s->lim.max_requests_per_conn == 0 || c->requests < s->lim.max_requests_per_conn);
    c->in_request = false;
    if (c->resp.deferred) {
        c->pending_keep = keep;
        evtimer_del(c->timer);
        return;
    }
    write_response(c, &c->resp, keep);
    if (!keep) {
        finish_close(c, false);
        return;
    }
    hf_frame_trim(&c->fr);
    arm_timer(c); /* idle timeout until the next request */
}

/* The header block is in: route it before a byte of the body is read.
 * Returns -1 when the connection was answered and is closing. */
static int on_head(struct conn *c)
{
    struct hf_http_server *s = c->w->srv;
    c->resp.status = 0;
    c->resp.retry_after = 0;
    hf_buf_reset(&c->resp.body);
    int st = s->ops->on_headers(s->arg, &c->req, &c->resp);
    if (st == 0 && c->req.content_length > s->lim.max_body) {
        hf_http_error(&c->resp, 413, "request body is larger than max_body");
        st = 413;
    }
    if (st) {
        c->resp.status = st;
        write_response(c, &c->resp, false);
        finish_close(c, true); /* the body may still be coming */
        return -1;
    }
    const char *expect = hf_http_header(&c->req, "expect");
    if (expect && !strcasecmp(expect, "100-continue")) {
        hf_buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        flush_out(c); /* the sender waits for it before the body */
    }
    return 0;
}

/* Feeds llhttp from the input buffer one chain at a time (nothing is
 * pulled up or copied beforehand) and acts on its pauses. */
static void process_requests(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->closing && !c->pending) {
        if (out_pending(c) > OUT_HIGH_WATER)
            return; /* the client is not reading its answers; wait */
        struct evbuffer_iovec v = {.iov_base = NULL, .iov_len = 0};
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            v.iov_len = 0;
        /* a paused parser may have a step to take without new bytes (the
         * end of a request without a body) */
        if (v.iov_len == 0 && llhttp_get_errno(&c->fr.parser) != HPE_PAUSED)
            return;
        size_t used = 0;
        enum hf_frame_event ev = hf_frame_feed(&c->fr, &c->req, v.iov_base, v.iov_len, &used);
        if (used)
            evbuffer_drain(in, used);
        switch (ev) {
        case HF_FRAME_MORE: break;
        case HF_FRAME_BEGIN:
            c->in_request = true;
            arm_timer(c); /* one deadline for the whole request */
            break;
        case HF_FRAME_HEAD:
            if (on_head(c) < 0)
                return;
            break;
        case HF_FRAME_DONE: handle_request(c); break;
        case HF_FRAME_ERROR: reject_now(c, c->fr.status, c->fr.reason); return;
        }
    }
}

/* Answers everything that is in, then sends the answers at once. */
static void process(struct conn *c)
{
    process_requests(c);
    if (!c->closing)
        flush_out(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    process(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->closing) {
        if (!c->lingering && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            c->linger_wanted ? linger(c) : conn_free(c);
        return;
    }
    process(c); /* resume after output back-pressure */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (what & BEV_EVENT_ERROR)
            while (ERR_get_error())
                ; /* TLS handshake noise from scanners: not worth a log line each */
        if (c->pending) {
            /* the answer is still coming; free the connection then */
            c->dead = true;
            read_enable(c, false);
            bufferevent_disable(c->bev, EV_WRITE);
            return;
        }
        conn_free(c);
    }
}

/* A plain TCP socket is readable: one recv into the input buffer's free
 * space, then what bufferevent would have called. */
static void on_sock_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(in, READ_CHUNK, &v, 1) < 1)
        return;
    ssize_t n = recv(fd, v.iov_base, v.iov_len, 0);
    if (n > 0) {
        v.iov_len = (size_t)n;
        evbuffer_commit_space(in, &v, 1);
        on_read(c->bev, c);
        return;
    }
    evbuffer_commit_space(in, &v, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    on_event(c->bev, BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (c->pending)
        return; /* waiting for our own answer, not for the peer */
    if (c->closing && !c->lingering && c->linger_wanted && out_pending(c) == 0) {
        linger(c);
        return;
    }
    if (c->closing || !c->in_request) {
        conn_free(c);
        return;
    }
    reject_now(c, 408, "request not received within read_timeout");
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    struct worker *w = arg;
    struct hf_http_server *s = w->srv;
    if (atomic_fetch_add(&s->conns, 1) >= s->lim.max_connections || atomic_load(&s->stopping)) {
        atomic_fetch_sub(&s->conns, 1);
#define BUSY_BODY "{\"status\":\"error\",\"error\":\"too many connections\"}"
        _Static_assert(sizeof(BUSY_BODY) - 1 == 49, "Content-Length of the busy answer");
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 49\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" BUSY_BODY;
        ssize_t wr = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)wr;
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = hf_calloc(1, sizeof(*c));
    c->w = w;
    w->nconns++;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    if (s->tls) {
        SSL *ssl = SSL_new(s->tls);
        c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    } else {
        c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (c->bev) {
            c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_sock_read, c);
            /* the bufferevent keeps its input's end frozen but for its own reads */
            evbuffer_unfreeze(bufferevent_get_input(c->bev), 0);
        }
    }
    c->timer = evtimer_new(w->base, on_timeout, c);
    hf_buf_init(&c->resp.body, 0);
    hf_buf_init(&c->out, 0);
    hf_frame_init(&c->fr, s->lim.max_header, s->lim.max_body);
    if (!c->bev || !c->timer || (!s->tls && !c->rev)) {
        if (!c->bev)
            close(fd);
        conn_free(c);
        return;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, c->rev ? EV_WRITE : EV_READ | EV_WRITE);
    read_enable(c, true);
    arm_timer(c);
}

struct event_base *hf_http_loop(const struct hf_http_resp *resp)
{
    const struct conn *c = resp->conn;
    return c ? c->w->base : NULL;
}

struct hf_http_defer *hf_http_defer(struct hf_http_resp *resp)
{
    struct conn *c = resp->conn;
    struct hf_http_defer *d = hf_calloc(1, sizeof(*d));
    d->c = c;
    resp->deferred = true;
    c->pending = true;
    c->w->npending++;
    return d;
}

void hf_http_resume(struct hf_http_defer *d, int status, const char *body, size_t len, int retry_after)
{
    struct worker *w = d->c->w;
    d->status = status;
    d->retry_after = retry_after;
    if (len < sizeof(d->small)) {
        memcpy(d->small, body, len);
        d->body = d->small;
    } else {
        d->body = hf_strndup(body, len);
    }
    d->len = len;
    pthread_mutex_lock(&w->resume_mu);
    d->next = w->resumed;
    w->resumed = d;
    pthread_mutex_unlock(&w->resume_mu);
    event_active(w->resume_ev, EV_READ, 0);
}

static void finish_deferred(struct hf_http_defer *d)
{
    struct conn *c = d->c;
    c->pending = false;
    c->w->npending--;
    if (c->dead) {
        conn_free(c);
        return;
    }
    c->resp.status = d->status;
    c->resp.retry_after = d->retry_after;
    c->resp.content_type = NULL;
    hf_buf_reset(&c->resp.body);
    hf_buf_append(&c->resp.body, d->body, d->len);
    bool keep = c->pending_keep && !c->w->stopping;
    write_response(c, &c->resp, keep);
    if (!keep) {
        finish_close(c, false);
        return;
    }
    arm_timer(c);
    process(c); /* pipelined requests that arrived meanwhile */
}

void hf_http_answer(struct hf_http_defer *d, int status, const char *body, size_t len, int retry_after)
{
    if (!pthread_equal(pthread_self(), d->c->w->thread)) {
        hf_http_resume(d, status, body, len, retry_after);
        return;
    }
    d->status = status;
    d->retry_after = retry_after;
    d->body = (char *)body; /* copied into the response by finish_deferred */
    d->len = len;
    finish_deferred(d);
    free(d);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->resume_mu);
    struct hf_http_defer *list = w->resumed;
    w->resumed = NULL;
    pthread_mutex_unlock(&w->resume_mu);
    /* the list is newest first; answer in arrival order */
    struct hf_http_defer *rev = NULL;
    while (list) {
        struct hf_http_defer *n = list->next;
        list->next = rev;
        rev = list;
        list = n;
    }
    while (rev) {
        struct hf_http_defer *n = rev->next;
        finish_deferred(rev);
        if (rev->body != rev->small)
            free(rev->body);
        free(rev);
        rev = n;
    }
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->lis) {
        evconnlistener_free(w->lis);
        w->lis = NULL;
    }
    /* what is left is idle, half-received, or waiting for its answer: the
     * first two close now, the last when the answer has been written (the
     * loop ends with the last connection, in conn_free) */
    w->stopping = true;
    for (struct conn *c = w->conns, *n; c; c = n) {
        n = c->next;
        if (!c->pending)
            conn_free(c);
    }
    if (w->nconns == 0)
        event_base_loopexit(w->base, NULL);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    hf_thread_name("%s:%d", w->srv->ops->thread_name ? w->srv->ops->thread_name : "http", (int)(w - w->srv->workers));
    event_base_dispatch(w->base);
    if (w->srv->ops->on_thread_exit)
        w->srv->ops->on_thread_exit();
    return NULL;
}

struct hf_http_server *hf_http_new(const char *address, int threads, const struct hf_http_limits *lim,
                                   const char *tls_cert, const char *tls_key, const struct hf_http_ops *ops, void *arg,
                                   char *err, size_t errlen)
{
    struct hf_http_server *s = hf_calloc(1, sizeof(*s));
    s->lim = *lim;
    s->ops = ops;
    s->arg = arg;
    if (tls_cert) {
        s->tls = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(s->tls, tls_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->tls, tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(s->tls) != 1) {
            snprintf(err, errlen, "cannot load TLS certificate %s / key %s: %s", tls_cert, tls_key,
                     ERR_reason_error_string(ERR_get_error()));
            hf_http_free(s);
            return NULL;
        }
    }
    if (threads < 1)
        threads = 1;
    s->workers = hf_calloc((size_t)threads, sizeof(*s->workers));
    int fd0 = hf_http_bind(address, err, errlen, &s->port);
    if (fd0 < 0) {
        hf_http_free(s);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd0, (struct sockaddr *)&ss, &sl);
    for (int i = 0; i < threads; i++) {
        struct worker *w = &s->workers[i];
        w->srv = s;
        int fd = i == 0 ? fd0 : hf_http_bind_same(&ss, sl);
        w->base = event_base_new();
        if (fd < 0 || !w->base) {
            snprintf(err, errlen, "cannot open listener %d on %s: %s", i, address, strerror(errno));
            if (fd >= 0)
                close(fd);
            hf_http_free(s);
            return NULL;
        }
        s->nworkers++;
        w->lis = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
        w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
        w->resume_ev = event_new(w->base, -1, 0, on_resume, w);
        pthread_mutex_init(&w->resume_mu, NULL);
    }
    return s;
}

int hf_http_start(struct hf_http_server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
            return -1;
    return 0;
}

void hf_http_stop(struct hf_http_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].thread) {
            event_active(s->workers[i].stop_ev, EV_READ, 0);
            pthread_join(s->workers[i].thread, NULL);
            s->workers[i].thread = 0;
        }
}

void hf_http_free(struct hf_http_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        if (w->lis)
            evconnlistener_free(w->lis);
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->resume_ev) {
            event_free(w->resume_ev);
            pthread_mutex_destroy(&w->resume_mu);
        }
        if (w->base) {
            /* free connections left behind by a stop */
            event_base_free_nofinalize(w->base);
        }
    }
    free(s->workers);
    if (s->tls)
        SSL_CTX_free(s->tls);
    free(s);
}

int hf_http_port(const struct hf_http_server *s) { return s->port; }
void hf_http_set_arg(struct hf_http_server *s, void *arg) { s->arg = arg; }
