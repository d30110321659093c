/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd dashboard`: what its files share (dashboard.c: the command, the
 * metric table, Splunk and Grafana; dashboard_dd.c: Datadog). */
#ifndef HF_CLI_DASHBOARD_H
#define HF_CLI_DASHBOARD_H

#include "config.h"
#include "util.h"

#include <stdbool.h>

/* What a configuration changes in the shipped dashboards. */
struct hf_dash {
    const struct hf_config *cfg; /* NULL: the files as shipped */
    /* Datadog: the sink that carries the metrics */
    char prefix[128]; /* normalized like the sink does; "" none */
    bool dogstatsd; /* through DogStatsD (true distributions) */
    bool agent_metrics; /* the datadog sink sends hookfwd.* */
    /* Splunk */
    char index_clause[512]; /* "index=main", "(index=a OR index=b)" */
    char sourcetype_clause[512]; /* sourcetype="hookfwd:*" or the sinks' own */
    char **sourcetypes; /* one props.conf stanza each */
    size_t nsourcetypes;
};

/* Metric kinds of a metric name the dashboards may query. */
enum hf_dash_metric { HF_DASH_UNKNOWN, HF_DASH_RULE, HF_DASH_DIST, HF_DASH_AGENT };

/* What the name (without prefix) is to c: a rule's metric, a distribution
 * (*base_len set to the length of its name before a .avg/.max... suffix,
 * or the whole name), one of the agent's own (hookfwd.*). */
enum hf_dash_metric hf_dash_metric_kind(const struct hf_dash *d, const char *name, size_t len, size_t *base_len);

/* Whether the configuration sends that metric (name without prefix): the
 * agent's own only with agent_metrics, a profile's only when a source uses
 * the profile. */
bool hf_dash_metric_sent(const struct hf_dash *d, const char *name, size_t len);

/* Datadog dashboard or monitor JSON adapted to d into out; 1 when the file
 * is left out (a monitor of metrics the config does not send), -1 on
 * a parse error. */
int hf_dash_datadog(const struct hf_dash *d, const char *path, const char *json, size_t len, struct hf_buf *out);

/* Sets v to a copy of s[0..len) held by doc. */
struct yyjson_mut_doc;
struct yyjson_mut_val;
void hf_dash_set_str(struct yyjson_mut_doc *doc, struct yyjson_mut_val *v, const char *s, size_t len);

#endif
