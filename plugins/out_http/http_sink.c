/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP sink on the shared HTTP client. A batch becomes one request
 * per record (json) or one request (ndjson, array); every request is
 * signed when it is sent, so a retry carries a fresh webhook-timestamp and
 * the same webhook-id. Answers: 2xx delivered; 408, 429 and 5xx (and no
 * answer at all) retried, after Retry-After when the server gave one; 410
 * means the endpoint is gone for good: dead letters, and said once in the
 * log; any other status is a refusal of this request: dead letters with
 * the status and the start of the answer. */
#define _GNU_SOURCE
#include "http_client.h"
#include "http_sink.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (32u << 20)
#define HEADER_VALUE_MAX 8192

struct http_ctx {
    struct hf_sink *sink;
    const struct http_conf *cf;
    struct hf_http_client *client;
    unsigned char key[512];
    int keylen;
    bool gone_logged;
    struct http_job *jobs; /* requests out, freed at destroy if still there */
};

/* One request: records [first, first + count) of its batch. */
struct http_job {
    struct http_job *prev, *next;
    struct http_ctx *c;
    struct hf_batch *b;
    size_t first, count;
    struct hf_buf body;
    struct hf_http_headers *headers;
};

/* A batch's progress, in b->plugin_data while its requests are out. */
struct batch_state {
    size_t pending;
    bool any_retry, any_rejected;
    int64_t retry_after_ms;
    char reason[300];
};

static int http_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct http_conf *cf = hf_sink_conf(s);
    struct http_ctx *c = hf_calloc(1, sizeof(*c));
    char why[300];
    c->sink = s;
    c->cf = cf;
    hf_sink_set_state(s, c);
    struct hf_http_client_opts o = {.timeout_ms = cf->timeout_ms, .tls = &cf->tls, .max_inflight = 4};
    c->client = hf_http_client_new(&o, why, sizeof(why));
    if (!c->client) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        return -1;
    }
    if (cf->signature.scheme != HTTP_SIG_NONE) {
        c->keylen = http_signing_key(cf->signature.scheme, cf->signature.secret, c->key, sizeof(c->key));
        if (c->keylen < 0) {
            snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': signature.secret is not usable",
                     hf_sink_config_file(s), hf_sink_name(s));
            return -1;
        }
    }
    return 0;
}

static int http_encode(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    const struct http_conf *cf = hf_sink_conf(s);
    if (cf->format == HTTP_FMT_JSON) {
        for (size_t i = 0; i < b->n; i++) {
            http_body(HTTP_FMT_JSON, &b->recs[i], 1, out);
            hf_buf_putc(out, '\n');
        }
    } else {
        http_body(cf->format, b->recs, b->n, out);
    }
    return out->overflow ? -1 : 0;
}

/* The headers of one request: the user's (expanded for its first record,
 * CR/LF and other controls made spaces), the content type, the signature. */
static struct hf_http_headers *job_headers(struct http_ctx *c, struct http_job *j)
{
    const struct http_conf *cf = c->cf;
    const struct hf_record *r = j->b->recs[j->first];
    struct hf_http_headers *h = hf_http_headers_new();
    bool has_type = false;
    char *val = hf_calloc(1, HEADER_VALUE_MAX);
    for (size_t i = 0; i < cf->headers.n; i++) {
        size_t n = hf_template_expand(cf->headers.v[i].tmpl, r, HF_ESC_HEADER, val, HEADER_VALUE_MAX);
        if (n >= HEADER_VALUE_MAX)
            n = strlen(val);
        if (hf_http_headers_add(h, cf->headers.v[i].name, val, n) < 0)
            hf_sink_log(c->sink, HF_LOG_WARN, "header %s left out: its value is not sendable", cf->headers.v[i].name);
        has_type = has_type || !strcasecmp(cf->headers.v[i].name, "Content-Type");
    }
    free(val);
    if (!has_type) {
        const char *ct = cf->format == HTTP_FMT_NDJSON ? "application/x-ndjson" : "application/json";
        hf_http_headers_add(h, "Content-Type", ct, strlen(ct));
    }
    char sig[160];
    if (cf->signature.scheme == HTTP_SIG_STANDARD) {
        char id[300], ts[24];
        http_message_id(j->b->recs + j->first, j->count, id, sizeof(id));
        int64_t now = hf_now_ms() / 1000;
        snprintf(ts, sizeof(ts), "%lld", (long long)now);
        http_sign_standard(c->key, (size_t)c->keylen, id, now, j->body.data, j->body.len, sig, sizeof(sig));
        hf_http_headers_add(h, "webhook-id", id, strlen(id));
        hf_http_headers_add(h, "webhook-timestamp", ts, strlen(ts));
        hf_http_headers_add(h, "webhook-signature", sig, strlen(sig));
    } else if (cf->signature.scheme == HTTP_SIG_HMAC) {
        http_sign_hmac(c->key, (size_t)c->keylen, j->body.data, j->body.len, sig, sizeof(sig));
        hf_http_headers_add(h, cf->signature.header, sig, strlen(sig));
    }
    return h;
}

static void job_free(struct http_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        j->c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    hf_buf_free(&j->body);
    hf_http_headers_free(j->headers);
    free(j);
}

/* Applies one request's outcome to its records; the last one ends the batch. */
static void job_settle(struct http_job *j, enum hf_outcome o, int64_t retry_after_ms, const char *reason)
{
    struct hf_batch *b = j->b;
    struct batch_state *st = b->plugin_data;
    for (size_t i = 0; i < j->count; i++)
        hf_batch_mark(b, j->first + i, o, o == HF_OUT_DELIVERED ? NULL : reason);
    if (o == HF_OUT_RETRY) {
        st->any_retry = true;
        if (retry_after_ms > st->retry_after_ms)
            st->retry_after_ms = retry_after_ms;
        snprintf(st->reason, sizeof(st->reason), "%s", reason);
    } else if (o == HF_OUT_REJECTED && !st->any_retry) {
        st->any_rejected = true;
        snprintf(st->reason, sizeof(st->reason), "%s", reason);
    }
    job_free(j);
    if (--st->pending > 0)
        return;
    b->plugin_data = NULL;
    /* the marks decide each record; the batch's own outcome is the worst
     * of them (the log, test-sink) */
    enum hf_outcome bo = st->any_retry ? HF_OUT_RETRY : st->any_rejected ? HF_OUT_REJECTED : HF_OUT_DELIVERED;
    hf_batch_done(b, bo, st->retry_after_ms, bo == HF_OUT_DELIVERED ? NULL : st->reason);
    free(st);
}

static enum hf_outcome classify(struct http_ctx *c, const struct hf_http_result *res, char *reason, size_t len)
{
    long st = res->status;
    char excerpt[200];
    size_t n = res->body_len < sizeof(excerpt) - 1 ? res->body_len : sizeof(excerpt) - 1;
    for (size_t i = 0; i < n; i++)
        excerpt[i] = res->body[i] >= 0x20 && res->body[i] < 0x7f ? res->body[i] : ' ';
    excerpt[n] = '\0';
    if (st >= 200 && st < 300)
        return HF_OUT_DELIVERED;
    if (st == 0) {
        snprintf(reason, len, "no answer: %s", res->error);
        return HF_OUT_RETRY;
    }
    snprintf(reason, len, "HTTP %ld%s%s", st, n ? ": " : "", excerpt);
    if (st == 410) {
        snprintf(reason, len, "endpoint gone (HTTP 410)%s%s", n ? ": " : "", excerpt);
        if (!c->gone_logged)
            hf_sink_log(c->sink, HF_LOG_ERROR, "endpoint gone: %s answered 410; events go to dead letters", c->cf->url);
        c->gone_logged = true;
        return HF_OUT_REJECTED;
    }
    if (hf_http_status_retryable(st))
        return HF_OUT_RETRY;
    return HF_OUT_REJECTED;
}

static void on_answer(void *arg, const struct hf_http_result *res)
{
    struct http_job *j = arg;
    char reason[300] = "";
    enum hf_outcome o = classify(j->c, res, reason, sizeof(reason));
    int64_t after = res->retry_after_ms >= 0 ? res->retry_after_ms : 0;
    if (o == HF_OUT_REJECTED && res->status != 410)
        hf_sink_log(j->c->sink, HF_LOG_WARN, "%zu event%s to dead letters: %s", j->count, j->count == 1 ? "" : "s",
                    reason);
    job_settle(j, o, after, reason);
}

static void start_job(struct http_ctx *c, struct hf_batch *b, size_t first, size_t count)
{
    struct http_job *j = hf_calloc(1, sizeof(*j));
    char why[300];
    j->c = c;
    j->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = j;
    c->jobs = j;
    j->b = b;
    j->first = first;
    j->count = count;
    hf_buf_init(&j->body, MAX_BODY);
    http_body(c->cf->format, b->recs + first, count, &j->body);
    if (j->body.overflow) {
        job_settle(j, HF_OUT_REJECTED, 0, "request body larger than 32 MiB");
        return;
    }
    j->headers = job_headers(c, j);
    struct hf_http_request rq = {.method = c->cf->method == HTTP_PUT ? "PUT" : "POST",
                                 .url = c->cf->url,
                                 .headers = j->headers,
                                 .body = j->body.data,
                                 .body_len = j->body.len,
                                 .done = on_answer,
                                 .arg = j};
    if (hf_http_client_send(c->client, &rq, why, sizeof(why)) < 0)
        job_settle(j, HF_OUT_RETRY, 0, why);
}

static void http_send(struct hf_sink *s, struct hf_batch *b)
{
    struct http_ctx *c = hf_sink_state(s);
    bool each = c->cf->format == HTTP_FMT_JSON;
    size_t njobs = each ? b->n : 1;
    struct batch_state *st = hf_calloc(1, sizeof(*st));
    st->pending = njobs;
    b->plugin_data = st;
    for (size_t i = 0; i < njobs; i++)
        start_job(c, b, each ? i : 0, each ? 1 : b->n);
    /* settled synchronously (nothing could be sent): b is gone now */
    if (njobs == 0) {
        free(st);
        b->plugin_data = NULL;
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
        return;
    }
    hf_http_client_perform(c->client);
}

static void http_poll(struct hf_sink *s, int timeout_ms)
{
    struct http_ctx *c = hf_sink_state(s);
    hf_http_client_perform(c->client);
    hf_http_client_wait(c->client, timeout_ms);
    hf_http_client_perform(c->client);
}

static void http_drain(struct hf_sink *s, int deadline_ms)
{
    struct http_ctx *c = hf_sink_state(s);
    int64_t end = hf_mono_ms() + deadline_ms;
    while (hf_http_client_pending(c->client) > 0 && hf_mono_ms() < end)
        http_poll(s, 50);
}

static void http_destroy(struct hf_sink *s)
{
    struct http_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    /* requests still out are dropped without their done; their batches
     * are the runtime's, their jobs and batch states are freed here */
    hf_http_client_free(c->client);
    while (c->jobs) {
        struct hf_batch *b = c->jobs->b;
        free(b->plugin_data);
        b->plugin_data = NULL;
        job_free(c->jobs);
    }
    OPENSSL_cleanse(c->key, sizeof(c->key));
    free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_http = {
    .name = "http",
    .options = http_options,
    .conf_size = sizeof(struct http_conf),
    .check = http_check,
    .default_takes = HF_TAKES_RECORDS,
    .init = http_init,
    .encode = http_encode,
    .send = http_send,
    .poll = http_poll,
    .drain = http_drain,
    .destroy = http_destroy,
};
