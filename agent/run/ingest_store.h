/* SPDX-License-Identifier: Apache-2.0 */
/* The ingest path's part that waits for the shared dedup store: between
 * hf_ingest (which asks) and the accept (route, journal) that follows the
 * answer. Internal to run/. */
#ifndef HF_INGEST_STORE_H
#define HF_INGEST_STORE_H

#include "dedup_redis.h"
#include "pipeline.h"

/* Route (memory) or journal (disk) a record whose dedup is decided. The
 * claim, if any, is settled before the answer: accepted or released. With
 * a journal, res->status stays 0 and done(done_arg, res) answers later. */
void hf_ingest_accept(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                      struct hf_record *r, bool dedup, struct hf_redis_claim *claim, int64_t now,
                      struct hf_ingest_result *res, hf_ingest_done_fn done, void *done_arg);

/* Asks src's Redis about r's key (already new to the local set). Returns
 * true when the answer is deferred (io->resume comes later); false when it
 * was decided at once: then res->status is set (503 under on_unavailable:
 * reject) or 0 (accept, deduplicated by this agent alone). */
bool hf_ingest_claim(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                     struct hf_record *r, int64_t now, struct hf_ingest_result *res, const struct hf_ingest_io *io);

/* At start, after the journal restored this agent's dedup set: marks the
 * events accepted shortly before the last stop as accepted in Redis (the
 * "accepted" of an agent killed right after its journal append never got
 * there, and its claim would expire). Synchronous, bounded by the timeout. */
void hf_ingest_store_mark_recent(struct hf_pipeline *p);

#endif
