/* SPDX-License-Identifier: Apache-2.0 */
/* The datadog sink: aggregates metric points per interval and submits them
 * to the Datadog v2 series API (POST /api/v2/series) with the shared HTTP
 * client (plugins/common/http_client.h), driven from the sink worker's
 * poll().
 *
 * Delivery. A batch's points are folded into the interval of each record's
 * receive time, and the batch stays in flight until every interval it fed
 * has been sealed, sent and answered: its records count as delivered only
 * once Datadog has their metrics. Failures are handled here, per request
 * body, never by handing batches back to the runtime: a body already
 * accepted is never sent again, and a retried body carries exactly the same
 * series, timestamps and values, so a retry after a lost 202 (a timeout, a
 * reset connection) overwrites Datadog's value for that timestamp with the
 * same value instead of adding to it. Re-aggregating handed-back batches
 * could not promise that: the parts of an interval that did get in would be
 * counted twice. Each interval is sealed once; points that arrive for an
 * interval already sealed go to the oldest open one, so no (series,
 * timestamp) is ever sent with two different values.
 *
 * 408, 429 (Retry-After, X-RateLimit-Reset), 5xx and transport errors:
 * retried with backoff until retry.give_up_after. 413: the body is split in
 * two and both halves are sent. 400, 403 and other answers: the records
 * whose points were in that interval go to the dead-letter file with the
 * intake's reason.
 *
 * test-sink and replay send outside the worker (on the thread that built
 * the sink): nothing else will come to aggregate with, so the batch is sent
 * at once, stamped with a second of its own, and tried once; a retryable
 * failure comes back as RETRY for the caller to report. */
#define _GNU_SOURCE
#include "datadog.h"
#include "http_client.h"
#include "plugin.h"

#include <yyjson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ACTIVE 4 /* requests at once */
#define MAX_AGE_S 3000 /* Datadog refuses points over 1 h old; keep room for retries */
#define ONCE_AHEAD_S 300 /* test-sink/replay stamps may run this far ahead of the clock */
#define RESP_CAP 4096
#define NO_INTERVAL INT64_MIN

#define DD_SITES "datadoghq.com|datadoghq.eu|us3.datadoghq.com|us5.datadoghq.com|ap1.datadoghq.com|ddog-gov.com"
enum dd_compression_opt { COMP_GZIP, COMP_DEFLATE, COMP_NONE }; /* as listed in the option */

/* The options as the core binds them; owned by the core. */
struct dd_options {
    char *api_key; /* secret */
    int site; /* index in DD_SITES */
    char *url;
    int64_t interval_ms, timeout_ms;
    struct hf_strlist tags;
    int compression;
    char *prefix, *host;
    struct hf_tls_conf tls;
    bool agent_metrics;
};

#define OPT(m) HF_OPT_AT(struct dd_options, m)

static const struct hf_option tls_options[] = {HF_TLS_OPTIONS(struct dd_options, tls), {0}};

static const struct hf_option dd_options[] = {
    {.name = "api_key", .type = HF_OPT_SECRET, .required = true, .help = "sent as DD-API-KEY", OPT(api_key)},
    {.name = "site",
     .type = HF_OPT_ENUM,
     .def = "datadoghq.com",
     .enums = DD_SITES,
     .help = "Datadog site; the intake is https://api.<site>/api/v2/series",
     OPT(site)},
    {.name = "url", .type = HF_OPT_STR, .help = "intake URL, overrides site (a proxy, a test receiver)", OPT(url)},
    {.name = "interval",
     .type = HF_OPT_DURATION,
     .def = "10s",
     .min = 1000,
     .max = 300000,
     .help = "aggregation interval, whole seconds",
     OPT(interval_ms)},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "30s",
     .min = 100,
     .max = 600000,
     .help = "per request, connecting included",
     OPT(timeout_ms)},
    {.name = "tags", .type = HF_OPT_STRLIST, .help = "added to every metric", OPT(tags)},
    {.name = "compression", .type = HF_OPT_ENUM, .def = "gzip", .enums = "gzip|deflate|none", OPT(compression)},
    {.name = "prefix", .type = HF_OPT_STR, .help = "prepended to every metric name", OPT(prefix)},
    {.name = "host", .type = HF_OPT_STR, .help = "host resource of every series; default: the hostname", OPT(host)},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_options},
    {.name = "agent_metrics",
     .type = HF_OPT_BOOL,
     .def = "false",
     .help = "also send the agent's own hookfwd.* health metrics, once an interval",
     OPT(agent_metrics)},
    {0}};

/* One interval's aggregation, from its first point to the last answer. */
struct dd_interval {
    struct hf_dd_bucket agg;
    bool sealed;
    int open_payloads; /* after sealing: bodies not yet answered for good */
    int64_t not_before_ms; /* monotonic; test-sink stamps ahead of the clock wait */
    bool once; /* test-sink/replay: one attempt, the caller retries */
    enum hf_outcome failed; /* PENDING, or the fate of its records */
    char reason[256];
    struct hf_batch **batches; /* the batches whose points are in here */
    size_t nbatches, batches_cap;
    struct dd_interval *next;
};

/* One request body: series [lo, hi) of an interval. */
struct dd_payload {
    struct hf_sink *sink;
    struct dd_interval *iv;
    size_t lo, hi;
    struct hf_buf body;
    size_t raw_len;
    int attempts;
    int64_t first_fail_ms, next_try_ms; /* monotonic */
    int64_t retry_after_ms;
    struct dd_payload *next;
};

/* A batch's own bookkeeping (its plugin_data). */
struct dd_batch_state {
    int pending; /* intervals not yet answered */
    int64_t *rec_start; /* each record's interval start, NO_INTERVAL without points */
    size_t failed; /* records marked REJECTED (or RETRY under test-sink) */
    enum hf_outcome fate; /* of those */
    char reason[256]; /* the first reason */
};

struct dd_ctx {
    struct hf_sink *sink;
    char *url;
    struct hf_http_headers *headers; /* holds the API key: wiped on destroy */
    const char *prefix;
    bool agent_metrics;
    struct hf_dd_health health;
    int64_t health_upto_s; /* the interval whose health was sent last */
    struct hf_dd_tags tags;
    struct hf_dd_encoder enc;
    int64_t interval_s, grace_ms;
    struct hf_http_client *http;
    struct dd_interval *intervals; /* oldest first */
    struct dd_payload *queue; /* waiting to be sent, oldest first */
    struct dd_payload *active;
    int nactive;
    int64_t sealed_upto_s; /* every interval before this is sealed */
    int64_t last_once_s;
    pthread_t init_thread;
    struct hf_buf scratch;
};

/* ---- small helpers ----------------------------------------------------- */

static int64_t floor_to(int64_t v, int64_t step)
{
    int64_t q = v / step;
    if (v % step != 0 && v < 0)
        q--;
    return q * step;
}

static void payload_push(struct dd_payload **head, struct dd_payload *p)
{
    struct dd_payload **pp = head;
    while (*pp)
        pp = &(*pp)->next;
    p->next = NULL;
    *pp = p;
}

static void payload_unlink(struct dd_payload **head, struct dd_payload *p)
{
    for (struct dd_payload **pp = head; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            return;
        }
}

static void payload_free(struct dd_payload *p)
{
    hf_buf_free(&p->body);
    free(p);
}

/* ---- intervals and batches --------------------------------------------- */

static struct dd_interval *interval_get(struct dd_ctx *c, int64_t start_s)
{
    struct dd_interval **pp = &c->intervals;
    while (*pp && (*pp)->agg.start_s < start_s)
        pp = &(*pp)->next;
    if (*pp && (*pp)->agg.start_s == start_s)
        return *pp;
    struct dd_interval *iv = hf_calloc(1, sizeof(*iv));
    hf_dd_bucket_init(&iv->agg, start_s);
    iv->next = *pp;
    *pp = iv;
    return iv;
}

/* The interval a record's points go to: that of its receive time, unless
 * that one is sealed already or too old for Datadog; then the oldest open
 * one. Under test-sink and replay (sent once, outside the worker) every call
 * gets its own second, so two calls never share a (series, timestamp). */
static struct dd_interval *interval_for(struct dd_ctx *c, int64_t received_ms, int64_t now_ms, bool once)
{
    int64_t now_s = floor_to(now_ms, 1000) / 1000;
    if (once) {
        int64_t start = now_s > c->last_once_s ? now_s : c->last_once_s + 1;
        c->last_once_s = start;
        return interval_get(c, start);
    }
    int64_t start = floor_to(floor_to(received_ms, 1000) / 1000, c->interval_s);
    if (start < c->sealed_upto_s || start < now_s - MAX_AGE_S) {
        start = floor_to(now_s, c->interval_s);
        if (start < c->sealed_upto_s)
            start = c->sealed_upto_s;
    }
    return interval_get(c, start);
}

static void interval_attach(struct dd_interval *iv, struct hf_batch *b)
{
    for (size_t i = iv->nbatches; i > 0; i--)
        if (iv->batches[i - 1] == b)
            return;
    if (iv->nbatches == iv->batches_cap) {
        iv->batches_cap = iv->batches_cap ? iv->batches_cap * 2 : 8;
        iv->batches = hf_realloc(iv->batches, iv->batches_cap * sizeof(*iv->batches));
    }
    iv->batches[iv->nbatches++] = b;
    ((struct dd_batch_state *)b->plugin_data)->pending++;
}

static void batch_state_free(struct hf_batch *b)
{
    struct dd_batch_state *st = b->plugin_data;
    if (!st)
        return;
    free(st->rec_start);
    free(st);
    b->plugin_data = NULL;
}

/* All of the interval's bodies are answered: settle what it holds. */
static void interval_complete(struct hf_sink *s, struct dd_interval *iv)
{
    struct dd_ctx *c = hf_sink_state(s);
    for (size_t k = 0; k < iv->nbatches; k++) {
        struct hf_batch *b = iv->batches[k];
        struct dd_batch_state *st = b->plugin_data;
        if (iv->failed != HF_OUT_PENDING) {
            for (size_t i = 0; i < b->n; i++)
                if (st->rec_start[i] == iv->agg.start_s) {
                    hf_batch_mark(b, i, iv->failed, iv->reason);
                    st->failed++;
                }
            if (!st->reason[0]) {
                snprintf(st->reason, sizeof(st->reason), "%s", iv->reason);
                st->fate = iv->failed;
            }
        }
        if (--st->pending == 0) {
            /* the batch's own outcome is what test-sink and replay report */
            bool all = st->failed == b->n;
            enum hf_outcome fate = st->fate;
            char reason[256];
            snprintf(reason, sizeof(reason), "%s", st->reason);
            batch_state_free(b);
            hf_batch_done(b, all ? fate : HF_OUT_DELIVERED, 0, all ? reason : NULL);
        }
    }
    for (struct dd_interval **pp = &c->intervals; *pp; pp = &(*pp)->next)
        if (*pp == iv) {
            *pp = iv->next;
            break;
        }
    hf_dd_bucket_free(&iv->agg);
    free(iv->batches);
    free(iv);
}

static void emit_payload(void *arg, size_t lo, size_t hi, struct hf_buf *body, size_t raw_len)
{
    struct dd_interval *iv = ((void **)arg)[0];
    struct dd_ctx *c = ((void **)arg)[1];
    struct dd_payload *p = hf_calloc(1, sizeof(*p));
    p->sink = c->sink;
    p->iv = iv;
    p->lo = lo;
    p->hi = hi;
    p->body = *body;
    hf_buf_init(body, 0);
    p->raw_len = raw_len;
    p->next_try_ms = iv->not_before_ms;
    iv->open_payloads++;
    payload_push(&c->queue, p);
}

static void encode_range(struct dd_ctx *c, struct dd_interval *iv, size_t lo, size_t hi)
{
    void *arg[2] = {iv, c};
    hf_dd_encode(&c->enc, &iv->agg, lo, hi, emit_payload, arg);
}

static void interval_seal(struct hf_sink *s, struct dd_interval *iv)
{
    struct dd_ctx *c = hf_sink_state(s);
    iv->sealed = true;
    if (iv->agg.start_s + c->interval_s > c->sealed_upto_s)
        c->sealed_upto_s = iv->agg.start_s + c->interval_s;
    int64_t ahead = iv->agg.start_s - hf_now_ms() / 1000 - ONCE_AHEAD_S;
    if (ahead > 0)
        iv->not_before_ms = hf_mono_ms() + ahead * 1000;
    encode_range(c, iv, 0, iv->agg.n);
    hf_sink_log(s, HF_LOG_DEBUG, "interval %lld: %zu series in %d requests", (long long)iv->agg.start_s, iv->agg.n,
                iv->open_payloads);
    if (iv->open_payloads == 0)
        interval_complete(s, iv);
}

static void seal_due(struct hf_sink *s, bool all)
{
    struct dd_ctx *c = hf_sink_state(s);
    int64_t now = hf_now_ms();
    struct dd_interval *iv = c->intervals;
    while (iv) {
        struct dd_interval *next = iv->next; /* sealing may complete and free it */
        if (!iv->sealed && (all || now >= (iv->agg.start_s + c->interval_s) * 1000 + c->grace_ms))
            interval_seal(s, iv);
        iv = next;
    }
}

/* ---- HTTP -------------------------------------------------------------- */

static void payload_answered(void *arg, const struct hf_http_result *res);

static void payload_start(struct dd_ctx *c, struct dd_payload *p)
{
    struct hf_http_request rq = {.url = c->url,
                                 .headers = c->headers,
                                 .body = p->body.data,
                                 .body_len = p->body.len,
                                 .done = payload_answered,
                                 .arg = p};
    char why[200];
    payload_unlink(&c->queue, p);
    p->retry_after_ms = 0;
    if (hf_http_client_send(c->http, &rq, why, sizeof(why)) < 0) {
        /* a request that cannot even be set up waits for its next try */
        p->attempts++;
        p->next_try_ms = hf_mono_ms() + hf_sink_backoff_ms(c->sink, p->attempts);
        hf_sink_log(c->sink, HF_LOG_WARN, "cannot start a request: %s", why);
        payload_push(&c->queue, p);
        return;
    }
    payload_push(&c->active, p);
    c->nactive++;
}

/* "HTTP 403: Forbidden" from the intake's {"errors":[...]} */
static void response_reason(const struct hf_http_result *res, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "HTTP %ld", res->status);
    yyjson_doc *doc = res->body_len ? yyjson_read(res->body, res->body_len, 0) : NULL;
    yyjson_val *errs = yyjson_obj_get(yyjson_doc_get_root(doc), "errors");
    if (yyjson_is_arr(errs)) {
        size_t i, max;
        yyjson_val *e;
        yyjson_arr_foreach(errs, i, max, e)
        {
            if (n <= 0 || (size_t)n >= outlen)
                break;
            const char *t = yyjson_get_str(e);
            n += snprintf(out + n, outlen - (size_t)n, "%s%s", i ? "; " : ": ", t ? t : "");
        }
    } else if (res->body_len && n > 0 && (size_t)n < outlen) {
        snprintf(out + n, outlen - (size_t)n, ": %.200s", res->body);
    }
    yyjson_doc_free(doc);
}

static void payload_end(struct hf_sink *s, struct dd_payload *p)
{
    struct dd_interval *iv = p->iv;
    payload_free(p);
    if (--iv->open_payloads == 0 && iv->sealed)
        interval_complete(s, iv);
}

/* The records of the interval get `fate`: REJECTED (dead letters), or
 * RETRY under test-sink and replay, whose caller decides what to retry. */
static void payload_fail(struct hf_sink *s, struct dd_payload *p, enum hf_outcome fate, const char *reason)
{
    struct dd_interval *iv = p->iv;
    if (fate == HF_OUT_REJECTED)
        hf_sink_log(s, HF_LOG_WARN, "interval %lld: %zu series not accepted, their records go to dead letters: %s",
                    (long long)iv->agg.start_s, p->hi - p->lo, reason);
    if (iv->failed == HF_OUT_PENDING) {
        snprintf(iv->reason, sizeof(iv->reason), "%s", reason);
        iv->failed = fate;
    }
    payload_end(s, p);
}

static void payload_retry(struct hf_sink *s, struct dd_payload *p, const char *reason)
{
    struct dd_ctx *c = hf_sink_state(s);
    int64_t now = hf_mono_ms();
    p->attempts++;
    if (p->iv->once) {
        payload_fail(s, p, HF_OUT_RETRY, reason);
        return;
    }
    if (p->first_fail_ms == 0)
        p->first_fail_ms = now;
    if (now - p->first_fail_ms >= hf_sink_give_up_ms(s)) {
        char why[300];
        snprintf(why, sizeof(why), "gave up after %d attempts: %s", p->attempts, reason);
        payload_fail(s, p, HF_OUT_REJECTED, why);
        return;
    }
    int64_t delay = hf_sink_backoff_ms(s, p->attempts);
    if (p->retry_after_ms > delay)
        delay = p->retry_after_ms;
    p->next_try_ms = now + delay;
    hf_sink_log(s, HF_LOG_WARN, "interval %lld: request of %zu series will be retried in %lld ms (attempt %d): %s",
                (long long)p->iv->agg.start_s, p->hi - p->lo, (long long)delay, p->attempts, reason);
    payload_push(&c->queue, p);
}

static void payload_answered(void *arg, const struct hf_http_result *res)
{
    struct dd_payload *p = arg;
    struct hf_sink *s = p->sink;
    struct dd_ctx *c = hf_sink_state(s);
    long status = res->status;
    payload_unlink(&c->active, p);
    c->nactive--;
    /* the later of the two: Retry-After, and the rate limit window's reset */
    p->retry_after_ms = res->retry_after_ms > res->ratelimit_reset_ms ? res->retry_after_ms : res->ratelimit_reset_ms;
    if (p->retry_after_ms < 0)
        p->retry_after_ms = 0;
    char why[300];
    if (status == 0) {
        snprintf(why, sizeof(why), "%s", res->error);
        payload_retry(s, p, why);
        return;
    }
    if (status >= 200 && status < 300) {
        payload_end(s, p);
        return;
    }
    response_reason(res, why, sizeof(why));
    if (hf_http_status_retryable(status)) {
        payload_retry(s, p, why);
    } else if (status == 413 && p->hi - p->lo > 1) {
        /* smaller than the intake takes after all: send it as two halves */
        size_t mid = p->lo + (p->hi - p->lo) / 2;
        encode_range(c, p->iv, p->lo, mid);
        encode_range(c, p->iv, mid, p->hi);
        hf_sink_log(s, HF_LOG_INFO, "interval %lld: %zu series refused as too large (%zu bytes), split in two",
                    (long long)p->iv->agg.start_s, p->hi - p->lo, p->body.len);
        payload_end(s, p);
    } else {
        payload_fail(s, p, HF_OUT_REJECTED, why);
    }
}

static int64_t next_deadline(const struct hf_sink *s, int64_t now_mono, int64_t cap_ms)
{
    const struct dd_ctx *c = hf_sink_state(s);
    int64_t wait = cap_ms, now_wall = hf_now_ms();
    for (const struct dd_interval *iv = c->intervals; iv; iv = iv->next)
        if (!iv->sealed) {
            int64_t d = (iv->agg.start_s + c->interval_s) * 1000 + c->grace_ms - now_wall;
            if (d < wait)
                wait = d;
        }
    if (c->nactive < MAX_ACTIVE)
        for (const struct dd_payload *p = c->queue; p; p = p->next)
            if (p->next_try_ms - now_mono < wait)
                wait = p->next_try_ms - now_mono;
    return wait < 0 ? 0 : wait;
}

static void start_due(struct dd_ctx *c)
{
    int64_t now = hf_mono_ms();
    struct dd_payload *p = c->queue;
    while (p && c->nactive < MAX_ACTIVE) {
        struct dd_payload *next = p->next;
        if (p->next_try_ms <= now)
            payload_start(c, p);
        p = next;
    }
}

struct health_add {
    struct dd_ctx *c;
    int64_t start_s;
    struct dd_interval *iv; /* made on the first point */
};

static void health_add(void *arg, const struct hf_point *pt)
{
    struct health_add *h = arg;
    if (!h->iv)
        h->iv = interval_get(h->c, h->start_s);
    size_t name_len, klen = hf_dd_point_key(h->c->prefix, &h->c->tags, pt, &h->c->scratch, &name_len);
    if (klen > 0)
        hf_dd_bucket_add(&h->iv->agg, h->c->scratch.data, klen, name_len, pt->type, pt->value);
}

/* agent_metrics: once an interval has passed, what the agent counted during
 * it goes into it (still open: intervals are sealed a grace period late). */
static void health_tick(struct dd_ctx *c)
{
    int64_t now_s = hf_now_ms() / 1000;
    int64_t done = floor_to(now_s, c->interval_s) - c->interval_s;
    if (c->health_upto_s == 0) {
        c->health_upto_s = done; /* counts from the start go into the first full interval */
        return;
    }
    if (done <= c->health_upto_s)
        return;
    c->health_upto_s = done;
    struct health_add h = {c, done < c->sealed_upto_s ? c->sealed_upto_s : done, NULL};
    hf_dd_health_collect(&c->health, health_add, &h);
}

static void dd_poll(struct hf_sink *s, int timeout_ms)
{
    struct dd_ctx *c = hf_sink_state(s);
    if (c->agent_metrics)
        health_tick(c);
    seal_due(s, hf_sink_stopping(s));
    start_due(c);
    int wait = (int)next_deadline(s, hf_mono_ms(), timeout_ms);
    hf_http_client_wait(c->http, wait);
    hf_http_client_perform(c->http);
    start_due(c);
}

/* ---- plugin ------------------------------------------------------------- */

static void dd_send(struct hf_sink *s, struct hf_batch *b)
{
    struct dd_ctx *c = hf_sink_state(s);
    bool once = pthread_equal(pthread_self(), c->init_thread) != 0;
    int64_t now = hf_now_ms();
    struct dd_batch_state *st = hf_calloc(1, sizeof(*st));
    st->rec_start = hf_calloc(b->n ? b->n : 1, sizeof(*st->rec_start));
    b->plugin_data = st;
    struct dd_interval *once_iv = NULL;
    for (size_t i = 0; i < b->n; i++) {
        const struct hf_record *r = b->recs[i];
        st->rec_start[i] = NO_INTERVAL;
        if (r->npoints == 0)
            continue;
        struct dd_interval *iv = once ? (once_iv ? once_iv : (once_iv = interval_for(c, 0, now, true)))
                                      : interval_for(c, r->received_ms, now, false);
        iv->once = once;
        for (size_t j = 0; j < r->npoints; j++) {
            const struct hf_point *pt = &r->points[j];
            size_t name_len, klen = hf_dd_point_key(c->prefix, &c->tags, pt, &c->scratch, &name_len);
            if (klen > 0)
                hf_dd_bucket_add(&iv->agg, c->scratch.data, klen, name_len, pt->type, pt->value);
        }
        st->rec_start[i] = iv->agg.start_s;
        interval_attach(iv, b);
    }
    if (st->pending == 0) {
        batch_state_free(b);
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
        return;
    }
    if (once) /* nothing else will come to aggregate with: send now */
        seal_due(s, true);
}

static void init_url(const struct dd_options *o, struct dd_ctx *c)
{
    struct hf_buf b;
    hf_buf_init(&b, 4096);
    if (o->url) {
        hf_buf_puts(&b, o->url);
        /* a bare base URL ("https://api.datadoghq.com") gets the v2 path */
        const char *scheme = strstr(o->url, "://");
        const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
        if (!path || !strcmp(path, "/")) {
            if (b.len && b.data[b.len - 1] == '/')
                b.len--;
            hf_buf_puts(&b, "/api/v2/series");
        }
    } else {
        char site[64];
        hf_buf_printf(&b, "https://api.%s/api/v2/series", hf_opt_enum_text(DD_SITES, o->site, site, sizeof(site)));
    }
    c->url = b.data;
}

static int init_headers(const struct dd_options *o, struct dd_ctx *c)
{
    c->headers = hf_http_headers_new();
    if (!c->headers)
        return -1;
    int rc = hf_http_headers_add(c->headers, "DD-API-KEY", o->api_key, strlen(o->api_key));
    rc |= hf_http_headers_add(c->headers, "Content-Type", "application/json", 16);
    rc |= hf_http_headers_add(c->headers, "Accept", "application/json", 16);
    if (c->enc.compression == HF_DD_GZIP)
        rc |= hf_http_headers_add(c->headers, "Content-Encoding", "gzip", 4);
    else if (c->enc.compression == HF_DD_DEFLATE)
        rc |= hf_http_headers_add(c->headers, "Content-Encoding", "deflate", 7);
    return rc < 0 ? -1 : 0;
}

/* `hookfwd check`: what the option types cannot say. */
static int dd_check(const void *conf, const struct hf_check *ck)
{
    const struct dd_options *o = conf;
    if (ck->takes & HF_TAKES_RECORDS)
        return hf_check_fail(ck, "takes", "the datadog sink takes metrics only (takes: metrics)");
    if (o->interval_ms % 1000 != 0)
        return hf_check_fail(ck, "interval", "must be whole seconds (Datadog timestamps are seconds)");
    if (hf_check_url(ck, "url", o->url, "https|http") < 0)
        return -1;
    if (!o->api_key[0])
        return hf_check_fail(ck, "api_key", "is empty");
    for (const char *k = o->api_key; *k; k++)
        if ((unsigned char)*k < 0x21 || (unsigned char)*k > 0x7e)
            /* the message must not quote the key */
            return hf_check_fail(ck, "api_key", "holds a character that cannot go in an HTTP header");
    return hf_check_tls(ck, &o->tls);
}

static int dd_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct dd_options *o = hf_sink_conf(s);
    struct dd_ctx *c = hf_calloc(1, sizeof(*c));
    hf_sink_set_state(s, c);
    c->sink = s;
    c->init_thread = pthread_self();
    hf_buf_init(&c->scratch, 0);
    c->interval_s = o->interval_ms / 1000;
    /* records reach the worker up to a batch flush after they were received */
    c->grace_ms = hf_sink_flush_ms(s) + 1000;
    static const char *const comp_names[] = {"gzip", "deflate", "none"};
    static const enum hf_dd_compression comps[] = {HF_DD_GZIP, HF_DD_DEFLATE, HF_DD_NONE};
    char host[256] = "";
    if (o->host)
        snprintf(host, sizeof(host), "%s", o->host);
    else if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "localhost");
    hf_dd_encoder_init(&c->enc, comps[o->compression], c->interval_s, host);
    for (size_t i = 0; i < o->tags.n; i++)
        hf_dd_tags_add(&c->tags, o->tags.v[i]);
    c->prefix = o->prefix;
    c->agent_metrics = o->agent_metrics;
    if (c->agent_metrics)
        hf_sink_poll_when_idle(s, true);
    init_url(o, c);
    char why[200] = "cannot build the request headers";
    struct hf_http_client_opts ho = {
        .timeout_ms = o->timeout_ms, .tls = &o->tls, .max_inflight = MAX_ACTIVE, .max_response = RESP_CAP};
    if (init_headers(o, c) < 0 || !(c->http = hf_http_client_new(&ho, why, sizeof(why)))) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        return -1;
    }
    if (!o->tls.verify)
        hf_sink_log(s, HF_LOG_WARN,
                    "tls.verify is false: the intake's certificate is NOT checked, so anyone on the "
                    "path can read the API key; use tls.ca_file for a private CA instead");
    hf_sink_log(s, HF_LOG_INFO, "series to %s every %llds, %s, host %s", c->url, (long long)c->interval_s,
                comp_names[o->compression], host);
    return 0;
}

static void dd_drain(struct hf_sink *s, int deadline_ms)
{
    struct dd_ctx *c = hf_sink_state(s);
    (void)deadline_ms;
    size_t n = 0;
    for (struct dd_interval *iv = c->intervals; iv; iv = iv->next)
        n++;
    if (n)
        hf_sink_log(s, HF_LOG_WARN,
                    "stopping with %zu intervals unanswered; their records were not acknowledged "
                    "and are replayed from the journal in disk mode",
                    n);
}

static void dd_destroy(struct hf_sink *s)
{
    struct dd_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    /* transfers still running are dropped; their payloads are freed here */
    hf_http_client_free(c->http);
    for (struct dd_payload *p = c->active, *n; p; p = n) {
        n = p->next;
        payload_free(p);
    }
    for (struct dd_payload *p = c->queue, *n; p; p = n) {
        n = p->next;
        payload_free(p);
    }
    /* batches still held belong to the runtime, which frees them next */
    for (struct dd_interval *iv = c->intervals, *n; iv; iv = n) {
        n = iv->next;
        for (size_t k = 0; k < iv->nbatches; k++)
            batch_state_free(iv->batches[k]);
        hf_dd_bucket_free(&iv->agg);
        free(iv->batches);
        free(iv);
    }
    hf_http_headers_free(c->headers);
    hf_dd_encoder_free(&c->enc);
    hf_dd_tags_free(&c->tags);
    hf_dd_health_free(&c->health);
    hf_buf_free(&c->scratch);
    free(c->url);
    free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_datadog = {
    .name = "datadog",
    .options = dd_options,
    .conf_size = sizeof(struct dd_options),
    .check = dd_check,
    .default_takes = HF_TAKES_METRICS,
    /* batches stay in flight until their interval is answered: room for an
     * interval's worth at tens of thousands of events per second */
    .max_inflight = 1024,
    .init = dd_init,
    .send = dd_send,
    .poll = dd_poll,
    .drain = dd_drain,
    .destroy = dd_destroy,
};
