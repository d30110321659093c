/* SPDX-License-Identifier: Apache-2.0 */
/* Globs, snake_case keys, hex and base64. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <string.h>

bool hf_glob(const char *pat, const char *s)
{
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            ss = s;
        } else if (star) {
            pat = star + 1;
            s = ++ss;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Whether the capital s[i] starts a new word in camelCase: after a lower
 * case letter or a digit ("riskScore", "v2Id"), or as the last capital of
 * an acronym before a lower case letter ("URLPath" -> "url_path"). */
static bool underscore_before(const char *s, size_t n, size_t i)
{
    bool prev_lower = i > 0 && (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]));
    bool next_lower = i + 1 < n && islower((unsigned char)s[i + 1]) && i > 0 && isupper((unsigned char)s[i - 1]);
    return prev_lower || next_lower;
}

/* The same as the loop in hf_snake_case, writing into room reserved
 * beforehand (at most two bytes per input byte) instead of one append per
 * byte: every key of every event goes through here. */
static void snake_case_direct(struct hf_buf *b, const char *s, size_t n)
{
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            if (underscore_before(s, n, i))
                *o++ = '_';
            *o++ = (char)tolower(c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

void hf_snake_case(struct hf_buf *b, const char *s, size_t n)
{
    bool has_lower = false;
    for (size_t i = 0; i < n && !has_lower; i++)
        has_lower = islower((unsigned char)s[i]);
    if (!has_lower) {
        /* "P1", "URL": not camelCase, keep as sent */
        hf_buf_append(b, s, n);
        return;
    }
    if (!b->overflow && (!b->limit || b->len + 2 * n <= b->limit) && hf_buf_reserve(b, 2 * n) == 0) {
        snake_case_direct(b, s, n);
        return;
    }
    /* near the buffer's cap: byte by byte, so it fills up exactly as before */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            if (underscore_before(s, n, i))
                hf_buf_putc(b, '_');
            hf_buf_putc(b, (char)tolower(c));
        } else {
            hf_buf_putc(b, (char)c);
        }
    }
}

void hf_hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A hex digit's value plus one (0: not a digit): every signature header
 * is decoded, so this is one load per digit instead of three comparisons. */
static const unsigned char hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c) { return hex1[(unsigned char)c] - 1; }

int hf_unhex(const char *s, size_t n, unsigned char *out, size_t outcap)
{
    if (n % 2 || n / 2 > outcap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (unsigned char)(a << 4 | b);
    }
    return (int)(n / 2);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int hf_b64_decode(const char *s, size_t n, unsigned char *out, size_t outcap)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6)
        return -1;
    return (int)o;
}

size_t hf_b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}
