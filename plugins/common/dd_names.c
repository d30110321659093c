/* SPDX-License-Identifier: Apache-2.0 */
/* Datadog metric name and tag normalization and the canonical point key,
 * shared by the datadog (v2 series) and dogstatsd sinks. */
#include "dd_names.h"

#include <stdlib.h>
#include <string.h>

/* What a byte becomes in a tag (lower-cased) or a metric name; 0: refused.
 * Inline with constant `tag`, so each caller gets its own tight loop: this
 * runs for every character of every point. */
static inline unsigned char map_char(unsigned char c, bool tag)
{
    if ((unsigned)(c - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_' || c == '.')
        return c;
    if ((unsigned)(c - 'A') < 26u)
        return tag ? (unsigned char)(c + ('a' - 'A')) : c;
    if (tag && (c == '-' || c == ':' || c == '/'))
        return c;
    return 0;
}

static inline bool is_letter(unsigned char c) { return (unsigned)((c | 0x20) - 'a') < 26u; }

/* Appends s[0..n) to out[*len..] under the rules shared by names and tags:
 * leading non-letters dropped (when *len is 0), refused characters become
 * one '_' per run (so a multi-byte UTF-8 character is one '_', as the
 * Datadog normalizers do), at most HF_DD_NAME_MAX characters. */
static inline void clean_into(const char *s, size_t n, bool tag, char *out, size_t *len)
{
    size_t l = *len, i = 0;
    if (l == 0)
        while (i < n && !is_letter((unsigned char)s[i]))
            i++;
    for (; i < n && l < HF_DD_NAME_MAX; i++) {
        unsigned char c = map_char((unsigned char)s[i], tag);
        if (c)
            out[l++] = (char)c;
        else if (out[l - 1] != '_')
            out[l++] = '_';
    }
    *len = l;
}

size_t hf_dd_normalize_tag(const char *in, size_t n, char *out)
{
    size_t len = 0;
    clean_into(in, n, true, out, &len);
    /* a trailing ':' would leave an empty value; a trailing '_' is what a
     * dropped character left behind */
    while (len > 0 && (out[len - 1] == ':' || out[len - 1] == '_'))
        len--;
    out[len] = '\0';
    return len;
}

size_t hf_dd_metric_name(const char *prefix, const char *name, char *out)
{
    size_t len = 0;
    if (prefix && *prefix) {
        clean_into(prefix, strlen(prefix), false, out, &len);
        if (len > 0 && out[len - 1] != '.' && len < HF_DD_NAME_MAX)
            out[len++] = '.';
    }
    clean_into(name, strlen(name), false, out, &len);
    while (len > 0 && out[len - 1] == '.')
        len--;
    out[len] = '\0';
    return len;
}

void hf_dd_tags_add(struct hf_dd_tags *t, const char *raw)
{
    char tmp[HF_DD_NAME_MAX + 1];
    size_t n = hf_dd_normalize_tag(raw, strlen(raw), tmp);
    if (n == 0)
        return;
    t->tags = hf_realloc(t->tags, (t->n + 1) * sizeof(*t->tags));
    t->tags[t->n++] = hf_strndup(tmp, n);
}

void hf_dd_tags_free(struct hf_dd_tags *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->tags[i]);
    free(t->tags);
    t->tags = NULL;
    t->n = 0;
}

/* Tags per point are few (a handful from a rule), so insertion sort beats
 * qsort's call overhead. */
static void sort_tags(const char **v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const char *x = v[i];
        size_t j = i;
        while (j > 0 && strcmp(v[j - 1], x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

#define LOCAL_TAGS 32

size_t hf_dd_point_key(const char *prefix, const struct hf_dd_tags *sink_tags, const struct hf_point *pt,
                       struct hf_buf *scratch, size_t *name_len)
{
    char name[HF_DD_NAME_MAX + 1];
    size_t nl = hf_dd_metric_name(prefix, pt->name, name);
    /* room for the ".count"/".sum"/... a distribution is sent under */
    if (pt->type == HF_MT_DIST && nl > HF_DD_NAME_MAX - 6)
        nl = HF_DD_NAME_MAX - 6;
    while (nl > 0 && name[nl - 1] == '.')
        nl--;
    if (nl == 0)
        return 0;
    size_t ntags = pt->ntags + sink_tags->n, need = 2 * nl + 2;
    for (size_t i = 0; i < pt->ntags; i++)
        need += 2 * (HF_DD_NAME_MAX + 1);
    for (size_t i = 0; i < sink_tags->n; i++)
        need += strlen(sink_tags->tags[i]) + 1;
    /* one reservation up front: pointers into scratch stay valid below */
    hf_buf_reset(scratch);
    if (hf_buf_reserve(scratch, need) < 0)
        return 0;
    const char *local[LOCAL_TAGS];
    const char **v = ntags <= LOCAL_TAGS ? local : hf_calloc(ntags, sizeof(*v));
    size_t nv = 0;
    for (size_t i = 0; i < pt->ntags; i++) {
        char *dst = scratch->data + scratch->len;
        size_t l = hf_dd_normalize_tag(pt->tags[i], strlen(pt->tags[i]), dst);
        if (l == 0)
            continue;
        scratch->len += l + 1;
        v[nv++] = dst;
    }
    for (size_t i = 0; i < sink_tags->n; i++)
        v[nv++] = sink_tags->tags[i];
    sort_tags(v, nv);
    size_t key_off = scratch->len;
    hf_buf_append(scratch, name, nl);
    hf_buf_putc(scratch, '|');
    for (size_t i = 0; i < nv; i++) {
        if (i > 0 && !strcmp(v[i], v[i - 1]))
            continue; /* Datadog counts a repeated tag once */
        if (scratch->data[scratch->len - 1] != '|')
            hf_buf_putc(scratch, ',');
        hf_buf_puts(scratch, v[i]);
    }
    if (v != local)
        free(v);
    /* move the key to the front so the caller sees one string */
    size_t klen = scratch->len - key_off;
    memmove(scratch->data, scratch->data + key_off, klen);
    scratch->len = klen;
    scratch->data[klen] = '\0';
    *name_len = nl;
    return klen;
}
