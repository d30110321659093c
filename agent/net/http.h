/* SPDX-License-Identifier: Apache-2.0 */
/* A small HTTP/1.1 server on libevent bufferevents, made for webhook
 * ingest: strict limits (header size and count, body size checked before
 * the body is read, one deadline per request so a slow sender cannot hold a
 * connection), keep-alive and pipelining, optional TLS, several threads on
 * one port with SO_REUSEPORT. */
#ifndef HF_HTTP_H
#define HF_HTTP_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define HF_HTTP_MAX_HEADERS 100

struct hf_http_header {
    const char *name;
    const char *value;
};

struct hf_http_req {
    const char *method;
    const char *path; /* without the query string */
    const char *query; /* may be NULL */
    struct hf_http_header headers[HF_HTTP_MAX_HEADERS];
    size_t nheaders;
    const char *body;
    size_t body_len;
    int64_t content_length; /* -1: chunked */
    bool keepalive;
    const void *route; /* set by on_headers */
};

struct hf_http_resp {
    int status;
    struct hf_buf body; /* JSON unless content_type says otherwise */
    const char *content_type;
    int retry_after; /* seconds; 0 = no header */
    bool close;
    bool deferred; /* answered later through hf_http_resume() */
    void *conn; /* the server's, for hf_http_defer() */
};

struct hf_http_defer;

/* Called from on_request: the answer comes later, from any thread, through
 * hf_http_resume(). The connection reads nothing more until then. */
struct hf_http_defer *hf_http_defer(struct hf_http_resp *resp);
void hf_http_resume(struct hf_http_defer *d, int status, const char *body, size_t len, int retry_after);
/* hf_http_resume for a caller that may be on the connection's own thread,
 * in one of its loop's callbacks but not inside on_request (nor holding a
 * lock on_request takes: pipelined requests are processed from here):
 * there the answer is written at once, without the hop through the loop. */
void hf_http_answer(struct hf_http_defer *d, int status, const char *body, size_t len, int retry_after);
/* The event loop of the thread running on_request (for clients that work
 * on it asynchronously, such as the shared dedup store's connection). */
struct event_base *hf_http_loop(const struct hf_http_resp *resp);

struct hf_http_ops {
    /* Called once the headers are in. Return 0 to read the body, or an HTTP
     * status to answer now (resp filled) without reading it. */
    int (*on_headers)(void *arg, struct hf_http_req *req, struct hf_http_resp *resp);
    void (*on_request)(void *arg, struct hf_http_req *req, struct hf_http_resp *resp);
    /* Called on each server thread as it exits (per-thread caches); optional. */
    void (*on_thread_exit)(void);
    /* The server threads' name, followed by their number ("ingest:0"). */
    const char *thread_name;
};

struct hf_http_limits {
    int64_t max_body;
    int64_t max_header;
    int64_t max_connections;
    int64_t read_timeout_ms;
    int64_t max_requests_per_conn; /* 0: unlimited */
};

struct hf_http_server;

/* Binds now (so errors show at start); threads start with hf_http_start. */
struct hf_http_server *hf_http_new(const char *address, int threads, const struct hf_http_limits *lim,
                                   const char *tls_cert, const char *tls_key, const struct hf_http_ops *ops, void *arg,
                                   char *err, size_t errlen);
int hf_http_start(struct hf_http_server *s);
/* Stops accepting, finishes requests in progress, joins the threads. */
void hf_http_stop(struct hf_http_server *s);
void hf_http_free(struct hf_http_server *s);
int hf_http_port(const struct hf_http_server *s);
void hf_http_set_arg(struct hf_http_server *s, void *arg);

const char *hf_http_header(const struct hf_http_req *req, const char *name);
const char *hf_http_status_text(int status);
/* Fills resp with {"status":"error","error":reason} and the status. */
void hf_http_error(struct hf_http_resp *resp, int status, const char *reason);

#endif
