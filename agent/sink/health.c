/* SPDX-License-Identifier: Apache-2.0 */
/* The health metric table and the snapshot hook (see health.h). */
#include "health.h"

#include <pthread.h>

const struct hf_health_family hf_health_families[HF_H_NFAMILIES] = {
    [HF_H_REQUESTS] = {"hookfwd_requests_total",
                       "hookfwd.requests",
                       HF_HEALTH_COUNTER,
                       {"source", "status"},
                       "Webhook requests answered, by source and status."},
    [HF_H_ACCEPTED] = {"hookfwd_events_accepted_total",
                       "hookfwd.events.accepted",
                       HF_HEALTH_COUNTER,
                       {"source", NULL},
                       "Events verified and accepted, by source."},
    [HF_H_KEY_USED] = {"hookfwd_signature_key_used_total",
                       "hookfwd.signature.key_used",
                       HF_HEALTH_COUNTER,
                       {"source", "key"},
                       "Events verified by each secret (position in secrets)."},
    [HF_H_SINK_EVENTS] = {"hookfwd_sink_events_total",
                          "hookfwd.sink.events",
                          HF_HEALTH_COUNTER,
                          {"sink", "outcome"},
                          "Records settled by each sink, by outcome."},
    [HF_H_SINK_QUEUE] = {"hookfwd_sink_queue_events",
                         "hookfwd.sink.queue",
                         HF_HEALTH_GAUGE,
                         {"sink", NULL},
                         "Records waiting in each sink's queue."},
    [HF_H_SINK_BATCH_SECONDS] = {"hookfwd_sink_batch_seconds",
                                 NULL,
                                 HF_HEALTH_HISTOGRAM,
                                 {"sink", NULL},
                                 "Time from sending a batch to its outcome."},
    [HF_H_SINK_TRUNCATED] = {"hookfwd_sink_truncated_total",
                             "hookfwd.sink.truncated",
                             HF_HEALTH_COUNTER,
                             {"sink", NULL},
                             "Messages a sink had to truncate to fit its transport (syslog over UDP)."},
    [HF_H_STORAGE_BYTES] = {"hookfwd_storage_bytes",
                            "hookfwd.storage.bytes",
                            HF_HEALTH_GAUGE,
                            {NULL, NULL},
                            "Bytes held by the journal (0 in memory mode)."},
    [HF_H_STORE_ERRORS] = {HF_STORE_ERRORS,
                           "hookfwd.dedup_store.errors",
                           HF_HEALTH_COUNTER,
                           {"source", NULL},
                           "Shared dedup operations Redis did not complete "
                           "(unreachable, slower than redis.timeout, error replies).",
                           true},
    [HF_H_STORE_CLAIMS] = {HF_STORE_CLAIMS,
                           "hookfwd.dedup_store.claims",
                           HF_HEALTH_COUNTER,
                           {"source", "result"},
                           "Events asked of the shared dedup store, by what it answered.",
                           true},
    [HF_H_STORE_FALLBACK] = {HF_STORE_FALLBACK,
                             "hookfwd.dedup_store.fallback",
                             HF_HEALTH_COUNTER,
                             {"source", "decision"},
                             "Events decided without Redis, by on_unavailable: "
                             "local (deduplicated by this agent alone) or reject (answered 503).",
                             true},
    [HF_H_RULE_SKIPPED] = {"hookfwd_metric_rule_skipped_total",
                           NULL, /* a check on the configuration, not an agent health metric to forward */
                           HF_HEALTH_COUNTER,
                           {"metric", "reason"},
                           "Events a metric rule with a value field matched but made no point from, by reason: "
                           "missing (the field is absent or null) or not_a_number."},
};

static pthread_mutex_t provider_mu = PTHREAD_MUTEX_INITIALIZER;
static hf_health_fn provider;
static void *provider_ctx;

void hf_health_provide(hf_health_fn fn, void *ctx)
{
    pthread_mutex_lock(&provider_mu);
    provider = fn;
    provider_ctx = ctx;
    pthread_mutex_unlock(&provider_mu);
}

size_t hf_health_snapshot(struct hf_health_sample *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&provider_mu);
    if (provider)
        n = provider(provider_ctx, out, cap);
    pthread_mutex_unlock(&provider_mu);
    return n;
}
