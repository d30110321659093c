/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffers, UTF-8 validation and JSON string and number output. */
#define _GNU_SOURCE
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hf_buf_init(struct hf_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void hf_buf_free(struct hf_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void hf_buf_reset(struct hf_buf *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data)
        b->data[0] = '\0';
}

int hf_buf_reserve(struct hf_buf *b, size_t extra)
{
    if (b->overflow)
        return -1;
    size_t need = b->len + extra + 1;
    if (b->limit && need > b->limit + 1) {
        b->overflow = true;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (b->limit && ncap > b->limit + 1)
        ncap = b->limit + 1;
    b->data = hf_realloc(b->data, ncap);
    b->cap = ncap;
    return 0;
}

int hf_buf_append_grow(struct hf_buf *b, const void *p, size_t n)
{
    if (hf_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int hf_buf_printf(struct hf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(tmp))
        return hf_buf_append(b, tmp, (size_t)n);
    if (hf_buf_reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t hf_utf8_check(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_len(p + i, n - i);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

/* 1 for the bytes a JSON string carries as they are: printable ASCII
 * (with DEL) except '"' and '\\'. A table lookup per byte instead of four
 * compares: every record and metric tag goes through here. */
static const unsigned char json_plain[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7f] = 1,
};

/* Length of the prefix of p that needs no escaping, eight bytes at a time
 * while no byte of a word can be < 0x20, >= 0x80, '"' or '\\' (these
 * tests never miss such a byte; a false alarm only ends the fast loop). */
static size_t plain_prefix(const unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, bs;
        memcpy(&w, p + i, 8);
        q = w ^ (ones * '"');
        bs = w ^ (ones * '\\');
        uint64_t bad = (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
        if (bad)
            break;
    }
    while (i < n && json_plain[p[i]])
        i++;
    return i;
}

int hf_buf_json_str(struct hf_buf *b, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    if (hf_buf_reserve(b, n + 2) < 0)
        return -1;
    const unsigned char *p = (const unsigned char *)s;
    size_t first = plain_prefix(p, n);
    if (first == n) {
        /* nothing to escape (keys, ids, most values): one copy */
        char *o = b->data + b->len;
        o[0] = '"';
        if (n)
            memcpy(o + 1, s, n);
        o[n + 1] = '"';
        o[n + 2] = '\0';
        b->len += n + 2;
        return 0;
    }
    hf_buf_putc(b, '"');
    size_t run = 0; /* start of a run of bytes that need no escaping */
    for (size_t i = first; i < n;) {
        while (i < n && json_plain[p[i]])
            i++;
        if (i == n)
            break;
        unsigned char c = p[i];
        size_t ul = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (ul > 0) {
            i += ul;
            continue;
        }
        hf_buf_append(b, s + run, i - run);
        switch (c) {
        case '"': hf_buf_append(b, "\\\"", 2); break;
        case '\\': hf_buf_append(b, "\\\\", 2); break;
        case '\n': hf_buf_append(b, "\\n", 2); break;
        case '\r': hf_buf_append(b, "\\r", 2); break;
        case '\t': hf_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
                hf_buf_append(b, e, 6);
            } else {
                hf_buf_append(b, "\xef\xbf\xbd", 3); /* invalid UTF-8 byte */
            }
        }
        i++;
        run = i;
    }
    hf_buf_append(b, s + run, n - run);
    return hf_buf_putc(b, '"');
}

int hf_buf_json_double(struct hf_buf *b, double d)
{
    if (!isfinite(d))
        return hf_buf_puts(b, "null");
    if (d == floor(d) && fabs(d) < 1e15) {
        /* what "%.0f" prints, without printf: counts and gauges are integers */
        char tmp[24], *e = tmp + sizeof(tmp), *q = hf_digits_before(e, (uint64_t)(d < 0 ? -d : d));
        if (signbit(d))
            *--q = '-';
        return hf_buf_append(b, q, (size_t)(e - q));
    }
    /* a value with at most 6 decimals (risk scores, costs): the double is
     * then the nearest one to that decimal, which is what "%.15g" prints
     * (no exponent from 1e-4 up), so it is written from the integer */
    double m = nearbyint(d * 1e6), a = fabs(d);
    if (a >= 1e-4 && fabs(m) < 1e15 && m / 1e6 == d) {
        char tmp[40], *e = tmp + sizeof(tmp), *q = e;
        uint64_t u = (uint64_t)fabs(m), frac = u % 1000000, ip = u / 1000000;
        int w = 6;
        while (frac % 10 == 0) { /* not 0: d is not an integer here */
            frac /= 10;
            w--;
        }
        while (w-- > 0) {
            *--q = (char)('0' + frac % 10);
            frac /= 10;
        }
        *--q = '.';
        q = hf_digits_before(q, ip);
        if (d < 0)
            *--q = '-';
        return hf_buf_append(b, q, (size_t)(e - q));
    }
    /* the shortest text that reads back as the same double */
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return hf_buf_puts(b, tmp);
}
