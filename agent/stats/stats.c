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
