/* SPDX-License-Identifier: Apache-2.0 */
/* The pagerduty sink (Events API v2). Records go one at a time, in order,
 * because a trigger and the resolve that follows it for the same
 * dedup_key must reach PagerDuty in that order. 202 is delivered; a 400
 * ("Event object is invalid") sends the record to dead letters with
 * PagerDuty's errors; 429, 5xx and transport errors stop the batch there:
 * what was delivered is marked so, the rest is retried by the runtime
 * (after Retry-After when PagerDuty gives one). */
#define _GNU_SOURCE
#include "pagerduty.h"
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hf_option pd_tls[] = {HF_TLS_OPTIONS(struct hf_pd_conf, tls), {0}};

#define SEV_ENTRY(sev, member, dflt)                                                                                   \
    {                                                                                                                  \
        .name = sev, .type = HF_OPT_ENUM, .enums = HF_PD_SEVERITIES, .def = dflt,                                      \
        .help = "PagerDuty severity for hookfwd's " sev, HF_OPT_AT(struct hf_pd_conf, severity_map[member])            \
    }

static const struct hf_option pd_sevmap[] = {SEV_ENTRY("critical", HF_SEV_CRITICAL, "critical"),
                                             SEV_ENTRY("high", HF_SEV_HIGH, "error"),
                                             SEV_ENTRY("warning", HF_SEV_WARNING, "warning"),
                                             SEV_ENTRY("info", HF_SEV_INFO, "info"),
                                             {0}};

static const struct hf_option pd_resolve[] = {{.name = "dedup_key",
                                               .type = HF_OPT_TEMPLATE,
                                               .help = "the incident a matching event resolves",
                                               HF_OPT_AT(struct hf_pd_conf, resolve_dedup_key)},
                                              {0}};

static const struct hf_option pd_options[] = {
    {.name = "routing_key",
     .type = HF_OPT_SECRET,
     .required = true,
     .help = "Events API v2 integration key (a secret: ${ENV} or {file: PATH})",
     HF_OPT_AT(struct hf_pd_conf, routing_key)},
    {.name = "url",
     .type = HF_OPT_STR,
     .def = "https://events.pagerduty.com/v2/enqueue",
     .help = "EU: https://events.eu.pagerduty.com/v2/enqueue",
     HF_OPT_AT(struct hf_pd_conf, url)},
    {.name = "summary",
     .type = HF_OPT_TEMPLATE,
     .help = "alert summary (per-event template, 1024 characters)",
     HF_OPT_AT(struct hf_pd_conf, summary)},
    {.name = "source",
     .type = HF_OPT_TEMPLATE,
     .help = "affected system (default: the repository, or the source)",
     HF_OPT_AT(struct hf_pd_conf, source)},
    {.name = "dedup_key",
     .type = HF_OPT_TEMPLATE,
     .def = "${idempotency_key}",
     .help = "alerts with one key are one incident",
     HF_OPT_AT(struct hf_pd_conf, dedup_key)},
    {.name = "severity_map", .type = HF_OPT_OBJ, .sub = pd_sevmap},
    {.name = "component", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct hf_pd_conf, component)},
    {.name = "group", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct hf_pd_conf, group)},
    {.name = "class", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct hf_pd_conf, class_)},
    {.name = "resolve",
     .type = HF_OPT_FILTER,
     .sub = pd_resolve,
     .help = "events matching this filter resolve the incident of their dedup_key",
     HF_OPT_AT(struct hf_pd_conf, resolve)},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "10s",
     .min = 100,
     .max = 300000,
     HF_OPT_AT(struct hf_pd_conf, timeout_ms)},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = pd_tls},
    {0}};

struct pctx {
    const struct hf_pd_conf *conf;
    struct hf_sink *sink;
    struct hf_http_client *http;
    struct hf_http_headers *hdrs;
    struct hf_batch *b; /* the batch being sent, one record at a time */
    size_t i;
    size_t delivered; /* of this batch, in this attempt */
    char reason[500]; /* the last rejection's */
    struct hf_buf body;
};

static void on_answer(void *arg, const struct hf_http_result *res);

/* Sends the batch's next record, or finishes the batch. */
static void next(struct pctx *c)
{
    struct hf_batch *b = c->b;
    while (c->i < b->n) {
        const struct hf_record *r = b->recs[c->i];
        char why[300];
        hf_buf_reset(&c->body);
        int rc = hf_pd_encode(c->conf, r, &c->body, why, sizeof(why));
        if (rc < 0) {
            if (c->body.overflow)
                snprintf(why, sizeof(why), "the event does not fit in memory");
            hf_sink_log(c->sink, HF_LOG_WARN, "event %s not sent: %s", r->event_id ? r->event_id : "?", why);
            hf_batch_mark(b, c->i++, HF_OUT_REJECTED, why);
            snprintf(c->reason, sizeof(c->reason), "%s", why);
            continue;
        }
        if (rc > 0)
            hf_sink_count_truncated(c->sink, 1);
        struct hf_http_request rq = {.url = c->conf->url,
                                     .headers = c->hdrs,
                                     .body = c->body.data,
                                     .body_len = c->body.len,
                                     .done = on_answer,
                                     .arg = c};
        if (hf_http_client_send(c->http, &rq, why, sizeof(why)) < 0) {
            struct hf_http_result res = {.status = 0, .error = why, .body = "", .retry_after_ms = -1};
            on_answer(c, &res);
        }
        return;
    }
    c->b = NULL;
    /* each record settles by its mark; the batch's own outcome is what
     * `test-sink` and `replay` print */
    if (c->delivered == 0)
        hf_batch_done(b, HF_OUT_REJECTED, 0, c->reason);
    else
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

static void on_answer(void *arg, const struct hf_http_result *res)
{
    struct pctx *c = arg;
    struct hf_batch *b = c->b;
    char reason[500];
    const char *said = res->status ? res->body : res->error;
    size_t said_len = res->status ? res->body_len : strlen(res->error ? res->error : "");
    enum hf_outcome o = hf_pd_classify(res->status, said, said_len, reason, sizeof(reason));
    if (o == HF_OUT_RETRY) {
        /* what went through stays delivered; this record and the rest are
         * retried in order */
        c->b = NULL;
        hf_batch_done(b, HF_OUT_RETRY, res->retry_after_ms > 0 ? res->retry_after_ms : 0, reason);
        return;
    }
    if (o == HF_OUT_REJECTED) {
        hf_sink_log(c->sink, HF_LOG_ERROR, "%s: event %s to dead letters", reason,
                    b->recs[c->i]->event_id ? b->recs[c->i]->event_id : "?");
        snprintf(c->reason, sizeof(c->reason), "%s", reason);
    } else {
        c->delivered++;
    }
    hf_batch_mark(b, c->i++, o, o == HF_OUT_REJECTED ? reason : NULL);
    next(c);
}

static void pd_send(struct hf_sink *s, struct hf_batch *b)
{
    struct pctx *c = hf_sink_state(s);
    c->b = b;
    c->i = 0;
    c->delivered = 0;
    c->reason[0] = '\0';
    next(c);
}

static void pd_poll(struct hf_sink *s, int timeout_ms)
{
    struct pctx *c = hf_sink_state(s);
    if (hf_http_client_perform(c->http) > 0)
        return;
    hf_http_client_wait(c->http, timeout_ms);
    hf_http_client_perform(c->http);
}

static void pd_destroy(struct hf_sink *s)
{
    struct pctx *c = hf_sink_state(s);
    if (!c)
        return;
    hf_http_client_free(c->http);
    hf_http_headers_free(c->hdrs);
    hf_buf_free(&c->body);
    free(c);
    hf_sink_set_state(s, NULL);
}

static int pd_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct hf_pd_conf *conf = hf_sink_conf(s);
    struct pctx *c = hf_calloc(1, sizeof(*c));
    c->conf = conf;
    c->sink = s;
    hf_buf_init(&c->body, 0);
    hf_sink_set_state(s, c);
    char why[256];
    struct hf_http_client_opts o = {
        .timeout_ms = conf->timeout_ms, .tls = &conf->tls, .max_inflight = 1, .max_response = 8192};
    c->http = hf_http_client_new(&o, why, sizeof(why));
    if (!c->http) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        pd_destroy(s);
        return -1;
    }
    c->hdrs = hf_http_headers_new();
    static const char ctype[] = "application/json";
    hf_http_headers_add(c->hdrs, "Content-Type", ctype, sizeof(ctype) - 1);
    return 0;
}

static int pd_encode_batch(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    const struct hf_pd_conf *conf = hf_sink_conf(s);
    for (size_t i = 0; i < b->n; i++) {
        char why[300];
        if (hf_pd_encode(conf, b->recs[i], out, why, sizeof(why)) >= 0)
            hf_buf_putc(out, '\n');
    }
    return out->overflow ? -1 : 0;
}

static int pd_check(const void *confp, const struct hf_check *ck)
{
    const struct hf_pd_conf *conf = confp;
    if (ck->takes != HF_TAKES_RECORDS)
        return hf_check_fail(ck, "takes", "the pagerduty sink takes records only (takes: records)");
    size_t klen = conf->routing_key ? strlen(conf->routing_key) : 0;
    if (klen == 0)
        return hf_check_fail(ck, "routing_key",
                             "is empty (the Events API v2 integration key, e.g. "
                             "\"${PAGERDUTY_ROUTING_KEY}\")");
    /* the key itself is never printed, only its length */
    if (klen != HF_PD_ROUTING_KEY_LEN)
        return hf_check_fail(ck, "routing_key",
                             "must be %d characters (an Events API v2 integration key), this one has %zu",
                             HF_PD_ROUTING_KEY_LEN, klen);
    if (hf_check_url(ck, "url", conf->url, "http|https") < 0)
        return -1;
    if (conf->resolve && !conf->resolve_dedup_key && hf_template_constant(conf->dedup_key))
        return hf_check_fail(ck, "resolve",
                             "needs a dedup_key naming the incident to resolve, e.g. "
                             "\"${data.repo}/${data.branch}\"");
    if (conf->resolve && !conf->resolve_dedup_key && hf_template_uses(conf->dedup_key, "idempotency_key"))
        return hf_check_fail(ck, "resolve",
                             "needs its own dedup_key (or a sink dedup_key such as \"scan/${data.repo}/"
                             "${data.branch}\"): ${idempotency_key} differs for every event, so no event "
                             "would find the incident another one opened");
    return hf_check_tls(ck, &conf->tls);
}

const struct hf_sink_plugin hf_out_pagerduty = {
    .name = "pagerduty",
    .options = pd_options,
    .conf_size = sizeof(struct hf_pd_conf),
    .default_takes = HF_TAKES_RECORDS,
    .max_inflight = 1,
    .check = pd_check,
    .init = pd_init,
    .encode = pd_encode_batch,
    .send = pd_send,
    .poll = pd_poll,
    .destroy = pd_destroy,
};
