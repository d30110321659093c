/* SPDX-License-Identifier: Apache-2.0 */
/* The ingest path: verify, parse, flatten, dedup, rules, route. */
#define _GNU_SOURCE
#include "pipeline.h"
#include "dedup_redis.h"
#include "ingest_store.h"
#include "journal.h"
#include "route.h"
#include "profile.h"
#include "stats.h"
#include "util.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_FIELDS 4096

/* ---- flatten ---- */

struct flat {
    struct hf_record *r;
    struct hf_field *fields;
    size_t n, cap;
    struct hf_buf key;
    const char *skip[3]; /* top-level members that are metadata, not data */
    bool too_many;
};

/* An int64 as json-c prints it ("%" PRId64), without printf and without
 * the print buffer json-c allocates in every object it serializes. */
static const char *int_text(struct hf_record *r, int64_t i, size_t *len)
{
    char tmp[24], *e = tmp + sizeof(tmp), *q = e;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--q = '-';
    *len = (size_t)(e - q);
    return hf_rec_strndup(r, q, *len);
}

static void scalar_value(struct hf_record *r, json_object *o, struct hf_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (json_object_get_type(o)) {
    case json_type_null: v->type = HF_V_NULL; break;
    case json_type_boolean:
        v->type = HF_V_BOOL;
        v->b = json_object_get_boolean(o);
        break;
    case json_type_int:
    case json_type_double: {
        v->type = json_object_get_type(o) == json_type_int ? HF_V_INT : HF_V_DOUBLE;
        v->d = json_object_get_double(o);
        v->i = json_object_get_int64(o);
        /* INT64_MAX may be a clamped uint64, which json-c prints itself */
        if (v->type == HF_V_INT && v->i != INT64_MAX) {
            v->s = int_text(r, v->i, &v->len);
            break;
        }
        size_t len;
        const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        v->s = hf_rec_strndup(r, t, len);
        v->len = len;
        break;
    }
    case json_type_string:
        v->type = HF_V_STRING;
        v->len = (size_t)json_object_get_string_len(o);
        v->s = hf_rec_strndup(r, json_object_get_string(o), v->len);
        break;
    default: v->type = HF_V_NULL; break;
    }
}

static struct hf_field *add_field(struct flat *f)
{
    if (f->n >= MAX_FIELDS) {
        f->too_many = true;
        return NULL;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 32;
        f->fields = hf_realloc(f->fields, f->cap * sizeof(*f->fields));
    }
    struct hf_field *fl = &f->fields[f->n++];
    fl->key = hf_rec_strndup(f->r, f->key.data, f->key.len);
    return fl;
}

static bool is_scalar(json_object *o)
{
    json_type t = json_object_get_type(o);
    return t != json_type_object && t != json_type_array;
}

static void flatten(struct flat *f, json_object *o, int depth);

static void flatten_member(struct flat *f, const char *k, size_t kl, json_object *v, int depth)
{
    size_t saved = f->key.len;
    if (saved)
        hf_buf_putc(&f->key, '.');
    hf_snake_case(&f->key, k, kl);
    json_type t = json_object_get_type(v);
    if (t == json_type_object) {
        flatten(f, v, depth + 1);
    } else if (t == json_type_array) {
        size_t n = json_object_array_length(v);
        bool scalars = true;
        for (size_t i = 0; i < n && scalars; i++)
            scalars = is_scalar(json_object_array_get_idx(v, i));
        if (scalars) {
            struct hf_field *fl = add_field(f);
            if (fl) {
                struct hf_value *items = hf_rec_alloc(f->r, (n ? n : 1) * sizeof(*items));
                for (size_t i = 0; i < n; i++)
                    scalar_value(f->r, json_object_array_get_idx(v, i), &items[i]);
                memset(&fl->v, 0, sizeof(fl->v));
                fl->v.type = HF_V_ARRAY;
                fl->v.items = items;
                fl->v.nitems = n;
            }
        } else {
            /* arrays holding objects: one key per index, a.0.b */
            for (size_t i = 0; i < n; i++) {
                char idx[24];
                int il = snprintf(idx, sizeof(idx), "%zu", i);
                flatten_member(f, idx, (size_t)il, json_object_array_get_idx(v, i), depth + 1);
            }
        }
    } else {
        struct hf_field *fl = add_field(f);
        if (fl)
            scalar_value(f->r, v, &fl->v);
    }
    f->key.len = saved;
    if (f->key.data)
        f->key.data[saved] = '\0';
}

static void flatten(struct flat *f, json_object *o, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    json_object_object_foreach(o, k, v)
    {
        if (depth == 0) {
            bool skip = false;
            for (int i = 0; i < 3; i++)
                skip |= f->skip[i] && !strcmp(f->skip[i], k);
            if (skip)
                continue;
        }
        flatten_member(f, k, strlen(k), v, depth);
    }
}

/* One tokener per thread, reset after each body: a new one allocates and
 * zeroes a parse stack of MAX_DEPTH levels, for every event. */
static pthread_key_t tok_key;
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;

static void tok_free(void *tok) { json_tokener_free(tok); }
static void tok_key_init(void) { pthread_key_create(&tok_key, tok_free); }

static json_tokener *thread_tokener(void)
{
    pthread_once(&tok_once, tok_key_init);
    json_tokener *tok = pthread_getspecific(tok_key);
    if (!tok) {
        tok = json_tokener_new_ex(MAX_DEPTH);
        if (!tok) {
            fputs("level=error component=core msg=\"out of memory\"\n", stderr);
            abort();
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        pthread_setspecific(tok_key, tok);
    }
    return tok;
}

static const char *top_string(json_object *root, const char *name)
{
    json_object *v;
    if (!name || !json_object_object_get_ex(root, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static const char *field_text(struct hf_record *r, const char *key)
{
    struct hf_value scratch;
    const struct hf_value *v = hf_record_get(r, key, &scratch);
    char text[256];
    if (!v || v->type == HF_V_NULL || v->type == HF_V_ARRAY || hf_value_text(v, text, sizeof(text)) <= 0)
        return NULL;
    return hf_rec_strdup(r, text);
}

struct hf_record *hf_build_record(const struct hf_pipeline *p, const struct hf_source *src, const char *body,
                                  size_t len, const struct hf_verify_result *vr, const char *webhook_id,
                                  int64_t received_ms, char *reason, size_t reasonlen)
{
    char *copy = NULL;
    if (vr && vr->cut_len) {
        copy = malloc(len - vr->cut_len + 1);
        if (!copy) {
            snprintf(reason, reasonlen, "out of memory");
            return NULL;
        }
        memcpy(copy, body, vr->cut_off);
        memcpy(copy + vr->cut_off, body + vr->cut_off + vr->cut_len, len - vr->cut_off - vr->cut_len);
        len -= vr->cut_len;
        body = copy;
    }
    struct hf_record *r = NULL;
    json_tokener *tok = thread_tokener();
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!root || jerr != json_tokener_success) {
        snprintf(reason, reasonlen, "body is not valid JSON: %s at byte %zu",
                 jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr), end);
        goto out;
    }
    for (; end < len; end++)
        if (body[end] != ' ' && body[end] != '\n' && body[end] != '\r' && body[end] != '\t') {
            snprintf(reason, reasonlen, "body is not valid JSON: trailing data at byte %zu", end);
            goto out;
        }
    /* json-c's own UTF-8 check lets overlong forms, surrogates and code
     * points past U+10FFFF through; sinks that copy strings as they are
     * (syslog SD, CEF, LEEF) would then emit invalid UTF-8 */
    size_t bad = hf_utf8_check(body, len);
    if (bad < len) {
        snprintf(reason, reasonlen, "body is not valid JSON: invalid UTF-8 at byte %zu", bad);
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(reason, reasonlen, "body must be a JSON object");
        goto out;
    }
    const char *ev = top_string(root, src->event_field);
    if (!ev || !*ev) {
        snprintf(reason, reasonlen, "missing event type: top-level string member '%s'", src->event_field);
        goto out;
    }
    r = hf_record_new();
    /* a copy: the record may outlive this config (a sink reused across a
     * reload keeps its queue) */
    r->source = hf_rec_strdup(r, src->name);
    r->event_type = hf_rec_strdup(r, ev);
    r->received_ms = received_ms;
    r->event_ms = received_ms;
    r->signature_key = vr ? vr->key_index : -1;
    r->severity = hf_source_severity(src, ev);
    const char *ts = top_string(root, src->time_field);
    if (ts) {
        r->timestamp = hf_rec_strdup(r, ts);
        int64_t ms;
        if (hf_parse_rfc3339(ts, strlen(ts), &ms) == 0)
            r->event_ms = ms;
    } else {
        char iso[32];
        hf_format_iso_ms(received_ms, iso, sizeof(iso));
        r->timestamp = hf_rec_strdup(r, iso);
    }

    struct flat f = {.r = r, .skip = {src->event_field, src->time_field, NULL}};
    hf_buf_init(&f.key, 4096);
    flatten(&f, root, 0);
    hf_buf_free(&f.key);
    if (f.too_many) {
        free(f.fields);
        hf_record_unref(r);
        r = NULL;
        snprintf(reason, reasonlen, "body has more than %d fields", MAX_FIELDS);
        goto out;
    }
    struct hf_field *fields = hf_rec_alloc(r, (f.n ? f.n : 1) * sizeof(*fields));
    if (f.n)
        memcpy(fields, f.fields, f.n * sizeof(*fields));
    free(f.fields);
    r->fields = fields;
    r->nfields = f.n;

    if (src->profile)
        for (const char *const *idf = src->profile->id_fields; *idf && !r->event_id; idf++)
            r->event_id = field_text(r, *idf);
    if (!r->event_id && src->id_field)
        r->event_id = field_text(r, src->id_field);

    const char *key = NULL;
    char buf[512];
    if (src->dedup_key) {
        key = field_text(r, src->dedup_key);
    } else if (webhook_id) {
        key = webhook_id;
    } else if (r->event_id) {
        if (src->profile && src->profile->key_with_event) {
            hf_str_join3(buf, sizeof(buf), r->event_id, ":", r->event_type);
            key = buf;
        } else {
            key = r->event_id;
        }
    } else if (vr && vr->key_index >= 0) {
        /* no id in the payload: a vendor's retry repeats the bytes, so the
         * MAC identifies the delivery */
        char hex[33];
        hf_hex(vr->mac, 16, hex);
        hf_str_join3(buf, sizeof(buf), r->event_type, ":", hex);
        key = buf;
    }
    if (key)
        r->idempotency_key = hf_rec_strdup(r, key);
    hf_rules_apply(r, src, p ? p->cfg->rules : NULL, p ? p->cfg->nrules : 0);
    hf_record_seal(r);
out:
    if (root)
        json_object_put(root);
    json_tokener_reset(tok); /* frees what a failed parse left half-built */
    free(copy);
    return r;
}

/* ---- pipeline ---- */

/* An old sink can serve a new config when nothing about it changed. */
static bool unchanged(const struct hf_pipeline *old, const struct hf_sink *s, const struct hf_config *cfg,
                      const struct hf_sink_conf *sc)
{
    return s && !strcmp(s->name, sc->name) && s->plugin == sc->plugin &&
           !strcmp(s->conf->fingerprint, sc->fingerprint) && !strcmp(old->cfg->storage_path, cfg->storage_path);
}

static struct hf_sink *take_unchanged(struct hf_pipeline *old, const struct hf_config *cfg,
                                      const struct hf_sink_conf *sc)
{
    for (size_t i = 0; old && i < old->nsinks; i++) {
        struct hf_sink *s = old->sinks[i];
        if (unchanged(old, s, cfg, sc)) {
            old->sinks[i] = NULL;
            return s;
        }
    }
    return NULL;
}

struct hf_pipeline *hf_pipeline_new(struct hf_config *cfg, struct hf_pipeline *old, struct hf_cerr *err)
{
    /* the shared dedup store's host is resolved here, on the main thread,
     * never on an ingest thread's loop */
    for (size_t i = 0; i < cfg->nsources; i++)
        if (cfg->sources[i].dedup_redis && hf_redis_conf_resolve(cfg->sources[i].dedup_redis, err) < 0)
            return NULL;
    struct hf_pipeline *p = hf_calloc(1, sizeof(*p));
    atomic_init(&p->refs, 1);
    p->cfg = cfg;
    for (size_t i = 0; i < cfg->nsources && i < HF_MAX_SOURCES; i++) {
        p->stats[i] = hf_stats_for_source(cfg->sources[i].name);
        if (cfg->sources[i].dedup_redis)
            p->store_stats[i] = hf_store_stats_for(cfg->sources[i].name);
    }
    p->sinks = hf_calloc(cfg->nsinks, sizeof(*p->sinks));
    /* build every new sink first, so a failure leaves `old` untouched */
    for (size_t i = 0; i < cfg->nsinks; i++) {
        bool reusable = false;
        for (size_t j = 0; old && j < old->nsinks; j++)
            reusable |= unchanged(old, old->sinks[j], cfg, &cfg->sinks[i]);
        if (reusable)
            continue;
        p->sinks[i] = hf_sink_new(&cfg->sinks[i], cfg->file, cfg->storage_path, err);
        if (!p->sinks[i]) {
            for (size_t k = 0; k < i; k++)
                hf_sink_free(p->sinks[k]);
            free(p->sinks);
            free(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < cfg->nsinks; i++) {
        if (!p->sinks[i])
            p->sinks[i] = take_unchanged(old, cfg, &cfg->sinks[i]);
        p->nsinks++;
    }
    if (old) {
        p->dedup = old->dedup;
        old->dedup = NULL;
    } else {
        p->dedup = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    }
    return p;
}

int hf_pipeline_start(struct hf_pipeline *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (hf_sink_start(p->sinks[i]) < 0)
            return -1;
    return 0;
}

void hf_pipeline_ref(struct hf_pipeline *p) { atomic_fetch_add(&p->refs, 1); }

void hf_pipeline_stop(struct hf_pipeline *p, int deadline_ms)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->sinks[i])
            hf_sink_stop(p->sinks[i], deadline_ms);
    for (size_t i = 0; i < p->nsinks; i++)
        hf_sink_free(p->sinks[i]);
    free(p->sinks);
    p->sinks = NULL;
    p->nsinks = 0;
    hf_dedup_free(p->dedup);
    p->dedup = NULL;
}

void hf_pipeline_unref(struct hf_pipeline *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    hf_pipeline_stop(p, 0);
    hf_config_free(p->cfg);
    free(p);
}

const struct hf_source *hf_pipeline_source(const struct hf_pipeline *p, const char *path, size_t len)
{
    for (size_t i = 0; i < p->cfg->nsources; i++) {
        const char *sp = p->cfg->sources[i].path;
        if (strlen(sp) == len && !memcmp(sp, path, len))
            return &p->cfg->sources[i];
    }
    return NULL;
}

int hf_route_reserve(struct hf_pipeline *p, const struct hf_record *r, struct hf_sink **chosen, size_t *nout)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nsinks && n < HF_MAX_SINKS; i++) {
        struct hf_sink *s = p->sinks[i];
        if (!hf_route_takes(s->conf, r))
            continue;
        if (hf_sink_reserve(s) < 0) {
            for (size_t j = 0; j < n; j++)
                hf_sink_unreserve(chosen[j]);
            return -1;
        }
        chosen[n++] = s;
    }
    *nout = n;
    return 0;
}

int hf_route(struct hf_pipeline *p, struct hf_record *r)
{
    struct hf_sink *chosen[HF_MAX_SINKS];
    size_t n;
    if (hf_route_reserve(p, r, chosen, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        hf_sink_push(chosen[i], r);
    return 0;
}

bool hf_pipeline_ready(struct hf_pipeline *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (hf_sink_full(p->sinks[i]))
            return false;
    return true;
}

static void set_result(struct hf_ingest_result *res, int status, const char *reason)
{
    res->status = status;
    hf_str_join3(res->reason, sizeof(res->reason), reason, NULL, NULL);
}

struct deferred {
    struct hf_pipeline *p;
    const struct hf_source *src;
    struct hf_source_stats *st;
    struct hf_sink *chosen[HF_MAX_SINKS];
    size_t n;
    bool dedup;
    struct hf_redis_claim *claim; /* shared dedup: settled before the answer */
    struct hf_ingest_result res;
    hf_ingest_done_fn done;
    void *arg;
};

static void accepted(struct hf_source_stats *st, struct hf_ingest_result *res)
{
    set_result(res, 202, "accepted");
    hf_stats_count(st, 202);
    if (st)
        atomic_fetch_add_explicit(&st->accepted, 1, memory_order_relaxed);
}

/* Not accepted after all: the key is free again, here and in Redis. */
static void refuse_full(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                        const struct hf_record *r, bool dedup, struct hf_redis_claim *claim,
                        struct hf_ingest_result *res, const char *why)
{
    if (dedup)
        hf_dedup_remove(p->dedup, src->name, r->idempotency_key);
    hf_redis_settle(claim, false);
    set_result(res, 503, why);
    res->retry_after = 1;
    hf_stats_count(st, 503);
}

/* Journal thread: the event is durable (or could not be written). */
static void journal_done(void *arg, struct hf_record *r, bool ok)
{
    struct deferred *d = arg;
    if (ok) {
        for (size_t i = 0; i < d->n; i++)
            hf_journal_track_push(d->p->journal, d->chosen[i], r);
        hf_redis_settle(d->claim, true);
        accepted(d->st, &d->res);
    } else {
        for (size_t i = 0; i < d->n; i++)
            hf_sink_unreserve(d->chosen[i]);
        refuse_full(d->p, d->src, d->st, r, d->dedup, d->claim, &d->res, "storage write failed; retry later");
    }
    d->done(d->arg, &d->res);
    free(d);
}

void hf_ingest_accept(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                      struct hf_record *r, bool dedup, struct hf_redis_claim *claim, int64_t now,
                      struct hf_ingest_result *res, hf_ingest_done_fn done, void *done_arg)
{
    if (!p->journal) {
        if (hf_route(p, r) < 0) {
            refuse_full(p, src, st, r, dedup, claim, res, "a sink queue is full; retry later");
        } else {
            hf_redis_settle(claim, true);
            accepted(st, res);
        }
        return;
    }
    struct deferred *d = hf_calloc(1, sizeof(*d));
    d->p = p;
    d->src = src;
    d->st = st;
    d->dedup = dedup;
    d->claim = claim;
    d->done = done;
    d->arg = done_arg;
    d->res = *res;
    if (hf_route_reserve(p, r, d->chosen, &d->n) < 0) {
        refuse_full(p, src, st, r, dedup, claim, res, "a sink queue is full; retry later");
        free(d);
    } else if (hf_journal_append(p->journal, r, dedup ? src->name : NULL, now + src->dedup_window_ms, journal_done,
                                 d) < 0) {
        for (size_t i = 0; i < d->n; i++)
            hf_sink_unreserve(d->chosen[i]);
        refuse_full(p, src, st, r, dedup, claim, res, "storage.max_size is reached; retry later");
        free(d);
    }
    /* else: res->status stays 0, the answer comes through done() */
}

void hf_ingest(struct hf_pipeline *p, const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr,
               void *hctx, struct hf_ingest_result *res, const struct hf_ingest_io *io)
{
    memset(res, 0, sizeof(*res));
    int64_t now = hf_now_ms();
    struct hf_source_stats *st = src->index < HF_MAX_SOURCES ? p->stats[src->index] : NULL;
    struct hf_verify_result vr;
    hf_verify(src, body, len, hdr, hctx, now, &vr);
    if (vr.status != HF_VERIFY_OK) {
        set_result(res, 401, vr.why);
        hf_stats_count(st, 401);
        return;
    }
    if (st && vr.key_index < HF_MAX_KEYS)
        atomic_fetch_add_explicit(&st->key_used[vr.key_index], 1, memory_order_relaxed);
    const char *wid = src->scheme == HF_SIG_STANDARD_WEBHOOKS ? hdr(hctx, "webhook-id") : NULL;
    struct hf_record *r = hf_build_record(p, src, body, len, &vr, wid, now, res->reason, sizeof(res->reason));
    if (!r) {
        res->status = 400;
        hf_stats_count(st, 400);
        return;
    }
    hf_str_join3(res->id, sizeof(res->id), r->event_id ? r->event_id : r->idempotency_key, NULL, NULL);
    if (!res->id[0])
        snprintf(res->id, sizeof(res->id), "%016llx", (unsigned long long)hf_random64());
    bool dedup = src->dedup && r->idempotency_key;
    if (dedup && hf_dedup_check_insert(p->dedup, src->name, r->idempotency_key, src->dedup_window_ms, now)) {
        set_result(res, 200, "duplicate");
        hf_stats_count(st, 200);
        hf_record_unref(r);
        return;
    }
    /* the local set said new: with a shared store, Redis has the last word */
    if (dedup && src->dedup_redis && hf_ingest_claim(p, src, st, r, now, res, io)) {
        hf_record_unref(r);
        return;
    }
    if (res->status == 0)
        hf_ingest_accept(p, src, st, r, dedup, NULL, now, res, io ? io->done : NULL, io ? io->done_arg : NULL);
    hf_record_unref(r);
}

void hf_pipeline_attach_journal(struct hf_pipeline *p, struct hf_journal *j, bool replay)
{
    struct hf_journal_view v = {.sinks = p->sinks, .nsinks = p->nsinks, .dedup = p->dedup, .cfg = p->cfg};
    p->journal = j;
    hf_journal_attach(j, &v, replay);
    if (replay)
        hf_ingest_store_mark_recent(p);
}
