/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's own counters that outlive a configuration: per source,
 * requests by status, accepted events and the signature key that verified
 * them. Kept by source name, so a reload does not reset them. */
#ifndef HF_STATS_H
#define HF_STATS_H

#include <stdatomic.h>
#include <stdbool.h>

#define HF_MAX_SOURCES 64
#define HF_MAX_KEYS 8

/* The statuses hookfwd_requests_total has a series for; any other is
 * counted as status="other" (slot HF_STATS_NSTATUS). */
#define HF_STATS_NSTATUS 7
extern const int hf_stats_statuses[HF_STATS_NSTATUS];

struct hf_source_stats {
    char name[64];
    atomic_ullong by_status[HF_STATS_NSTATUS + 1];
    atomic_ullong accepted;
    atomic_ullong key_used[HF_MAX_KEYS];
};

/* The counters of the source called name, created on first use; NULL once
 * HF_MAX_SOURCES names are taken. */
struct hf_source_stats *hf_stats_for_source(const char *name);
/* Counts one answer with status (st may be NULL). */
void hf_stats_count(struct hf_source_stats *st, int status);
/* Requests to a path no source serves (404). */
extern atomic_ullong hf_stats_unknown_path;

/* Events a metric rule with a value field matched but took no value from
 * (hookfwd_metric_rule_skipped_total), kept by rule name: the field is
 * absent or null, or it holds no finite number (text, a list). */
enum hf_rule_skip { HF_SKIP_MISSING, HF_SKIP_NOT_NUMBER, HF_SKIP_NREASONS };
extern const char *const hf_rule_skip_names[HF_SKIP_NREASONS];
/* Counts one skip of rule `name`; true the first time this rule skips for
 * this reason (the caller logs that one). */
bool hf_stats_rule_skip(const char *name, enum hf_rule_skip why);
/* Skips counted so far for rule `name` and reason `why`. */
unsigned long long hf_stats_rule_skipped(const char *name, enum hf_rule_skip why);

#endif
