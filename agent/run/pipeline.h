/* SPDX-License-Identifier: Apache-2.0 */
/* One running configuration: sources, rules, dedup, sinks, and the ingest
 * path that turns a verified request into records on sink queues. */
#ifndef HF_PIPELINE_H
#define HF_PIPELINE_H

#include "config.h"
#include "dedup.h"
#include "sink.h"
#include "stats.h"
#include "verify.h"

#include <stdatomic.h>

struct hf_journal;
struct hf_store_stats;
struct event_base;

struct hf_pipeline {
    struct hf_config *cfg;
    struct hf_sink **sinks;
    size_t nsinks;
    struct hf_dedup *dedup;
    struct hf_journal *journal;
    bool no_points; /* no sink takes metrics: records are built without points */
    struct hf_source_stats *stats[HF_MAX_SOURCES];
    struct hf_store_stats *store_stats[HF_MAX_SOURCES]; /* sources with dedup.store: redis */
    atomic_int refs;
};

struct hf_ingest_result {
    int status;
    int retry_after; /* seconds, with 503 */
    char id[160];
    char reason[200];
};

/* Builds a pipeline for cfg. With `old` (a reload), sinks whose options
 * did not change are taken over with their queues and connections, and the
 * dedup state carries over. */
struct hf_pipeline *hf_pipeline_new(struct hf_config *cfg, struct hf_pipeline *old, struct hf_cerr *err);
/* Starts sink workers. */
int hf_pipeline_start(struct hf_pipeline *p);
void hf_pipeline_ref(struct hf_pipeline *p);
void hf_pipeline_unref(struct hf_pipeline *p);
/* Stops sinks (drains within deadline) and frees. Returns the records the
 * deadline left undelivered, over all sinks. */
size_t hf_pipeline_stop(struct hf_pipeline *p, int deadline_ms);

const struct hf_source *hf_pipeline_source(const struct hf_pipeline *p, const char *path, size_t len);

typedef void (*hf_ingest_done_fn)(void *arg, const struct hf_ingest_result *res);

/* An event waiting for the shared dedup store's answer. */
struct hf_ingest_pending;
/* Called on the ingest thread when the store has answered for pd. The
 * pipeline may have been replaced by a reload meanwhile: the callee takes
 * the lock it holds around hf_ingest and passes the current pipeline to
 * hf_ingest_resume. */
typedef void (*hf_ingest_resume_fn)(void *arg, struct hf_ingest_pending *pd);

/* How hf_ingest answers later. Without it (NULL) or without base, nothing
 * is deferred for the shared store: its sources dedup in this agent. */
struct hf_ingest_io {
    hf_ingest_done_fn done; /* deferred answers: journal, shared dedup */
    void *done_arg;
    struct event_base *base; /* the calling ingest thread's loop */
    hf_ingest_resume_fn resume;
    void *resume_arg;
};

/* The whole per-event path: verify, parse, flatten, dedup, rules, route.
 * The answer is deferred (res->status == 0 on return) with a journal,
 * until the event is on disk (done comes from the journal thread), and
 * for a source with dedup.store: redis, until Redis answers or its
 * timeout passes (resume, then done, come from the ingest thread). */
void hf_ingest(struct hf_pipeline *p, const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr,
               void *hctx, struct hf_ingest_result *res, const struct hf_ingest_io *io);
/* Carries pd on with the pipeline now in place, and frees it. Returns true
 * with the answer in *res, for the caller to give through pd's
 * io->done_arg (in *done_arg) once it has released its lock; false when
 * io->done answers later (from the journal thread). */
bool hf_ingest_resume(struct hf_pipeline *p, struct hf_ingest_pending *pd, struct hf_ingest_result *res,
                      void **done_arg);

/* Parses and flattens a verified body into a sealed record (with points).
 * Returns NULL with reason set on a bad body. */
struct hf_record *hf_build_record(const struct hf_pipeline *p, const struct hf_source *src, const char *body,
                                  size_t len, const struct hf_verify_result *vr, const char *webhook_id,
                                  int64_t received_ms, char *reason, size_t reasonlen);

#define HF_MAX_SINKS 64
/* Reserves a queue slot in every sink r goes to; -1 when one is full
 * (nothing is kept reserved then). */
int hf_route_reserve(struct hf_pipeline *p, const struct hf_record *r, struct hf_sink **chosen, size_t *n);
/* Routes r to every matching sink; -1 when a queue is full (nothing pushed). */
int hf_route(struct hf_pipeline *p, struct hf_record *r);
bool hf_pipeline_ready(struct hf_pipeline *p);
/* Gives the pipeline its journal: appends go there, sink positions are
 * tracked, and with replay the unacknowledged entries are re-queued. */
void hf_pipeline_attach_journal(struct hf_pipeline *p, struct hf_journal *j, bool replay);

#endif
