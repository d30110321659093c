/* SPDX-License-Identifier: Apache-2.0 */
/* The Splunk HEC sink's side of HTTP: the request headers that carry the
 * token, a pool of request buffers, and the shared client
 * (plugins/common/http_client.h) that keeps connections alive and runs
 * the transfers. */
#include "splunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* batches in flight (the plugin's max_inflight) plus the ack query */
#define HEC_TRANSFERS 8

struct splunk_req *hf_splunk_req_get(struct splunk_ctx *c)
{
    struct splunk_req *req = c->idle;
    if (req) {
        c->idle = req->next;
        req->next = NULL;
        return req;
    }
    req = hf_calloc(1, sizeof(*req));
    req->ctx = c;
    hf_buf_init(&req->body, HF_SPLUNK_MAX_REQUEST);
    hf_buf_init(&req->wire, HF_SPLUNK_MAX_REQUEST);
    return req;
}

void hf_splunk_req_free(struct splunk_req *req)
{
    if (!req)
        return;
    hf_buf_free(&req->body);
    hf_buf_free(&req->wire);
    free(req);
}

void hf_splunk_req_put(struct splunk_ctx *c, struct splunk_req *req)
{
    req->job = NULL;
    hf_buf_reset(&req->body);
    hf_buf_reset(&req->wire);
    req->next = c->idle;
    c->idle = req;
}

int hf_splunk_req_start(struct splunk_ctx *c, struct splunk_req *req, bool is_ack, hf_http_done_fn done)
{
    const struct hf_buf *data = !is_ack && c->conf.gzip ? &req->wire : &req->body;
    struct hf_http_request rq = {
        .url = is_ack ? c->conf.ack_url : c->conf.event_url,
        .headers = is_ack ? c->ack_headers : c->event_headers,
        .body = data->data,
        .body_len = data->len,
        .done = done,
        .arg = req,
    };
    char why[200];
    if (hf_http_client_send(c->http, &rq, why, sizeof(why)) < 0) {
        hf_sink_log(c->sink, HF_LOG_WARN, "cannot start a request to HEC: %s", why);
        return -1;
    }
    return 0;
}

static struct hf_http_headers *header_list(const struct splunk_conf *conf, bool gzip)
{
    struct hf_http_headers *l = hf_http_headers_new();
    if (!l)
        return NULL;
    struct hf_buf auth;
    hf_buf_init(&auth, 4096);
    hf_buf_puts(&auth, "Splunk ");
    hf_buf_append(&auth, conf->token, conf->token_len);
    int rc = hf_http_headers_add(l, "Authorization", auth.data, auth.len);
    explicit_bzero(auth.data, auth.len);
    hf_buf_free(&auth);
    rc |= hf_http_headers_add(l, "X-Splunk-Request-Channel", conf->channel, strlen(conf->channel));
    rc |= hf_http_headers_add(l, "Content-Type", "application/json", 16);
    if (gzip)
        rc |= hf_http_headers_add(l, "Content-Encoding", "gzip", 4);
    if (rc < 0) {
        hf_http_headers_free(l);
        return NULL;
    }
    return l;
}

int hf_splunk_http_init(struct splunk_ctx *c, const struct splunk_options *o, char *why, size_t whylen)
{
    struct hf_http_client_opts ho = {.timeout_ms = o->timeout_ms, .tls = &o->tls, .max_inflight = HEC_TRANSFERS};
    c->http = hf_http_client_new(&ho, why, whylen);
    if (!c->http)
        return -1;
    c->event_headers = header_list(&c->conf, c->conf.gzip);
    c->ack_headers = header_list(&c->conf, false);
    if (!c->event_headers || !c->ack_headers) {
        snprintf(why, whylen, "cannot build the request headers");
        return -1;
    }
    return 0;
}

void hf_splunk_http_free(struct splunk_ctx *c)
{
    /* transfers still running are dropped; their requests are the jobs' */
    hf_http_client_free(c->http);
    c->http = NULL;
    while (c->idle) {
        struct splunk_req *r = c->idle;
        c->idle = r->next;
        hf_splunk_req_free(r);
    }
    hf_http_headers_free(c->event_headers);
    hf_http_headers_free(c->ack_headers);
    c->event_headers = c->ack_headers = NULL;
}

void hf_splunk_http_drive(struct splunk_ctx *c) { hf_http_client_perform(c->http); }

void hf_splunk_http_wait(struct splunk_ctx *c, int timeout_ms) { hf_http_client_wait(c->http, timeout_ms); }
