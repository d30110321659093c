/* The admin listener's answers: /healthz, /readyz, /metrics (Prometheus). */
#ifndef HF_ADMIN_H
#define HF_ADMIN_H

#include "http.h"
#include "pipeline.h"

/* Renders the Prometheus text exposition of p's counters into b. */
void hf_admin_metrics(struct hf_pipeline *p, struct hf_buf *b);

#endif
