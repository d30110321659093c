/* SPDX-License-Identifier: Apache-2.0 */
/* The sink runtime every output plugin runs on: a bounded queue per sink,
 * a worker thread that batches, the plugin interface, completion,
 * retry with backoff and jitter, and the dead-letter file. */
#ifndef HF_SINK_H
#define HF_SINK_H

#include "config.h"
#include "plugin.h"
#include "record.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define HF_LAT_BUCKETS 12
extern const double hf_lat_bounds[HF_LAT_BUCKETS]; /* seconds */

struct hf_sink_stats {
    atomic_ullong delivered, retried, dead, enqueued, batches;
    atomic_ullong lat_bucket[HF_LAT_BUCKETS + 1];
    atomic_ullong lat_sum_us;
    atomic_ullong truncated; /* plugins' own count (syslog UDP) */
};

struct hf_sink {
    char *name;
    const struct hf_sink_plugin *plugin;
    struct hf_sink_conf *conf;
    const char *config_file;
    const char *storage_path;
    void *ctx; /* the plugin's state */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hf_record **ring;
    size_t cap, head, count;
    atomic_size_t reserved;
    size_t queued_bytes;
    int64_t oldest_mono_ms;
    bool stopping;
    int64_t stop_deadline_ms;
    bool started;
    pthread_t thread;

    /* worker-only state */
    struct hf_batch *inflight;
    int ninflight;
    bool idle_poll; /* poll() also with nothing in flight (hf_sink_poll_when_idle) */
    struct hf_batch *waiting; /* batches waiting for their retry time */
    struct hf_batch *done; /* completed, to be settled */
    struct hf_batch *held; /* kept by the plugin past send() (hf_batch_hold) */
    /* records in held batches: they count against queue.max_events, or an
     * e-mail digest would keep a whole period's records beyond it */
    atomic_size_t held_records;
    int64_t held_poll_ms; /* next poll() for a sink that only holds batches */
    bool held_drained;
    size_t undelivered; /* records the drain deadline left (hf_sink_stop) */
    int64_t auth_log_mono_ms;

    struct hf_sink_stats stats;
    void (*on_settle)(struct hf_sink *sink, const struct hf_record *r, enum hf_outcome o, void *arg);
    void *on_settle_arg;
};

struct hf_sink *hf_sink_new(struct hf_sink_conf *conf, const char *config_file, const char *storage_path,
                            struct hf_cerr *err);
int hf_sink_start(struct hf_sink *s);
/* Reserve room for one record; 0 or -1 when the queue is full. */
int hf_sink_reserve(struct hf_sink *s);
void hf_sink_unreserve(struct hf_sink *s);
/* Pushes into a reserved slot; takes a reference. */
void hf_sink_push(struct hf_sink *s, struct hf_record *r);
/* Pushes without a reservation, growing the queue if needed (journal replay
 * at start: what was accepted before must fit). */
void hf_sink_push_force(struct hf_sink *s, struct hf_record *r);
size_t hf_sink_queue_len(struct hf_sink *s);
bool hf_sink_full(struct hf_sink *s);
/* Stops taking records, drains the queue within deadline_ms, joins the
 * worker. Returns how many records the deadline left undelivered (queued,
 * in unfinished batches or held by the plugin): 0 after a clean drain. */
size_t hf_sink_stop(struct hf_sink *s, int deadline_ms);
void hf_sink_free(struct hf_sink *s);

/* Writes one dead letter line for r. */
void hf_sink_dead_letter(struct hf_sink *s, const struct hf_record *r, const char *reason, int attempts);
char *hf_sink_dlq_path(const struct hf_sink *s);

const struct hf_sink_plugin *hf_plugin_find(const char *type);
extern const struct hf_sink_plugin *const hf_plugins[];

/* Sends records through the sink's plugin once, outside the worker (the
 * worker must not be running), waiting up to timeout_ms for the outcome.
 * Per-record outcomes land in outcomes[] (may be NULL). Returns the batch
 * outcome. Used by `test-sink` and `replay`. */
enum hf_outcome hf_sink_send_once(struct hf_sink *s, struct hf_record **recs, size_t n, int timeout_ms,
                                  enum hf_outcome *outcomes, char *reason, size_t reasonlen);
#endif
