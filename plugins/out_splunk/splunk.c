/* SPDX-License-Identifier: Apache-2.0 */
/* The splunk_hec sink: sends batches to Splunk's HTTP Event Collector,
 * several at once, and turns HEC's answers into each record's fate: resend
 * on busy, dead-letter only the event HEC names as bad, split on 413, keep
 * everything on a token or configuration error, and with indexer
 * acknowledgement count a batch delivered only once Splunk says so. */
#include "splunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACK_POLL_FIRST_MS 100
#define ACK_POLL_MAX_MS 1000
#define OPERATOR_LOG_EVERY_MS 30000
#define LEARNED_LIMIT_TTL_MS (10 * 60 * 1000)

enum job_state { JOB_SENDING, JOB_ACK_WAIT };

/* One batch while the sink holds it. Records [0, pos) are settled (sent, or
 * marked); the request in flight or awaiting its ack covers [pos, end). */
struct splunk_job {
    struct hf_batch *b;
    size_t pos, end;
    size_t window; /* records per request; halved to corner a bad event */
    enum job_state state;
    struct splunk_req *req;
    int64_t ack_id;
    int64_t ack_deadline_ms, ack_next_ms, ack_interval_ms;
    bool acked;
    struct splunk_job *next;
};

static void job_send_window(struct splunk_ctx *c, struct splunk_job *job);
static void on_done(void *arg, const struct hf_http_result *res);

/* ---- finishing ---- */

static void job_unlink(struct splunk_ctx *c, struct splunk_job *job)
{
    for (struct splunk_job **p = &c->jobs; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            return;
        }
}

static void job_finish(struct splunk_ctx *c, struct splunk_job *job, enum hf_outcome o, int64_t retry_after_ms,
                       const char *reason)
{
    struct hf_batch *b = job->b;
    /* what was sent before the failure stays delivered; only the rest
     * follows the batch's outcome */
    if (o != HF_OUT_DELIVERED)
        for (size_t i = 0; i < job->pos; i++)
            if (!b->rec_outcome || b->rec_outcome[i] == HF_OUT_PENDING)
                hf_batch_mark(b, i, HF_OUT_DELIVERED, NULL);
    if (job->req)
        hf_splunk_req_put(c, job->req);
    job_unlink(c, job);
    free(job);
    b->plugin_data = NULL;
    c->completed++;
    hf_batch_done(b, o, retry_after_ms, reason);
}

static void window_done(struct splunk_ctx *c, struct splunk_job *job)
{
    job->pos = job->end;
    job_send_window(c, job);
}

/* ---- sending ---- */

/* Encodes records from job->pos into req->body, up to the window and the
 * learned request size. Returns the number of HEC objects. */
static size_t encode_window(struct splunk_ctx *c, struct splunk_job *job, struct splunk_req *req)
{
    const struct hf_batch *b = job->b;
    enum hf_takes takes = hf_sink_takes(c->sink);
    if (c->max_request_bytes && hf_mono_ms() - c->max_request_set_ms > LEARNED_LIMIT_TTL_MS)
        c->max_request_bytes = 0; /* the HEC limit may have been raised since */
    size_t stop = b->n - job->pos > job->window ? job->pos + job->window : b->n;
    size_t nobjs = 0, i = job->pos;
    for (; i < stop; i++) {
        size_t before = req->body.len;
        size_t k = hf_splunk_encode_record(&c->conf, takes, b->recs[i], &req->body);
        bool over = c->max_request_bytes && req->body.len > c->max_request_bytes;
        if (req->body.overflow || (over && i > job->pos)) {
            req->body.overflow = false;
            req->body.len = before;
            break;
        }
        nobjs += k;
    }
    job->end = i;
    return nobjs;
}

static void job_send_window(struct splunk_ctx *c, struct splunk_job *job)
{
    while (job->pos < job->b->n) {
        struct splunk_req *req = hf_splunk_req_get(c);
        if (!req) {
            job_finish(c, job, HF_OUT_RETRY, 0, "cannot create an HTTP handle");
            return;
        }
        size_t nobjs = encode_window(c, job, req);
        if (job->end == job->pos) { /* one record larger than any request may be */
            hf_splunk_req_put(c, req);
            hf_batch_mark(job->b, job->pos++, HF_OUT_REJECTED, "event larger than a HEC request may be");
            continue;
        }
        if (nobjs == 0) { /* e.g. a metrics sink and records without points */
            hf_splunk_req_put(c, req);
            job->pos = job->end;
            continue;
        }
        if (c->conf.gzip && hf_splunk_gzip_with(c->zip, req->body.data, req->body.len, &req->wire) < 0) {
            hf_splunk_req_put(c, req);
            job_finish(c, job, HF_OUT_RETRY, 0, "gzip failed");
            return;
        }
        req->job = job;
        job->req = req;
        job->state = JOB_SENDING;
        if (hf_splunk_req_start(c, req, false, on_done) < 0)
            job_finish(c, job, HF_OUT_RETRY, 0, "cannot start the HTTP request");
        return;
    }
    job_finish(c, job, HF_OUT_DELIVERED, 0, NULL);
}

static void splunk_send(struct hf_sink *s, struct hf_batch *b)
{
    struct splunk_ctx *c = hf_sink_state(s);
    struct splunk_job *job = hf_calloc(1, sizeof(*job));
    job->b = b;
    job->window = b->n ? b->n : 1;
    job->next = c->jobs;
    c->jobs = job;
    b->plugin_data = job;
    job_send_window(c, job);
}

/* ---- HEC answers ---- */

static void describe(const struct hf_splunk_reply *r, char *out, size_t len)
{
    if (r->code >= 0)
        snprintf(out, len, "HTTP %ld code %d: %s", r->status, r->code, r->text);
    else
        snprintf(out, len, "HTTP %ld: %.100s", r->status, r->text);
}

/* Token and configuration errors need a person: say so plainly, but not on
 * every retry. */
static void tell_operator(struct splunk_ctx *c, enum hf_splunk_class cls, const char *what)
{
    struct hf_sink *s = c->sink;
    int64_t now = hf_mono_ms(), *last = cls == HF_SPLUNK_AUTH ? &c->auth_log_mono_ms : &c->config_log_mono_ms;
    if (*last && now - *last < OPERATOR_LOG_EVERY_MS)
        return;
    *last = now;
    char every[32];
    long long ms = (long long)hf_sink_retry_max_ms(s);
    snprintf(every, sizeof(every), ms % 1000 ? "%lld ms" : "%lld s", ms % 1000 ? ms : ms / 1000);
    if (cls == HF_SPLUNK_AUTH)
        hf_sink_log(s, HF_LOG_ERROR,
                    "HEC at %s refused the token (%s): check the token and that it is enabled; "
                    "records are kept and resent every %s",
                    c->conf.event_url, what, every);
    else
        hf_sink_log(s, HF_LOG_ERROR,
                    "HEC at %s refused the request (%s): this needs a configuration fix (url, "
                    "index, channel, token settings); records are kept and resent every %s",
                    c->conf.event_url, what, every);
}

/* The record that owns object number `obj` of the request, or SIZE_MAX. */
static size_t record_of_object(struct splunk_ctx *c, struct splunk_job *job, long obj)
{
    if (obj < 0)
        return SIZE_MAX;
    size_t left = (size_t)obj;
    for (size_t i = job->pos; i < job->end; i++) {
        size_t k = hf_splunk_count_objects(hf_sink_takes(c->sink), job->b->recs[i]);
        if (left < k)
            return i;
        left -= k;
    }
    return SIZE_MAX;
}

static void on_poison(struct splunk_ctx *c, struct splunk_job *job, const struct hf_splunk_reply *r, const char *what)
{
    size_t bad = record_of_object(c, job, r->invalid_event);
    if (bad == SIZE_MAX) {
        if (job->end - job->pos > 1) { /* HEC did not say which: halve until it does */
            job->window = (job->end - job->pos) / 2;
            job_send_window(c, job);
            return;
        }
        bad = job->pos;
    }
    char reason[300];
    snprintf(reason, sizeof(reason), "HEC refused this event (%s)", what);
    hf_sink_log(c->sink, HF_LOG_WARN,
                "HEC refused one event of a batch (%s): it goes to the dead-letter file, "
                "the %zu events before it were indexed, the rest are resent",
                what, bad - job->pos);
    /* objects before the bad one are indexed already: resending them
     * would duplicate them */
    hf_batch_mark(job->b, bad, HF_OUT_REJECTED, reason);
    job->pos = bad + 1;
    job_send_window(c, job);
}

static void on_too_large(struct splunk_ctx *c, struct splunk_job *job, size_t sent_bytes, const char *what)
{
    size_t nrec = job->end - job->pos;
    if (nrec <= 1) {
        char reason[300];
        snprintf(reason, sizeof(reason), "HEC refuses this event even alone (%s)", what);
        hf_batch_mark(job->b, job->pos++, HF_OUT_REJECTED, reason);
        job_send_window(c, job);
        return;
    }
    if (!c->max_request_bytes || sent_bytes / 2 < c->max_request_bytes) {
        c->max_request_bytes = sent_bytes / 2;
        c->max_request_set_ms = hf_mono_ms();
        hf_sink_log(c->sink, HF_LOG_WARN,
                    "HEC refused a %zu-byte request as too large (%s): requests are split "
                    "to %zu bytes; lower batch.max_bytes or raise max_content_length",
                    sent_bytes, what, c->max_request_bytes);
    }
    job->window = nrec / 2;
    job_send_window(c, job);
}

static void on_accepted(struct splunk_ctx *c, struct splunk_job *job, const struct hf_splunk_reply *r)
{
    if (!c->conf.ack || r->ack_id < 0) {
        if (c->conf.ack && !c->warned_no_ack_id) {
            c->warned_no_ack_id = true;
            hf_sink_log(c->sink, HF_LOG_WARN,
                        "ack is on but HEC answered without an ackId: indexer "
                        "acknowledgement is off for this token; a 200 counts as delivered");
        }
        window_done(c, job);
        return;
    }
    int64_t now = hf_mono_ms();
    job->state = JOB_ACK_WAIT;
    job->ack_id = r->ack_id;
    job->ack_deadline_ms = now + c->conf.ack_timeout_ms;
    job->ack_interval_ms = ACK_POLL_FIRST_MS;
    job->ack_next_ms = now + ACK_POLL_FIRST_MS;
}

static void on_event_reply(struct splunk_ctx *c, struct splunk_req *req, const struct hf_http_result *res)
{
    struct splunk_job *job = req->job;
    struct hf_splunk_reply r;
    hf_splunk_parse_reply(res->status, res->body, res->body_len, &r);
    char what[240];
    if (res->status == 0)
        snprintf(what, sizeof(what), "cannot reach HEC: %.200s", res->error);
    else
        describe(&r, what, sizeof(what));
    int64_t retry_after_ms = res->retry_after_ms > 0 ? res->retry_after_ms : 0;
    size_t sent_bytes = req->body.len;
    job->req = NULL;
    hf_splunk_req_put(c, req);
    int64_t slow = hf_sink_retry_max_ms(c->sink);
    switch (hf_splunk_classify(&r)) {
    case HF_SPLUNK_OK: on_accepted(c, job, &r); break;
    case HF_SPLUNK_RETRY: job_finish(c, job, HF_OUT_RETRY, retry_after_ms, what); break;
    case HF_SPLUNK_AUTH:
        tell_operator(c, HF_SPLUNK_AUTH, what);
        job_finish(c, job, HF_OUT_RETRY, slow, what);
        break;
    case HF_SPLUNK_CONFIG:
        tell_operator(c, HF_SPLUNK_CONFIG, what);
        job_finish(c, job, HF_OUT_RETRY, slow, what);
        break;
    case HF_SPLUNK_POISON: on_poison(c, job, &r, what); break;
    case HF_SPLUNK_TOO_LARGE: on_too_large(c, job, sent_bytes, what); break;
    }
}

/* ---- indexer acknowledgement ---- */

static void mark_acked(void *arg, int64_t id)
{
    struct splunk_ctx *c = arg;
    for (struct splunk_job *j = c->jobs; j; j = j->next)
        if (j->state == JOB_ACK_WAIT && j->ack_id == id)
            j->acked = true;
}

static void on_ack_reply(struct splunk_ctx *c, struct splunk_req *req, const struct hf_http_result *res)
{
    int ok = res->status == 200 ? hf_splunk_parse_acks(res->body, res->body_len, mark_acked, c) : -1;
    if (ok < 0) {
        struct hf_splunk_reply r;
        char what[240];
        hf_splunk_parse_reply(res->status, res->body, res->body_len, &r);
        describe(&r, what, sizeof(what));
        /* the batches keep waiting; their ack timeout resends them */
        hf_sink_log(c->sink, HF_LOG_WARN, "ack query failed (%s)", res->status == 0 ? res->error : what);
    }
    c->ack_req = NULL;
    hf_splunk_req_put(c, req);
    for (;;) {
        struct splunk_job *j = c->jobs;
        while (j && !j->acked)
            j = j->next;
        if (!j)
            break;
        j->acked = false;
        window_done(c, j);
    }
}

static void query_acks(struct splunk_ctx *c, int64_t now)
{
    if (c->ack_req)
        return;
    struct splunk_req *req = NULL;
    for (struct splunk_job *j = c->jobs; j; j = j->next) {
        if (j->state != JOB_ACK_WAIT || j->ack_next_ms > now)
            continue;
        if (!req && !(req = hf_splunk_req_get(c)))
            return;
        hf_buf_printf(&req->body, "%s%lld", req->body.len ? "," : "{\"acks\":[", (long long)j->ack_id);
        /* back off: Splunk answers false until the indexers have the data */
        j->ack_interval_ms = j->ack_interval_ms * 2 > ACK_POLL_MAX_MS ? ACK_POLL_MAX_MS : j->ack_interval_ms * 2;
        j->ack_next_ms = now + j->ack_interval_ms;
    }
    if (!req)
        return;
    hf_buf_puts(&req->body, "]}");
    if (hf_splunk_req_start(c, req, true, on_done) < 0) {
        hf_splunk_req_put(c, req);
        return;
    }
    c->ack_req = req;
}

static void expire_acks(struct splunk_ctx *c, int64_t now)
{
    for (;;) {
        struct splunk_job *j = c->jobs;
        while (j && !(j->state == JOB_ACK_WAIT && now >= j->ack_deadline_ms))
            j = j->next;
        if (!j)
            return;
        char why[200];
        snprintf(why, sizeof(why),
                 "no indexer acknowledgement for ackId %lld within %lld ms: resent, Splunk may "
                 "index it twice",
                 (long long)j->ack_id, (long long)c->conf.ack_timeout_ms);
        job_finish(c, j, HF_OUT_RETRY, 0, why);
    }
}

/* When the next ack poll or ack timeout is due, at the latest `until`. */
static int64_t next_ack_event(const struct splunk_ctx *c, int64_t until)
{
    for (const struct splunk_job *j = c->jobs; j; j = j->next) {
        if (j->state != JOB_ACK_WAIT)
            continue;
        if (!c->ack_req && j->ack_next_ms < until)
            until = j->ack_next_ms;
        if (j->ack_deadline_ms < until)
            until = j->ack_deadline_ms;
    }
    return until;
}

/* ---- driving ---- */

static void on_done(void *arg, const struct hf_http_result *res)
{
    struct splunk_req *req = arg;
    if (req->job)
        on_event_reply(req->ctx, req, res);
    else
        on_ack_reply(req->ctx, req, res);
}

static void splunk_poll(struct hf_sink *s, int timeout_ms)
{
    struct splunk_ctx *c = hf_sink_state(s);
    c->completed = 0;
    int64_t now = hf_mono_ms();
    expire_acks(c, now);
    query_acks(c, now);
    hf_splunk_http_drive(c);
    if (c->completed)
        return; /* let the runtime settle them and send more */
    now = hf_mono_ms();
    int64_t until = next_ack_event(c, now + timeout_ms);
    hf_splunk_http_wait(c, (int)(until - now));
    hf_splunk_http_drive(c);
}

static void splunk_drain(struct hf_sink *s, int deadline_ms)
{
    struct splunk_ctx *c = hf_sink_state(s);
    int64_t end = hf_mono_ms() + deadline_ms;
    while (c->jobs && hf_mono_ms() < end)
        splunk_poll(s, 50);
}

/* ---- life cycle ---- */

static void splunk_destroy(struct hf_sink *s)
{
    struct splunk_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    /* transfers still running are dropped first: their requests are freed
     * with the jobs below; the batches go back to the runtime, which frees
     * them */
    hf_splunk_http_free(c);
    while (c->jobs) {
        struct splunk_job *j = c->jobs;
        c->jobs = j->next;
        hf_splunk_req_free(j->req);
        j->b->plugin_data = NULL;
        free(j);
    }
    hf_splunk_req_free(c->ack_req);
    hf_splunk_zip_free(c->zip);
    hf_splunk_conf_free(&c->conf);
    free(c);
    hf_sink_set_state(s, NULL);
}

static int splunk_init(struct hf_sink *s, struct hf_cerr *err)
{
    struct splunk_ctx *c = hf_calloc(1, sizeof(*c));
    c->sink = s;
    hf_sink_set_state(s, c);
    if (hf_splunk_conf_read(s, &c->conf, err) < 0)
        return -1; /* hf_sink_new frees through destroy */
    if (c->conf.gzip && !(c->zip = hf_splunk_zip_new())) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': cannot set up gzip", hf_sink_config_file(s),
                 hf_sink_name(s));
        return -1;
    }
    char why[200];
    if (hf_splunk_http_init(c, hf_sink_conf(s), why, sizeof(why)) < 0) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        return -1;
    }
    hf_sink_log(s, HF_LOG_INFO, "sending to %s (channel %s, gzip %s, ack %s)", c->conf.event_url, c->conf.channel,
                c->conf.gzip ? "on" : "off", c->conf.ack ? "on" : "off");
    return 0;
}

/* The whole batch as HEC receives it (gzipped when gzip is on), appended to out. */
static int splunk_encode(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    struct splunk_ctx *c = hf_sink_state(s);
    struct hf_buf plain, zipped;
    hf_buf_init(&plain, HF_SPLUNK_MAX_REQUEST);
    hf_buf_init(&zipped, HF_SPLUNK_MAX_REQUEST);
    for (size_t i = 0; i < b->n; i++)
        hf_splunk_encode_record(&c->conf, hf_sink_takes(s), b->recs[i], &plain);
    const struct hf_buf *wire = &plain;
    int rc = plain.overflow ? -1 : 0;
    if (rc == 0 && c->conf.gzip) {
        rc = hf_splunk_gzip(plain.data ? plain.data : "", plain.len, &zipped);
        wire = &zipped;
    }
    if (rc == 0)
        rc = hf_buf_append(out, wire->data ? wire->data : "", wire->len);
    hf_buf_free(&plain);
    hf_buf_free(&zipped);
    return rc;
}

const struct hf_sink_plugin hf_out_splunk = {
    .name = "splunk_hec",
    .options = hf_splunk_options,
    .conf_size = sizeof(struct splunk_options),
    .check = hf_splunk_check,
    .default_takes = HF_TAKES_RECORDS,
    .max_inflight = 4,
    .init = splunk_init,
    .encode = splunk_encode,
    .send = splunk_send,
    .poll = splunk_poll,
    .drain = splunk_drain,
    .destroy = splunk_destroy,
};
