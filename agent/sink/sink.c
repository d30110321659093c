/* SPDX-License-Identifier: Apache-2.0 */
/* The sink runtime: queue, batcher, worker, completion, retries, dead letters. */
#define _GNU_SOURCE
#include "sink.h"
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const double hf_lat_bounds[HF_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

void hf_sink_poll_when_idle(struct hf_sink *s, bool on) { s->idle_poll = on; }

const void *hf_sink_conf(const struct hf_sink *s) { return s->conf->plugin_conf; }
void *hf_sink_state(const struct hf_sink *s) { return s->ctx; }
void hf_sink_set_state(struct hf_sink *s, void *state) { s->ctx = state; }
const char *hf_sink_name(const struct hf_sink *s) { return s->name; }
const char *hf_sink_type(const struct hf_sink *s) { return s->plugin->name; }
const char *hf_sink_config_file(const struct hf_sink *s) { return s->config_file; }
const char *hf_sink_storage_path(const struct hf_sink *s) { return s->storage_path; }
enum hf_takes hf_sink_takes(const struct hf_sink *s) { return s->conf->takes; }
int64_t hf_sink_flush_ms(const struct hf_sink *s) { return s->conf->flush_ms; }
int64_t hf_sink_retry_max_ms(const struct hf_sink *s) { return s->conf->retry_max_ms; }
int64_t hf_sink_give_up_ms(const struct hf_sink *s) { return s->conf->give_up_ms; }
void hf_sink_count_truncated(struct hf_sink *s, uint64_t n) { atomic_fetch_add(&s->stats.truncated, n); }
void hf_sink_count_retried(struct hf_sink *s, uint64_t n) { atomic_fetch_add(&s->stats.retried, n); }

bool hf_sink_stopping(struct hf_sink *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

void hf_sink_log(const struct hf_sink *s, enum hf_log_level lvl, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char line[1000];
    snprintf(line, sizeof(line), "[sink:%s:%s] %s", s->plugin->name, s->name, msg);
    /* repeats are suppressed per sink and per message */
    hf_log_keyed(lvl, "sink", fmt, s, line);
}

/* Drops a batch's per-record marks. */
static void marks_free(struct hf_batch *b)
{
    if (b->rec_reason)
        for (size_t i = 0; i < b->n; i++)
            free(b->rec_reason[i]);
    free(b->rec_reason);
    free(b->rec_outcome);
    b->rec_reason = NULL;
    b->rec_outcome = NULL;
}

static void batch_free(struct hf_batch *b)
{
    if (!b)
        return;
    marks_free(b);
    free(b->recs);
    free(b);
}

static void list_remove(struct hf_batch **head, struct hf_batch *b)
{
    for (struct hf_batch **p = head; *p; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            b->next = NULL;
            return;
        }
}

static void list_append(struct hf_batch **head, struct hf_batch *b)
{
    struct hf_batch **p = head;
    while (*p)
        p = &(*p)->next;
    b->next = NULL;
    *p = b;
}

void hf_batch_done(struct hf_batch *b, enum hf_outcome o, int64_t retry_after_ms, const char *reason)
{
    struct hf_sink *s = b->sink;
    b->outcome = o;
    b->retry_after_ms = retry_after_ms;
    snprintf(b->reason, sizeof(b->reason), "%s", reason ? reason : "");
    if (b->held) {
        b->held = false;
        list_remove(&s->held, b);
        atomic_fetch_sub(&s->held_records, b->n);
    } else {
        list_remove(&s->inflight, b);
        s->ninflight--;
    }
    list_append(&s->done, b);
}

void hf_batch_hold(struct hf_batch *b)
{
    struct hf_sink *s = b->sink;
    if (b->held)
        return;
    list_remove(&s->inflight, b);
    s->ninflight--;
    b->held = true;
    list_append(&s->held, b);
    atomic_fetch_add(&s->held_records, b->n);
}

void hf_batch_mark(struct hf_batch *b, size_t i, enum hf_outcome o, const char *reason)
{
    if (i >= b->n)
        return;
    if (!b->rec_outcome)
        b->rec_outcome = hf_calloc(b->n, sizeof(*b->rec_outcome));
    if (!b->rec_reason)
        b->rec_reason = hf_calloc(b->n, sizeof(*b->rec_reason));
    b->rec_outcome[i] = o;
    free(b->rec_reason[i]);
    b->rec_reason[i] = reason ? hf_strdup(reason) : NULL;
}

char *hf_sink_dlq_path(const struct hf_sink *s)
{
    struct hf_buf b;
    hf_buf_init(&b, 4096);
    hf_buf_printf(&b, "%s/dead-letter/%s.jsonl", s->storage_path ? s->storage_path : ".", s->name);
    return b.data;
}

/* The dead-letter file, opened to append under an exclusive flock: a
 * `hookfwd replay` holds that lock while it reads what came after its
 * first pass and renames its rewrite over the file, so a dead letter is
 * never appended to a file that is being replaced. A lock taken on a file
 * a replay has just replaced is let go and the new file opened instead. */
static int open_dead_letters(const char *path)
{
    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX) < 0)
            return fd; /* a file system without locks: as before */
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(path, &now) == 0 && held.st_ino == now.st_ino && held.st_dev == now.st_dev)
            return fd;
        close(fd);
    }
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

void hf_sink_dead_letter(struct hf_sink *s, const struct hf_record *r, const char *reason, int attempts)
{
    char *path = hf_sink_dlq_path(s);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/dead-letter", s->storage_path ? s->storage_path : ".");
    mkdir(s->storage_path ? s->storage_path : ".", 0750);
    mkdir(dir, 0750);
    struct hf_buf b;
    char now[32];
    hf_buf_init(&b, 0);
    hf_format_iso_ms(hf_now_ms(), now, sizeof(now));
    hf_buf_puts(&b, "{\"sink\":");
    hf_buf_json_str(&b, s->name, strlen(s->name));
    hf_buf_puts(&b, ",\"reason\":");
    hf_buf_json_str(&b, reason ? reason : "", reason ? strlen(reason) : 0);
    hf_buf_printf(&b, ",\"attempts\":%d,\"failed_at\":\"%s\",\"record\":", attempts, now);
    hf_buf_append(&b, r->json, r->json_len);
    hf_buf_puts(&b, "}\n");
    int fd = open_dead_letters(path);
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fdatasync(fd) < 0)
        hf_sink_log(s, HF_LOG_ERROR, "cannot write dead letter to %s: %s; record %s is logged here instead: %s", path,
                    strerror(errno), r->event_id ? r->event_id : "?", r->json);
    if (fd >= 0)
        close(fd);
    hf_buf_free(&b);
    free(path);
}

static void settle_record(struct hf_sink *s, struct hf_record *r, enum hf_outcome o, const char *reason, int attempts)
{
    if (o == HF_OUT_DELIVERED)
        atomic_fetch_add(&s->stats.delivered, 1);
    else {
        atomic_fetch_add(&s->stats.dead, 1);
        hf_sink_dead_letter(s, r, reason, attempts);
    }
    if (s->on_settle)
        s->on_settle(s, r, o, s->on_settle_arg);
    hf_record_unref(r);
}

static void observe_latency(struct hf_sink *s, int64_t ms)
{
    double sec = (double)ms / 1000.0;
    int i = 0;
    while (i < HF_LAT_BUCKETS && sec > hf_lat_bounds[i])
        i++;
    atomic_fetch_add(&s->stats.lat_bucket[i], 1);
    atomic_fetch_add(&s->stats.lat_sum_us, (unsigned long long)(ms * 1000));
}

int64_t hf_sink_backoff_ms(const struct hf_sink *s, int attempts)
{
    int64_t base = s->conf->retry_initial_ms;
    for (int i = 1; i < attempts && base < s->conf->retry_max_ms; i++)
        base *= 2;
    if (base > s->conf->retry_max_ms)
        base = s->conf->retry_max_ms;
    /* full jitter, but never below a tenth of the base so a retry storm
     * cannot form on an unlucky draw */
    int64_t floor_ms = base / 10;
    return floor_ms + (int64_t)(hf_random64() % (uint64_t)(base - floor_ms + 1));
}

static void settle_batch(struct hf_sink *s, struct hf_batch *b)
{
    int64_t now = hf_mono_ms();
    observe_latency(s, now - b->sent_mono_ms);
    b->attempts++;
    size_t keep = 0;
    /* for every record still to retry, whether the batch failed or only
     * the record was marked for retry in a delivered batch */
    bool give_up = now - b->first_try_ms >= s->conf->give_up_ms;
    for (size_t i = 0; i < b->n; i++) {
        enum hf_outcome o = b->rec_outcome && b->rec_outcome[i] ? b->rec_outcome[i] : b->outcome;
        const char *why = b->rec_reason && b->rec_reason[i] ? b->rec_reason[i] : b->reason;
        if (o == HF_OUT_RETRY && !give_up) {
            b->recs[keep++] = b->recs[i];
            continue;
        }
        char reason[400];
        if (o == HF_OUT_RETRY)
            snprintf(reason, sizeof(reason), "gave up after %d attempts: %s", b->attempts, why);
        else
            snprintf(reason, sizeof(reason), "%s", why);
        settle_record(s, b->recs[i], o == HF_OUT_RETRY ? HF_OUT_REJECTED : o, reason, b->attempts);
    }
    if (keep == 0) {
        batch_free(b);
        return;
    }
    /* retry the rest later, as one batch, in order */
    marks_free(b);
    b->n = keep;
    b->bytes = 0;
    for (size_t i = 0; i < keep; i++)
        b->bytes += b->recs[i]->json_len;
    atomic_fetch_add(&s->stats.retried, keep);
    int64_t delay = hf_sink_backoff_ms(s, b->attempts);
    if (b->retry_after_ms > delay)
        delay = b->retry_after_ms;
    b->next_try_ms = now + delay;
    b->outcome = HF_OUT_PENDING;
    hf_sink_log(s, HF_LOG_WARN, "batch of %zu records will be retried in %lld ms (attempt %d): %s", keep,
                (long long)delay, b->attempts, b->reason);
    list_append(&s->waiting, b);
}

static void send_batch(struct hf_sink *s, struct hf_batch *b)
{
    b->sent_mono_ms = hf_mono_ms();
    b->outcome = HF_OUT_PENDING;
    list_append(&s->inflight, b);
    s->ninflight++;
    atomic_fetch_add(&s->stats.batches, 1);
    s->plugin->send(s, b);
}

/* Takes a batch off the queue; called with s->mu held. */
static struct hf_batch *take_batch(struct hf_sink *s)
{
    size_t max = (size_t)s->conf->batch_max_events;
    size_t n = s->count < max ? s->count : max;
    struct hf_batch *b = hf_calloc(1, sizeof(*b));
    b->sink = s;
    b->recs = hf_calloc(n, sizeof(*b->recs));
    while (b->n < n) {
        struct hf_record *r = s->ring[s->head];
        if (b->n > 0 && b->bytes + r->json_len > (size_t)s->conf->batch_max_bytes)
            break;
        b->recs[b->n++] = r;
        b->bytes += r->json_len;
        s->head = (s->head + 1) % s->cap;
        s->count--;
        s->queued_bytes -= r->json_len;
    }
    s->oldest_mono_ms = s->count ? hf_mono_ms() : 0;
    b->first_try_ms = hf_mono_ms();
    return b;
}

static bool batch_ready(struct hf_sink *s, int64_t now)
{
    if (s->count == 0)
        return false;
    return s->stopping || s->count >= (size_t)s->conf->batch_max_events ||
           s->queued_bytes >= (size_t)s->conf->batch_max_bytes || now - s->oldest_mono_ms >= s->conf->flush_ms;
}

static void settle_done(struct hf_sink *s)
{
    while (s->done) {
        struct hf_batch *b = s->done;
        s->done = b->next;
        settle_batch(s, b);
    }
}

/* When the worker must look again: the oldest record's flush time, the
 * next retry, or a second from now. Called with s->mu held. */
static int64_t next_wake(const struct hf_sink *s, int64_t now)
{
    int64_t wake = now + 1000;
    if (s->count && !s->waiting && s->oldest_mono_ms + s->conf->flush_ms < wake)
        wake = s->oldest_mono_ms + s->conf->flush_ms;
    if (s->waiting && s->waiting->next_try_ms < wake)
        wake = s->waiting->next_try_ms;
    if (s->held && s->held_poll_ms < wake)
        wake = s->held_poll_ms;
    return wake;
}

/* Waits on s->cv (s->mu held) until the monotonic time wake_ms at most. */
static void wait_until(struct hf_sink *s, int64_t now, int64_t wake_ms)
{
    if (wake_ms <= now)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t d = wake_ms - now;
    ts.tv_sec += d / 1000;
    ts.tv_nsec += (d % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Held batches outlive the process only in the journal: with memory
 * storage a stopping plugin gets to finish them (drain) before the worker
 * ends. True (s->mu released) when the plugin was asked; called with s->mu
 * held. */
static bool drain_held(struct hf_sink *s, int64_t now)
{
    bool idle = s->stopping && s->count == 0 && !s->waiting && s->ninflight == 0 && !s->done;
    if (!idle || !s->held || s->held_drained || s->conf->cfg->storage_mode == HF_STORAGE_DISK || !s->plugin->drain)
        return false;
    s->held_drained = true;
    int64_t left = s->stop_deadline_ms - now;
    pthread_mutex_unlock(&s->mu);
    s->plugin->drain(s, (int)(left > 0 ? left : 0));
    return true;
}

/* True when the worker may stop: drained, or past the drain deadline (the
 * plugin is told to give up what is in flight). Called with s->mu held. */
static bool drain_finished(struct hf_sink *s, int64_t now)
{
    bool finished = s->stopping && s->count == 0 && !s->waiting && s->ninflight == 0 && !s->done;
    if (s->stopping && !finished && now >= s->stop_deadline_ms) {
        size_t in_batches = 0;
        for (struct hf_batch *b = s->inflight; b; b = b->next)
            in_batches += b->n;
        for (struct hf_batch *b = s->waiting; b; b = b->next)
            in_batches += b->n;
        s->undelivered = s->count + in_batches + atomic_load(&s->held_records);
        hf_sink_log(s, HF_LOG_WARN,
                    "drain deadline passed with %zu records undelivered (%zu queued, %zu in unfinished batches)",
                    s->undelivered, s->count, s->undelivered - s->count);
        if (s->plugin->drain) {
            pthread_mutex_unlock(&s->mu);
            s->plugin->drain(s, 0);
            pthread_mutex_lock(&s->mu);
        }
        finished = true;
    }
    return finished;
}

static void *worker(void *arg)
{
    struct hf_sink *s = arg;
    hf_thread_name("sink:%s", s->name);
    int max_inflight = s->plugin->max_inflight > 0 ? s->plugin->max_inflight : 1;
    for (;;) {
        settle_done(s);
        int64_t now = hf_mono_ms();
        /* retries go first and alone, so records keep their order */
        struct hf_batch *due = s->waiting;
        if (due && due->next_try_ms <= now && s->ninflight < max_inflight) {
            s->waiting = due->next;
            send_batch(s, due);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        if (!s->waiting && s->ninflight < max_inflight && batch_ready(s, now)) {
            struct hf_batch *b = take_batch(s);
            pthread_mutex_unlock(&s->mu);
            send_batch(s, b);
            continue;
        }
        /* a plugin holding batches (an e-mail digest) looks at them once a
         * second */
        if (s->held && s->plugin->poll && now >= s->held_poll_ms) {
            s->held_poll_ms = now + 1000;
            pthread_mutex_unlock(&s->mu);
            s->plugin->poll(s, 0);
            continue;
        }
        if (drain_held(s, now))
            continue;
        if (drain_finished(s, now)) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        int64_t wake = next_wake(s, now);
        if ((s->ninflight > 0 || s->idle_poll) && s->plugin->poll) {
            pthread_mutex_unlock(&s->mu);
            int64_t t = wake - now;
            /* idle: long enough to cost nothing, short enough that a new
             * record waits little beyond its flush interval */
            int cap = s->ninflight > 0 ? 50 : 100;
            s->plugin->poll(s, (int)(t < 1 ? 1 : t > cap ? cap : t));
            continue;
        }
        wait_until(s, now, wake);
        pthread_mutex_unlock(&s->mu);
    }
    /* batches that completed during a deadline drain are settled too, so
     * the journal does not send them again after a restart */
    settle_done(s);
    return NULL;
}

struct hf_sink *hf_sink_new(struct hf_sink_conf *conf, const char *config_file, const char *storage_path,
                            struct hf_cerr *err)
{
    struct hf_sink *s = hf_calloc(1, sizeof(*s));
    s->name = hf_strdup(conf->name);
    s->plugin = conf->plugin;
    s->conf = conf;
    hf_config_ref(conf->cfg); /* a sink reused across reloads keeps its config alive */
    s->config_file = config_file;
    s->storage_path = storage_path;
    s->cap = (size_t)conf->queue_max_events;
    s->ring = hf_calloc(s->cap, sizeof(*s->ring));
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (s->plugin->init && s->plugin->init(s, err) < 0) {
        hf_sink_free(s);
        return NULL;
    }
    return s;
}

int hf_sink_start(struct hf_sink *s)
{
    if (s->started)
        return 0;
    if (pthread_create(&s->thread, NULL, worker, s) != 0)
        return -1;
    s->started = true;
    return 0;
}

/* Slots of queue.max_events in use: queued, reserved for a push, or held
 * by the plugin (hf_batch_hold). Called with s->mu held. */
static size_t taken(struct hf_sink *s) { return s->count + atomic_load(&s->reserved) + atomic_load(&s->held_records); }

int hf_sink_reserve(struct hf_sink *s)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (!s->stopping && taken(s) < s->cap) {
        atomic_fetch_add(&s->reserved, 1);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void hf_sink_unreserve(struct hf_sink *s) { atomic_fetch_sub(&s->reserved, 1); }

void hf_sink_push(struct hf_sink *s, struct hf_record *r)
{
    hf_record_ref(r);
    pthread_mutex_lock(&s->mu);
    atomic_fetch_sub(&s->reserved, 1);
    s->ring[(s->head + s->count) % s->cap] = r;
    if (s->count++ == 0)
        s->oldest_mono_ms = hf_mono_ms();
    s->queued_bytes += r->json_len;
    atomic_fetch_add(&s->stats.enqueued, 1);
    bool wake = s->count == 1 || s->count == (size_t)s->conf->batch_max_events ||
                s->queued_bytes >= (size_t)s->conf->batch_max_bytes;
    pthread_mutex_unlock(&s->mu);
    if (wake)
        pthread_cond_signal(&s->cv);
}

void hf_sink_push_force(struct hf_sink *s, struct hf_record *r)
{
    pthread_mutex_lock(&s->mu);
    if (s->count + atomic_load(&s->reserved) >= s->cap) {
        size_t ncap = s->cap * 2;
        struct hf_record **ring = hf_calloc(ncap, sizeof(*ring));
        for (size_t i = 0; i < s->count; i++)
            ring[i] = s->ring[(s->head + i) % s->cap];
        free(s->ring);
        s->ring = ring;
        s->cap = ncap;
        s->head = 0;
    }
    atomic_fetch_add(&s->reserved, 1);
    pthread_mutex_unlock(&s->mu);
    hf_sink_push(s, r);
}

size_t hf_sink_queue_len(struct hf_sink *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool hf_sink_full(struct hf_sink *s)
{
    pthread_mutex_lock(&s->mu);
    bool full = taken(s) >= s->cap;
    pthread_mutex_unlock(&s->mu);
    return full;
}

size_t hf_sink_stop(struct hf_sink *s, int deadline_ms)
{
    if (!s->started)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    s->stop_deadline_ms = hf_mono_ms() + deadline_ms;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->started = false;
    return s->undelivered;
}

void hf_sink_free(struct hf_sink *s)
{
    if (!s)
        return;
    if (s->plugin && s->plugin->destroy)
        s->plugin->destroy(s);
    for (size_t i = 0; i < s->count; i++)
        hf_record_unref(s->ring[(s->head + i) % s->cap]);
    /* held batches are not settled here: with disk storage the journal
     * still has their records and sends them again after a restart */
    struct hf_batch *lists[] = {s->inflight, s->waiting, s->done, s->held};
    for (size_t l = 0; l < 4; l++)
        for (struct hf_batch *b = lists[l], *n; b; b = n) {
            n = b->next;
            for (size_t i = 0; i < b->n; i++)
                hf_record_unref(b->recs[i]);
            batch_free(b);
        }
    free(s->ring);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->name);
    hf_config_free(s->conf->cfg);
    free(s);
}

enum hf_outcome hf_sink_send_once(struct hf_sink *s, struct hf_record **recs, size_t n, int timeout_ms,
                                  enum hf_outcome *outcomes, char *reason, size_t reasonlen)
{
    struct hf_batch *b = hf_calloc(1, sizeof(*b));
    b->sink = s;
    b->recs = hf_calloc(n ? n : 1, sizeof(*b->recs));
    for (size_t i = 0; i < n; i++) {
        b->recs[i] = recs[i];
        b->bytes += recs[i]->json_len;
    }
    b->n = n;
    b->first_try_ms = hf_mono_ms();
    b->once = true;
    send_batch(s, b);
    int64_t deadline = hf_mono_ms() + timeout_ms;
    while (!s->done && hf_mono_ms() < deadline) {
        if (s->plugin->poll)
            s->plugin->poll(s, 50);
        else
            break;
    }
    enum hf_outcome o = HF_OUT_RETRY;
    if (s->done == b) {
        s->done = NULL;
        o = b->outcome;
        snprintf(reason, reasonlen, "%s", b->reason);
        for (size_t i = 0; outcomes && i < n; i++)
            outcomes[i] = b->rec_outcome && b->rec_outcome[i] ? b->rec_outcome[i] : b->outcome;
        batch_free(b);
    } else {
        snprintf(reason, reasonlen, "no outcome within %d ms", timeout_ms);
        for (size_t i = 0; outcomes && i < n; i++)
            outcomes[i] = HF_OUT_RETRY;
        /* the plugin still holds the batch; it is freed with the sink,
         * which drops a reference per record: take them, the caller keeps
         * its own */
        for (size_t i = 0; i < n; i++)
            hf_record_ref(recs[i]);
    }
    return o;
}
