/* SPDX-License-Identifier: Apache-2.0 */
/* Per-event templates: compiled to segments at load, expanded per record
 * into a caller's buffer with the escaping of its use. */
#define _GNU_SOURCE
#include "template.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum seg_kind {
    SEG_TEXT,
    SEG_SOURCE,
    SEG_EVENT_TYPE,
    SEG_SEVERITY,
    SEG_EVENT_ID,
    SEG_IDEMPOTENCY_KEY,
    SEG_TIMESTAMP,
    SEG_DATA,
};

static const struct {
    const char *name;
    enum seg_kind kind;
} meta_names[] = {
    {"source", SEG_SOURCE},     {"event_type", SEG_EVENT_TYPE},           {"severity", SEG_SEVERITY},
    {"event_id", SEG_EVENT_ID}, {"idempotency_key", SEG_IDEMPOTENCY_KEY}, {"timestamp", SEG_TIMESTAMP},
};
#define NMETA (sizeof(meta_names) / sizeof(meta_names[0]))

struct seg {
    enum seg_kind kind;
    const char *text; /* SEG_TEXT: the text; SEG_DATA: the field key */
    size_t len;
    const char *def; /* after ":-", NULL for none */
    size_t deflen;
    const char *name; /* as written, for hf_template_uses */
    size_t namelen;
};

struct hf_template {
    char *src;
    char *store; /* a copy of src the segments point into */
    size_t nseg;
    struct seg seg[];
};

/* ---- writing into a bounded buffer ---- */

/* Output that stops at the first unit that does not fit, so a cut never
 * falls inside a UTF-8 sequence or an escape; `need` keeps counting. */
struct out {
    char *p;
    size_t cap, len, need;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    o->need += n;
    if (o->full)
        return;
    if (o->cap == 0 || o->len + n >= o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* A run of plain ASCII may be cut anywhere. */
static void put_run(struct out *o, const char *s, size_t n)
{
    o->need += n;
    if (o->full)
        return;
    size_t room = o->cap > o->len ? o->cap - o->len - 1 : 0;
    if (o->cap == 0 || n > room) {
        if (o->cap)
            memcpy(o->p + o->len, s, room);
        o->len += o->cap ? room : 0;
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Length of a valid UTF-8 sequence at p (RFC 3629), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

/* True for a byte the escaping leaves as it is. */
static bool plain(unsigned char c, unsigned esc)
{
    if (esc & HF_ESC_NAME)
        return name_char(c);
    if (c >= 0x80)
        return esc == HF_ESC_NONE;
    if (c < 0x20 || c == 0x7f)
        return esc == HF_ESC_NONE || (c == '\t' && !(esc & HF_ESC_JSON)) || (c == 0x7f && !(esc & HF_ESC_HEADER));
    if (c == '"' || c == '\\')
        return !(esc & HF_ESC_JSON);
    if (c == '&' || c == '<' || c == '>')
        return !(esc & HF_ESC_MRKDWN);
    return true;
}

static void put_escaped(struct out *o, const char *s, size_t n, unsigned esc)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    if ((esc & HF_ESC_NAME) && n == 0) {
        put(o, "_", 1);
        return;
    }
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (i < n && plain(p[i], esc))
            i++;
        if (i > run)
            put_run(o, s + run, i - run);
        if (i == n)
            break;
        unsigned char c = p[i];
        if (esc & HF_ESC_NAME) {
            /* one '_' per byte: the names Kafka topics got before this
             * engine stay the same */
            put(o, "_", 1);
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t ul = utf8_seq(p + i, n - i);
            if (ul) {
                put(o, s + i, ul);
                i += ul;
            } else {
                put(o, "\xef\xbf\xbd", 3);
                i++;
            }
            continue;
        }
        i++;
        if ((esc & HF_ESC_HEADER) && (c < 0x20 || c == 0x7f) && c != '\t') {
            put(o, " ", 1);
            continue;
        }
        if (esc & HF_ESC_MRKDWN) {
            if (c == '&') {
                put(o, "&amp;", 5);
                continue;
            }
            if (c == '<') {
                put(o, "&lt;", 4);
                continue;
            }
            if (c == '>') {
                put(o, "&gt;", 4);
                continue;
            }
        }
        if (esc & HF_ESC_JSON) {
            switch (c) {
            case '"': put(o, "\\\"", 2); continue;
            case '\\': put(o, "\\\\", 2); continue;
            case '\n': put(o, "\\n", 2); continue;
            case '\r': put(o, "\\r", 2); continue;
            case '\t': put(o, "\\t", 2); continue;
            default:
                if (c < 0x20) {
                    char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
                    put(o, e, 6);
                    continue;
                }
            }
        }
        put(o, (const char *)&p[i - 1], 1);
    }
}

static void finish(struct out *o)
{
    if (o->cap)
        o->p[o->len] = '\0';
}

size_t hf_escape_text(const char *s, size_t n, unsigned esc, char *out, size_t cap)
{
    struct out o = {.p = out, .cap = cap};
    put_escaped(&o, s, n, esc);
    finish(&o);
    return o.need;
}

size_t hf_utf8_chars(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++) {
        size_t ul = p[i] >= 0x80 ? utf8_seq(p + i, n - i) : 1;
        i += ul ? ul : 1;
    }
    return chars;
}

size_t hf_utf8_prefix(const char *s, size_t n, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    for (size_t chars = 0; i < n && chars < max_chars; chars++) {
        size_t ul = p[i] >= 0x80 ? utf8_seq(p + i, n - i) : 1;
        i += ul ? ul : 1;
    }
    return i;
}

/* ---- compiling ---- */

static int compile_error(size_t *err_off, size_t off, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int compile_error(size_t *err_off, size_t off, char *why, size_t whylen, const char *fmt, ...)
{
    if (err_off)
        *err_off = off;
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#define VALID_NAMES                                                                                                    \
    "valid: ${source}, ${event_type}, ${severity}, ${event_id}, ${idempotency_key}, ${timestamp}, "                    \
    "${data.KEY}, each optionally with a default as in ${data.repo:-unknown}"

/* Parses the ${...} at text[off]; fills sg and returns the offset after
 * its '}', or -1. */
static long parse_name(const char *text, size_t off, struct seg *sg, size_t *err_off, char *why, size_t whylen)
{
    const char *start = text + off + 2;
    const char *end = strchr(start, '}');
    if (!end)
        return compile_error(err_off, off, why, whylen, "unterminated '${%.*s' (a name ends with '}')",
                             (int)(strlen(start) > 40 ? 40 : strlen(start)), start);
    size_t inner = (size_t)(end - start);
    const char *dflt = NULL;
    for (size_t i = 0; i + 1 < inner; i++)
        if (start[i] == ':' && start[i + 1] == '-') {
            dflt = start + i + 2;
            inner = i;
            break;
        }
    if (dflt && memmem(dflt, (size_t)(end - dflt), "${", 2))
        return compile_error(err_off, off, why, whylen, "a default cannot hold a name: '${%.*s}'", (int)(end - start),
                             start);
    if (inner == 0)
        return compile_error(err_off, off, why, whylen, "empty name in '${%.*s}' (" VALID_NAMES ")", (int)(end - start),
                             start);
    for (size_t i = 0; i < inner; i++)
        if (!name_char((unsigned char)start[i]))
            return compile_error(err_off, off, why, whylen,
                                 "bad character in '${%.*s}' (names hold letters, digits, '.', '_' and '-'; "
                                 "a default follows ':-')",
                                 (int)(end - start), start);
    sg->name = start;
    sg->namelen = inner;
    sg->def = dflt;
    sg->deflen = dflt ? (size_t)(end - dflt) : 0;
    if (inner > 5 && !memcmp(start, "data.", 5)) {
        sg->kind = SEG_DATA;
        sg->text = start + 5;
        sg->len = inner - 5;
        return (long)(end - text + 1);
    }
    for (size_t m = 0; m < NMETA; m++)
        if (strlen(meta_names[m].name) == inner && !memcmp(meta_names[m].name, start, inner)) {
            sg->kind = meta_names[m].kind;
            return (long)(end - text + 1);
        }
    return compile_error(err_off, off, why, whylen, "unknown name '${%.*s}' (" VALID_NAMES ")", (int)inner, start);
}

struct hf_template *hf_template_compile(const char *text, size_t *err_off, char *why, size_t whylen)
{
    size_t n = strlen(text), nseg = 1;
    for (const char *p = text; (p = strstr(p, "${")) != NULL; p += 2)
        nseg += 2;
    struct hf_template *t = hf_calloc(1, sizeof(*t) + nseg * sizeof(struct seg));
    t->src = hf_strdup(text);
    t->store = hf_strndup(text, n);
    /* segments point into store; the names' '}' and ':-' are cut out by
     * lengths, nothing is written into it */
    const char *s = t->store;
    size_t lit = 0, off = 0;
    while (off < n) {
        const char *d = strstr(s + off, "${");
        if (!d)
            break;
        size_t at = (size_t)(d - s);
        struct seg sg = {0};
        long next = parse_name(s, at, &sg, err_off, why, whylen);
        if (next < 0) {
            hf_template_free(t);
            return NULL;
        }
        if (at > lit)
            t->seg[t->nseg++] = (struct seg){.kind = SEG_TEXT, .text = s + lit, .len = at - lit};
        t->seg[t->nseg++] = sg;
        off = lit = (size_t)next;
    }
    if (lit < n)
        t->seg[t->nseg++] = (struct seg){.kind = SEG_TEXT, .text = s + lit, .len = n - lit};
    return t;
}

void hf_template_free(struct hf_template *t)
{
    if (!t)
        return;
    free(t->src);
    free(t->store);
    free(t);
}

const char *hf_template_source(const struct hf_template *t) { return t ? t->src : NULL; }

bool hf_template_constant(const struct hf_template *t)
{
    for (size_t i = 0; t && i < t->nseg; i++)
        if (t->seg[i].kind != SEG_TEXT)
            return false;
    return true;
}

bool hf_template_uses(const struct hf_template *t, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; t && i < t->nseg; i++)
        if (t->seg[i].kind != SEG_TEXT && t->seg[i].namelen == nl && !memcmp(t->seg[i].name, name, nl))
            return true;
    return false;
}

/* ---- expanding ---- */

static const struct hf_value *data_field(const struct hf_record *r, const char *key, size_t len)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const char *k = r->fields[i].key;
        if (!memcmp(k, key, len) && k[len] == '\0')
            return &r->fields[i].v;
    }
    return NULL;
}

static void put_value(struct out *o, const struct hf_value *v, unsigned esc)
{
    switch (v->type) {
    case HF_V_BOOL: put_escaped(o, v->b ? "true" : "false", v->b ? 4 : 5, esc); break;
    case HF_V_INT:
    case HF_V_DOUBLE:
    case HF_V_STRING: put_escaped(o, v->s ? v->s : "", v->s ? v->len : 0, esc); break;
    case HF_V_ARRAY:
        /* a list reads as "a, b" (policy matches in a message) */
        for (size_t i = 0; i < v->nitems; i++) {
            if (i)
                put_escaped(o, ", ", 2, esc);
            put_value(o, &v->items[i], esc);
        }
        break;
    case HF_V_NULL: break;
    }
}

static void put_str_value(struct out *o, const char *s, unsigned esc) { put_escaped(o, s, strlen(s), esc); }

static void expand(const struct hf_template *t, const struct hf_record *r, unsigned esc, struct out *o)
{
    unsigned lit_esc = esc & ~(unsigned)(HF_ESC_MRKDWN | HF_ESC_NAME);
    for (size_t i = 0; i < t->nseg; i++) {
        const struct seg *sg = &t->seg[i];
        const char *sv = NULL;
        const struct hf_value *v = NULL;
        switch (sg->kind) {
        case SEG_TEXT: put_escaped(o, sg->text, sg->len, lit_esc); continue;
        case SEG_SOURCE: sv = r->source; break;
        case SEG_EVENT_TYPE: sv = r->event_type; break;
        case SEG_SEVERITY: sv = hf_severity_name(r->severity); break;
        case SEG_EVENT_ID: sv = r->event_id; break;
        case SEG_IDEMPOTENCY_KEY: sv = r->idempotency_key; break;
        case SEG_TIMESTAMP: sv = r->timestamp; break;
        case SEG_DATA:
            v = data_field(r, sg->text, sg->len);
            if (v && (v->type == HF_V_NULL || (v->type == HF_V_ARRAY && v->nitems == 0)))
                v = NULL;
            break;
        }
        if (sv && *sv)
            put_str_value(o, sv, esc);
        else if (v)
            put_value(o, v, esc);
        else if (sg->def)
            put_escaped(o, sg->def, sg->deflen, esc & ~(unsigned)HF_ESC_MRKDWN);
        else if (esc & HF_ESC_NAME)
            put(o, "_", 1);
    }
}

size_t hf_template_expand(const struct hf_template *t, const struct hf_record *r, unsigned esc, char *out, size_t cap)
{
    struct out o = {.p = out, .cap = cap};
    if (t)
        expand(t, r, esc, &o);
    finish(&o);
    return o.need;
}

int hf_template_append(const struct hf_template *t, const struct hf_record *r, unsigned esc, struct hf_buf *b)
{
    if (hf_buf_reserve(b, 64) < 0)
        return -1;
    size_t room = b->cap - b->len;
    size_t need = hf_template_expand(t, r, esc, b->data + b->len, room);
    if (need >= room) {
        if (hf_buf_reserve(b, need + 1) < 0)
            return -1;
        hf_template_expand(t, r, esc, b->data + b->len, need + 1);
    }
    b->len += need;
    return 0;
}
