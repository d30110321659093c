/* SPDX-License-Identifier: Apache-2.0 */
/* Self-metrics: the health snapshot of a pipeline (health.h), rendered in
 * the Prometheus text format (version 0.0.4) for the admin /metrics and
 * forwarded by the datadog sink's agent_metrics. */
#include "admin.h"
#include "dedup_redis.h"
#include "journal.h"
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[3] = {"delivered", "retried", "dead"};

struct filler {
    struct hf_health_sample *out;
    size_t cap, n;
};

static void put(struct filler *f, enum hf_health_id fam, const char *l0, const char *l1, unsigned long long v)
{
    if (f->n < f->cap) {
        struct hf_health_sample *s = &f->out[f->n];
        s->family = fam;
        snprintf(s->label[0], sizeof(s->label[0]), "%s", l0 ? l0 : "");
        snprintf(s->label[1], sizeof(s->label[1]), "%s", l1 ? l1 : "");
        s->value = v;
    }
    f->n++;
}

static void rule_skip_series(struct filler *f, const struct hf_metric_rule *r)
{
    if (!r->value || r->each_member)
        return; /* a rule without a value field cannot skip an event */
    if (strlen(r->name) >= HF_HEALTH_LABEL_MAX)
        return; /* cut to fit, two such names could make one series twice */
    for (int k = 0; k < HF_SKIP_NREASONS; k++)
        put(f, HF_H_RULE_SKIPPED, r->name, hf_rule_skip_names[k], hf_stats_rule_skipped(r->name, (enum hf_rule_skip)k));
}

/* A series for every rule in use that takes a value, skipped or not, so
 * that a rate over it starts at zero. */
static void rule_skips(const struct hf_pipeline *p, struct filler *f)
{
    const struct hf_profile *seen[HF_MAX_SOURCES];
    size_t nseen = 0;
    for (size_t i = 0; i < p->cfg->nsources && nseen < HF_MAX_SOURCES; i++) {
        const struct hf_profile *pr = p->cfg->sources[i].profile;
        bool dup = !pr;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == pr;
        if (dup)
            continue;
        seen[nseen++] = pr;
        for (size_t r = 0; r < pr->nrules; r++)
            rule_skip_series(f, &pr->rules[r]);
    }
    for (size_t r = 0; r < p->cfg->nrules; r++)
        rule_skip_series(f, &p->cfg->rules[r]);
}

size_t hf_pipeline_health(struct hf_pipeline *p, struct hf_health_sample *out, size_t cap)
{
    struct filler f = {out, cap, 0};
    size_t ns = p->cfg->nsources < HF_MAX_SOURCES ? p->cfg->nsources : HF_MAX_SOURCES;
    for (size_t i = 0; i < ns; i++)
        for (int k = 0; k <= HF_STATS_NSTATUS; k++) {
            char status[16] = "other";
            if (k < HF_STATS_NSTATUS)
                snprintf(status, sizeof(status), "%d", hf_stats_statuses[k]);
            put(&f, HF_H_REQUESTS, p->stats[i]->name, status, atomic_load(&p->stats[i]->by_status[k]));
        }
    put(&f, HF_H_REQUESTS, "", "404", atomic_load(&hf_stats_unknown_path));
    for (size_t i = 0; i < ns; i++)
        put(&f, HF_H_ACCEPTED, p->stats[i]->name, NULL, atomic_load(&p->stats[i]->accepted));
    for (size_t i = 0; i < ns; i++)
        for (size_t k = 0; k < p->cfg->sources[i].nsecrets && k < HF_MAX_KEYS; k++) {
            char key[8];
            snprintf(key, sizeof(key), "%zu", k);
            put(&f, HF_H_KEY_USED, p->stats[i]->name, key, atomic_load(&p->stats[i]->key_used[k]));
        }
    for (size_t i = 0; i < p->nsinks; i++) {
        struct hf_sink *s = p->sinks[i];
        unsigned long long v[3] = {atomic_load(&s->stats.delivered), atomic_load(&s->stats.retried),
                                   atomic_load(&s->stats.dead)};
        for (int k = 0; k < 3; k++)
            put(&f, HF_H_SINK_EVENTS, s->name, outcome_names[k], v[k]);
    }
    for (size_t i = 0; i < p->nsinks; i++)
        put(&f, HF_H_SINK_QUEUE, p->sinks[i]->name, NULL, hf_sink_queue_len(p->sinks[i]));
    for (size_t i = 0; i < p->nsinks; i++)
        put(&f, HF_H_SINK_TRUNCATED, p->sinks[i]->name, NULL, atomic_load(&p->sinks[i]->stats.truncated));
    put(&f, HF_H_STORAGE_BYTES, NULL, NULL, (unsigned long long)hf_journal_bytes(p->journal));
    for (size_t i = 0; i < ns; i++)
        if (p->store_stats[i])
            put(&f, HF_H_STORE_ERRORS, p->store_stats[i]->source, NULL, atomic_load(&p->store_stats[i]->errors));
    for (size_t i = 0; i < ns; i++)
        for (int k = 0; p->store_stats[i] && k < HF_CLAIM_RESULTS; k++)
            put(&f, HF_H_STORE_CLAIMS, p->store_stats[i]->source, hf_claim_result_names[k],
                atomic_load(&p->store_stats[i]->claims[k]));
    for (size_t i = 0; i < ns; i++)
        if (p->store_stats[i]) {
            put(&f, HF_H_STORE_FALLBACK, p->store_stats[i]->source, "local",
                atomic_load(&p->store_stats[i]->fallback_local));
            put(&f, HF_H_STORE_FALLBACK, p->store_stats[i]->source, "reject",
                atomic_load(&p->store_stats[i]->fallback_reject));
        }
    rule_skips(p, &f);
    return f.n;
}

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

void hf_admin_label(struct hf_buf *b, const char *v) { label(b, v); }

static void series(struct hf_buf *b, const char *name, const struct hf_health_family *fam, const char *const *vals,
                   const char *extra)
{
    hf_buf_puts(b, name);
    bool open = false;
    for (int k = 0; k < 2 && fam->labels[k]; k++) {
        hf_buf_puts(b, open ? "," : "{");
        hf_buf_printf(b, "%s=\"", fam->labels[k]);
        label(b, vals[k]);
        hf_buf_putc(b, '"');
        open = true;
    }
    if (extra) {
        hf_buf_printf(b, "%s%s", open ? "," : "{", extra);
        open = true;
    }
    if (open)
        hf_buf_putc(b, '}');
}

static void histogram(struct hf_pipeline *p, struct hf_buf *b, const struct hf_health_family *fam)
{
    char name[96], le[32];
    for (size_t i = 0; i < p->nsinks; i++) {
        struct hf_sink *s = p->sinks[i];
        const char *vals[2] = {s->name, NULL};
        unsigned long long cum = 0;
        snprintf(name, sizeof(name), "%s_bucket", fam->prom);
        for (int k = 0; k <= HF_LAT_BUCKETS; k++) {
            cum += atomic_load(&s->stats.lat_bucket[k]);
            if (k < HF_LAT_BUCKETS)
                snprintf(le, sizeof(le), "le=\"%g\"", hf_lat_bounds[k]);
            else
                snprintf(le, sizeof(le), "le=\"+Inf\"");
            series(b, name, fam, vals, le);
            hf_buf_printf(b, " %llu\n", cum);
        }
        snprintf(name, sizeof(name), "%s_sum", fam->prom);
        series(b, name, fam, vals, NULL);
        hf_buf_printf(b, " %.6f\n", (double)atomic_load(&s->stats.lat_sum_us) / 1e6);
        snprintf(name, sizeof(name), "%s_count", fam->prom);
        series(b, name, fam, vals, NULL);
        hf_buf_printf(b, " %llu\n", cum);
    }
}

#define MAX_SAMPLES (HF_MAX_SOURCES * (20 + 3 + HF_CLAIM_RESULTS) + HF_MAX_SINKS * 6 + 8)

void hf_admin_metrics(struct hf_pipeline *p, struct hf_buf *b)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    size_t cap = MAX_SAMPLES + HF_SKIP_NREASONS * (p->cfg->nrules + 64);
    struct hf_health_sample *smp = hf_calloc(cap, sizeof(*smp));
    size_t n = hf_pipeline_health(p, smp, cap);
    if (n > cap) { /* more rules than the margin: size it to them */
        free(smp);
        cap = n;
        smp = hf_calloc(cap, sizeof(*smp));
        n = hf_pipeline_health(p, smp, cap);
        if (n > cap)
            n = cap;
    }
    size_t at = 0;
    for (int f = 0; f < HF_H_NFAMILIES; f++) {
        const struct hf_health_family *fam = &hf_health_families[f];
        if (fam->store_only && (at >= n || smp[at].family != (enum hf_health_id)f))
            continue; /* no source shares its dedup set */
        hf_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam->prom, fam->help, fam->prom, types[fam->kind]);
        if (fam->kind == HF_HEALTH_HISTOGRAM) {
            histogram(p, b, fam);
            continue;
        }
        for (; at < n && smp[at].family == (enum hf_health_id)f; at++) {
            const char *vals[2] = {smp[at].label[0], smp[at].label[1]};
            series(b, fam->prom, fam, vals, NULL);
            hf_buf_printf(b, " %llu\n", smp[at].value);
        }
    }
    free(smp);
    hf_admin_store_metrics(p, b);
}
