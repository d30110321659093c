/* SPDX-License-Identifier: Apache-2.0 */
/* The Datadog v2 series body: one interval's aggregated series as JSON,
 * compressed (gzip or deflate) and packed into request bodies that stay
 * within the intake's limits (512,000 bytes as sent, 5 MB decompressed). */
#include "datadog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sync-flush the compressor every this many input bytes: what it has not
 * yet written out is then bounded, so the size of the body so far is known
 * closely enough to stop before the limit without compressing twice. */
#define SYNC_EVERY (64 * 1024)
#define ENVELOPE_OPEN "{\"series\":["
#define ENVELOPE_CLOSE "]}"

void hf_dd_encoder_init(struct hf_dd_encoder *e, enum hf_dd_compression c, int64_t interval_s, const char *host)
{
    memset(e, 0, sizeof(*e));
    e->compression = c;
    e->level = 6;
    e->interval_s = interval_s > 0 ? interval_s : 1;
    e->max_wire = HF_DD_MAX_WIRE;
    e->max_raw = HF_DD_MAX_RAW - 1; /* "less than 5 MB" */
    hf_buf_init(&e->raw, 0);
    hf_buf_init(&e->entry, 0);
    struct hf_buf r;
    hf_buf_init(&r, 0);
    if (host && *host) {
        hf_buf_puts(&r, ",\"resources\":[{\"name\":");
        hf_buf_json_str(&r, host, strlen(host));
        hf_buf_puts(&r, ",\"type\":\"host\"}]");
    } else {
        hf_buf_puts(&r, "");
    }
    e->resources = r.data;
}

void hf_dd_encoder_free(struct hf_dd_encoder *e)
{
    if (e->z_ready)
        deflateEnd(&e->z);
    hf_buf_free(&e->raw);
    hf_buf_free(&e->entry);
    free(e->resources);
    memset(e, 0, sizeof(*e));
}

static void one_series(struct hf_buf *out, const struct hf_dd_encoder *e, const struct hf_dd_bucket *b,
                       const struct hf_dd_series *s, const char *suffix, int type, double value)
{
    const char *key = hf_dd_series_key(b, s);
    /* names and tags are normalized to characters JSON needs no escape for */
    hf_buf_puts(out, "{\"metric\":\"");
    hf_buf_append(out, key, s->name_len);
    hf_buf_puts(out, suffix);
    hf_buf_printf(out, "\",\"type\":%d", type);
    if (type == HF_DD_TYPE_COUNT)
        hf_buf_printf(out, ",\"interval\":%lld", (long long)e->interval_s);
    hf_buf_printf(out, ",\"points\":[{\"timestamp\":%lld,\"value\":", (long long)b->start_s);
    hf_buf_json_double(out, value);
    hf_buf_puts(out, "}],\"tags\":[");
    const char *t = key + s->name_len + 1, *end = key + s->key_len;
    while (t < end) {
        const char *comma = memchr(t, ',', (size_t)(end - t));
        const char *stop = comma ? comma : end;
        if (t != key + s->name_len + 1)
            hf_buf_putc(out, ',');
        hf_buf_putc(out, '"');
        hf_buf_append(out, t, (size_t)(stop - t));
        hf_buf_putc(out, '"');
        t = stop + 1;
    }
    hf_buf_putc(out, ']');
    hf_buf_puts(out, e->resources);
    hf_buf_putc(out, '}');
}

void hf_dd_series_json(const struct hf_dd_encoder *e, const struct hf_dd_bucket *b, const struct hf_dd_series *s,
                       struct hf_buf *out)
{
    switch (s->type) {
    case HF_MT_COUNT: one_series(out, e, b, s, "", HF_DD_TYPE_COUNT, s->value); break;
    case HF_MT_GAUGE: one_series(out, e, b, s, "", HF_DD_TYPE_GAUGE, s->value); break;
    case HF_MT_DIST:
        /* no sketches: the honest summary an interval allows (percentiles
         * across hosts or intervals cannot be derived from these) */
        one_series(out, e, b, s, ".count", HF_DD_TYPE_COUNT, (double)s->n);
        hf_buf_putc(out, ',');
        one_series(out, e, b, s, ".sum", HF_DD_TYPE_GAUGE, s->sum);
        hf_buf_putc(out, ',');
        one_series(out, e, b, s, ".min", HF_DD_TYPE_GAUGE, s->min);
        hf_buf_putc(out, ',');
        one_series(out, e, b, s, ".max", HF_DD_TYPE_GAUGE, s->max);
        hf_buf_putc(out, ',');
        one_series(out, e, b, s, ".avg", HF_DD_TYPE_GAUGE, s->n ? s->sum / (double)s->n : 0.0);
        break;
    }
}

/* Runs the compressor over in[0..n) into body with the given flush mode. */
static void deflate_into(struct hf_dd_encoder *e, struct hf_buf *body, const char *in, size_t n, int flush)
{
    e->z.next_in = (unsigned char *)(uintptr_t)in;
    e->z.avail_in = (unsigned)n;
    for (;;) {
        hf_buf_reserve(body, n / 4 + 4096);
        e->z.next_out = (unsigned char *)body->data + body->len;
        e->z.avail_out = (unsigned)(body->cap - body->len - 1);
        unsigned before = e->z.avail_out;
        int rc = deflate(&e->z, flush);
        body->len += before - e->z.avail_out;
        if (rc == Z_STREAM_END || (e->z.avail_in == 0 && e->z.avail_out != 0))
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            break;
    }
}

struct packing {
    struct hf_buf *body;
    size_t raw_len; /* uncompressed bytes so far */
    size_t flushed_in, unflushed_in;
};

static void pack_start(struct hf_dd_encoder *e, struct packing *p)
{
    hf_buf_reset(p->body);
    p->raw_len = p->flushed_in = p->unflushed_in = 0;
    if (e->compression != HF_DD_NONE) {
        if (!e->z_ready) {
            deflateInit2(&e->z, e->level, Z_DEFLATED, e->compression == HF_DD_GZIP ? 15 + 16 : 15, 8,
                         Z_DEFAULT_STRATEGY);
            e->z_ready = true;
        } else {
            deflateReset(&e->z);
        }
    }
}

static void pack_feed(struct hf_dd_encoder *e, struct packing *p, const char *s, size_t n, int flush)
{
    p->raw_len += n;
    if (e->compression == HF_DD_NONE) {
        hf_buf_append(p->body, s, n);
        return;
    }
    p->unflushed_in += n;
    if (flush == Z_NO_FLUSH && p->unflushed_in >= SYNC_EVERY)
        flush = Z_SYNC_FLUSH;
    deflate_into(e, p->body, s, n, flush);
    if (flush != Z_NO_FLUSH) {
        p->flushed_in += p->unflushed_in;
        p->unflushed_in = 0;
    }
}

/* Would adding `add` more input bytes (and the envelope's close) overflow
 * a limit? Bytes the compressor still holds are counted at twice the ratio
 * seen so far, and at 1:1 before a flush has shown a ratio. */
static bool would_overflow(const struct hf_dd_encoder *e, const struct packing *p, size_t add)
{
    size_t close = sizeof(ENVELOPE_CLOSE) - 1;
    if (p->raw_len + add + close > e->max_raw)
        return true;
    if (e->compression == HF_DD_NONE)
        return p->raw_len + add + close > e->max_wire;
    double ratio = 1.0;
    if (p->flushed_in >= SYNC_EVERY && p->body->len > 0) {
        ratio = 2.0 * (double)p->body->len / (double)p->flushed_in;
        if (ratio > 1.0)
            ratio = 1.0;
    }
    double est = (double)p->body->len + (double)(p->unflushed_in + add + close) * ratio + 64.0;
    return est > (double)e->max_wire;
}

/* Packs series from lo on until the next would not fit; returns the end. */
static size_t pack(struct hf_dd_encoder *e, const struct hf_dd_bucket *b, size_t lo, size_t hi, struct packing *p)
{
    pack_start(e, p);
    pack_feed(e, p, ENVELOPE_OPEN, sizeof(ENVELOPE_OPEN) - 1, Z_NO_FLUSH);
    size_t i = lo;
    for (; i < hi; i++) {
        hf_buf_reset(&e->entry);
        if (i > lo)
            hf_buf_putc(&e->entry, ',');
        hf_dd_series_json(e, b, &b->series[i], &e->entry);
        if (i > lo && would_overflow(e, p, e->entry.len))
            break;
        pack_feed(e, p, e->entry.data, e->entry.len, Z_NO_FLUSH);
    }
    pack_feed(e, p, ENVELOPE_CLOSE, sizeof(ENVELOPE_CLOSE) - 1, Z_FINISH);
    return i;
}

size_t hf_dd_encode(struct hf_dd_encoder *e, const struct hf_dd_bucket *b, size_t lo, size_t hi, hf_dd_emit_fn emit,
                    void *arg)
{
    size_t emitted = 0;
    struct hf_buf body;
    hf_buf_init(&body, 0);
    struct packing p = {.body = &body};
    while (lo < hi) {
        size_t end = pack(e, b, lo, hi, &p);
        /* the estimate missed (data that compresses far worse at the end
         * than at the start): halve until it fits or one series is left */
        while (body.len > e->max_wire && end - lo > 1)
            end = pack(e, b, lo, lo + (end - lo) / 2, &p);
        emit(arg, lo, end, &body, p.raw_len);
        hf_buf_free(&body);
        hf_buf_init(&body, 0);
        emitted++;
        lo = end;
    }
    hf_buf_free(&body);
    return emitted;
}
