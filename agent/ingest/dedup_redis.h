/* SPDX-License-Identifier: Apache-2.0 */
/* Shared dedup in Redis (dedup.store: redis), asynchronous on the ingest
 * threads' own event loops: each thread keeps one hiredis connection per
 * Redis (its commands pipelined), so a slow round trip delays only the
 * requests waiting for it. The protocol is in dedup_claim.h.
 *
 * While Redis cannot answer (refused, reset, slower than redis.timeout, an
 * error reply), claims end HF_CLAIM_UNAVAILABLE at once or within the
 * timeout, the connection is dropped and tried again on demand after a
 * backoff (100 ms doubling to 5 s), and the outage is logged once when it
 * begins and once when it ends. */
#ifndef HF_DEDUP_REDIS_H
#define HF_DEDUP_REDIS_H

#include "dedup_claim.h"
#include "redis_conf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct event_base;

/* The result label of HF_STORE_CLAIMS (health.h), by enum hf_claim_result. */
extern const char *const hf_claim_result_names[HF_CLAIM_RESULTS];

/* Round-trip buckets, seconds (upper bounds; one more for +Inf). */
#define HF_STORE_RTT_BUCKETS 12
extern const double hf_store_rtt_bounds[HF_STORE_RTT_BUCKETS];

/* Per source, kept by name across reloads (never freed). */
struct hf_store_stats {
    char source[64];
    atomic_ullong claims[HF_CLAIM_RESULTS]; /* by enum hf_claim_result */
    atomic_ullong errors; /* operations Redis did not complete */
    atomic_ullong fallback_local; /* events deduplicated by this agent alone */
    atomic_ullong fallback_reject; /* events answered 503 for want of Redis */
    atomic_ullong rtt_bucket[HF_STORE_RTT_BUCKETS + 1];
    atomic_ullong rtt_sum_us;
};

struct hf_store_stats *hf_store_stats_for(const char *source);
/* The stats of every source that has had any; returns how many. */
size_t hf_store_stats_list(struct hf_store_stats **out, size_t max);

struct hf_redis_claim;

/* Called on the claiming thread, from its event loop. */
typedef void (*hf_claim_done_fn)(void *arg, struct hf_redis_claim *c, enum hf_claim_result res);

/* Claims (source, key) in conf's Redis from an ingest thread whose loop is
 * `base`; with `final`, as accepted for the whole window at once (the
 * caller's accept cannot fail after a crash it would survive: storage.mode
 * memory), so only a refusal sends anything more. Returns NULL with *now set when it is decided at once
 * (HF_CLAIM_UNAVAILABLE: Redis is known to be down, or the key is too
 * long); otherwise a handle, and done(arg, handle, result) comes later
 * from the loop, at the latest conf->timeout_ms from now. The caller then
 * owes one hf_redis_settle(handle, ...). conf is read now, not kept. */
struct hf_redis_claim *hf_redis_claim(struct event_base *base, const struct hf_redis_conf *conf, const char *source,
                                      const char *key, int64_t window_ms, bool final, struct hf_store_stats *st,
                                      hf_claim_done_fn done, void *arg, enum hf_claim_result *now);

/* Ends a claim and frees it; from any thread, and before the sender is
 * answered (the claiming thread stays up until then). A HF_CLAIM_NEW
 * claim becomes the window-long "accepted" key with accepted = true, and
 * is deleted otherwise; other results send nothing. NULL is a no-op. */
void hf_redis_settle(struct hf_redis_claim *c, bool accepted);

/* Marks (source, key, expiry) triples as accepted in Redis, synchronously,
 * within conf->timeout_ms per reply: at start, for the events this agent
 * accepted just before it stopped, whose "accepted" may never have reached
 * Redis. Returns how many were written, -1 when Redis did not answer. */
struct hf_store_mark {
    const char *source;
    const char *key;
    int64_t expires_ms;
};
int hf_redis_mark_accepted(const struct hf_redis_conf *conf, const struct hf_store_mark *marks, size_t n,
                           int64_t now_ms);

#endif
