/* SPDX-License-Identifier: Apache-2.0 */
/* The e-mail sink on the sink runtime.
 *
 * each: a batch is sent one message per record, in order, on the kept
 * SMTP connection; every record gets its own outcome (a 5xx for one event
 * does not dead-letter the others), and after a network failure the rest
 * of the batch waits for the runtime's retry.
 *
 * digest: a batch is held (hf_batch_hold), not delivered, until the period
 * of its oldest record has ended; then one message covers every held
 * record and, once the server accepts it, every held batch is reported
 * delivered. With storage.mode disk the journal keeps a sink's position
 * at its oldest unreported record, so records waiting for a digest
 * survive SIGKILL and are sent to the sink again at start; since the
 * period comes from the records' own arrival times, their digest goes out
 * when it was due (at once, if that passed while the agent was down). A
 * deferred digest (4xx, network) is retried inside, with the runtime's
 * backoff and give-up time counted from its first attempt, so a digest
 * stays one message. */
#define _GNU_SOURCE
#include "email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE (16u << 20)

struct email_ctx {
    struct hf_sink *sink;
    const struct email_conf *cf;
    struct smtp_client smtp;
    struct smtp_xfer x;
    struct email_tz *tz;
    struct email_sched sched;

    /* each: the batch being sent and the record at hand */
    struct hf_batch *cur;
    size_t cur_i;

    /* digest: held batches, oldest first */
    struct hf_batch **held;
    size_t nheld, capheld;
    int attempts;
    int64_t first_try_mono;
    int64_t retry_at_ms; /* wall clock; 0 when not deferred */
};

static void subject_for(const struct email_conf *cf, const struct hf_record *r, struct hf_buf *out)
{
    if (cf->subject)
        hf_template_append(cf->subject, r, HF_ESC_HEADER, out);
    else
        email_default_subject(out, r);
}

static int email_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct email_conf *cf = hf_sink_conf(s);
    struct email_ctx *c = hf_calloc(1, sizeof(*c));
    char why[300];
    c->sink = s;
    c->cf = cf;
    hf_sink_set_state(s, c);
    c->tz = email_tz_load(cf->digest.timezone, why, sizeof(why));
    if (!c->tz || smtp_client_init(&c->smtp, cf, why, sizeof(why)) < 0) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        return -1;
    }
    c->sched.every_ms = cf->digest.every_ms;
    c->sched.at_min = cf->digest.at ? email_parse_hhmm(cf->digest.at) : -1;
    c->sched.tz = c->tz;
    return 0;
}

/* ---- each: one message per record ---- */

static void each_start(struct email_ctx *c)
{
    const struct hf_record *r = c->cur->recs[c->cur_i];
    struct hf_buf subj;
    hf_buf_init(&subj, 0);
    subject_for(c->cf, r, &subj);
    hf_buf_free(&c->x.msg);
    hf_buf_init(&c->x.msg, MAX_MESSAGE);
    email_each_message(&c->x.msg, c->cf, r, subj.data ? subj.data : "", subj.len, hf_sink_name(c->sink), hf_now_ms());
    hf_buf_free(&subj);
    if (c->x.msg.overflow || smtp_start(&c->smtp, &c->x) < 0) {
        c->x.state = SMTP_DONE;
        c->x.result = CURLE_OUT_OF_MEMORY;
        snprintf(c->x.errbuf, sizeof(c->x.errbuf), "%s",
                 c->x.msg.overflow ? "message larger than 16 MiB" : "libcurl refused the transfer");
    }
}

/* Settles the record just sent; starts the next one or ends the batch. */
static void each_finished(struct email_ctx *c)
{
    struct hf_batch *b = c->cur;
    char reason[400];
    enum hf_outcome o = smtp_outcome(&c->x, reason, sizeof(reason));
    c->x.state = SMTP_IDLE;
    hf_batch_mark(b, c->cur_i, o, o == HF_OUT_DELIVERED ? NULL : reason);
    if (o == HF_OUT_REJECTED)
        hf_sink_log(c->sink, HF_LOG_WARN, "event %s to dead letters: %s",
                    b->recs[c->cur_i]->event_id ? b->recs[c->cur_i]->event_id : "?", reason);
    c->cur_i++;
    /* a deferral or an unreachable server will not be better for the next
     * event a millisecond later: the rest waits for the retry */
    if (o == HF_OUT_RETRY) {
        for (size_t i = c->cur_i; i < b->n; i++)
            hf_batch_mark(b, i, HF_OUT_RETRY, reason);
        c->cur = NULL;
        hf_batch_done(b, HF_OUT_RETRY, 0, reason);
        return;
    }
    if (c->cur_i < b->n) {
        each_start(c);
        return;
    }
    c->cur = NULL;
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* ---- digest: held batches, one message ---- */

static void hold(struct email_ctx *c, struct hf_batch *b)
{
    if (c->nheld == c->capheld) {
        c->capheld = c->capheld ? c->capheld * 2 : 16;
        c->held = hf_realloc(c->held, c->capheld * sizeof(*c->held));
    }
    c->held[c->nheld++] = b;
    hf_batch_hold(b);
}

static size_t held_records(const struct email_ctx *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nheld; i++)
        n += c->held[i]->n;
    return n;
}

/* When the digest of what is held is due (wall clock ms; 0: nothing held). */
static int64_t digest_due(const struct email_ctx *c)
{
    if (!c->nheld)
        return 0;
    if (c->retry_at_ms)
        return c->retry_at_ms;
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < c->nheld; i++)
        for (size_t j = 0; j < c->held[i]->n; j++)
            if (c->held[i]->recs[j]->received_ms < oldest)
                oldest = c->held[i]->recs[j]->received_ms;
    return email_period_end(&c->sched, oldest);
}

/* Builds and sends the digest of batches[0..nb) and waits for the answer
 * (the worker has nothing else to do for this sink meanwhile). */
static enum hf_outcome send_digest(struct email_ctx *c, struct hf_batch **batches, size_t nb, char *reason,
                                   size_t reasonlen)
{
    size_t n = 0;
    for (size_t i = 0; i < nb; i++)
        n += batches[i]->n;
    struct hf_record **recs = hf_calloc(n ? n : 1, sizeof(*recs));
    n = 0;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < batches[i]->n; j++)
            recs[n++] = batches[i]->recs[j];
    struct hf_buf subj;
    hf_buf_init(&subj, 0);
    if (c->cf->subject && n)
        hf_template_append(c->cf->subject, recs[n - 1], HF_ESC_HEADER, &subj);
    else
        email_digest_subject(&subj, hf_sink_name(c->sink), n, recs);
    hf_buf_free(&c->x.msg);
    hf_buf_init(&c->x.msg, MAX_MESSAGE);
    email_digest_message(&c->x.msg, c->cf, recs, n, subj.data ? subj.data : "", subj.len, hf_sink_name(c->sink),
                         hf_now_ms());
    hf_buf_free(&subj);
    free(recs);
    if (c->x.msg.overflow) {
        snprintf(reason, reasonlen, "digest larger than 16 MiB");
        return HF_OUT_REJECTED;
    }
    if (smtp_start(&c->smtp, &c->x) < 0) {
        snprintf(reason, reasonlen, "libcurl refused the transfer");
        return HF_OUT_RETRY;
    }
    int64_t deadline = hf_mono_ms() + c->cf->timeout_ms + 1000;
    while (c->x.state == SMTP_RUNNING && hf_mono_ms() < deadline)
        smtp_step(&c->smtp, 100);
    if (c->x.state == SMTP_RUNNING) {
        smtp_abort(&c->smtp, &c->x);
        snprintf(reason, reasonlen, "no answer from the SMTP server in time");
        return HF_OUT_RETRY;
    }
    c->x.state = SMTP_IDLE;
    return smtp_outcome(&c->x, reason, reasonlen);
}

/* Sends the digest of everything held; settles the held batches when the
 * server has answered for good (force: at shutdown or for test-sink). */
static void digest_run(struct email_ctx *c, bool force)
{
    int64_t now = hf_now_ms();
    int64_t due = digest_due(c);
    if (!due || (!force && now < due))
        return;
    if (c->attempts == 0)
        c->first_try_mono = hf_mono_ms();
    size_t nb = c->nheld, nrec = held_records(c);
    char reason[400];
    enum hf_outcome o = send_digest(c, c->held, nb, reason, sizeof(reason));
    c->attempts++;
    if (o == HF_OUT_RETRY && hf_mono_ms() - c->first_try_mono >= hf_sink_give_up_ms(c->sink)) {
        char why[sizeof(reason)];
        snprintf(why, sizeof(why), "%s", reason);
        snprintf(reason, sizeof(reason), "gave up after %d attempts: %.300s", c->attempts, why);
        o = HF_OUT_REJECTED;
    }
    if (o == HF_OUT_RETRY) {
        int64_t delay = hf_sink_backoff_ms(c->sink, c->attempts);
        c->retry_at_ms = now + delay;
        hf_sink_log(c->sink, HF_LOG_WARN, "digest of %zu events will be retried in %lld ms (attempt %d): %s", nrec,
                    (long long)delay, c->attempts, reason);
        return;
    }
    if (o == HF_OUT_DELIVERED)
        hf_sink_log(c->sink, HF_LOG_INFO, "digest of %zu events sent", nrec);
    else
        hf_sink_log(c->sink, HF_LOG_ERROR, "digest of %zu events to dead letters: %s", nrec, reason);
    /* the runtime settles them: the journal position moves past them now */
    for (size_t i = 0; i < nb; i++)
        hf_batch_done(c->held[i], o, 0, o == HF_OUT_DELIVERED ? NULL : reason);
    memmove(c->held, c->held + nb, (c->nheld - nb) * sizeof(*c->held));
    c->nheld -= nb;
    c->attempts = 0;
    c->retry_at_ms = 0;
}

/* test-sink and replay: this batch alone, as a digest, now. */
static void digest_once(struct email_ctx *c, struct hf_batch *b)
{
    char reason[400];
    struct hf_batch *one[] = {b};
    enum hf_outcome o = send_digest(c, one, 1, reason, sizeof(reason));
    hf_batch_done(b, o, 0, o == HF_OUT_DELIVERED ? NULL : reason);
}

/* ---- the plugin ---- */

static void email_send(struct hf_sink *s, struct hf_batch *b)
{
    struct email_ctx *c = hf_sink_state(s);
    if (c->cf->mode == EMAIL_DIGEST) {
        if (b->once) {
            digest_once(c, b);
            return;
        }
        hold(c, b);
        digest_run(c, false);
        return;
    }
    c->cur = b;
    c->cur_i = 0;
    each_start(c);
    if (c->x.state == SMTP_DONE)
        each_finished(c);
}

static void email_poll(struct hf_sink *s, int timeout_ms)
{
    struct email_ctx *c = hf_sink_state(s);
    if (c->cur && c->x.state == SMTP_RUNNING) {
        smtp_step(&c->smtp, timeout_ms);
        /* a finished message may start the next one: loop until a transfer
         * is under way or the batch is done */
        while (c->cur && c->x.state == SMTP_DONE)
            each_finished(c);
        return;
    }
    digest_run(c, false);
}

static void email_drain(struct hf_sink *s, int deadline_ms)
{
    struct email_ctx *c = hf_sink_state(s);
    int64_t end = hf_mono_ms() + deadline_ms;
    while (c->cur && hf_mono_ms() < end)
        email_poll(s, 50);
    /* with memory storage nothing keeps held events past the exit: send
     * their digest early rather than lose it */
    if (c->nheld && deadline_ms > 0) {
        hf_sink_log(s, HF_LOG_INFO, "stopping: sending the digest of %zu held events now", held_records(c));
        digest_run(c, true);
    }
}

static void email_destroy(struct hf_sink *s)
{
    struct email_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    if (c->x.state == SMTP_RUNNING)
        smtp_abort(&c->smtp, &c->x);
    smtp_xfer_reset(&c->x);
    smtp_client_free(&c->smtp);
    email_tz_free(c->tz);
    free(c->held); /* the batches themselves are the runtime's */
    free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_email = {
    .name = "email",
    .options = email_options,
    .conf_size = sizeof(struct email_conf),
    .check = email_check,
    .default_takes = HF_TAKES_RECORDS,
    .init = email_init,
    .send = email_send,
    .poll = email_poll,
    .drain = email_drain,
    .destroy = email_destroy,
};
