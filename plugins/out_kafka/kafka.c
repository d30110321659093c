/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink: one idempotent librdkafka producer per sink, one message
 * per record (and per metric point), and a batch's fate decided only by the
 * delivery reports of all its messages, served from the sink's worker. */
#define _GNU_SOURCE
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_FULL_WAIT_MS 2000 /* per message, waiting for room in the producer queue */
#define RECREATE_INTERVAL_MS 5000 /* between producers after fatal errors */
#define DESTROY_FLUSH_MS 2000 /* last flush when the sink is freed without a drain */

/* A record's state: the worst of its messages wins (a retry re-sends the
 * record whole, so it outranks a refusal of one of its messages). */
enum { REC_OK = 0, REC_REJECTED = 1, REC_RETRY = 2 };

struct kbatch;

/* One produced message; its address is the message opaque. */
struct kmsg {
    struct kbatch *kb;
    size_t rec;
    bool point;
};

struct krec {
    unsigned char state;
    bool point; /* the failed message was a metric point */
    bool maybe_written; /* librdkafka may have persisted it: a retry can duplicate */
    unsigned pending; /* messages whose report has not come */
    rd_kafka_resp_err_t err;
};

struct kbatch {
    struct hf_batch *b;
    struct kbatch *prev, *next; /* the sink's active batches */
    size_t pending; /* messages whose report has not come */
    bool sealed; /* every message of the batch was produced (or failed) */
    struct kmsg *msgs;
    size_t nmsgs, used;
    struct krec *recs;
};

struct kctx {
    struct hf_sink *s;
    const struct kafka_options *o; /* the bound options: topic and key templates */
    rd_kafka_t *rk; /* NULL after a failed re-creation */
    rd_kafka_conf_t *conf; /* each producer gets a copy */
    struct kbatch *active;
    struct hf_buf topic_buf, key_buf, val_buf;
    bool fatal; /* the producer raised a fatal error: replace it */
    bool closing; /* reports served while destroying a producer are ignored */
    bool drained;
    int64_t next_create_ms;
    char down_reason[300];
};

/* ---- batches ------------------------------------------------------------ */

static struct kbatch *kbatch_new(struct kctx *c, struct hf_batch *b)
{
    struct kbatch *kb = hf_calloc(1, sizeof(*kb));
    enum hf_takes takes = hf_sink_takes(c->s);
    kb->b = b;
    for (size_t i = 0; i < b->n; i++)
        kb->nmsgs += ((takes & HF_TAKES_RECORDS) ? 1 : 0) + ((takes & HF_TAKES_METRICS) ? b->recs[i]->npoints : 0);
    kb->msgs = hf_calloc(kb->nmsgs ? kb->nmsgs : 1, sizeof(*kb->msgs));
    kb->recs = hf_calloc(b->n ? b->n : 1, sizeof(*kb->recs));
    kb->next = c->active;
    if (c->active)
        c->active->prev = kb;
    c->active = kb;
    b->plugin_data = kb;
    return kb;
}

static void kbatch_free(struct kctx *c, struct kbatch *kb)
{
    if (kb->prev)
        kb->prev->next = kb->next;
    else
        c->active = kb->next;
    if (kb->next)
        kb->next->prev = kb->prev;
    kb->b->plugin_data = NULL;
    free(kb->msgs);
    free(kb->recs);
    free(kb);
}

static void rec_fail(struct krec *kr, rd_kafka_resp_err_t err, bool point, bool maybe_written)
{
    int state = hf_kafka_classify(err) == HF_OUT_REJECTED ? REC_REJECTED : REC_RETRY;
    if (state > kr->state) {
        kr->state = (unsigned char)state;
        kr->err = err;
        kr->point = point;
    }
    kr->maybe_written |= maybe_written;
}

static void rec_reason(const struct krec *kr, char *out, size_t outlen)
{
    snprintf(out, outlen, "kafka: %s%s (%s)%s", kr->point ? "metric point: " : "", rd_kafka_err2str(kr->err),
             rd_kafka_err2name(kr->err),
             kr->maybe_written ? "; it may have been written, a retry can duplicate it" : "");
}

/* Every report is in: settle each record and hand the batch back. */
static void kbatch_finish(struct kctx *c, struct kbatch *kb)
{
    struct hf_batch *b = kb->b;
    size_t nretry = 0, nrej = 0, first_retry = 0;
    char why[400], reason[460];
    for (size_t i = 0; i < b->n; i++) {
        if (kb->recs[i].state == REC_RETRY && nretry++ == 0)
            first_retry = i;
        if (kb->recs[i].state != REC_REJECTED)
            continue;
        rec_reason(&kb->recs[i], why, sizeof(why));
        if (nrej++ == 0)
            hf_sink_log(c->s, HF_LOG_ERROR, "Kafka refused a message, its record goes to the dead letters: %s", why);
        hf_batch_mark(b, i, HF_OUT_REJECTED, why);
    }
    if (nretry) {
        for (size_t i = 0; i < b->n; i++)
            if (kb->recs[i].state == REC_OK)
                hf_batch_mark(b, i, HF_OUT_DELIVERED, NULL);
        rec_reason(&kb->recs[first_retry], why, sizeof(why));
        snprintf(reason, sizeof(reason), "%zu of %zu records not confirmed: %s", nretry, b->n, why);
    }
    kbatch_free(c, kb);
    hf_batch_done(b, nretry ? HF_OUT_RETRY : HF_OUT_DELIVERED, 0, nretry ? reason : NULL);
}

/* The producer that carried these messages is gone: what was not confirmed
 * is retried by the runtime. */
static void fail_active(struct kctx *c, rd_kafka_resp_err_t err)
{
    while (c->active) {
        struct kbatch *kb = c->active;
        for (size_t i = 0; i < kb->b->n; i++)
            if (kb->recs[i].pending)
                rec_fail(&kb->recs[i], err, false, true);
        kb->pending = 0;
        kbatch_finish(c, kb);
    }
}

/* ---- librdkafka callbacks (served by rd_kafka_poll/flush on the worker) - */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kctx *c = opaque;
    struct kmsg *km = m->_private;
    if (c->closing || !km)
        return;
    struct kbatch *kb = km->kb;
    struct krec *kr = &kb->recs[km->rec];
    kr->pending--;
    if (m->err)
        rec_fail(kr, m->err, km->point, rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED);
    if (--kb->pending == 0 && kb->sealed)
        kbatch_finish(c, kb);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kctx *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, why, sizeof(why));
        c->fatal = true;
        snprintf(c->down_reason, sizeof(c->down_reason), "kafka: fatal producer error %s: %s", rd_kafka_err2name(fe),
                 why);
        hf_sink_log(c->s, HF_LOG_ERROR,
                    "FATAL producer error %s: %s; the producer is replaced and its unconfirmed messages are retried",
                    rd_kafka_err2name(fe), why);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return; /* librdkafka's log already says which broker and why */
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        hf_sink_log(c->s, HF_LOG_WARN,
                    "all brokers are down (%s); messages wait up to message_timeout, then are retried", reason);
    else
        hf_sink_log(c->s, HF_LOG_WARN, "librdkafka error %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Called from librdkafka's own threads too; hf_sink_log is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const struct kctx *c = rd_kafka_opaque(rk);
    if (!c)
        return;
    if (level <= 4)
        hf_sink_log(c->s, HF_LOG_WARN, "librdkafka %s: %s", fac, buf);
    else if (level <= 6)
        hf_sink_log(c->s, HF_LOG_INFO, "librdkafka: %s: %s", fac, buf);
    else
        hf_sink_log(c->s, HF_LOG_DEBUG, "librdkafka debug %s: %s", fac, buf);
}

/* ---- the producer ------------------------------------------------------- */

static int producer_new(struct kctx *c, char *errstr, size_t len)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_dup(c->conf);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, len);
    if (!c->rk) {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    return 0;
}

/* rd_kafka_destroy() silently drops what is still queued: flush first. */
static void producer_close(struct kctx *c, int flush_ms)
{
    if (!c->rk)
        return;
    if (flush_ms > 0)
        rd_kafka_flush(c->rk, flush_ms);
    else
        rd_kafka_poll(c->rk, 0);
    c->closing = true;
    int left = rd_kafka_outq_len(c->rk);
    if (left > 0) {
        hf_sink_log(c->s, HF_LOG_WARN,
                    "closing the producer with %d messages not confirmed: their records are not counted as "
                    "delivered (with disk storage they stay in the journal)",
                    left);
        rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_destroy(c->rk);
    c->rk = NULL;
    c->closing = false;
}

/* After a fatal error the producer accepts nothing more (librdkafka's
 * advice: purge, serve the reports, destroy): replace it, at most every
 * RECREATE_INTERVAL_MS so a cluster that keeps refusing us is not hammered. */
static void producer_recover(struct kctx *c)
{
    int64_t now = hf_mono_ms();
    if (now < c->next_create_ms)
        return;
    c->next_create_ms = now + RECREATE_INTERVAL_MS;
    if (c->rk) {
        rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        producer_close(c, 1000);
    }
    fail_active(c, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
    char errstr[256];
    if (producer_new(c, errstr, sizeof(errstr)) < 0) {
        snprintf(c->down_reason, sizeof(c->down_reason), "kafka: cannot create a producer: %s", errstr);
        hf_sink_log(c->s, HF_LOG_ERROR, "cannot create a new producer: %s", errstr);
        return;
    }
    c->fatal = false;
    hf_sink_log(c->s, HF_LOG_INFO, "new producer created after a fatal error");
}

static void service(struct kctx *c, int timeout_ms)
{
    if (c->rk)
        rd_kafka_poll(c->rk, timeout_ms);
    if (c->fatal || !c->rk)
        producer_recover(c);
}

/* ---- producing ---------------------------------------------------------- */

static void add_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    if (value)
        rd_kafka_header_add(h, name, -1, value, -1);
}

static rd_kafka_resp_err_t produce_msg(struct kctx *c, struct kbatch *kb, size_t i, const struct hf_template *tm,
                                       const char *val, size_t len, const char *metric)
{
    const struct hf_record *r = kb->b->recs[i];
    hf_buf_reset(&c->topic_buf);
    hf_kafka_topic(tm, r, &c->topic_buf);
    hf_buf_reset(&c->key_buf);
    bool has_key = hf_kafka_key(c->o->key, r, &c->key_buf);
    const char *key = !has_key ? NULL : c->key_buf.data ? c->key_buf.data : "";
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    add_header(h, "source", r->source);
    add_header(h, "event_type", r->event_type);
    add_header(h, "event_id", r->event_id);
    add_header(h, "metric", metric);
    struct kmsg *km = &kb->msgs[kb->used];
    km->kb = kb;
    km->rec = i;
    km->point = metric != NULL;
    int64_t deadline = hf_mono_ms() + QUEUE_FULL_WAIT_MS;
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(c->rk, RD_KAFKA_V_TOPIC(c->topic_buf.data),
                                RD_KAFKA_V_KEY(key, has_key ? c->key_buf.len : 0), RD_KAFKA_V_VALUE((void *)val, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(km),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || hf_mono_ms() >= deadline)
            break;
        /* reports free room in the queue: wait for them, not in a spin */
        rd_kafka_poll(c->rk, 50);
    }
    if (err) {
        rd_kafka_headers_destroy(h); /* only a successful call takes it */
        return err;
    }
    kb->used++;
    kb->pending++;
    kb->recs[i].pending++;
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Produces record i's messages; an error that stops the whole batch (the
 * queue stayed full, the producer is fatal) is returned. */
static rd_kafka_resp_err_t produce_record(struct kctx *c, struct kbatch *kb, size_t i)
{
    const struct hf_record *r = kb->b->recs[i];
    enum hf_takes takes = hf_sink_takes(c->s);
    rd_kafka_resp_err_t err;
    if (takes & HF_TAKES_RECORDS) {
        err = produce_msg(c, kb, i, c->o->topic, r->json, r->json_len, NULL);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL || err == RD_KAFKA_RESP_ERR__FATAL)
            return err;
        if (err)
            rec_fail(&kb->recs[i], err, false, false);
    }
    for (size_t j = 0; (takes & HF_TAKES_METRICS) && j < r->npoints; j++) {
        hf_buf_reset(&c->val_buf);
        hf_point_json(&c->val_buf, r, &r->points[j]);
        err = produce_msg(c, kb, i, c->o->metrics_topic ? c->o->metrics_topic : c->o->topic, c->val_buf.data,
                          c->val_buf.len, r->points[j].name);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL || err == RD_KAFKA_RESP_ERR__FATAL)
            return err;
        if (err)
            rec_fail(&kb->recs[i], err, true, false);
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void kafka_send(struct hf_sink *s, struct hf_batch *b)
{
    struct kctx *c = hf_sink_state(s);
    service(c, 0);
    if (!c->rk) {
        hf_batch_done(b, HF_OUT_RETRY, RECREATE_INTERVAL_MS, c->down_reason);
        return;
    }
    struct kbatch *kb = kbatch_new(c, b);
    for (size_t i = 0; i < b->n; i++) {
        rd_kafka_resp_err_t err = produce_record(c, kb, i);
        if (!err)
            continue;
        if (err == RD_KAFKA_RESP_ERR__FATAL)
            c->fatal = true;
        /* this record and the rest go back to the runtime's retry */
        for (size_t k = i; k < b->n; k++)
            rec_fail(&kb->recs[k], err, false, k == i && kb->recs[i].pending > 0);
        break;
    }
    kb->sealed = true;
    if (kb->pending == 0)
        kbatch_finish(c, kb);
}

static void kafka_poll(struct hf_sink *s, int timeout_ms)
{
    struct kctx *c = hf_sink_state(s);
    service(c, timeout_ms);
    if (!c->rk) {
        /* no producer to wait on: still honour the timeout, never spin */
        struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void kafka_drain(struct hf_sink *s, int deadline_ms)
{
    struct kctx *c = hf_sink_state(s);
    if (c->rk)
        rd_kafka_flush(c->rk, deadline_ms > 0 ? deadline_ms : 0);
    c->drained = true;
}

static void kafka_destroy(struct hf_sink *s)
{
    struct kctx *c = hf_sink_state(s);
    if (!c)
        return;
    /* past a drain the stop deadline is spent: what is unconfirmed stays in
     * the journal (disk storage) and is sent again on the next start */
    producer_close(c, c->drained ? 0 : DESTROY_FLUSH_MS);
    while (c->active)
        kbatch_free(c, c->active); /* the runtime frees its batches */
    if (c->conf)
        rd_kafka_conf_destroy(c->conf);
    hf_buf_free(&c->topic_buf);
    hf_buf_free(&c->key_buf);
    hf_buf_free(&c->val_buf);
    free(c);
    hf_sink_set_state(s, NULL);
}

static int kafka_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct kafka_options *o = hf_sink_conf(s);
    char what[200];
    snprintf(what, sizeof(what), "sink '%s' (kafka)", hf_sink_name(s));
    /* checked at load already: a failure here is librdkafka's own state */
    const struct hf_check ck = {.file = hf_sink_config_file(s), .what = what, .err = err, .takes = hf_sink_takes(s)};
    struct kctx *c = hf_calloc(1, sizeof(*c));
    c->s = s;
    c->o = o;
    hf_sink_set_state(s, c);
    hf_buf_init(&c->topic_buf, 4096);
    hf_buf_init(&c->key_buf, 1 << 20);
    hf_buf_init(&c->val_buf, 0);
    c->conf = hf_kafka_conf_build(o, &ck, false);
    if (!c->conf)
        return -1;
    rd_kafka_conf_set_opaque(c->conf, c);
    rd_kafka_conf_set_dr_msg_cb(c->conf, on_delivery);
    rd_kafka_conf_set_error_cb(c->conf, on_error);
    rd_kafka_conf_set_log_cb(c->conf, on_log);
    char errstr[512];
    if (producer_new(c, errstr, sizeof(errstr)) < 0)
        return hf_kafka_new_error(o, &ck, errstr);
    return 0;
}

const struct hf_sink_plugin hf_out_kafka = {
    .name = "kafka",
    .options = hf_kafka_options,
    .conf_size = sizeof(struct kafka_options),
    .check = hf_kafka_check,
    .default_takes = HF_TAKES_RECORDS,
    .max_inflight = 8,
    .init = kafka_init,
    .send = kafka_send,
    .poll = kafka_poll,
    .drain = kafka_drain,
    .destroy = kafka_destroy,
};
