/* The sink runtime every output plugin runs on: a bounded queue per sink,
 * a worker thread that batches, the plugin interface, completion,
 * retry with backoff and jitter, and the dead-letter file. */
#ifndef HF_SINK_H
#define HF_SINK_H

#include "config.h"
#include "record.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct hf_sink;

enum hf_outcome {
    HF_OUT_PENDING = 0,
    HF_OUT_DELIVERED,
    HF_OUT_RETRY,    /* try again later (optionally after retry_after_ms) */
    HF_OUT_REJECTED, /* rejected for good: dead letters */
};

/* A batch of records handed to a plugin. The runtime owns it; the plugin
 * reports its fate exactly once through hf_batch_done(), from the sink's
 * worker thread (inside send() or poll()). */
struct hf_batch {
    struct hf_sink *sink;
    struct hf_record **recs;
    size_t n;
    enum hf_outcome *rec_outcome; /* per-record marks, HF_OUT_PENDING = follow the batch */
    char **rec_reason;
    int attempts;
    int64_t first_try_ms;  /* monotonic */
    int64_t next_try_ms;
    int64_t sent_mono_ms;
    size_t bytes;          /* sum of record JSON sizes */
    enum hf_outcome outcome;
    int64_t retry_after_ms;
    char reason[256];
    void *plugin_data;     /* the plugin's, freed by the plugin before done */
    struct hf_batch *next;
};

struct hf_sink_plugin {
    const char *name;                  /* type as written in YAML */
    const struct hf_option *options;   /* plugin options, validated by the core */
    enum hf_takes default_takes;
    int max_inflight;                  /* batches in flight at once (0 = 1) */
    int (*init)(struct hf_sink *sink, struct hf_cerr *err);
    /* Pure: batch in, bytes out. Optional. */
    int (*encode)(struct hf_sink *sink, const struct hf_batch *batch, struct hf_buf *out);
    /* Starts sending; the outcome comes through hf_batch_done(), now or later. */
    void (*send)(struct hf_sink *sink, struct hf_batch *batch);
    /* Drives asynchronous I/O for up to timeout_ms; optional. */
    void (*poll)(struct hf_sink *sink, int timeout_ms);
    /* Shutdown: try to finish in-flight work within deadline_ms. Optional. */
    void (*drain)(struct hf_sink *sink, int deadline_ms);
    void (*destroy)(struct hf_sink *sink);
    /* Optional: checks option values only the plugin understands (e.g.
     * librdkafka properties) when the configuration is loaded, so `check`
     * and a reload reject them with "FILE:LINE:COL: ..." before any init.
     * Must not touch the network or the filesystem's state. */
    int (*check)(const struct hf_sink_conf *conf, const char *file, struct hf_cerr *err);
};

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
    struct hf_batch *waiting; /* batches waiting for their retry time */
    struct hf_batch *done;    /* completed, to be settled */
    int64_t auth_log_mono_ms;

    struct hf_sink_stats stats;
    void (*on_settle)(struct hf_sink *sink, const struct hf_record *r, enum hf_outcome o, void *arg);
    void *on_settle_arg;
};

/* Plugin option getters (defaults from the plugin's table). */
const char *hf_sink_opt_str(const struct hf_sink *s, const char *dotted);
bool hf_sink_opt_bool(const struct hf_sink *s, const char *dotted);
int64_t hf_sink_opt_int(const struct hf_sink *s, const char *dotted);
int64_t hf_sink_opt_num(const struct hf_sink *s, const char *dotted); /* sizes, durations */
const struct hf_cnode *hf_sink_opt_node(const struct hf_sink *s, const char *dotted);

/* Logs with a "[sink:type:name]" prefix. */
void hf_sink_log(const struct hf_sink *s, enum hf_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The runtime's retry delay for the given attempt (exponential from
 * retry.initial to retry.max, with jitter), for plugins that retry inside. */
int64_t hf_sink_backoff_ms(const struct hf_sink *s, int attempts);

void hf_batch_done(struct hf_batch *b, enum hf_outcome o, int64_t retry_after_ms, const char *reason);
/* Marks one record's own fate (e.g. a poison record among good ones). */
void hf_batch_mark(struct hf_batch *b, size_t i, enum hf_outcome o, const char *reason);

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
/* Stops taking records, drains the queue within deadline_ms, joins the worker. */
void hf_sink_stop(struct hf_sink *s, int deadline_ms);
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
