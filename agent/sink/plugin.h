/* SPDX-License-Identifier: Apache-2.0 */
/* All an output plugin sees of hookfwd: its descriptor, the batch it is
 * given, how it reports a batch's fate, and accessors to its sink (struct
 * hf_sink is the runtime's and stays opaque here). With base/ (buffers,
 * logging, time), the record model (record.h) and option tables
 * (option.h), this is the whole API a plugin is built against; CMake gives
 * plugins no other include path. */
#ifndef HF_PLUGIN_H
#define HF_PLUGIN_H

#include "option.h"
#include "record.h"
#include "template.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

struct hf_sink;

enum hf_outcome {
    HF_OUT_PENDING = 0,
    HF_OUT_DELIVERED,
    HF_OUT_RETRY, /* try again later (optionally after retry_after_ms) */
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
    int64_t first_try_ms; /* monotonic */
    int64_t next_try_ms;
    int64_t sent_mono_ms;
    size_t bytes; /* sum of record JSON sizes */
    enum hf_outcome outcome;
    int64_t retry_after_ms;
    char reason[256];
    void *plugin_data; /* the plugin's, freed by the plugin before done */
    bool once; /* test-sink or replay: deliver now, hold nothing back */
    bool held; /* the runtime's: set by hf_batch_hold() */
    struct hf_batch *next;
};

struct hf_sink_plugin {
    const char *name; /* type as written in YAML */
    const struct hf_option *options; /* plugin options, validated by the core */
    enum hf_takes default_takes;
    int max_inflight; /* batches in flight at once (0 = 1) */
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
    /* The plugin's config struct: the core allocates conf_size bytes and
     * fills them from `options` (bound with HF_OPT_AT) at load. */
    size_t conf_size;
    /* `hookfwd check` and every load: values only the plugin understands
     * (URL schemes, files it will read, enum combinations). No network I/O.
     * Report with hf_check_fail(ck, "option", ...). */
    int (*check)(const void *conf, const struct hf_check *ck);
};

/* ---- the sink a plugin runs in ---- */

/* The plugin's config struct, filled from its options (conf_size bytes). */
const void *hf_sink_conf(const struct hf_sink *s);
/* The plugin's own state, set in init and freed in destroy. */
void *hf_sink_state(const struct hf_sink *s);
void hf_sink_set_state(struct hf_sink *s, void *state);
const char *hf_sink_name(const struct hf_sink *s);
const char *hf_sink_type(const struct hf_sink *s);
/* The configuration file the sink was defined in (for messages). */
const char *hf_sink_config_file(const struct hf_sink *s);
/* storage.path, where a plugin may keep files of its own. */
const char *hf_sink_storage_path(const struct hf_sink *s);
enum hf_takes hf_sink_takes(const struct hf_sink *s);
/* batch.flush_interval, retry.max and retry.give_up_after, in ms. */
int64_t hf_sink_flush_ms(const struct hf_sink *s);
int64_t hf_sink_retry_max_ms(const struct hf_sink *s);
int64_t hf_sink_give_up_ms(const struct hf_sink *s);
/* True once the sink is stopping (drain in progress). */
bool hf_sink_stopping(struct hf_sink *s);
/* Counts records a plugin had to shorten (hookfwd_sink_truncated_total). */
void hf_sink_count_truncated(struct hf_sink *s, uint64_t n);
/* Counts records a plugin retries itself, past the runtime's batches (the
 * slack sink retries a message, never its batch): outcome="retried". */
void hf_sink_count_retried(struct hf_sink *s, uint64_t n);

/* Logs with a "[sink:type:name]" prefix. */
void hf_sink_log(const struct hf_sink *s, enum hf_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The runtime's retry delay for the given attempt (exponential from
 * retry.initial to retry.max, with jitter), for plugins that retry inside. */
int64_t hf_sink_backoff_ms(const struct hf_sink *s, int attempts);

/* True when r passes f (an HF_OPT_FILTER option): the same predicate as a
 * sink's own filter. */
struct hf_filter;
bool hf_filter_match(const struct hf_filter *f, const struct hf_record *r);

/* Reports a batch's fate, exactly once, from the sink's worker thread. */
void hf_batch_done(struct hf_batch *b, enum hf_outcome o, int64_t retry_after_ms, const char *reason);
/* Keeps a batch past send() without taking a delivery slot: an e-mail
 * digest holds its batches until the digest is accepted, then reports each
 * with hf_batch_done() as usual, oldest first. Held batches do not count
 * against max_inflight, and poll() is called at least once a second while
 * any are held. With disk storage their records stay in the journal until
 * then (a restart sends them to the sink again); with memory storage a
 * stopping sink calls drain() to let the plugin finish them. */
void hf_batch_hold(struct hf_batch *b);
/* Marks one record's own fate (e.g. a poison record among good ones). */
void hf_batch_mark(struct hf_batch *b, size_t i, enum hf_outcome o, const char *reason);

#endif
