/* SPDX-License-Identifier: Apache-2.0 */
/* Record lifetime (arena + reference count), field lookup, serialization. */
#include "record.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hf_arena_chunk {
    struct hf_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

static const char *sev_names[] = {"info", "warning", "high", "critical"};

const char *hf_severity_name(enum hf_severity s) { return s < HF_SEV__COUNT ? sev_names[s] : "info"; }

int hf_severity_parse(const char *s, enum hf_severity *out)
{
    for (int i = 0; i < HF_SEV__COUNT; i++)
        if (!strcmp(s, sev_names[i])) {
            *out = (enum hf_severity)i;
            return 0;
        }
    return -1;
}

const char *hf_metric_type_name(enum hf_metric_type t)
{
    return t == HF_MT_COUNT ? "count" : t == HF_MT_GAUGE ? "gauge" : "distribution";
}

/* Chunks are not zeroed as a whole (most of a 4000-byte chunk is strings
 * that are written over at once); hf_rec_alloc zeroes what it hands out. */
static void *arena_take(struct hf_record *r, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct hf_arena_chunk *c = r->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4000 ? n : 4000;
        struct hf_arena_chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            nc = hf_calloc(1, sizeof(*nc) + cap); /* logs and aborts when memory is out */
        nc->used = 0;
        nc->cap = cap;
        nc->next = c;
        r->arena = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void *hf_rec_alloc(struct hf_record *r, size_t n)
{
    void *p = arena_take(r, n);
    memset(p, 0, n);
    return p;
}

const char *hf_rec_strndup(struct hf_record *r, const char *s, size_t n)
{
    char *d = arena_take(r, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

const char *hf_rec_strdup(struct hf_record *r, const char *s) { return hf_rec_strndup(r, s, strlen(s)); }

struct hf_record *hf_record_new(void)
{
    struct hf_record *r = hf_calloc(1, sizeof(*r));
    atomic_init(&r->refs, 1);
    r->signature_key = -1;
    return r;
}

/* ---- built in the thread's scratch, kept in one block sized to it ----
 * A record is built on the ingest thread in a large per-thread chunk, then
 * packed: the struct and everything its pointers reach are copied into one
 * allocation of exactly their size, and the pointers moved with them. A
 * queued 400-byte event then holds about 2.5 KB, not a 4 KB chunk plus the
 * struct, and takes one malloc instead of two. */

#define SCRATCH_CAP (64 * 1024)

struct scratch_rec {
    struct hf_record rec;
    struct hf_arena_chunk *chunk;
    bool busy;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_rec_free(void *p)
{
    struct scratch_rec *t = p;
    if (t)
        free(t->chunk);
    free(t);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_rec_free); }

struct hf_record *hf_record_new_scratch(void)
{
    pthread_once(&scratch_once, scratch_key_init);
    struct scratch_rec *t = pthread_getspecific(scratch_key);
    if (!t) {
        t = hf_calloc(1, sizeof(*t));
        t->chunk = hf_calloc(1, sizeof(*t->chunk) + SCRATCH_CAP);
        t->chunk->cap = SCRATCH_CAP;
        pthread_setspecific(scratch_key, t);
    }
    if (t->busy) /* one record under construction per thread: a caller bug */
        return hf_record_new();
    t->busy = true;
    memset(&t->rec, 0, sizeof(t->rec));
    atomic_init(&t->rec.refs, 1);
    t->rec.signature_key = -1;
    t->chunk->used = 0;
    t->chunk->next = NULL;
    t->rec.arena = t->chunk;
    return &t->rec;
}

static struct scratch_rec *scratch_of(struct hf_record *r)
{
    struct scratch_rec *t = pthread_getspecific(scratch_key);
    return t && r == &t->rec ? t : NULL;
}

/* Frees the chunks a scratch record grew beyond its thread's chunk. */
static void scratch_release(struct scratch_rec *t)
{
    for (struct hf_arena_chunk *c = t->rec.arena, *n; c && c != t->chunk; c = n) {
        n = c->next;
        free(c);
    }
    t->busy = false;
}

void hf_record_drop_scratch(struct hf_record *r)
{
    struct scratch_rec *t = r ? scratch_of(r) : NULL;
    if (t)
        scratch_release(t);
    else
        hf_record_unref(r);
}

struct reloc {
    const struct hf_arena_chunk **chunk;
    size_t *off, n;
    char *base;
};

static void *moved(const struct reloc *m, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < m->n; i++) {
        uintptr_t lo = (uintptr_t)m->chunk[i]->data;
        if (a >= lo && a < lo + m->chunk[i]->used)
            return m->base + m->off[i] + (a - lo);
    }
    return (void *)p; /* not in the arena (a constant, the config's): unchanged */
}

struct hf_record *hf_record_pack(struct hf_record *r)
{
    struct scratch_rec *t = scratch_of(r);
    if (!t)
        return r; /* not a scratch record: it already owns its memory */
    /* the thread's chunk first: it holds all of a usual event */
    const struct hf_arena_chunk *few[8];
    size_t few_off[8], nchunks = 0, total = 0;
    for (const struct hf_arena_chunk *c = r->arena; c; c = c->next)
        nchunks++;
    struct reloc m = {.chunk = few, .off = few_off, .n = 0};
    if (nchunks > 8) {
        m.chunk = hf_calloc(nchunks, sizeof(*m.chunk));
        m.off = hf_calloc(nchunks, sizeof(*m.off));
    }
    for (const struct hf_arena_chunk *c = r->arena; c; c = c->next) {
        m.chunk[m.n] = c;
        m.off[m.n++] = total;
        total += c->used;
    }
    size_t head = (sizeof(struct hf_record) + 15) & ~(size_t)15;
    char *block = malloc(head + total);
    if (!block)
        block = hf_calloc(1, head + total);
    struct hf_record *n = (struct hf_record *)block;
    memcpy(n, r, sizeof(*n));
    atomic_init(&n->refs, atomic_load(&r->refs));
    m.base = block + head;
    for (size_t i = 0; i < m.n; i++)
        memcpy(m.base + m.off[i], m.chunk[i]->data, m.chunk[i]->used);
    n->arena = NULL; /* one block: freed with the struct */
    n->source = moved(&m, r->source);
    n->event_type = moved(&m, r->event_type);
    n->event_id = moved(&m, r->event_id);
    n->idempotency_key = moved(&m, r->idempotency_key);
    n->timestamp = moved(&m, r->timestamp);
    n->json = moved(&m, r->json);
    /* arrays are rewritten only where they were copied (a static tag list
     * of a profile, say, is left as it is) */
    struct hf_field *fields = moved(&m, r->fields);
    n->fields = fields;
    for (size_t i = 0; fields != r->fields && i < n->nfields; i++) {
        fields[i].key = moved(&m, fields[i].key);
        fields[i].v.s = moved(&m, fields[i].v.s);
        struct hf_value *items = moved(&m, fields[i].v.items);
        for (size_t k = 0; items != fields[i].v.items && k < fields[i].v.nitems; k++)
            items[k].s = moved(&m, items[k].s);
        fields[i].v.items = items;
    }
    struct hf_point *points = moved(&m, r->points);
    n->points = points;
    for (size_t i = 0; points != r->points && i < n->npoints; i++) {
        points[i].name = moved(&m, points[i].name);
        const char **tags = moved(&m, points[i].tags);
        for (size_t k = 0; tags != points[i].tags && k < points[i].ntags; k++)
            tags[k] = moved(&m, tags[k]);
        points[i].tags = tags;
    }
    if (m.chunk != few) {
        free(m.chunk);
        free(m.off);
    }
    scratch_release(t);
    return n;
}

void hf_record_ref(struct hf_record *r) { atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed); }

void hf_record_unref(struct hf_record *r)
{
    if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (struct hf_arena_chunk *c = r->arena, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(r);
}

static void set_str(struct hf_value *v, const char *s)
{
    memset(v, 0, sizeof(*v));
    v->type = HF_V_STRING;
    v->s = s;
    v->len = strlen(s);
}

const struct hf_value *hf_record_get(const struct hf_record *r, const char *key, struct hf_value *scratch)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].key, key))
            return &r->fields[i].v;
    if (!strcmp(key, "event") || !strcmp(key, "event_type"))
        set_str(scratch, r->event_type);
    else if (!strcmp(key, "source"))
        set_str(scratch, r->source);
    else if (!strcmp(key, "severity"))
        set_str(scratch, hf_severity_name(r->severity));
    else if (!strcmp(key, "event_id") && r->event_id)
        set_str(scratch, r->event_id);
    else
        return NULL;
    return scratch;
}

/* snprintf(out, outlen, "%.*s", n, s) without printf: metric tags and ids
 * call this for every event. Like %.*s it stops at a NUL byte. */
static int copy_text(char *out, size_t outlen, const char *s, size_t n)
{
    n = strnlen(s, n);
    if (outlen) {
        size_t k = n < outlen ? n : outlen - 1;
        memcpy(out, s, k);
        out[k] = '\0';
    }
    return (int)n;
}

int hf_value_text(const struct hf_value *v, char *out, size_t outlen)
{
    switch (v->type) {
    case HF_V_NULL: return copy_text(out, outlen, "null", 4);
    case HF_V_BOOL: return v->b ? copy_text(out, outlen, "true", 4) : copy_text(out, outlen, "false", 5);
    case HF_V_INT:
    case HF_V_DOUBLE:
    case HF_V_STRING: return copy_text(out, outlen, v->s, v->len);
    default: return -1;
    }
}

bool hf_value_number(const struct hf_value *v, double *out)
{
    if (v->type == HF_V_INT || v->type == HF_V_DOUBLE) {
        *out = v->d;
        return true;
    }
    if (v->type == HF_V_BOOL) {
        *out = v->b;
        return true;
    }
    if (v->type == HF_V_STRING && v->len > 0 && v->len < 64) {
        char tmp[64], *end;
        memcpy(tmp, v->s, v->len);
        tmp[v->len] = '\0';
        double d = strtod(tmp, &end);
        if (*end == '\0' && end != tmp) {
            *out = d;
            return true;
        }
    }
    return false;
}

static void put_value(struct hf_buf *b, const struct hf_value *v)
{
    switch (v->type) {
    case HF_V_NULL: hf_buf_puts(b, "null"); break;
    case HF_V_BOOL: hf_buf_puts(b, v->b ? "true" : "false"); break;
    case HF_V_INT:
    case HF_V_DOUBLE: hf_buf_append(b, v->s, v->len); break;
    case HF_V_STRING: hf_buf_json_str(b, v->s, v->len); break;
    case HF_V_ARRAY:
        hf_buf_putc(b, '[');
        for (size_t i = 0; i < v->nitems; i++) {
            if (i)
                hf_buf_putc(b, ',');
            put_value(b, &v->items[i]);
        }
        hf_buf_putc(b, ']');
        break;
    }
}

/* ,"key": — keys are literals that need no escaping */
static void put_key(struct hf_buf *b, const char *key)
{
    hf_buf_append(b, ",\"", 2);
    hf_buf_puts(b, key);
    hf_buf_append(b, "\":", 2);
}

static void put_meta(struct hf_buf *b, const char *key, const char *val)
{
    put_key(b, key);
    if (val)
        hf_buf_json_str(b, val, strlen(val));
    else
        hf_buf_puts(b, "null");
}

/* The text is built in a buffer kept per thread, then copied into the
 * record's arena: a fresh buffer per record meant one or two mallocs of a
 * kilobyte or more per event. */
static pthread_key_t seal_key;
static pthread_once_t seal_once = PTHREAD_ONCE_INIT;

static void seal_buf_free(void *p)
{
    hf_buf_free(p);
    free(p);
}

static void seal_key_init(void) { pthread_key_create(&seal_key, seal_buf_free); }

static struct hf_buf *seal_buf(void)
{
    pthread_once(&seal_once, seal_key_init);
    struct hf_buf *b = pthread_getspecific(seal_key);
    if (!b) {
        b = hf_calloc(1, sizeof(*b));
        hf_buf_init(b, 0);
        pthread_setspecific(seal_key, b);
    }
    hf_buf_reset(b);
    return b;
}

void hf_record_seal(struct hf_record *r)
{
    struct hf_buf *b = seal_buf();
    char recv[32];
    hf_buf_reserve(b, 4096);
    hf_buf_puts(b, "{\"source\":");
    hf_buf_json_str(b, r->source, strlen(r->source));
    put_meta(b, "event_type", r->event_type);
    put_meta(b, "event_id", r->event_id);
    put_meta(b, "severity", hf_severity_name(r->severity));
    put_meta(b, "timestamp", r->timestamp);
    hf_format_iso_ms(r->received_ms, recv, sizeof(recv));
    put_meta(b, "received_at", recv);
    hf_buf_puts(b, r->signature_key >= 0 ? ",\"signature_verified\":true" : ",\"signature_verified\":false");
    if (r->signature_key >= 0) {
        put_key(b, "signature_key");
        hf_buf_json_double(b, r->signature_key); /* an integer: printed as %d would */
    } else {
        hf_buf_puts(b, ",\"signature_key\":null");
    }
    put_meta(b, "idempotency_key", r->idempotency_key);
    hf_buf_puts(b, ",\"data\":{");
    for (size_t i = 0; i < r->nfields; i++) {
        if (i)
            hf_buf_putc(b, ',');
        hf_buf_json_str(b, r->fields[i].key, strlen(r->fields[i].key));
        hf_buf_putc(b, ':');
        put_value(b, &r->fields[i].v);
    }
    hf_buf_puts(b, "}}");
    r->json = hf_rec_strndup(r, b->data, b->len);
    r->json_len = b->len;
    if (b->cap > 65536)
        hf_buf_free(b); /* one huge event does not pin its size for good */
}

void hf_point_json(struct hf_buf *b, const struct hf_record *r, const struct hf_point *pt)
{
    /* a record's points share its receive time: formatted once */
    static __thread int64_t ts_ms = INT64_MIN;
    static __thread char ts[32];
    static __thread size_t ts_len;
    if (r->received_ms != ts_ms) {
        hf_format_iso_ms(r->received_ms, ts, sizeof(ts));
        ts_len = strlen(ts);
        ts_ms = r->received_ms;
    }
    hf_buf_puts(b, "{\"metric\":");
    hf_buf_json_str(b, pt->name, strlen(pt->name));
    hf_buf_puts(b, ",\"type\":\"");
    hf_buf_puts(b, hf_metric_type_name(pt->type));
    hf_buf_puts(b, "\",\"value\":");
    hf_buf_json_double(b, pt->value);
    hf_buf_puts(b, ",\"timestamp\":\"");
    hf_buf_append(b, ts, ts_len);
    hf_buf_puts(b, "\",\"source\":");
    hf_buf_json_str(b, r->source, strlen(r->source));
    hf_buf_puts(b, ",\"tags\":[");
    for (size_t i = 0; i < pt->ntags; i++) {
        if (i)
            hf_buf_putc(b, ',');
        hf_buf_json_str(b, pt->tags[i], strlen(pt->tags[i]));
    }
    hf_buf_puts(b, "]}");
}
