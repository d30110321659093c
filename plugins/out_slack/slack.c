/* SPDX-License-Identifier: Apache-2.0 */
/* The slack sink (incoming webhooks). Each record becomes one message,
 * sent one at a time in order, about one a second (Slack's rate for a
 * webhook). Past max_per_minute messages in a minute, records are held
 * back and counted instead, and one summary message a minute stands for
 * them ("17 more scan.blocked in the last minute, newest: ..."), so an
 * alert storm costs the channel one line a minute and this sink no
 * per-record work beyond a count.
 *
 * A batch is done when every one of its records is: delivered with its own
 * message or with the summary that counted it, or rejected for good. The
 * sink retries a message itself (429 after Retry-After, 5xx and transport
 * errors with the runtime's backoff) so a retry never sends again what
 * Slack already took; past retry.give_up_after it goes to dead letters. */
#define _GNU_SOURCE
#include "slack.h"
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
/* a little under Slack's one a second, so jitter between two messages
 * does not turn into a 429 */
#define PACE_PER_SECOND 0.9
#define PACE_BURST 3

static const struct hf_option slack_tls[] = {HF_TLS_OPTIONS(struct hf_slack_conf, tls), {0}};

static const struct hf_option slack_options[] = {{.name = "url",
                                                  .type = HF_OPT_SECRET,
                                                  .required = true,
                                                  .help = "incoming-webhook URL (a secret: ${ENV} or {file: PATH})",
                                                  HF_OPT_AT(struct hf_slack_conf, url)},
                                                 {.name = "text",
                                                  .type = HF_OPT_TEMPLATE,
                                                  .help = "notification text (per-event template)",
                                                  HF_OPT_AT(struct hf_slack_conf, text)},
                                                 {.name = "blocks",
                                                  .type = HF_OPT_ENUM,
                                                  .enums = "auto|none",
                                                  .def = "auto",
                                                  .help = "auto: a Block Kit layout per sender; none: the text alone",
                                                  HF_OPT_AT(struct hf_slack_conf, blocks)},
                                                 {.name = "max_per_minute",
                                                  .type = HF_OPT_INT,
                                                  .def = "20",
                                                  .min = 1,
                                                  .max = 600,
                                                  .help = "messages a minute; past it one summary message a minute",
                                                  HF_OPT_AT(struct hf_slack_conf, max_per_minute)},
                                                 {.name = "timeout",
                                                  .type = HF_OPT_DURATION,
                                                  .def = "10s",
                                                  .min = 100,
                                                  .max = 300000,
                                                  .help = "per request",
                                                  HF_OPT_AT(struct hf_slack_conf, timeout_ms)},
                                                 {.name = "tls", .type = HF_OPT_OBJ, .sub = slack_tls},
                                                 {0}};

/* A record a message settles: batch and position. */
struct ref {
    struct hf_batch *b;
    size_t i;
};

/* A batch in flight: how many of its records are not settled yet. */
struct bstate {
    struct bstate *next, *prev;
    struct hf_batch *b;
    size_t pending;
    size_t delivered;
    char reason[256]; /* the last rejection's */
};

struct smsg {
    struct smsg *next;
    struct hf_buf body;
    struct ref *refs;
    size_t nrefs;
    int attempts;
    int64_t first_ms;
    bool summary;
};

struct sctx {
    const struct hf_slack_conf *conf;
    struct hf_sink *sink;
    struct hf_http_client *http;
    struct hf_http_headers *hdrs;
    struct hf_slack_pace pace;
    struct smsg *head, **tail;
    struct smsg *wire; /* the message on the wire, still the head */
    struct hf_slack_summary sum;
    struct ref *sum_refs;
    size_t sum_n, sum_cap;
    struct bstate *batches;
    int64_t next_due_ms;
    uint64_t summaries, held_back;
};

/* ---- settling ---- */

static void settle_ref(struct sctx *c, const struct ref *rf, enum hf_outcome o, const char *reason)
{
    struct hf_batch *b = rf->b;
    struct bstate *st = b->plugin_data;
    if (o != HF_OUT_DELIVERED) {
        hf_batch_mark(b, rf->i, o, reason);
        snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
    } else {
        st->delivered++;
    }
    if (--st->pending > 0)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->batches = st->next;
    if (st->next)
        st->next->prev = st->prev;
    /* each record settles by its mark; the batch's own outcome is what
     * `test-sink` and `replay` print */
    bool none = st->delivered == 0;
    char why[256];
    snprintf(why, sizeof(why), "%s", st->reason);
    free(st);
    b->plugin_data = NULL;
    hf_batch_done(b, none ? HF_OUT_REJECTED : HF_OUT_DELIVERED, 0, none ? why : NULL);
}

static void msg_free(struct smsg *m)
{
    hf_buf_free(&m->body);
    free(m->refs);
    free(m);
}

/* The head message is done: settle its records, take it off the queue. */
static void msg_done(struct sctx *c, enum hf_outcome o, const char *reason)
{
    struct smsg *m = c->head;
    c->head = m->next;
    if (!c->head)
        c->tail = &c->head;
    c->wire = NULL;
    for (size_t i = 0; i < m->nrefs; i++)
        settle_ref(c, &m->refs[i], o, reason);
    msg_free(m);
}

static void enqueue(struct sctx *c, struct smsg *m)
{
    m->next = NULL;
    *c->tail = m;
    c->tail = &m->next;
}

/* ---- sending ---- */

static void on_answer(void *arg, const struct hf_http_result *res);

static void send_head(struct sctx *c, int64_t now)
{
    struct smsg *m = c->head;
    if (!m->first_ms)
        m->first_ms = now;
    m->attempts++;
    struct hf_http_request rq = {.url = c->conf->url,
                                 .headers = c->hdrs,
                                 .body = m->body.data,
                                 .body_len = m->body.len,
                                 .done = on_answer,
                                 .arg = c};
    char why[256];
    c->wire = m;
    if (hf_http_client_send(c->http, &rq, why, sizeof(why)) < 0) {
        struct hf_http_result res = {.status = 0, .error = why, .body = "", .retry_after_ms = -1};
        on_answer(c, &res);
    }
}

/* Closes the summary into a message of its own, queued last. */
static void close_summary(struct sctx *c, int64_t now)
{
    struct smsg *m = hf_calloc(1, sizeof(*m));
    hf_buf_init(&m->body, 0);
    c->sum.span_ms = now - c->sum.opened_ms;
    hf_slack_encode_summary(&c->sum, c->conf->text, c->conf->blocks == HF_SLACK_BLOCKS_AUTO, c->conf->max_per_minute,
                            &m->body);
    m->summary = true;
    m->refs = c->sum_refs;
    m->nrefs = c->sum_n;
    c->sum_refs = NULL;
    c->sum_n = c->sum_cap = 0;
    hf_sink_log(c->sink, HF_LOG_INFO, "%zu records over max_per_minute (%lld) go as one summary message", c->sum.total,
                (long long)c->conf->max_per_minute);
    hf_slack_summary_clear(&c->sum);
    hf_slack_pace_count(&c->pace, now);
    c->summaries++;
    enqueue(c, m);
}

/* Moves things along: the summary closes after a minute (at once when the
 * sink stops), the head message goes when the pace allows. */
static void pump(struct sctx *c, int64_t now)
{
    c->next_due_ms = now + 1000;
    if (c->sum.total) {
        if (now - c->sum.opened_ms >= MINUTE_MS || hf_sink_stopping(c->sink))
            close_summary(c, now);
        else if (c->sum.opened_ms + MINUTE_MS < c->next_due_ms)
            c->next_due_ms = c->sum.opened_ms + MINUTE_MS;
    }
    if (c->wire || !c->head)
        return;
    int64_t wait = hf_slack_pace_take(&c->pace, now);
    if (wait > 0) {
        if (now + wait < c->next_due_ms)
            c->next_due_ms = now + wait;
        return;
    }
    send_head(c, now);
}

static void on_answer(void *arg, const struct hf_http_result *res)
{
    struct sctx *c = arg;
    struct smsg *m = c->head;
    int64_t now = hf_mono_ms();
    char reason[300];
    const char *said = res->status ? res->body : res->error;
    enum hf_outcome o = hf_slack_classify(res->status, said, reason, sizeof(reason));
    c->wire = NULL;
    if (o == HF_OUT_DELIVERED) {
        msg_done(c, o, NULL);
        return;
    }
    if (o == HF_OUT_REJECTED) {
        /* 404/410 mean the webhook or its channel is gone: every message
         * will get the same answer until an operator acts, then replays */
        hf_sink_log(c->sink, HF_LOG_ERROR, "%s: %zu record%s to dead letters", reason, m->nrefs,
                    m->nrefs == 1 ? "" : "s");
        msg_done(c, o, reason);
        return;
    }
    int64_t delay = res->retry_after_ms >= 0 ? res->retry_after_ms : hf_sink_backoff_ms(c->sink, m->attempts);
    if (res->status == 429 && res->retry_after_ms < 0 && delay < 1000)
        delay = 1000;
    if (now - m->first_ms + delay > hf_sink_give_up_ms(c->sink)) {
        char why[400];
        snprintf(why, sizeof(why), "gave up after %d attempts: %s", m->attempts, reason);
        hf_sink_log(c->sink, HF_LOG_ERROR, "%s", why);
        msg_done(c, HF_OUT_REJECTED, why);
        return;
    }
    hf_slack_pace_pause(&c->pace, now, delay);
    hf_sink_count_retried(c->sink, m->nrefs);
    hf_sink_log(c->sink, res->status == 429 ? HF_LOG_INFO : HF_LOG_WARN, "%s; next try in %lld ms", reason,
                (long long)delay);
}

/* ---- plugin ---- */

static void add_sum_ref(struct sctx *c, struct hf_batch *b, size_t i)
{
    if (c->sum_n == c->sum_cap) {
        c->sum_cap = c->sum_cap ? c->sum_cap * 2 : 64;
        c->sum_refs = hf_realloc(c->sum_refs, c->sum_cap * sizeof(*c->sum_refs));
    }
    c->sum_refs[c->sum_n++] = (struct ref){b, i};
}

static void slack_send(struct hf_sink *s, struct hf_batch *b)
{
    struct sctx *c = hf_sink_state(s);
    if (b->n == 0) {
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
        return;
    }
    struct bstate *st = hf_calloc(1, sizeof(*st));
    st->b = b;
    st->pending = b->n;
    st->next = c->batches;
    if (c->batches)
        c->batches->prev = st;
    c->batches = st;
    b->plugin_data = st;
    int64_t now = hf_mono_ms();
    bool blocks = c->conf->blocks == HF_SLACK_BLOCKS_AUTO;
    for (size_t i = 0; i < b->n; i++) {
        struct hf_record *r = b->recs[i];
        /* once a summary is open, records join it until it goes: the
         * channel reads "N more" rather than a trickle between summaries */
        if (c->sum.total || hf_slack_pace_window_full(&c->pace, now)) {
            hf_slack_summary_add(&c->sum, r, now);
            add_sum_ref(c, b, i);
            c->held_back++;
            continue;
        }
        struct smsg *m = hf_calloc(1, sizeof(*m));
        hf_buf_init(&m->body, 0);
        int cuts = hf_slack_encode_record(r, c->conf->text, blocks, &m->body);
        if (cuts > 0)
            hf_sink_count_truncated(s, 1);
        m->refs = hf_calloc(1, sizeof(*m->refs));
        m->refs[0] = (struct ref){b, i};
        m->nrefs = 1;
        hf_slack_pace_count(&c->pace, now);
        enqueue(c, m);
    }
    pump(c, now);
}

static void slack_poll(struct hf_sink *s, int timeout_ms)
{
    struct sctx *c = hf_sink_state(s);
    int64_t now = hf_mono_ms();
    pump(c, now);
    hf_http_client_perform(c->http);
    now = hf_mono_ms();
    pump(c, now);
    int64_t wait = c->next_due_ms - now;
    if (wait > timeout_ms)
        wait = timeout_ms;
    if (wait > 0)
        hf_http_client_wait(c->http, (int)wait); /* sleeps when nothing is on the wire */
    hf_http_client_perform(c->http);
    pump(c, hf_mono_ms());
}

static void slack_destroy(struct hf_sink *s)
{
    struct sctx *c = hf_sink_state(s);
    if (!c)
        return;
    if (c->summaries || c->held_back)
        hf_sink_log(s, HF_LOG_INFO, "%llu records were summed up in %llu summary messages",
                    (unsigned long long)c->held_back, (unsigned long long)c->summaries);
    /* requests still out are dropped without their callbacks; the batches
     * they belong to are the runtime's, freed after this */
    hf_http_client_free(c->http);
    for (struct smsg *m = c->head, *n; m; m = n) {
        n = m->next;
        msg_free(m);
    }
    for (struct bstate *st = c->batches, *n; st; st = n) {
        n = st->next;
        st->b->plugin_data = NULL;
        free(st);
    }
    hf_slack_summary_clear(&c->sum);
    free(c->sum_refs);
    hf_slack_pace_free(&c->pace);
    hf_http_headers_free(c->hdrs);
    free(c);
    hf_sink_set_state(s, NULL);
}

static int slack_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct hf_slack_conf *conf = hf_sink_conf(s);
    struct sctx *c = hf_calloc(1, sizeof(*c));
    c->conf = conf;
    c->sink = s;
    c->tail = &c->head;
    hf_sink_set_state(s, c);
    char why[256];
    struct hf_http_client_opts o = {
        .timeout_ms = conf->timeout_ms, .tls = &conf->tls, .max_inflight = 1, .max_response = 4096};
    c->http = hf_http_client_new(&o, why, sizeof(why));
    if (!c->http) {
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': %s", hf_sink_config_file(s), hf_sink_name(s), why);
        slack_destroy(s);
        return -1;
    }
    c->hdrs = hf_http_headers_new();
    static const char ctype[] = "application/json; charset=utf-8";
    hf_http_headers_add(c->hdrs, "Content-Type", ctype, sizeof(ctype) - 1);
    hf_slack_pace_init(&c->pace, conf->max_per_minute, PACE_PER_SECOND, PACE_BURST, hf_mono_ms());
    return 0;
}

static int slack_encode(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    const struct hf_slack_conf *conf = hf_sink_conf(s);
    for (size_t i = 0; i < b->n; i++) {
        if (hf_slack_encode_record(b->recs[i], conf->text, conf->blocks == HF_SLACK_BLOCKS_AUTO, out) < 0)
            return -1;
        hf_buf_putc(out, '\n');
    }
    return out->overflow ? -1 : 0;
}

static int slack_check(const void *confp, const struct hf_check *ck)
{
    const struct hf_slack_conf *conf = confp;
    if (ck->takes != HF_TAKES_RECORDS)
        return hf_check_fail(ck, "takes", "the slack sink takes records only (takes: records)");
    if (!conf->url || !conf->url[0])
        return hf_check_fail(ck, "url", "is empty (the incoming-webhook URL, e.g. \"${SLACK_WEBHOOK_URL}\")");
    if (hf_check_url(ck, "url", conf->url, "http|https") < 0)
        return -1;
    return hf_check_tls(ck, &conf->tls);
}

const struct hf_sink_plugin hf_out_slack = {
    .name = "slack",
    .options = slack_options,
    .conf_size = sizeof(struct hf_slack_conf),
    .default_takes = HF_TAKES_RECORDS,
    /* batches wait here for the summary that counts their records */
    .max_inflight = 64,
    .check = slack_check,
    .init = slack_init,
    .encode = slack_encode,
    .send = slack_send,
    .poll = slack_poll,
    .destroy = slack_destroy,
};
