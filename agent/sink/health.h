/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's own health metrics: one table of families that names them
 * both ways (Prometheus for the admin /metrics, Datadog for a sink that
 * forwards them: the datadog sink's agent_metrics), and one snapshot of
 * their current values, which the running agent provides. `hookfwd
 * dashboard --metrics` lists the table; the shipped dashboards query it. */
#ifndef HF_HEALTH_H
#define HF_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

enum hf_health_kind { HF_HEALTH_COUNTER, HF_HEALTH_GAUGE, HF_HEALTH_HISTOGRAM };

enum hf_health_id {
    HF_H_REQUESTS,
    HF_H_ACCEPTED,
    HF_H_KEY_USED,
    HF_H_SINK_EVENTS,
    HF_H_SINK_QUEUE,
    HF_H_SINK_BATCH_SECONDS,
    HF_H_SINK_TRUNCATED,
    HF_H_STORAGE_BYTES,
    /* per source with dedup.store: redis only (store_only below) */
    HF_H_STORE_ERRORS,
    HF_H_STORE_CLAIMS,
    HF_H_STORE_FALLBACK,
    HF_H_RULE_SKIPPED,
    HF_H_NFAMILIES
};

/* The shared dedup store's families (labels after source: claims by
 * result, fallback by decision; the claim round trip is a histogram that
 * /metrics renders beside them). */
#define HF_STORE_PREFIX "hookfwd_dedup_store_"
#define HF_STORE_ERRORS HF_STORE_PREFIX "errors_total"
#define HF_STORE_CLAIMS HF_STORE_PREFIX "claims_total"
#define HF_STORE_FALLBACK HF_STORE_PREFIX "fallback_total"
#define HF_STORE_SECONDS HF_STORE_PREFIX "seconds"

struct hf_health_family {
    const char *prom; /* hookfwd_requests_total */
    const char *dd; /* hookfwd.requests; NULL: not forwarded (histograms) */
    enum hf_health_kind kind;
    const char *labels[2]; /* label (tag) keys, NULL-padded */
    const char *help;
    bool store_only; /* series only for sources sharing their dedup set in Redis */
};

/* Indexed by enum hf_health_id, in the order /metrics prints them. */
extern const struct hf_health_family hf_health_families[HF_H_NFAMILIES];

#define HF_HEALTH_LABEL_MAX 128

/* One series' current value: a counter's total since the start, or a
 * gauge. Label values are copies (empty: no such label). */
struct hf_health_sample {
    enum hf_health_id family;
    char label[2][HF_HEALTH_LABEL_MAX];
    unsigned long long value;
};

/* Fills out[0..cap) with the current samples, in family order; returns how
 * many there are (may exceed cap: then only cap were written). */
typedef size_t (*hf_health_fn)(void *ctx, struct hf_health_sample *out, size_t cap);

/* The running agent registers its snapshot (NULL: none). */
void hf_health_provide(hf_health_fn fn, void *ctx);
/* The current samples; 0 when no agent runs in this process (test-sink). */
size_t hf_health_snapshot(struct hf_health_sample *out, size_t cap);

struct hf_sink;
/* Asks the sink's worker to call the plugin's poll() even with nothing in
 * flight, for a plugin that sends on its own clock (agent_metrics). */
void hf_sink_poll_when_idle(struct hf_sink *s, bool on);

#endif
