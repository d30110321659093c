/* SPDX-License-Identifier: Apache-2.0 */
/* agent_metrics: the agent's own health (health.h) as Datadog points, once
 * an interval. Counters go as counts of what happened since the previous
 * call (a counter that went back, a sink rebuilt by a reload, counts from
 * zero); gauges as their current value. */
#include "datadog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long *prev_slot(struct hf_dd_health *h, const struct hf_health_sample *s)
{
    char key[2 * HF_HEALTH_LABEL_MAX + 8];
    snprintf(key, sizeof(key), "%d\x1f%s\x1f%s", (int)s->family, s->label[0], s->label[1]);
    for (size_t i = 0; i < h->nprev; i++)
        if (!strcmp(h->prev[i].key, key))
            return &h->prev[i].value;
    if (h->nprev == h->prev_cap) {
        h->prev_cap = h->prev_cap ? h->prev_cap * 2 : 32;
        h->prev = hf_realloc(h->prev, h->prev_cap * sizeof(*h->prev));
    }
    h->prev[h->nprev].key = hf_strdup(key);
    h->prev[h->nprev].value = 0;
    return &h->prev[h->nprev++].value;
}

void hf_dd_health_collect(struct hf_dd_health *h, void (*add)(void *arg, const struct hf_point *pt), void *arg)
{
    size_t n;
    for (;;) {
        n = hf_health_snapshot(h->smp, h->cap);
        if (n <= h->cap)
            break;
        h->cap = n + 16;
        free(h->smp);
        h->smp = hf_calloc(h->cap, sizeof(*h->smp));
    }
    for (size_t i = 0; i < n; i++) {
        const struct hf_health_sample *s = &h->smp[i];
        const struct hf_health_family *fam = &hf_health_families[s->family];
        if (!fam->dd)
            continue;
        char text[2][HF_HEALTH_LABEL_MAX + 32];
        const char *tags[2];
        size_t ntags = 0;
        for (int k = 0; k < 2; k++)
            if (fam->labels[k] && s->label[k][0]) {
                snprintf(text[ntags], sizeof(text[ntags]), "%s:%s", fam->labels[k], s->label[k]);
                tags[ntags] = text[ntags];
                ntags++;
            }
        if (ntags == 2 && strcmp(tags[0], tags[1]) > 0) {
            const char *t = tags[0];
            tags[0] = tags[1];
            tags[1] = t;
        }
        double value = (double)s->value;
        if (fam->kind == HF_HEALTH_COUNTER) {
            unsigned long long *prev = prev_slot(h, s);
            value = (double)(s->value >= *prev ? s->value - *prev : s->value);
            *prev = s->value;
        }
        struct hf_point pt = {.name = fam->dd,
                              .type = fam->kind == HF_HEALTH_COUNTER ? HF_MT_COUNT : HF_MT_GAUGE,
                              .value = value,
                              .tags = tags,
                              .ntags = ntags};
        add(arg, &pt);
    }
}

void hf_dd_health_free(struct hf_dd_health *h)
{
    for (size_t i = 0; i < h->nprev; i++)
        free(h->prev[i].key);
    free(h->prev);
    free(h->smp);
    memset(h, 0, sizeof(*h));
}
