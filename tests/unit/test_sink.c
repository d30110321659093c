/* SPDX-License-Identifier: Apache-2.0 */
/* The sink runtime (sink/sink.c) driven by a plugin defined here, whose
 * outcomes each test scripts: the backoff's bounds, retries spaced by it,
 * Retry-After honoured, giving up to the dead-letter file after
 * retry.give_up_after, outright rejections, and per-record marks (a poison
 * record dead-lettered while the rest of its batch is delivered, marked
 * records retried alone). Sinks are configured from YAML. */
#define _GNU_SOURCE
#include "tu_runtime.h"

#include "json_test.h"
#include <pthread.h>

/* ---- the scripted plugin ---- */

#define MAX_SENDS 256

struct send_log {
    int64_t at_ms; /* monotonic */
    size_t n;
    int events[8]; /* event indexes of the first records */
};

/* Decides a batch's fate on the given attempt (1 = first send). */
typedef void (*script_fn)(struct hf_batch *b, int attempt);

static struct {
    pthread_mutex_t mu;
    script_fn script;
    int nsends;
    struct send_log sends[MAX_SENDS];
    int nsettled;
    int settled_event[64];
    enum hf_outcome settled_as[64];
} sc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int event_index(const struct hf_record *r) { return (int)strtol(r->event_id + 4, NULL, 10); }

static void scripted_send(struct hf_sink *s, struct hf_batch *b)
{
    (void)s;
    pthread_mutex_lock(&sc.mu);
    int attempt = ++sc.nsends;
    if (attempt <= MAX_SENDS) {
        struct send_log *l = &sc.sends[attempt - 1];
        l->at_ms = hf_mono_ms();
        l->n = b->n;
        for (size_t i = 0; i < b->n && i < 8; i++)
            l->events[i] = event_index(b->recs[i]);
    }
    script_fn fn = sc.script;
    pthread_mutex_unlock(&sc.mu);
    fn(b, attempt);
}

static const struct hf_sink_plugin scripted = {.name = "scripted", .send = scripted_send};

static void on_settle(struct hf_sink *s, const struct hf_record *r, enum hf_outcome o, void *arg)
{
    (void)s;
    (void)arg;
    pthread_mutex_lock(&sc.mu);
    if (sc.nsettled < 64) {
        sc.settled_event[sc.nsettled] = event_index(r);
        sc.settled_as[sc.nsettled] = o;
    }
    sc.nsettled++;
    pthread_mutex_unlock(&sc.mu);
}

static int nsends(void)
{
    pthread_mutex_lock(&sc.mu);
    int n = sc.nsends;
    pthread_mutex_unlock(&sc.mu);
    return n;
}

static int nsettled(void)
{
    pthread_mutex_lock(&sc.mu);
    int n = sc.nsettled;
    pthread_mutex_unlock(&sc.mu);
    return n;
}

/* ---- one sink per test ---- */

struct st {
    char *dir;
    struct hf_config *cfg;
    struct tu_sink *ts;
    struct hf_sink *s;
};

static int teardown(void **state)
{
    struct st *t = *state;
    if (t->ts)
        tu_sink_free(t->ts, 0);
    hf_config_free(t->cfg);
    tu_rm_rf(t->dir);
    free(t);
    return 0;
}

/* A sink "s" with the given batch and retry settings (YAML flow maps). */
static struct st *sink_up(void **state, const char *batch, const char *retry, script_fn script)
{
    struct st *t = calloc(1, sizeof(*t));
    *state = t;
    t->dir = tu_temp_dir();
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             TU_SOURCES "sinks:\n  - {name: s, type: stdout, takes: records, batch: %s, retry: %s}\n", batch, retry);
    struct hf_cerr err = {0};
    t->cfg = tu_config(yaml, &err);
    if (!t->cfg)
        fail_msg("%s", err.msg);
    pthread_mutex_lock(&sc.mu);
    sc.script = script;
    sc.nsends = 0;
    sc.nsettled = 0;
    pthread_mutex_unlock(&sc.mu);
    t->ts = tu_sink_new(t->cfg, "s", &scripted, t->dir);
    t->s = t->ts->sink;
    t->s->on_settle = on_settle;
    return t;
}

/* Queues records evt-first.. and starts the worker: with the records
 * already queued, the batches are what the batch settings make them. */
static void push_and_start(struct st *t, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        struct hf_record *r = tu_record(i, 0);
        assert_int_equal(hf_sink_reserve(t->s), 0);
        hf_sink_push(t->s, r);
        hf_record_unref(r);
    }
    assert_int_equal(hf_sink_start(t->s), 0);
}

/* The dead-letter file's lines, parsed. */
static int dead_letters(struct st *t, yyjson_val **out, int max)
{
    char *path = hf_sink_dlq_path(t->s);
    size_t len;
    char *text = tu_read_file(path, &len);
    free(path);
    int n = 0;
    for (char *p = text, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        yyjson_val *o = tj_parse(p, strlen(p));
        if (!o)
            fail_msg("dead letter line is not JSON: %s", p);
        if (n < max)
            out[n] = o; /* the documents live until tj_free_all() */
        n++;
    }
    free(text);
    return n;
}

static const char *jget(yyjson_val *o, const char *k)
{
    yyjson_val *v;
    return ((v = yyjson_obj_get(o, k)) != NULL) ? yyjson_get_str(v) : NULL;
}

static int count_dead_letters(struct st *t)
{
    yyjson_val *o[1] = {NULL};
    int n = dead_letters(t, o, 1);
    tj_free_all();
    return n;
}

/* ---- backoff ---- */

/* Exponential from retry.initial, capped at retry.max, each delay drawn
 * between a tenth of that and all of it. */
static void test_backoff_bounds(void **state)
{
    struct st *t = sink_up(state, "{flush_interval: 1ms}", "{initial: 100ms, max: 1600ms}", NULL);
    for (int a = 1; a <= 12; a++) {
        int64_t base = 100;
        for (int k = 1; k < a && base < 1600; k++)
            base *= 2;
        if (base > 1600)
            base = 1600;
        int64_t lo = INT64_MAX, hi = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t d = hf_sink_backoff_ms(t->s, a);
            if (d < base / 10 || d > base)
                fail_msg("attempt %d: delay %lld outside [%lld, %lld]", a, (long long)d, (long long)(base / 10),
                         (long long)base);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* jitter: the draws spread over the range */
        if (lo > base * 3 / 10 || hi < base * 8 / 10)
            fail_msg("attempt %d: delays only within [%lld, %lld] of [%lld, %lld]", a, (long long)lo, (long long)hi,
                     (long long)(base / 10), (long long)base);
    }
    /* a very late attempt stays at the cap */
    for (int i = 0; i < 100; i++) {
        int64_t d = hf_sink_backoff_ms(t->s, 100000);
        assert_true(d >= 160 && d <= 1600);
    }
}

/* ---- retries in the worker ---- */

static void retry_three_times(struct hf_batch *b, int attempt)
{
    if (attempt <= 3)
        hf_batch_done(b, HF_OUT_RETRY, 0, "HTTP 503");
    else
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* A batch that fails is sent again, whole and in order, after a delay
 * within the backoff's bounds for its attempt. */
static void test_retry_backoff(void **state)
{
    struct st *t =
        sink_up(state, "{max_events: 3, flush_interval: 1ms}", "{initial: 50ms, max: 200ms}", retry_three_times);
    push_and_start(t, 0, 3);
    assert_true(TU_POLL(nsettled() == 3, 10000));
    assert_int_equal(nsends(), 4);
    const int64_t base[] = {50, 100, 200};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(sc.sends[k + 1].n, 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(sc.sends[k + 1].events[i], i);
        int64_t gap = sc.sends[k + 1].at_ms - sc.sends[k].at_ms;
        /* the lower bound is exact; above, the machine may be slow */
        if (gap < base[k] / 10 || gap > base[k] + 2000)
            fail_msg("retry %d came %lld ms after the previous attempt; backoff is [%lld, %lld]", k + 1, (long long)gap,
                     (long long)(base[k] / 10), (long long)base[k]);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sc.settled_event[i], i);
        assert_int_equal(sc.settled_as[i], HF_OUT_DELIVERED);
    }
    assert_int_equal(atomic_load(&t->s->stats.delivered), 3);
    assert_int_equal(atomic_load(&t->s->stats.retried), 9);
    assert_int_equal(atomic_load(&t->s->stats.dead), 0);
    assert_int_equal(count_dead_letters(t), 0);
}

static void retry_after_400(struct hf_batch *b, int attempt)
{
    if (attempt == 1)
        hf_batch_done(b, HF_OUT_RETRY, 400, "HTTP 429");
    else
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

static void retry_after_1(struct hf_batch *b, int attempt)
{
    if (attempt == 1)
        hf_batch_done(b, HF_OUT_RETRY, 1, "HTTP 429");
    else
        hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* A peer's Retry-After longer than the backoff is waited out; a shorter
 * one does not cut the backoff short. */
static void test_retry_after(void **state)
{
    struct st *t = sink_up(state, "{flush_interval: 1ms}", "{initial: 10ms, max: 10ms}", retry_after_400);
    push_and_start(t, 0, 1);
    assert_true(TU_POLL(nsettled() == 1, 10000));
    assert_int_equal(nsends(), 2);
    int64_t gap = sc.sends[1].at_ms - sc.sends[0].at_ms;
    if (gap < 400)
        fail_msg("retried %lld ms after a Retry-After of 400 ms", (long long)gap);
    teardown(state);

    t = sink_up(state, "{flush_interval: 1ms}", "{initial: 500ms, max: 500ms}", retry_after_1);
    push_and_start(t, 0, 1);
    assert_true(TU_POLL(nsettled() == 1, 10000));
    gap = sc.sends[1].at_ms - sc.sends[0].at_ms;
    if (gap < 50)
        fail_msg("retried %lld ms later: a Retry-After of 1 ms cut a backoff of at least 50 ms", (long long)gap);
}

/* ---- giving up, rejections ---- */

static void always_503(struct hf_batch *b, int attempt)
{
    (void)attempt;
    hf_batch_done(b, HF_OUT_RETRY, 0, "HTTP 503 from the peer");
}

/* Past retry.give_up_after the records go to the dead-letter file with
 * the last reason and the number of attempts, and are not sent again. */
static void test_give_up(void **state)
{
    struct st *t = sink_up(state, "{max_events: 2, flush_interval: 1ms}",
                           "{initial: 10ms, max: 20ms, give_up_after: 300ms}", always_503);
    push_and_start(t, 0, 2);
    assert_true(TU_POLL(nsettled() == 2, 10000));
    int sends = nsends();
    hf_sink_stop(t->s, 1000);
    assert_int_equal(nsends(), sends); /* nothing more after giving up */
    assert_true(sends >= 2);
    /* the last attempt was the first at or past give_up_after (measured
     * from just before the first send: a little slack below) */
    assert_true(sc.sends[sends - 1].at_ms - sc.sends[0].at_ms >= 200);
    if (sends >= 2 && sc.sends[sends - 2].at_ms - sc.sends[0].at_ms >= 300 + 50)
        fail_msg("gave up only after attempt %d, though attempt %d was already past give_up_after", sends, sends - 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sc.settled_as[i], HF_OUT_REJECTED);

    yyjson_val *dl[4] = {NULL};
    assert_int_equal(dead_letters(t, dl, 4), 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(jget(dl[i], "sink"), "s");
        char want[128];
        snprintf(want, sizeof(want), "gave up after %d attempts: HTTP 503 from the peer", sends);
        assert_string_equal(jget(dl[i], "reason"), want);
        yyjson_val *v;
        assert_true(((v = yyjson_obj_get(dl[i], "attempts")) != NULL));
        assert_int_equal((int)tj_int(v), sends);
        assert_true(((v = yyjson_obj_get(dl[i], "record")) != NULL));
        char id[16];
        snprintf(id, sizeof(id), "evt-%d", i);
        assert_string_equal(jget(v, "event_id"), id);
        assert_non_null(jget(dl[i], "failed_at"));
    }
    tj_free_all();
    assert_int_equal(atomic_load(&t->s->stats.dead), 2);
    assert_int_equal(atomic_load(&t->s->stats.delivered), 0);
}

/* give_up_after: 0 means one attempt only. */
static void test_give_up_zero(void **state)
{
    struct st *t = sink_up(state, "{flush_interval: 1ms}", "{initial: 10ms, max: 20ms, give_up_after: 0s}", always_503);
    push_and_start(t, 0, 1);
    assert_true(TU_POLL(nsettled() == 1, 10000));
    assert_int_equal(nsends(), 1);
    assert_int_equal(count_dead_letters(t), 1);
}

static void reject_all(struct hf_batch *b, int attempt)
{
    (void)attempt;
    hf_batch_done(b, HF_OUT_REJECTED, 0, "HTTP 400: invalid event");
}

/* Rejected for good: dead letters at once, no retry. */
static void test_rejected(void **state)
{
    struct st *t = sink_up(state, "{max_events: 2, flush_interval: 1ms}", "{initial: 10ms, max: 20ms}", reject_all);
    push_and_start(t, 0, 2);
    assert_true(TU_POLL(nsettled() == 2, 10000));
    hf_sink_stop(t->s, 1000);
    assert_int_equal(nsends(), 1);
    yyjson_val *dl[2] = {NULL};
    assert_int_equal(dead_letters(t, dl, 2), 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(jget(dl[i], "reason"), "HTTP 400: invalid event");
    }
    tj_free_all();
}

/* ---- per-record marks ---- */

static void poison_third(struct hf_batch *b, int attempt)
{
    (void)attempt;
    for (size_t i = 0; i < b->n; i++)
        if (event_index(b->recs[i]) == 2)
            hf_batch_mark(b, i, HF_OUT_REJECTED, "field too large for the index");
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* One poison record in a batch goes to dead letters; the other four are
 * delivered, and nothing is sent twice. */
static void test_mark_poison(void **state)
{
    struct st *t = sink_up(state, "{max_events: 5, flush_interval: 10s}", "{initial: 10ms, max: 20ms}", poison_third);
    push_and_start(t, 0, 5);
    assert_true(TU_POLL(nsettled() == 5, 10000));
    hf_sink_stop(t->s, 1000);
    assert_int_equal(nsends(), 1);
    assert_int_equal(sc.sends[0].n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sc.settled_event[i], i);
        assert_int_equal(sc.settled_as[i], i == 2 ? HF_OUT_REJECTED : HF_OUT_DELIVERED);
    }
    yyjson_val *dl[2] = {NULL};
    assert_int_equal(dead_letters(t, dl, 2), 1);
    assert_string_equal(jget(dl[0], "reason"), "field too large for the index");
    yyjson_val *rec;
    assert_true(((rec = yyjson_obj_get(dl[0], "record")) != NULL));
    assert_string_equal(jget(rec, "event_id"), "evt-2");
    tj_free_all();
    assert_int_equal(atomic_load(&t->s->stats.delivered), 4);
    assert_int_equal(atomic_load(&t->s->stats.dead), 1);
}

static void retry_odd_once(struct hf_batch *b, int attempt)
{
    for (size_t i = 0; attempt == 1 && i < b->n; i++)
        if (event_index(b->recs[i]) % 2)
            hf_batch_mark(b, i, HF_OUT_RETRY, "partition leader moved");
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* Records marked for retry in a delivered batch are sent again, alone and
 * in order; the others are not sent twice. */
static void test_mark_retry(void **state)
{
    struct st *t = sink_up(state, "{max_events: 5, flush_interval: 10s}", "{initial: 10ms, max: 20ms}", retry_odd_once);
    push_and_start(t, 0, 5);
    assert_true(TU_POLL(nsettled() == 5, 10000));
    hf_sink_stop(t->s, 1000);
    assert_int_equal(nsends(), 2);
    assert_int_equal(sc.sends[1].n, 2);
    assert_int_equal(sc.sends[1].events[0], 1);
    assert_int_equal(sc.sends[1].events[1], 3);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sc.settled_as[i], HF_OUT_DELIVERED);
    assert_int_equal(count_dead_letters(t), 0);
    assert_int_equal(atomic_load(&t->s->stats.delivered), 5);
}

static void retry_first_forever(struct hf_batch *b, int attempt)
{
    (void)attempt;
    for (size_t i = 0; i < b->n; i++)
        if (event_index(b->recs[i]) == 0)
            hf_batch_mark(b, i, HF_OUT_RETRY, "HTTP 503 for this series");
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

/* retry.give_up_after holds for a record marked for retry too, even when
 * its batch as a whole was delivered. */
static void test_mark_retry_gives_up(void **state)
{
    struct st *t = sink_up(state, "{max_events: 3, flush_interval: 10s}",
                           "{initial: 10ms, max: 20ms, give_up_after: 200ms}", retry_first_forever);
    push_and_start(t, 0, 3);
    if (!TU_POLL(nsettled() == 3, 5000))
        fail_msg("the record marked for retry was still being retried after %d sends", nsends());
    yyjson_val *dl[2] = {NULL};
    assert_int_equal(dead_letters(t, dl, 2), 1);
    assert_non_null(strstr(jget(dl[0], "reason"), "HTTP 503 for this series"));
    yyjson_val *rec;
    assert_true(((rec = yyjson_obj_get(dl[0], "record")) != NULL));
    assert_string_equal(jget(rec, "event_id"), "evt-0");
    tj_free_all();
    assert_int_equal(atomic_load(&t->s->stats.delivered), 2);
}

/* ---- held batches (hf_batch_hold: an e-mail digest) ---- */

/* A plugin that holds every batch it is sent and reports them delivered,
 * oldest first, when the test says so (from poll) or when drained. */
static struct {
    pthread_mutex_t mu;
    struct hf_batch *held[64];
    int nheld, nsent, npolls, ndrains;
    bool release;
} hd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void release_held(void)
{
    for (int i = 0; i < hd.nheld; i++)
        hf_batch_done(hd.held[i], HF_OUT_DELIVERED, 0, NULL);
    hd.nheld = 0;
}

static void holding_send(struct hf_sink *s, struct hf_batch *b)
{
    (void)s;
    pthread_mutex_lock(&hd.mu);
    hd.nsent++;
    hd.held[hd.nheld++] = b;
    pthread_mutex_unlock(&hd.mu);
    hf_batch_hold(b);
}

static void holding_poll(struct hf_sink *s, int timeout_ms)
{
    (void)s;
    (void)timeout_ms;
    pthread_mutex_lock(&hd.mu);
    hd.npolls++;
    if (hd.release)
        release_held();
    pthread_mutex_unlock(&hd.mu);
}

static void holding_drain(struct hf_sink *s, int deadline_ms)
{
    (void)s;
    (void)deadline_ms;
    pthread_mutex_lock(&hd.mu);
    hd.ndrains++;
    release_held();
    pthread_mutex_unlock(&hd.mu);
}

static const struct hf_sink_plugin holding = {
    .name = "holding", .send = holding_send, .poll = holding_poll, .drain = holding_drain};

static int hd_get(int *field)
{
    pthread_mutex_lock(&hd.mu);
    int v = *field;
    pthread_mutex_unlock(&hd.mu);
    return v;
}

/* A sink "s" run by the holding plugin, one record per batch, a queue of
 * queue_max records. */
static struct st *held_up_queue(void **state, const char *mode, int queue_max)
{
    struct st *t = calloc(1, sizeof(*t));
    *state = t;
    t->dir = tu_temp_dir();
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "storage: {mode: %s, path: %s}\n" TU_SOURCES
             "sinks:\n  - {name: s, type: stdout, takes: records, batch: {max_events: 1, flush_interval: 1ms},\n"
             "     queue: {max_events: %d}}\n",
             mode, t->dir, queue_max);
    struct hf_cerr err = {0};
    t->cfg = tu_config(yaml, &err);
    if (!t->cfg)
        fail_msg("%s", err.msg);
    pthread_mutex_lock(&hd.mu);
    memset(hd.held, 0, sizeof(hd.held));
    hd.nheld = hd.nsent = hd.npolls = hd.ndrains = 0;
    hd.release = false;
    pthread_mutex_unlock(&hd.mu);
    pthread_mutex_lock(&sc.mu);
    sc.nsettled = 0;
    pthread_mutex_unlock(&sc.mu);
    t->ts = tu_sink_new(t->cfg, "s", &holding, t->dir);
    t->s = t->ts->sink;
    t->s->on_settle = on_settle;
    return t;
}

static struct st *held_up(void **state, const char *mode) { return held_up_queue(state, mode, 20000); }

/* Held batches take no delivery slot (max_inflight is 1, yet all three
 * batches are sent), are looked at by poll() with nothing in flight, and
 * settle when the plugin reports them. */
static void test_hold_release(void **state)
{
    struct st *t = held_up(state, "memory");
    push_and_start(t, 1, 3);
    assert_true(TU_POLL(hd_get(&hd.nsent) == 3, 5000));
    assert_true(TU_POLL(hd_get(&hd.npolls) >= 1, 3000));
    assert_int_equal(nsettled(), 0);
    pthread_mutex_lock(&hd.mu);
    hd.release = true;
    pthread_mutex_unlock(&hd.mu);
    assert_true(TU_POLL(nsettled() == 3, 3000));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sc.settled_event[i], i + 1);
        assert_int_equal(sc.settled_as[i], HF_OUT_DELIVERED);
    }
    assert_int_equal(hd_get(&hd.ndrains), 0);
}

/* Held records count against queue.max_events: a digest holding a whole
 * period's records is a full queue for the senders (503), not memory
 * beyond the bound; room comes back as the held batches settle. */
static void test_hold_counts_against_queue(void **state)
{
    struct st *t = held_up_queue(state, "memory", 3);
    push_and_start(t, 1, 3);
    assert_true(TU_POLL(hd_get(&hd.nsent) == 3, 5000));
    assert_int_equal(hf_sink_queue_len(t->s), 0);
    assert_true(hf_sink_full(t->s));
    assert_int_equal(hf_sink_reserve(t->s), -1);
    pthread_mutex_lock(&hd.mu);
    hd.release = true;
    pthread_mutex_unlock(&hd.mu);
    assert_true(TU_POLL(nsettled() == 3, 3000));
    assert_false(hf_sink_full(t->s));
    assert_int_equal(hf_sink_reserve(t->s), 0);
    hf_sink_unreserve(t->s);
}

/* Memory storage: a stopping sink lets the plugin finish what it holds. */
static void test_hold_drained_at_stop_in_memory(void **state)
{
    struct st *t = held_up(state, "memory");
    push_and_start(t, 1, 2);
    assert_true(TU_POLL(hd_get(&hd.nsent) == 2, 5000));
    hf_sink_stop(t->s, 2000);
    assert_int_equal(hd_get(&hd.ndrains), 1);
    assert_int_equal(nsettled(), 2);
}

/* Disk storage: held batches are left to the journal, unsettled (their
 * records freed with the sink, which ASan checks). */
static void test_hold_kept_at_stop_on_disk(void **state)
{
    struct st *t = held_up(state, "disk");
    push_and_start(t, 1, 2);
    assert_true(TU_POLL(hd_get(&hd.nsent) == 2, 5000));
    hf_sink_stop(t->s, 2000);
    assert_int_equal(hd_get(&hd.ndrains), 0);
    assert_int_equal(nsettled(), 0);
}

int main(void)
{
    hf_log_set_level(HF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_backoff_bounds, teardown),
        cmocka_unit_test_teardown(test_retry_backoff, teardown),
        cmocka_unit_test_teardown(test_retry_after, teardown),
        cmocka_unit_test_teardown(test_give_up, teardown),
        cmocka_unit_test_teardown(test_give_up_zero, teardown),
        cmocka_unit_test_teardown(test_rejected, teardown),
        cmocka_unit_test_teardown(test_mark_poison, teardown),
        cmocka_unit_test_teardown(test_mark_retry, teardown),
        cmocka_unit_test_teardown(test_mark_retry_gives_up, teardown),
        cmocka_unit_test_teardown(test_hold_release, teardown),
        cmocka_unit_test_teardown(test_hold_counts_against_queue, teardown),
        cmocka_unit_test_teardown(test_hold_drained_at_stop_in_memory, teardown),
        cmocka_unit_test_teardown(test_hold_kept_at_stop_on_disk, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
