/* SPDX-License-Identifier: Apache-2.0 */
/* /metrics for the shared dedup store (dedup.store: redis), per source:
 * the claim round trip. Its counters (claim outcomes, errors, decisions
 * taken without Redis) are health families (health.h), also forwarded by
 * agent_metrics. Sources that dedup locally have no series here. */
#include "admin.h"
#include "dedup_redis.h"

#include <stdio.h>

static void series(struct hf_buf *b, const char *name, const char *source, const char *extra, unsigned long long v)
{
    hf_buf_puts(b, name);
    hf_buf_puts(b, "{source=\"");
    hf_admin_label(b, source);
    hf_buf_printf(b, "\"%s} %llu\n", extra, v);
}

void hf_admin_store_metrics(struct hf_pipeline *p, struct hf_buf *b)
{
    struct hf_store_stats *list[HF_MAX_SOURCES];
    size_t n = 0;
    for (size_t i = 0; i < p->cfg->nsources && i < HF_MAX_SOURCES; i++)
        if (p->store_stats[i])
            list[n++] = p->store_stats[i];
    if (n == 0)
        return;
    hf_buf_puts(b, "# HELP " HF_STORE_SECONDS " Round trip of a claim (SET NX) to Redis.\n"
                   "# TYPE " HF_STORE_SECONDS " histogram\n");
    for (size_t i = 0; i < n; i++) {
        unsigned long long cum = 0;
        for (int k = 0; k <= HF_STORE_RTT_BUCKETS; k++) {
            char extra[40];
            cum += atomic_load(&list[i]->rtt_bucket[k]);
            if (k < HF_STORE_RTT_BUCKETS)
                snprintf(extra, sizeof(extra), ",le=\"%g\"", hf_store_rtt_bounds[k]);
            else
                snprintf(extra, sizeof(extra), ",le=\"+Inf\"");
            series(b, HF_STORE_SECONDS "_bucket", list[i]->source, extra, cum);
        }
        hf_buf_puts(b, HF_STORE_SECONDS "_sum{source=\"");
        hf_admin_label(b, list[i]->source);
        hf_buf_printf(b, "\"} %.6f\n", (double)atomic_load(&list[i]->rtt_sum_us) / 1e6);
        series(b, HF_STORE_SECONDS "_count", list[i]->source, "", cum);
    }
}
