/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the datadog sink (datadog.c, dd_agg.c, dd_encode.c) and its
 * unit tests: per-interval aggregation and the v2 series encoder. Name and
 * tag normalization, which the dogstatsd sink shares, is in
 * plugins/common/dd_names.h. */
#ifndef HF_OUT_DATADOG_H
#define HF_OUT_DATADOG_H

#include "dd_names.h"
#include "health.h"
#include "record.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define HF_DD_MAX_WIRE 512000 /* bytes per request body, as sent */
#define HF_DD_MAX_RAW 5242880 /* bytes per request body, decompressed (must stay below) */
#define HF_DD_TYPE_COUNT 1
#define HF_DD_TYPE_GAUGE 3

/* ---- aggregation (dd_agg.c) ------------------------------------------ */

/* One metric name + tag set within one interval. */
struct hf_dd_series {
    uint64_t hash;
    size_t key_off; /* in the bucket's key pool */
    uint32_t key_len;
    uint32_t name_len;
    enum hf_metric_type type;
    uint64_t n; /* points folded in */
    double value; /* count: the sum; gauge: the last value */
    double sum, min, max; /* distribution */
};

/* The series of one interval, in first-seen order (the encoder takes
 * ranges of this order, so a payload can be split again after a 413). */
struct hf_dd_bucket {
    int64_t start_s; /* interval start, epoch seconds: every point's timestamp */
    struct hf_dd_series *series;
    size_t n, cap;
    uint32_t *index; /* open addressing: series position + 1, 0 = empty */
    size_t index_cap;
    struct hf_buf keys;
};

void hf_dd_bucket_init(struct hf_dd_bucket *b, int64_t start_s);
void hf_dd_bucket_free(struct hf_dd_bucket *b);
/* Folds one point in under its canonical key (hf_dd_point_key). Points with
 * a non-finite value are ignored (JSON cannot carry them): returns -1. */
int hf_dd_bucket_add(struct hf_dd_bucket *b, const char *key, size_t key_len, size_t name_len, enum hf_metric_type type,
                     double value);
/* Looks a series up by key and type; NULL when absent. */
const struct hf_dd_series *hf_dd_bucket_find(const struct hf_dd_bucket *b, const char *key, size_t key_len,
                                             enum hf_metric_type type);
static inline const char *hf_dd_series_key(const struct hf_dd_bucket *b, const struct hf_dd_series *s)
{
    return b->keys.data + s->key_off;
}

/* ---- v2 series encoding (dd_encode.c) --------------------------------- */

enum hf_dd_compression { HF_DD_NONE, HF_DD_GZIP, HF_DD_DEFLATE };

struct hf_dd_encoder {
    enum hf_dd_compression compression;
    int level; /* zlib level */
    int64_t interval_s; /* "interval" of counts */
    size_t max_wire; /* body bytes as sent (HF_DD_MAX_WIRE) */
    size_t max_raw; /* body bytes before compression (below HF_DD_MAX_RAW) */
    char *resources; /* ,"resources":[{"name":HOST,"type":"host"}] */
    z_stream z;
    bool z_ready;
    struct hf_buf raw, entry;
};

void hf_dd_encoder_init(struct hf_dd_encoder *e, enum hf_dd_compression c, int64_t interval_s, const char *host);
void hf_dd_encoder_free(struct hf_dd_encoder *e);

/* Appends the JSON object(s) of one series, comma-separated: one for a
 * count or gauge, five for a distribution (.count as a count; .sum, .min,
 * .max, .avg as gauges). */
void hf_dd_series_json(const struct hf_dd_encoder *e, const struct hf_dd_bucket *b, const struct hf_dd_series *s,
                       struct hf_buf *out);

/* Receives one finished request body for series [lo, hi); takes `body`
 * over (swap it out; the encoder reuses the struct). */
typedef void (*hf_dd_emit_fn)(void *arg, size_t lo, size_t hi, struct hf_buf *body, size_t raw_len);

/* Packs series [lo, hi) of b into as few bodies as fit max_wire and
 * max_raw, in order. A single series larger than the limits goes alone
 * (the intake then answers 413). Returns the number of bodies emitted. */
size_t hf_dd_encode(struct hf_dd_encoder *e, const struct hf_dd_bucket *b, size_t lo, size_t hi, hf_dd_emit_fn emit,
                    void *arg);

/* ---- agent_metrics (dd_health.c) --------------------------------------- */

struct hf_dd_health {
    struct hf_health_sample *smp;
    size_t cap;
    struct {
        char *key;
        unsigned long long value;
    } * prev; /* counters' totals at the previous call */
    size_t nprev, prev_cap;
};

/* Takes the agent's health snapshot and calls add() with each point:
 * counters as what they counted since the previous call, gauges as they
 * are. Nothing when no agent runs in this process. */
void hf_dd_health_collect(struct hf_dd_health *h, void (*add)(void *arg, const struct hf_point *pt), void *arg);
void hf_dd_health_free(struct hf_dd_health *h);

#endif
