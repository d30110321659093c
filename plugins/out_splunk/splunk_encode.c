/* SPDX-License-Identifier: Apache-2.0 */
/* The HEC wire format: records as JSON event envelopes, metric points as
 * multi-metric events ("metric_name:<name>": value), gzip framing. Pure
 * functions, unit-tested without a network. */
#include "splunk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Splunk reads these from the envelope; a tag with one of these keys would
 * collide with HEC's own metadata, so it is renamed with a "tag." prefix
 * (except source, which the envelope already carries). */
static const char *const reserved_keys[] = {"host", "sourcetype", "index", "time", "metric_name", "_value", NULL};

static void put_str(struct hf_buf *out, const char *s) { hf_buf_json_str(out, s, strlen(s)); }

/* Appends "<prefix><s>" as one JSON string literal; prefix is plain ASCII
 * that needs no escaping. */
static void put_prefixed(struct hf_buf *out, const char *prefix, const char *s, size_t n)
{
    size_t at = out->len, plen = strlen(prefix);
    hf_buf_json_str(out, s, n);
    if (hf_buf_reserve(out, plen) < 0)
        return;
    memmove(out->data + at + 1 + plen, out->data + at + 1, out->len - at - 1);
    memcpy(out->data + at + 1, prefix, plen);
    out->len += plen;
}

/* "time" as epoch seconds with exactly three decimals, from integer ms so no
 * float rounding can turn .000 into .999. */
static void put_time(struct hf_buf *out, int64_t ms)
{
    static const char head[] = "{\"time\":";
    char t[48], *end = t + sizeof(t);
    uint64_t v = ms < 0 ? 0 : (uint64_t)ms;
    /* 1000 + ms % 1000 gives the three decimals with their zeros; its
     * leading 1 becomes the point */
    char *p = hf_digits_before(end, 1000 + v % 1000);
    *p = '.';
    p = hf_digits_before(p, v / 1000) - (sizeof(head) - 1);
    memcpy(p, head, sizeof(head) - 1);
    hf_buf_append(out, p, (size_t)(end - p));
}

static void put_meta(const struct splunk_conf *c, const struct hf_record *r, const char *index, struct hf_buf *out)
{
    hf_buf_puts(out, ",\"host\":");
    put_str(out, c->host);
    hf_buf_puts(out, ",\"source\":");
    put_str(out, r->source);
    hf_buf_puts(out, ",\"sourcetype\":");
    if (c->sourcetype)
        put_str(out, c->sourcetype);
    else
        put_prefixed(out, "hookfwd:", r->source, strlen(r->source));
    if (index) {
        hf_buf_puts(out, ",\"index\":");
        put_str(out, index);
    }
}

static void encode_event(const struct splunk_conf *c, const struct hf_record *r, struct hf_buf *out)
{
    put_time(out, r->event_ms);
    put_meta(c, r, c->index, out);
    hf_buf_puts(out, ",\"event\":");
    hf_buf_append(out, r->json, r->json_len);
    /* index-time fields: flat strings, so searches on them need no JSON
     * extraction */
    hf_buf_puts(out, ",\"fields\":{\"event_type\":");
    put_str(out, r->event_type ? r->event_type : "");
    hf_buf_puts(out, ",\"severity\":");
    put_str(out, hf_severity_name(r->severity));
    if (r->idempotency_key) {
        hf_buf_puts(out, ",\"idempotency_key\":");
        put_str(out, r->idempotency_key);
    }
    hf_buf_puts(out, "}}\n");
}

static bool is_reserved(const char *key, size_t n)
{
    for (int i = 0; reserved_keys[i]; i++)
        if (strlen(reserved_keys[i]) == n && !memcmp(reserved_keys[i], key, n))
            return true;
    return false;
}

/* Writes the tag value (or array of values, for a key repeated in the
 * sorted tag list) starting at tags[i]; returns the index after them. */
static size_t put_dimension(const struct hf_point *pt, size_t i, struct hf_buf *out)
{
    const char *colon = strchr(pt->tags[i], ':');
    size_t klen = colon ? (size_t)(colon - pt->tags[i]) : strlen(pt->tags[i]);
    size_t j = i + 1;
    while (j < pt->ntags && !strncmp(pt->tags[j], pt->tags[i], klen) && pt->tags[j][klen] == ':')
        j++;
    if (klen == 6 && !memcmp(pt->tags[i], "source", 6))
        return j; /* the envelope carries it */
    hf_buf_putc(out, ',');
    put_prefixed(out, is_reserved(pt->tags[i], klen) ? "tag." : "", pt->tags[i], klen);
    hf_buf_putc(out, ':');
    if (j - i > 1)
        hf_buf_putc(out, '[');
    for (size_t k = i; k < j; k++) {
        if (k > i)
            hf_buf_putc(out, ',');
        const char *v = colon ? pt->tags[k] + klen + 1 : "";
        put_str(out, v);
    }
    if (j - i > 1)
        hf_buf_putc(out, ']');
    return j;
}

static bool encode_point(const struct splunk_conf *c, const struct hf_record *r, const struct hf_point *pt,
                         struct hf_buf *out)
{
    if (!isfinite(pt->value))
        return false; /* HEC refuses a metric without a numeric value */
    /* metric points are stamped when received, like the other sinks' */
    put_time(out, r->received_ms);
    hf_buf_puts(out, ",\"event\":\"metric\"");
    put_meta(c, r, c->metrics_index ? c->metrics_index : c->index, out);
    hf_buf_puts(out, ",\"fields\":{");
    put_prefixed(out, "metric_name:", pt->name, strlen(pt->name));
    hf_buf_putc(out, ':');
    hf_buf_json_double(out, pt->value);
    for (size_t i = 0; i < pt->ntags;)
        i = put_dimension(pt, i, out);
    hf_buf_puts(out, "}}\n");
    return true;
}

size_t hf_splunk_encode_record(const struct splunk_conf *conf, enum hf_takes takes, const struct hf_record *r,
                               struct hf_buf *out)
{
    size_t n = 0;
    if (takes & HF_TAKES_RECORDS) {
        encode_event(conf, r, out);
        n++;
    }
    if (takes & HF_TAKES_METRICS)
        for (size_t i = 0; i < r->npoints; i++)
            n += encode_point(conf, r, &r->points[i], out);
    return n;
}

size_t hf_splunk_count_objects(enum hf_takes takes, const struct hf_record *r)
{
    size_t n = (takes & HF_TAKES_RECORDS) ? 1 : 0;
    if (takes & HF_TAKES_METRICS)
        for (size_t i = 0; i < r->npoints; i++)
            n += isfinite(r->points[i].value) ? 1 : 0;
    return n;
}

struct hf_splunk_zip {
    z_stream z;
};

struct hf_splunk_zip *hf_splunk_zip_new(void)
{
    struct hf_splunk_zip *zip = hf_calloc(1, sizeof(*zip));
    /* 15 + 16: a gzip header and trailer, which is what Content-Encoding:
     * gzip means (raw zlib framing is "deflate", which HEC refuses). Level
     * 2: 500-event batches of real records (380 KB) shrink 17x at level 2
     * and 15x at level 1 for the same CPU (1.38 against 1.40 us per event,
     * zlib 1.2.13, measured here); level 6 costs over twice the CPU. */
    if (deflateInit2(&zip->z, 2, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(zip);
        return NULL;
    }
    return zip;
}

void hf_splunk_zip_free(struct hf_splunk_zip *zip)
{
    if (!zip)
        return;
    deflateEnd(&zip->z);
    free(zip);
}

int hf_splunk_gzip_with(struct hf_splunk_zip *zip, const char *in, size_t len, struct hf_buf *out)
{
    z_stream *z = &zip->z;
    /* same output as a fresh deflateInit2 */
    if (deflateReset(z) != Z_OK)
        return -1;
    hf_buf_reset(out);
    size_t bound = deflateBound(z, (uLong)len) + 64;
    if (hf_buf_reserve(out, bound) < 0)
        return -1;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)len;
    z->next_out = (Bytef *)out->data;
    z->avail_out = (uInt)bound;
    if (deflate(z, Z_FINISH) != Z_STREAM_END)
        return -1;
    out->len = z->total_out;
    return 0;
}

int hf_splunk_gzip(const char *in, size_t len, struct hf_buf *out)
{
    struct hf_splunk_zip *zip = hf_splunk_zip_new();
    int rc = zip ? hf_splunk_gzip_with(zip, in, len, out) : -1;
    hf_splunk_zip_free(zip);
    return rc;
}

void hf_splunk_uuid(char out[37])
{
    unsigned char b[16];
    uint64_t a = hf_random64(), c = hf_random64();
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    hf_hex(b, 16, hex);
    size_t o = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = '\0';
}

bool hf_splunk_is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char ch = s[i];
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        if (dash ? ch != '-' : !hex)
            return false;
    }
    return true;
}
