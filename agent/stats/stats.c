/* SPDX-License-Identifier: Apache-2.0 */
/* Per-source counters, kept by name across reloads. */
#define _GNU_SOURCE
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const int hf_stats_statuses[HF_STATS_NSTATUS] = {200, 202, 400, 401, 413, 431, 503};

static struct hf_source_stats source_stats[HF_MAX_SOURCES];
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
atomic_ullong hf_stats_unknown_path;

struct hf_source_stats *hf_stats_for_source(const char *name)
{
    struct hf_source_stats *st = NULL;
    pthread_mutex_lock(&stats_mu);
    for (int i = 0; i < HF_MAX_SOURCES && !st; i++) {
        if (!strcmp(source_stats[i].name, name))
            st = &source_stats[i];
        else if (!source_stats[i].name[0]) {
            snprintf(source_stats[i].name, sizeof(source_stats[i].name), "%s", name);
            st = &source_stats[i];
        }
    }
    pthread_mutex_unlock(&stats_mu);
    return st;
}

void hf_stats_count(struct hf_source_stats *st, int status)
{
    int slot = HF_STATS_NSTATUS;
    for (int i = 0; i < HF_STATS_NSTATUS; i++)
        if (hf_stats_statuses[i] == status)
            slot = i;
    if (st)
        atomic_fetch_add_explicit(&st->by_status[slot], 1, memory_order_relaxed);
}

/* Rule names, appended under rules_mu and published by the count: a
 * lookup (once per skipped event) takes no lock. */
#define MAX_RULE_STATS 256
struct rule_stats {
    char name[128];
    atomic_ullong skipped[HF_SKIP_NREASONS];
    atomic_bool logged[HF_SKIP_NREASONS];
};
static struct rule_stats rule_stats[MAX_RULE_STATS];
static atomic_size_t nrule_stats;
static pthread_mutex_t rules_mu = PTHREAD_MUTEX_INITIALIZER;
const char *const hf_rule_skip_names[HF_SKIP_NREASONS] = {"missing", "not_a_number"};

static struct rule_stats *rule_find(const char *name)
{
    size_t n = atomic_load_explicit(&nrule_stats, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(rule_stats[i].name, name, sizeof(rule_stats[i].name) - 1))
            return &rule_stats[i];
    return NULL;
}

bool hf_stats_rule_skip(const char *name, enum hf_rule_skip why)
{
    struct rule_stats *r = rule_find(name);
    if (!r) {
        pthread_mutex_lock(&rules_mu);
        r = rule_find(name);
        size_t n = atomic_load_explicit(&nrule_stats, memory_order_relaxed);
        if (!r && n < MAX_RULE_STATS) {
            r = &rule_stats[n];
            snprintf(r->name, sizeof(r->name), "%s", name);
            atomic_store_explicit(&nrule_stats, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&rules_mu);
        if (!r)
            return false; /* more rule names than the table holds: not counted */
    }
    atomic_fetch_add_explicit(&r->skipped[why], 1, memory_order_relaxed);
    return !atomic_exchange_explicit(&r->logged[why], true, memory_order_relaxed);
}

unsigned long long hf_stats_rule_skipped(const char *name, enum hf_rule_skip why)
{
    const struct rule_stats *r = rule_find(name);
    return r ? atomic_load_explicit(&r->skipped[why], memory_order_relaxed) : 0;
}
