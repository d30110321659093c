/* Per-interval aggregation of Datadog metric points by name + sorted tag
 * set (the canonical keys of plugins/common/dd_names.h). */
#include "datadog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hf_dd_bucket_init(struct hf_dd_bucket *b, int64_t start_s)
{
    memset(b, 0, sizeof(*b));
    b->start_s = start_s;
    hf_buf_init(&b->keys, 0);
}

void hf_dd_bucket_free(struct hf_dd_bucket *b)
{
    free(b->series);
    free(b->index);
    hf_buf_free(&b->keys);
    memset(b, 0, sizeof(*b));
}

/* Eight bytes per multiply: FNV's byte-at-a-time chain was a third of the
 * cost of folding a point. */
static uint64_t key_hash(const char *key, size_t len, enum hf_metric_type type)
{
    const uint64_t k = 0xff51afd7ed558ccdULL;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)len << 8) ^ (uint64_t)type, w;
    for (; len >= 8; key += 8, len -= 8) {
        memcpy(&w, key, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, key, len);
    h = (h ^ w) * k;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 32);
}

/* Index slot of the series with this key, or of the empty slot where it
 * would go. */
static size_t probe(const struct hf_dd_bucket *b, uint64_t h, const char *key, size_t len, enum hf_metric_type type)
{
    size_t mask = b->index_cap - 1, i = (size_t)h & mask;
    for (;;) {
        uint32_t pos = b->index[i];
        if (pos == 0)
            return i;
        const struct hf_dd_series *s = &b->series[pos - 1];
        if (s->hash == h && s->type == type && s->key_len == len && !memcmp(b->keys.data + s->key_off, key, len))
            return i;
        i = (i + 1) & mask;
    }
}

static void grow_index(struct hf_dd_bucket *b)
{
    size_t cap = b->index_cap ? b->index_cap * 2 : 64;
    free(b->index);
    b->index = hf_calloc(cap, sizeof(*b->index));
    b->index_cap = cap;
    for (size_t k = 0; k < b->n; k++) {
        const struct hf_dd_series *s = &b->series[k];
        size_t i = (size_t)s->hash & (cap - 1);
        while (b->index[i])
            i = (i + 1) & (cap - 1);
        b->index[i] = (uint32_t)(k + 1);
    }
}

const struct hf_dd_series *hf_dd_bucket_find(const struct hf_dd_bucket *b, const char *key, size_t key_len,
                                             enum hf_metric_type type)
{
    if (b->index_cap == 0)
        return NULL;
    size_t i = probe(b, key_hash(key, key_len, type), key, key_len, type);
    return b->index[i] ? &b->series[b->index[i] - 1] : NULL;
}

static void fold(struct hf_dd_series *s, double value)
{
    s->n++;
    switch (s->type) {
    case HF_MT_COUNT: s->value += value; break;
    case HF_MT_GAUGE: s->value = value; break;
    case HF_MT_DIST:
        s->sum += value;
        if (s->n == 1 || value < s->min)
            s->min = value;
        if (s->n == 1 || value > s->max)
            s->max = value;
        break;
    }
}

int hf_dd_bucket_add(struct hf_dd_bucket *b, const char *key, size_t key_len, size_t name_len, enum hf_metric_type type,
                     double value)
{
    if (!isfinite(value))
        return -1;
    if ((b->n + 1) * 10 > b->index_cap * 7)
        grow_index(b);
    uint64_t h = key_hash(key, key_len, type);
    size_t i = probe(b, h, key, key_len, type);
    if (!b->index[i]) {
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 64;
            b->series = hf_realloc(b->series, b->cap * sizeof(*b->series));
        }
        struct hf_dd_series *s = &b->series[b->n];
        memset(s, 0, sizeof(*s));
        s->hash = h;
        s->key_off = b->keys.len;
        s->key_len = (uint32_t)key_len;
        s->name_len = (uint32_t)name_len;
        s->type = type;
        hf_buf_append(&b->keys, key, key_len);
        hf_buf_putc(&b->keys, '\0');
        b->index[i] = (uint32_t)++b->n;
    }
    fold(&b->series[b->index[i] - 1], value);
    return 0;
}
