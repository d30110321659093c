/* SPDX-License-Identifier: Apache-2.0 */
/* The admin listener's answers: /healthz, /readyz, /metrics (Prometheus). */
#ifndef HF_ADMIN_H
#define HF_ADMIN_H

#include "http.h"
#include "health.h"
#include "pipeline.h"

/* Renders the Prometheus text exposition of p's counters into b. */
void hf_admin_metrics(struct hf_pipeline *p, struct hf_buf *b);
/* The shared dedup store's part of it (admin_store.c). */
void hf_admin_store_metrics(struct hf_pipeline *p, struct hf_buf *b);
/* Appends a label value, escaped (backslash, quote, newline). */
void hf_admin_label(struct hf_buf *b, const char *v);
/* p's health samples (health.h), in family order; returns how many there
 * are (only cap are written). */
size_t hf_pipeline_health(struct hf_pipeline *p, struct hf_health_sample *out, size_t cap);

#endif
