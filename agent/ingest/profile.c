/* SPDX-License-Identifier: Apache-2.0 */
/* The OmegaEngine and Sentinelayer profiles, and metric rule evaluation. */
#include "profile.h"
#include "stats.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const omega_ids[] = {"decision.id", "finding.id", "id", NULL};
static const struct hf_sev_entry omega_sev[] = {{"decision.allowed", HF_SEV_INFO},
                                                {"decision.blocked", HF_SEV_WARNING},
                                                {"decision.escalated", HF_SEV_HIGH},
                                                {"fuzz.finding", HF_SEV_CRITICAL},
                                                {"quota.warning", HF_SEV_WARNING},
                                                {"calibration.drift", HF_SEV_HIGH},
                                                {NULL, HF_SEV_INFO}};

static char *ev_decisions[] = {"decision.*"};
static char *ev_failed[] = {"scan.failed"};
static struct hf_metric_tag t_event_sev[] = {{"event", "event"}, {"severity", "severity"}};
static struct hf_metric_tag t_decision[] = {
    {"outcome", "decision.outcome"}, {"event", "event"}, {"policy", "decision.policy_matches"}};
static struct hf_metric_tag t_outcome[] = {{"outcome", "decision.outcome"}};

static const struct hf_metric_rule omega_rules[] = {
    {.name = "omega.events", .type = HF_MT_COUNT, .tags = t_event_sev, .ntags = 2},
    {.name = "omega.decision.count",
     .type = HF_MT_COUNT,
     .events = ev_decisions,
     .nevents = 1,
     .tags = t_decision,
     .ntags = 3},
    {.name = "omega.decision.risk_score",
     .type = HF_MT_DIST,
     .value = "decision.risk_score",
     .events = ev_decisions,
     .nevents = 1,
     .tags = t_outcome,
     .ntags = 1},
};

static const char *const sl_ids[] = {"run_id", NULL};
static const struct hf_sev_entry sl_sev[] = {{"scan.completed", HF_SEV_INFO},
                                             {"scan.blocked", HF_SEV_HIGH},
                                             {"scan.failed", HF_SEV_WARNING},
                                             {"scan.skipped", HF_SEV_INFO},
                                             {NULL, HF_SEV_INFO}};
static struct hf_metric_tag t_scan[] = {
    {"event", "event"}, {"gate_status", "gate_status"}, {"repo", "repo"}, {"branch", "branch"}};
static struct hf_metric_tag t_repo[] = {{"repo", "repo"}};
static struct hf_metric_tag t_repo_gate[] = {{"repo", "repo"}, {"gate_status", "gate_status"}};
static struct hf_metric_tag t_failed[] = {{"error_code", "error_code"}, {"repo", "repo"}};

static const struct hf_metric_rule sl_rules[] = {
    {.name = "sentinelayer.scan.count", .type = HF_MT_COUNT, .tags = t_scan, .ntags = 4},
    {.name = "sentinelayer.scan.findings",
     .type = HF_MT_GAUGE,
     .each_member = "severity_counts",
     .member_tag = "severity",
     .tags = t_repo,
     .ntags = 1},
    {.name = "sentinelayer.scan.total_findings",
     .type = HF_MT_GAUGE,
     .value = "total_findings",
     .tags = t_repo_gate,
     .ntags = 2},
    {.name = "sentinelayer.scan.cost_usd",
     .type = HF_MT_COUNT,
     .value = "estimated_cost_usd",
     .tags = t_repo,
     .ntags = 1},
    {.name = "sentinelayer.scan.failed",
     .type = HF_MT_COUNT,
     .events = ev_failed,
     .nevents = 1,
     .tags = t_failed,
     .ntags = 2},
};

static const struct hf_profile profiles[] = {
    {.name = "omegaengine",
     .event_field = "event",
     .time_field = "timestamp",
     .id_fields = omega_ids,
     .key_with_event = true,
     .severities = omega_sev,
     .rules = omega_rules,
     .nrules = sizeof(omega_rules) / sizeof(omega_rules[0])},
    {.name = "sentinelayer",
     .event_field = "event_type",
     .time_field = "timestamp",
     .id_fields = sl_ids,
     .key_with_event = false,
     .severities = sl_sev,
     .rules = sl_rules,
     .nrules = sizeof(sl_rules) / sizeof(sl_rules[0])},
};

const struct hf_profile *hf_profile_list(size_t *n)
{
    *n = sizeof(profiles) / sizeof(profiles[0]);
    return profiles;
}

const struct hf_profile *hf_profile_find(const char *name)
{
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (!strcmp(profiles[i].name, name))
            return &profiles[i];
    return NULL;
}

enum hf_severity hf_source_severity(const struct hf_source *src, const char *event_type)
{
    for (size_t i = 0; i < src->nsevmap; i++)
        if (hf_glob(src->sevmap[i].event_glob, event_type))
            return src->sevmap[i].sev;
    if (src->profile)
        for (const struct hf_sev_entry *e = src->profile->severities; e->event_glob; e++)
            if (hf_glob(e->event_glob, event_type))
                return e->sev;
    return HF_SEV_INFO;
}

static bool events_match(char *const *globs, size_t n, const char *ev)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (hf_glob(globs[i], ev))
            return true;
    return false;
}

#define MAX_TAGS 64

struct point_builder {
    struct hf_point *pts;
    size_t n, cap;
};

static int cmp_tag(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static const char *make_tag(struct hf_record *r, const char *k, const char *v, size_t vlen)
{
    size_t kl = strlen(k);
    char *t = hf_rec_alloc(r, kl + vlen + 2);
    memcpy(t, k, kl);
    t[kl] = ':';
    memcpy(t + kl + 1, v, vlen);
    t[kl + 1 + vlen] = '\0';
    return t;
}

/* Collects the rule's tags for r into tags[]; returns how many. */
static size_t rule_tags(struct hf_record *r, const struct hf_metric_rule *rule, const char **tags)
{
    size_t n = 0;
    struct hf_value scratch;
    char text[256];
    for (size_t i = 0; i < rule->ntags && n < MAX_TAGS - 2; i++) {
        const struct hf_value *v = hf_record_get(r, rule->tags[i].field, &scratch);
        if (!v || v->type == HF_V_NULL)
            continue;
        if (v->type == HF_V_ARRAY) {
            for (size_t j = 0; j < v->nitems && n < MAX_TAGS - 2; j++) {
                int l = hf_value_text(&v->items[j], text, sizeof(text));
                if (l > 0)
                    tags[n++] =
                        make_tag(r, rule->tags[i].name, text, (size_t)l < sizeof(text) ? (size_t)l : sizeof(text) - 1);
            }
            continue;
        }
        int l = hf_value_text(v, text, sizeof(text));
        if (l >= 0)
            tags[n++] = make_tag(r, rule->tags[i].name, text, (size_t)l < sizeof(text) ? (size_t)l : sizeof(text) - 1);
    }
    tags[n++] = make_tag(r, "source", r->source, strlen(r->source));
    return n;
}

static void add_point(struct hf_record *r, struct point_builder *pb, const struct hf_metric_rule *rule, double value,
                      const char **tags, size_t ntags)
{
    if (pb->n == pb->cap) {
        size_t ncap = pb->cap ? pb->cap * 2 : 8;
        struct hf_point *np = hf_rec_alloc(r, ncap * sizeof(*np));
        if (pb->n)
            memcpy(np, pb->pts, pb->n * sizeof(*np));
        pb->pts = np;
        pb->cap = ncap;
    }
    const char **t = hf_rec_alloc(r, ntags * sizeof(*t));
    memcpy(t, tags, ntags * sizeof(*t));
    qsort(t, ntags, sizeof(*t), cmp_tag);
    /* the name is copied: user rules belong to a config the record may outlive */
    pb->pts[pb->n++] = (struct hf_point){
        .name = hf_rec_strdup(r, rule->name), .type = rule->type, .value = value, .tags = t, .ntags = ntags};
}

static void apply_rule(struct hf_record *r, struct point_builder *pb, const struct hf_metric_rule *rule)
{
    if (!events_match(rule->events, rule->nevents, r->event_type))
        return;
    if (rule->only_source && strcmp(rule->only_source, r->source))
        return;
    const char *tags[MAX_TAGS];
    size_t ntags = rule_tags(r, rule, tags);
    if (rule->each_member) {
        size_t pl = strlen(rule->each_member);
        for (size_t i = 0; i < r->nfields; i++) {
            const char *k = r->fields[i].key;
            double d;
            if (strncmp(k, rule->each_member, pl) || k[pl] != '.' || !hf_value_number(&r->fields[i].v, &d))
                continue;
            if (ntags >= MAX_TAGS)
                break;
            const char *member = k + pl + 1;
            tags[ntags] = make_tag(r, rule->member_tag, member, strlen(member));
            add_point(r, pb, rule, d, tags, ntags + 1);
        }
        return;
    }
    double value = 1;
    if (rule->value) {
        struct hf_value scratch;
        const struct hf_value *v = hf_record_get(r, rule->value, &scratch);
        if (!v || v->type == HF_V_NULL) {
            hf_stats_rule_skip(rule->name, HF_SKIP_MISSING);
            return;
        }
        if (!hf_value_number(v, &value) || !isfinite(value)) {
            if (hf_stats_rule_skip(rule->name, HF_SKIP_NOT_NUMBER))
                hf_log_warn("metrics",
                            "metric '%s': field '%s' of a '%s' event from source '%s' is not a number; such events "
                            "add no point to it (counted in hookfwd_metric_rule_skipped_total, logged once)",
                            rule->name, rule->value, r->event_type ? r->event_type : "", r->source);
            return;
        }
    }
    add_point(r, pb, rule, value, tags, ntags);
}

void hf_rules_apply(struct hf_record *r, const struct hf_source *src, const struct hf_metric_rule *user, size_t nuser)
{
    struct point_builder pb = {0};
    if (src->profile)
        for (size_t i = 0; i < src->profile->nrules; i++)
            apply_rule(r, &pb, &src->profile->rules[i]);
    for (size_t i = 0; i < nuser; i++)
        apply_rule(r, &pb, &user[i]);
    r->points = pb.pts;
    r->npoints = pb.n;
}
