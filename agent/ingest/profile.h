/* SPDX-License-Identifier: Apache-2.0 */
/* Built-in source profiles (OmegaEngine, Sentinelayer) and the metric
 * rules that turn records into points. */
#ifndef HF_PROFILE_H
#define HF_PROFILE_H

#include "config.h"

struct hf_sev_entry {
    const char *event_glob;
    enum hf_severity sev;
};

struct hf_profile {
    const char *name;
    const char *event_field; /* top-level member naming the event */
    const char *time_field;
    const char *const *id_fields; /* first present gives event_id (flattened keys) */
    bool key_with_event; /* idempotency key = id + ":" + event */
    const struct hf_sev_entry *severities;
    const struct hf_metric_rule *rules;
    size_t nrules;
};

const struct hf_profile *hf_profile_find(const char *name);
/* Every built-in profile (for `hookfwd dashboard --metrics`). */
const struct hf_profile *hf_profile_list(size_t *n);

/* Appends the points of every rule that applies to r (profile rules, then
 * user rules) to r, in r's arena. */
void hf_rules_apply(struct hf_record *r, const struct hf_source *src, const struct hf_metric_rule *user, size_t nuser);

/* Severity of an event for a source: severity_map, then the profile, then info. */
enum hf_severity hf_source_severity(const struct hf_source *src, const char *event_type);

#endif
