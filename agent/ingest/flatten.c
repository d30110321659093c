/* SPDX-License-Identifier: Apache-2.0 */
/* Parse + flatten on yyjson. Per thread, a scratch copy of the body (parsed
 * in place), a yyjson pool allocator, the dotted key being built and the
 * field list are kept and reused, so a parse allocates nothing once the
 * thread has seen a body of that size; the record's own arena is the only
 * memory an event takes. yyjson has no depth limit of its own (its reader
 * does not recurse), so the walk below enforces HF_MAX_DEPTH, and it
 * refuses duplicate keys, which yyjson keeps. */
#define _GNU_SOURCE
#include "flatten.h"
#include "profile.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

#define POOL_SIZE (256 * 1024) /* covers bodies of tens of KiB; larger ones fall back to malloc */
#define KEY_LIMIT 4096

struct scratch {
    struct hf_buf text; /* the body, padded, parsed in place */
    struct hf_buf key; /* the dotted key being built */
    struct hf_field *fields; /* fields before they move into the record */
    size_t fields_cap;
    void **sorted; /* duplicate-key check of large objects */
    size_t sorted_cap;
    yyjson_alc alc;
    void *pool;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    struct scratch *s = p;
    if (!s)
        return;
    hf_buf_free(&s->text);
    hf_buf_free(&s->key);
    free(s->fields);
    free(s->sorted);
    free(s->pool);
    free(s);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static struct scratch *thread_scratch(void)
{
    pthread_once(&scratch_once, scratch_key_init);
    struct scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = hf_calloc(1, sizeof(*s));
        hf_buf_init(&s->text, 0);
        hf_buf_init(&s->key, KEY_LIMIT);
        s->pool = hf_calloc(1, POOL_SIZE);
        yyjson_alc_pool_init(&s->alc, s->pool, POOL_SIZE);
        pthread_setspecific(scratch_key, s);
    }
    return s;
}

void hf_flatten_thread_cleanup(void)
{
    pthread_once(&scratch_once, scratch_key_init);
    scratch_free(pthread_getspecific(scratch_key));
    pthread_setspecific(scratch_key, NULL);
}

/* ---- numbers: the exact text as sent, plus its value ---- */

static void number_value(struct hf_record *r, yyjson_val *o, struct hf_value *v)
{
    const char *t = yyjson_get_raw(o);
    size_t n = yyjson_get_len(o);
    v->s = hf_rec_strndup(r, t, n);
    v->len = n;
    bool integer = !memchr(t, '.', n) && !memchr(t, 'e', n) && !memchr(t, 'E', n);
    v->type = integer ? HF_V_INT : HF_V_DOUBLE;
    size_t digits = n - (t[0] == '-');
    if (integer && digits <= 18) {
        /* exact, and the common case: no conversion call */
        int64_t i = 0;
        for (size_t k = t[0] == '-'; k < n; k++)
            i = i * 10 + (t[k] - '0');
        v->i = t[0] == '-' ? -i : i;
        v->d = (double)v->i;
        return;
    }
    /* the copy in the arena is NUL-terminated, as yyjson_read_number wants */
    yyjson_val num;
    if (yyjson_read_number(v->s, &num, 0, NULL, NULL)) {
        if (yyjson_is_uint(&num)) {
            uint64_t u = yyjson_get_uint(&num);
            v->i = u > INT64_MAX ? INT64_MAX : (int64_t)u;
            v->d = (double)u;
        } else if (yyjson_is_sint(&num)) {
            v->i = yyjson_get_sint(&num);
            v->d = (double)v->i;
        } else {
            v->d = yyjson_get_real(&num);
            v->i = v->d >= 9.2e18 ? INT64_MAX : v->d <= -9.2e18 ? INT64_MIN : (int64_t)v->d;
        }
        return;
    }
    /* past what a double holds (1e999, or an integer past 64 bits read as
     * a double): the text stays exact, the value saturates */
    v->d = t[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    if (integer && digits < 400) {
        double d = 0;
        for (size_t k = t[0] == '-'; k < n; k++)
            d = d * 10 + (t[k] - '0');
        v->d = t[0] == '-' ? -d : d;
    }
    v->i = t[0] == '-' ? INT64_MIN : INT64_MAX;
}

void hf_json_scalar(struct hf_record *r, struct yyjson_val *o, struct hf_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (yyjson_get_type(o)) {
    case YYJSON_TYPE_BOOL:
        v->type = HF_V_BOOL;
        v->b = yyjson_get_bool(o);
        break;
    case YYJSON_TYPE_RAW: number_value(r, o, v); break;
    case YYJSON_TYPE_STR:
        v->type = HF_V_STRING;
        v->len = yyjson_get_len(o);
        v->s = hf_rec_strndup(r, yyjson_get_str(o), v->len);
        break;
    default: v->type = HF_V_NULL; break;
    }
}

/* ---- the walk ---- */

struct flat {
    struct hf_record *r;
    struct scratch *s;
    size_t n;
    const char *skip[2]; /* top-level members that are metadata, not data */
    const char *error; /* set once; the walk then stops */
};

static bool is_container(yyjson_val *v) { return yyjson_is_obj(v) || yyjson_is_arr(v); }

static int key_cmp(const void *a, const void *b)
{
    yyjson_val *x = *(yyjson_val *const *)a, *y = *(yyjson_val *const *)b;
    size_t lx = yyjson_get_len(x), ly = yyjson_get_len(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return memcmp(yyjson_get_str(x), yyjson_get_str(y), lx);
}

/* Two members with the same name: RFC 8259 leaves the meaning open, so a
 * receiver behind another parser could read a different value than we
 * verify and forward. Refused. */
static bool has_duplicate_keys(struct flat *f, yyjson_val *obj)
{
    size_t n = yyjson_obj_size(obj);
    if (n < 2)
        return false;
    yyjson_val *keys[24];
    if (n <= 24) {
        size_t i = 0, idx, max;
        yyjson_val *k, *v;
        yyjson_obj_foreach(obj, idx, max, k, v)
        {
            (void)v;
            keys[i++] = k;
        }
        for (size_t a = 1; a < n; a++)
            for (size_t b = 0; b < a; b++)
                if (yyjson_get_len(keys[a]) == yyjson_get_len(keys[b]) &&
                    !memcmp(yyjson_get_str(keys[a]), yyjson_get_str(keys[b]), yyjson_get_len(keys[a])))
                    return true;
        return false;
    }
    /* large objects: sort the key values, compare neighbours */
    struct scratch *s = f->s;
    if (s->sorted_cap < n) {
        s->sorted_cap = n;
        s->sorted = hf_realloc(s->sorted, n * sizeof(*s->sorted));
    }
    yyjson_val **kv = (yyjson_val **)s->sorted;
    size_t i = 0, idx, max;
    yyjson_val *k, *v;
    yyjson_obj_foreach(obj, idx, max, k, v)
    {
        (void)v;
        kv[i++] = k;
    }
    qsort(kv, n, sizeof(*kv), key_cmp);
    for (size_t a = 1; a < n; a++)
        if (key_cmp(&kv[a - 1], &kv[a]) == 0)
            return true;
    return false;
}

static struct hf_field *add_field(struct flat *f)
{
    struct scratch *s = f->s;
    if (f->n >= HF_MAX_FIELDS) {
        f->error = "body has more than 4096 fields";
        return NULL;
    }
    if (f->n == s->fields_cap) {
        s->fields_cap = s->fields_cap ? s->fields_cap * 2 : 64;
        s->fields = hf_realloc(s->fields, s->fields_cap * sizeof(*s->fields));
    }
    struct hf_field *fl = &s->fields[f->n++];
    fl->key = hf_rec_strndup(f->r, s->key.data ? s->key.data : "", s->key.len);
    return fl;
}

static void walk(struct flat *f, yyjson_val *obj, int depth);

static void walk_member(struct flat *f, const char *k, size_t kl, yyjson_val *v, int depth)
{
    struct hf_buf *key = &f->s->key;
    size_t saved = key->len;
    if (saved)
        hf_buf_putc(key, '.');
    hf_snake_case(key, k, kl);
    if (key->overflow) {
        f->error = "body has a key path longer than 4096 bytes";
        return;
    }
    if (yyjson_is_obj(v)) {
        walk(f, v, depth + 1);
    } else if (yyjson_is_arr(v)) {
        size_t idx, max;
        yyjson_val *it;
        bool scalars = true;
        yyjson_arr_foreach(v, idx, max, it) scalars = scalars && !is_container(it);
        if (scalars) {
            struct hf_field *fl = add_field(f);
            if (fl) {
                size_t n = yyjson_arr_size(v);
                struct hf_value *items = hf_rec_alloc(f->r, (n ? n : 1) * sizeof(*items));
                yyjson_arr_foreach(v, idx, max, it) hf_json_scalar(f->r, it, &items[idx]);
                memset(&fl->v, 0, sizeof(fl->v));
                fl->v.type = HF_V_ARRAY;
                fl->v.items = items;
                fl->v.nitems = n;
            }
        } else if (depth + 1 > HF_MAX_DEPTH) {
            f->error = "body nests deeper than 64 levels";
        } else {
            /* arrays holding objects: one key per index, a.0.b */
            yyjson_arr_foreach(v, idx, max, it)
            {
                char num[24], *e = num + sizeof(num), *q = hf_digits_before(e, idx);
                walk_member(f, q, (size_t)(e - q), it, depth + 1);
                if (f->error)
                    break;
            }
        }
    } else {
        struct hf_field *fl = add_field(f);
        if (fl)
            hf_json_scalar(f->r, v, &fl->v);
    }
    key->len = saved;
    if (key->data)
        key->data[saved] = '\0';
}

static void walk(struct flat *f, yyjson_val *obj, int depth)
{
    if (depth > HF_MAX_DEPTH) {
        f->error = "body nests deeper than 64 levels";
        return;
    }
    if (has_duplicate_keys(f, obj)) {
        f->error = "body has a duplicate key in one object";
        return;
    }
    size_t idx, max;
    yyjson_val *k, *v;
    yyjson_obj_foreach(obj, idx, max, k, v)
    {
        const char *ks = yyjson_get_str(k);
        size_t kl = yyjson_get_len(k);
        if (depth == 1) {
            bool skip = false;
            for (int i = 0; i < 2; i++)
                skip |= f->skip[i] && strlen(f->skip[i]) == kl && !memcmp(f->skip[i], ks, kl);
            if (skip)
                continue;
        }
        walk_member(f, ks, kl, v, depth);
        if (f->error)
            return;
    }
}

/* ---- the record ---- */

static const char *top_string(yyjson_val *root, const char *name, size_t *len)
{
    yyjson_val *v = name ? yyjson_obj_getn(root, name, strlen(name)) : NULL;
    if (!yyjson_is_str(v))
        return NULL;
    *len = yyjson_get_len(v);
    return yyjson_get_str(v);
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

/* The body (less the embedded signature) into the padded scratch copy. */
static const char *scratch_text(struct scratch *s, const char *body, size_t len, const struct hf_verify_result *vr,
                                size_t *out_len)
{
    size_t cut_off = vr && vr->cut_len ? vr->cut_off : len, cut_len = vr ? vr->cut_len : 0;
    hf_buf_reset(&s->text);
    hf_buf_reserve(&s->text, len - cut_len + YYJSON_PADDING_SIZE);
    hf_buf_append(&s->text, body, cut_off);
    hf_buf_append(&s->text, body + cut_off + cut_len, len - cut_off - cut_len);
    memset(s->text.data + s->text.len, 0, YYJSON_PADDING_SIZE);
    *out_len = s->text.len;
    return s->text.data;
}

static void idempotency_key(struct hf_record *r, const struct hf_source *src, const struct hf_verify_result *vr,
                            const char *webhook_id)
{
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
}

struct hf_record *hf_flatten_event(const struct hf_source *src, const struct hf_metric_rule *rules, size_t nrules,
                                   bool points, const char *body, size_t len, const struct hf_verify_result *vr,
                                   const char *webhook_id, int64_t received_ms, char *reason, size_t reasonlen)
{
    struct scratch *s = thread_scratch();
    size_t n;
    char *text = (char *)scratch_text(s, body, len, vr, &n);
    if (s->text.overflow) {
        hf_str_join3(reason, reasonlen, "out of memory", NULL, NULL);
        return NULL;
    }
    /* strict RFC 8259 (the non-standard flags are compiled out), UTF-8
     * validated (overlong forms, surrogates and code points past U+10FFFF
     * included); numbers as their text, converted below */
    yyjson_read_flag flg = YYJSON_READ_INSITU | YYJSON_READ_NUMBER_AS_RAW;
    yyjson_read_err err;
    yyjson_doc *doc = yyjson_read_opts(text, n, flg, &s->alc, &err);
    if (!doc && err.code == YYJSON_READ_ERROR_MEMORY_ALLOCATION) {
        /* larger than the pool: this once, from the heap, on a fresh copy
         * (the failed parse may have unescaped strings in place) */
        text = (char *)scratch_text(s, body, len, vr, &n);
        doc = yyjson_read_opts(text, n, flg, NULL, &err);
    }
    struct hf_record *r = NULL;
    if (!doc) {
        snprintf(reason, reasonlen, "body is not valid JSON: %s at byte %zu", err.msg, err.pos);
        return NULL;
    }
    yyjson_val *root = yyjson_doc_get_root(doc);
    size_t evl = 0, tsl = 0;
    const char *ev = NULL, *ts = NULL;
    struct flat f = {.s = s, .skip = {src->event_field, src->time_field}};
    if (!yyjson_is_obj(root)) {
        hf_str_join3(reason, reasonlen, "body must be a JSON object", NULL, NULL);
        goto out;
    }
    if (has_duplicate_keys(&f, root)) {
        hf_str_join3(reason, reasonlen, "body has a duplicate key in one object", NULL, NULL);
        goto out;
    }
    ev = top_string(root, src->event_field, &evl);
    if (!ev || !evl) {
        snprintf(reason, reasonlen, "missing event type: top-level string member '%s'", src->event_field);
        goto out;
    }
    r = hf_record_new_scratch();
    /* copies: the record may outlive this config (a sink reused across a
     * reload keeps its queue) */
    r->source = hf_rec_strdup(r, src->name);
    r->event_type = hf_rec_strndup(r, ev, evl);
    r->received_ms = received_ms;
    r->event_ms = received_ms;
    r->signature_key = vr ? vr->key_index : -1;
    r->severity = hf_source_severity(src, r->event_type);
    ts = top_string(root, src->time_field, &tsl);
    if (ts) {
        r->timestamp = hf_rec_strndup(r, ts, tsl);
        int64_t ms;
        if (hf_parse_rfc3339(ts, tsl, &ms) == 0)
            r->event_ms = ms;
    } else {
        char iso[32];
        hf_format_iso_ms(received_ms, iso, sizeof(iso));
        r->timestamp = hf_rec_strdup(r, iso);
    }

    f.r = r;
    hf_buf_reset(&s->key);
    walk(&f, root, 1);
    if (f.error) {
        hf_record_drop_scratch(r);
        r = NULL;
        hf_str_join3(reason, reasonlen, f.error, NULL, NULL);
        goto out;
    }
    struct hf_field *fields = hf_rec_alloc(r, (f.n ? f.n : 1) * sizeof(*fields));
    if (f.n)
        memcpy(fields, s->fields, f.n * sizeof(*fields));
    r->fields = fields;
    r->nfields = f.n;

    if (src->profile)
        for (const char *const *idf = src->profile->id_fields; *idf && !r->event_id; idf++)
            r->event_id = field_text(r, *idf);
    if (!r->event_id && src->id_field)
        r->event_id = field_text(r, src->id_field);
    idempotency_key(r, src, vr, webhook_id);
    if (points)
        hf_rules_apply(r, src, rules, nrules);
    hf_record_seal(r);
    r = hf_record_pack(r); /* one block sized to the event */
out:
    yyjson_doc_free(doc);
    return r;
}
