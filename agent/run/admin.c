/* SPDX-License-Identifier: Apache-2.0 */
/* Self-metrics in the Prometheus text format (version 0.0.4). */
#include "admin.h"
#include "journal.h"

#include <stdio.h>
#include <string.h>


static void label(struct hf_buf *b, const char *v)
{
    /* label values escape backslash, quote and newline */
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            hf_buf_putc(b, '\\');
        if (*p == '\n') {
            hf_buf_puts(b, "\\n");
            continue;
        }
        hf_buf_putc(b, *p);
    }
}

void hf_admin_label(struct hf_buf *b, const char *v)
{
    label(b, v);
}

static void source_metrics(struct hf_pipeline *p, struct hf_buf *b)
{
    hf_buf_puts(b, "# HELP hookfwd_requests_total Webhook requests answered, by source and status.\n"
                   "# TYPE hookfwd_requests_total counter\n");
    for (size_t i = 0; i < p->cfg->nsources && i < HF_MAX_SOURCES; i++) {
        struct hf_source_stats *st = p->stats[i];
        for (int k = 0; k <= HF_STATS_NSTATUS; k++) {
            hf_buf_puts(b, "hookfwd_requests_total{source=\"");
            label(b, st->name);
            if (k < HF_STATS_NSTATUS)
                hf_buf_printf(b, "\",status=\"%d\"} %llu\n", hf_stats_statuses[k], atomic_load(&st->by_status[k]));
            else
                hf_buf_printf(b, "\",status=\"other\"} %llu\n", atomic_load(&st->by_status[k]));
        }
    }
    hf_buf_printf(b, "hookfwd_requests_total{source=\"\",status=\"404\"} %llu\n",
                  atomic_load(&hf_stats_unknown_path));
    hf_buf_puts(b, "# HELP hookfwd_events_accepted_total Events verified and accepted, by source.\n"
                   "# TYPE hookfwd_events_accepted_total counter\n");
    for (size_t i = 0; i < p->cfg->nsources && i < HF_MAX_SOURCES; i++) {
        hf_buf_puts(b, "hookfwd_events_accepted_total{source=\"");
        label(b, p->stats[i]->name);
        hf_buf_printf(b, "\"} %llu\n", atomic_load(&p->stats[i]->accepted));
    }
    hf_buf_puts(b, "# HELP hookfwd_signature_key_used_total Events verified by each secret (position in secrets).\n"
                   "# TYPE hookfwd_signature_key_used_total counter\n");
    for (size_t i = 0; i < p->cfg->nsources && i < HF_MAX_SOURCES; i++)
        for (size_t k = 0; k < p->cfg->sources[i].nsecrets && k < HF_MAX_KEYS; k++) {
            hf_buf_puts(b, "hookfwd_signature_key_used_total{source=\"");
            label(b, p->stats[i]->name);
            hf_buf_printf(b, "\",key=\"%zu\"} %llu\n", k, atomic_load(&p->stats[i]->key_used[k]));
        }
}

/* One "NAME{sink="..."} VALUE" line per sink. */
static void per_sink(struct hf_pipeline *p, struct hf_buf *b, const char *help, const char *name, const char *type,
                     unsigned long long (*value)(struct hf_sink *s))
{
    hf_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < p->nsinks; i++) {
        hf_buf_printf(b, "%s{sink=\"", name);
        label(b, p->sinks[i]->name);
        hf_buf_printf(b, "\"} %llu\n", value(p->sinks[i]));
    }
}

static unsigned long long queue_len(struct hf_sink *s) { return hf_sink_queue_len(s); }
static unsigned long long truncated(struct hf_sink *s) { return atomic_load(&s->stats.truncated); }

static void sink_outcomes(struct hf_pipeline *p, struct hf_buf *b)
{
    hf_buf_puts(b, "# HELP hookfwd_sink_events_total Records settled by each sink, by outcome.\n"
                   "# TYPE hookfwd_sink_events_total counter\n");
    for (size_t i = 0; i < p->nsinks; i++) {
        struct hf_sink *s = p->sinks[i];
        const char *names[] = {"delivered", "retried", "dead"};
        unsigned long long v[] = {atomic_load(&s->stats.delivered), atomic_load(&s->stats.retried),
                                  atomic_load(&s->stats.dead)};
        for (int k = 0; k < 3; k++) {
            hf_buf_puts(b, "hookfwd_sink_events_total{sink=\"");
            label(b, s->name);
            hf_buf_printf(b, "\",outcome=\"%s\"} %llu\n", names[k], v[k]);
        }
    }
}

static void sink_latency(struct hf_pipeline *p, struct hf_buf *b)
{
    hf_buf_puts(b, "# HELP hookfwd_sink_batch_seconds Time from sending a batch to its outcome.\n"
                   "# TYPE hookfwd_sink_batch_seconds histogram\n");
    for (size_t i = 0; i < p->nsinks; i++) {
        struct hf_sink *s = p->sinks[i];
        unsigned long long cum = 0;
        for (int k = 0; k <= HF_LAT_BUCKETS; k++) {
            cum += atomic_load(&s->stats.lat_bucket[k]);
            hf_buf_puts(b, "hookfwd_sink_batch_seconds_bucket{sink=\"");
            label(b, s->name);
            if (k < HF_LAT_BUCKETS)
                hf_buf_printf(b, "\",le=\"%g\"} %llu\n", hf_lat_bounds[k], cum);
            else
                hf_buf_printf(b, "\",le=\"+Inf\"} %llu\n", cum);
        }
        hf_buf_puts(b, "hookfwd_sink_batch_seconds_sum{sink=\"");
        label(b, s->name);
        hf_buf_printf(b, "\"} %.6f\n", (double)atomic_load(&s->stats.lat_sum_us) / 1e6);
        hf_buf_puts(b, "hookfwd_sink_batch_seconds_count{sink=\"");
        label(b, s->name);
        hf_buf_printf(b, "\"} %llu\n", cum);
    }
}

void hf_admin_metrics(struct hf_pipeline *p, struct hf_buf *b)
{
    source_metrics(p, b);
    sink_outcomes(p, b);
    per_sink(p, b, "Records waiting in each sink's queue.", "hookfwd_sink_queue_events", "gauge", queue_len);
    sink_latency(p, b);
    per_sink(p, b, "Messages a sink had to truncate to fit its transport (syslog over UDP).",
             "hookfwd_sink_truncated_total", "counter", truncated);
    hf_buf_printf(b, "# HELP hookfwd_storage_bytes Bytes held by the journal (0 in memory mode).\n"
                     "# TYPE hookfwd_storage_bytes gauge\nhookfwd_storage_bytes %llu\n",
                  (unsigned long long)hf_journal_bytes(p->journal));
    hf_admin_store_metrics(p, b);
}
