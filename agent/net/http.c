/* HTTP/1.1 server for webhook ingest and the admin endpoints. */
#define _GNU_SOURCE
#include "http.h"
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

struct worker;

struct conn {
    struct conn *prev, *next; /* the worker's list, for shutdown */
    struct worker *w;
    struct bufferevent *bev;
    struct event *timer;
    char *hdr;               /* copy of the header block, NUL-separated after parsing */
    size_t hdr_cap;
    struct hf_http_req req;
    struct hf_http_resp resp;
    size_t search_from;
    size_t hdr_len;          /* bytes of the header block, 0 while reading headers */
    bool in_request;         /* first byte of a request seen */
    bool closing;
    bool pending;            /* a deferred answer is outstanding */
    bool pending_keep;       /* keep-alive decision for it */
    bool dead;               /* the peer went away while pending */
    unsigned requests;
    struct hf_buf chunked;   /* de-chunked body */
    size_t chunk_scan;       /* where de-chunking resumes, from the body's start */
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
    if (c->bev) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl)
            SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
        bufferevent_free(c->bev);
    }
    free(c->hdr);
    hf_buf_free(&c->resp.body);
    hf_buf_free(&c->chunked);
    free(c);
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
    char t[24], *e = t + sizeof(t) - 1, *q = e;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    *e = '\0';
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    head_put(h, q);
}

static void write_response(struct conn *c, struct hf_http_resp *r, bool keepalive)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
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
    evbuffer_add(out, h.buf, h.n);
    evbuffer_add(out, r->body.data ? r->body.data : "", r->body.len);
}

static void finish_close(struct conn *c)
{
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    evtimer_del(c->timer);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
    else {
        /* give a slow reader a bounded time to take the answer */
        struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
        evtimer_add(c->timer, &tv);
    }
}

/* Answers without reading the rest of the request, then closes. */
static void reject_now(struct conn *c, int status, const char *reason)
{
    hf_http_error(&c->resp, status, reason);
    write_response(c, &c->resp, false);
    finish_close(c);
}

static int parse_headers(struct conn *c)
{
    struct hf_http_req *q = &c->req;
    char *p = c->hdr, *end = c->hdr + c->hdr_len;
    memset(q, 0, sizeof(*q));
    /* request line */
    char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        return 400;
    *eol = '\0';
    if (eol > p && eol[-1] == '\r')
        eol[-1] = '\0';
    char *sp1 = strchr(p, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2)
        return 400;
    *sp1 = *sp2 = '\0';
    q->method = p;
    q->path = sp1 + 1;
    const char *ver = sp2 + 1;
    if (strcmp(ver, "HTTP/1.1") && strcmp(ver, "HTTP/1.0"))
        return strncmp(ver, "HTTP/", 5) ? 400 : 505;
    if (q->path[0] != '/')
        return 400;
    char *qm = strchr(sp1 + 1, '?');
    if (qm) {
        *qm = '\0';
        q->query = qm + 1;
    }
    bool http11 = !strcmp(ver, "HTTP/1.1");
    q->keepalive = http11;
    q->content_length = 0;
    bool have_cl = false, chunked = false;
    p = eol + 1;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            return 400;
        *eol = '\0';
        if (eol > p && eol[-1] == '\r')
            eol[-1] = '\0';
        if (*p == '\0')
            break; /* blank line */
        if (*p == ' ' || *p == '\t')
            return 400; /* obsolete line folding */
        char *colon = strchr(p, ':');
        if (!colon || colon == p)
            return 400;
        for (char *k = p; k < colon; k++)
            if (*k <= ' ' || *k >= 127 || strchr("()<>@,;\\\"/[]?={}", *k))
                return 400;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        for (size_t i = 0; i < vl; i++)
            if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
                return 400; /* bare CR or other control bytes */
        if (q->nheaders >= HF_HTTP_MAX_HEADERS)
            return 431;
        q->headers[q->nheaders].name = p;
        q->headers[q->nheaders].value = v;
        q->nheaders++;
        if (!strcasecmp(p, "content-length")) {
            char *e;
            errno = 0;
            long long n = strtoll(v, &e, 10);
            if (!*v || *e || errno || n < 0 || (have_cl && n != q->content_length))
                return 400;
            have_cl = true;
            q->content_length = n;
        } else if (!strcasecmp(p, "transfer-encoding")) {
            if (strcasecmp(v, "chunked"))
                return 501;
            chunked = true;
        } else if (!strcasecmp(p, "connection")) {
            if (!strcasecmp(v, "close"))
                q->keepalive = false;
            else if (!strcasecmp(v, "keep-alive"))
                q->keepalive = true;
        }
        p = eol + 1;
    }
    if (chunked && have_cl)
        return 400; /* request smuggling shape */
    if (chunked)
        q->content_length = -1;
    return 0;
}

/* De-chunks from `in` into c->chunked. 1 = complete, 0 = need more, <0 = status. */
static int read_chunked(struct conn *c, const unsigned char *p, size_t len, size_t *consumed)
{
    /* resume after the chunks already copied: starting over on every read
     * costs O(n^2) for a sender dribbling many small chunks */
    size_t i = c->chunk_scan;
    for (;;) {
        size_t ls = i;
        while (i < len && p[i] != '\n')
            i++;
        if (i >= len)
            return i - ls > 64 ? -400 : 0;
        char *e;
        /* chunk-size is 1*HEXDIG: strtoull alone would also take a sign
         * ("-1" is ULLONG_MAX), blanks and "0x" */
        if (!isxdigit(p[ls]))
            return -400;
        unsigned long long sz = strtoull((const char *)p + ls, &e, 16);
        if (e == (char *)p + ls)
            return -400;
        i++;
        if (sz == 0) {
            /* trailers end with an empty line */
            for (;;) {
                size_t t = i;
                while (i < len && p[i] != '\n')
                    i++;
                if (i >= len)
                    return 0;
                i++;
                if (i - t <= 2) {
                    *consumed = i;
                    return 1;
                }
            }
        }
        /* sz first: chunked.len + sz wraps for a size near 2^64, and the
         * append below would then copy that many bytes */
        unsigned long long max_body = (unsigned long long)c->w->srv->lim.max_body;
        if (sz > max_body || c->chunked.len + sz > max_body)
            return -413;
        if (len - i < sz + 2)
            return 0;
        hf_buf_append(&c->chunked, p + i, (size_t)sz);
        i += (size_t)sz;
        if (p[i] == '\r')
            i++;
        if (i >= len || p[i] != '\n')
            return -400;
        i++;
        c->chunk_scan = i;
    }
}

static void process(struct conn *c);

static void handle_request(struct conn *c, const char *body, size_t blen, size_t consumed)
{
    struct hf_http_server *s = c->w->srv;
    struct hf_http_req *q = &c->req;
    q->body = body;
    q->body_len = blen;
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
    evbuffer_drain(bufferevent_get_input(c->bev), consumed);
    c->hdr_len = 0;
    c->search_from = 0;
    c->in_request = false;
    if (c->resp.deferred) {
        c->pending_keep = keep;
        evtimer_del(c->timer);
        return;
    }
    write_response(c, &c->resp, keep);
    if (!keep) {
        finish_close(c);
        return;
    }
    arm_timer(c); /* idle timeout until the next request */
}

static void process(struct conn *c)
{
    struct hf_http_server *s = c->w->srv;
    while (!c->closing && !c->pending) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            return;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HIGH_WATER)
            return; /* the client is not reading its answers; wait */
        if (!c->in_request) {
            c->in_request = true;
            arm_timer(c); /* one deadline for the whole request */
        }
        if (c->hdr_len == 0) {
            struct evbuffer_ptr start;
            evbuffer_ptr_set(in, &start, c->search_from, EVBUFFER_PTR_SET);
            struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, &start);
            if (pos.pos < 0) {
                if (avail > (size_t)s->lim.max_header) {
                    reject_now(c, 431, "request headers are too large");
                    return;
                }
                c->search_from = avail > 3 ? avail - 3 : 0;
                return;
            }
            size_t hl = (size_t)pos.pos + 4;
            if (hl > (size_t)s->lim.max_header) {
                reject_now(c, 431, "request headers are too large");
                return;
            }
            if (c->hdr_cap < hl + 1) {
                c->hdr_cap = hl + 1;
                c->hdr = hf_realloc(c->hdr, c->hdr_cap);
            }
            evbuffer_copyout(in, c->hdr, hl);
            c->hdr[hl] = '\0';
            c->hdr_len = hl;
            int st = parse_headers(c);
            if (st) {
                reject_now(c, st, st == 431 ? "too many request headers" : st == 505 ? "HTTP version not supported"
                                  : st == 501 ? "unsupported transfer-encoding" : "malformed request");
                return;
            }
            c->resp.status = 0;
            c->resp.retry_after = 0;
            hf_buf_reset(&c->resp.body);
            hf_buf_reset(&c->chunked);
            c->chunk_scan = 0;
            st = s->ops->on_headers(s->arg, &c->req, &c->resp);
            if (st == 0 && c->req.content_length > s->lim.max_body) {
                hf_http_error(&c->resp, 413, "request body is larger than max_body");
                st = 413;
            }
            if (st) {
                c->resp.status = st;
                write_response(c, &c->resp, false);
                finish_close(c);
                return;
            }
            const char *expect = hf_http_header(&c->req, "expect");
            if (expect && !strcasecmp(expect, "100-continue"))
                evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
        }
        /* the header block sits at the front of `in`; the body follows it */
        if (c->req.content_length >= 0) {
            size_t need = c->hdr_len + (size_t)c->req.content_length;
            if (avail < need)
                return;
            unsigned char *all = evbuffer_pullup(in, (ev_ssize_t)need);
            handle_request(c, (const char *)all + c->hdr_len, (size_t)c->req.content_length, need);
        } else {
            size_t used = 0;
            if (avail > c->hdr_len + (size_t)s->lim.max_body + 65536) {
                reject_now(c, 413, "request body is larger than max_body");
                return;
            }
            unsigned char *all = evbuffer_pullup(in, (ev_ssize_t)avail);
            int rc = read_chunked(c, all + c->hdr_len, avail - c->hdr_len, &used);
            if (rc < 0) {
                reject_now(c, -rc, rc == -413 ? "request body is larger than max_body" : "malformed chunked body");
                return;
            }
            if (rc == 0)
                return;
            handle_request(c, c->chunked.data ? c->chunked.data : "", c->chunked.len, c->hdr_len + used);
        }
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            conn_free(c);
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
            bufferevent_disable(c->bev, EV_READ | EV_WRITE);
            return;
        }
        conn_free(c);
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (c->pending)
        return; /* waiting for our own answer, not for the peer */
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
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 52\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                                   "{\"status\":\"error\",\"error\":\"too many connections\"}  ";
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
    }
    c->timer = evtimer_new(w->base, on_timeout, c);
    hf_buf_init(&c->resp.body, 0);
    hf_buf_init(&c->chunked, 0);
    if (!c->bev || !c->timer) {
        if (!c->bev)
            close(fd);
        conn_free(c);
        return;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    arm_timer(c);
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
    d->body = hf_strndup(body, len);
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
        finish_close(c);
        return;
    }
    arm_timer(c);
    process(c); /* pipelined requests that arrived meanwhile */
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
        free(rev->body);
        free(rev);
        rev = n;
    }
    if (w->stopping && w->npending == 0)
        event_base_loopexit(w->base, NULL);
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
     * first two close now, the last when the answer has been written */
    w->stopping = true;
    for (struct conn *c = w->conns, *n; c; c = n) {
        n = c->next;
        if (c->pending)
            c->dead = true;
        else
            conn_free(c);
    }
    if (w->npending == 0)
        event_base_loopexit(w->base, NULL);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    if (w->srv->ops->on_thread_exit)
        w->srv->ops->on_thread_exit();
    return NULL;
}

struct hf_http_server *hf_http_new(const char *address, int threads, const struct hf_http_limits *lim,
                                   const char *tls_cert, const char *tls_key, const struct hf_http_ops *ops,
                                   void *arg, char *err, size_t errlen)
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
