/* SPDX-License-Identifier: Apache-2.0 */
/* The record decoder: a record rebuilt from its own JSON (journal entries,
 * dead letters), with its metric points from the source's rules. */
#define _GNU_SOURCE
#include "decode.h"
#include "profile.h"
#include "util.h"

#include "flatten.h"

#include <string.h>
#include <yyjson.h>

static const char *jstr(struct hf_record *r, yyjson_val *o, const char *k)
{
    yyjson_val *v = yyjson_obj_get(o, k);
    return yyjson_is_str(v) ? hf_rec_strndup(r, yyjson_get_str(v), yyjson_get_len(v)) : NULL;
}

static void jvalue(struct hf_record *r, yyjson_val *o, struct hf_value *v)
{
    if (!yyjson_is_arr(o)) {
        hf_json_scalar(r, o, v);
        return;
    }
    memset(v, 0, sizeof(*v));
    size_t n = yyjson_arr_size(o), idx, max;
    struct hf_value *items = hf_rec_alloc(r, (n ? n : 1) * sizeof(*items));
    yyjson_val *it;
    yyjson_arr_foreach(o, idx, max, it) hf_json_scalar(r, it, &items[idx]);
    v->type = HF_V_ARRAY;
    v->items = items;
    v->nitems = n;
}

static struct hf_record *from_object(const struct hf_config *c, yyjson_val *o)
{
    const char *src_name = yyjson_get_str(yyjson_obj_get(o, "source"));
    const char *ev = yyjson_get_str(yyjson_obj_get(o, "event_type"));
    if (!src_name || !ev)
        return NULL;
    struct hf_record *r = hf_record_new();
    const struct hf_source *src = NULL;
    for (size_t i = 0; i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, src_name))
            src = &c->sources[i];
    r->source = src ? src->name : hf_rec_strdup(r, src_name);
    r->event_type = hf_rec_strdup(r, ev);
    r->event_id = jstr(r, o, "event_id");
    r->idempotency_key = jstr(r, o, "idempotency_key");
    r->timestamp = jstr(r, o, "timestamp");
    const char *sev = jstr(r, o, "severity");
    if (sev)
        hf_severity_parse(sev, &r->severity);
    const char *recv = jstr(r, o, "received_at");
    r->received_ms = hf_now_ms();
    if (recv)
        hf_parse_rfc3339(recv, strlen(recv), &r->received_ms);
    r->event_ms = r->received_ms;
    if (r->timestamp)
        hf_parse_rfc3339(r->timestamp, strlen(r->timestamp), &r->event_ms);
    /* numbers are read as their text: signature_key is a small integer */
    yyjson_val *k = yyjson_obj_get(o, "signature_key");
    r->signature_key = -1;
    if (yyjson_is_raw(k)) {
        struct hf_value kv;
        hf_json_scalar(r, k, &kv);
        if (kv.type == HF_V_INT && kv.i >= -1 && kv.i < 1000)
            r->signature_key = (int)kv.i;
    }
    yyjson_val *data = yyjson_obj_get(o, "data");
    size_t n = yyjson_is_obj(data) ? yyjson_obj_size(data) : 0;
    struct hf_field *f = hf_rec_alloc(r, (n ? n : 1) * sizeof(*f));
    size_t i = 0;
    if (n) {
        size_t idx, max;
        yyjson_val *key, *val;
        yyjson_obj_foreach(data, idx, max, key, val)
        {
            f[i].key = hf_rec_strndup(r, yyjson_get_str(key), yyjson_get_len(key));
            jvalue(r, val, &f[i].v);
            i++;
        }
    }
    r->fields = f;
    r->nfields = i;
    if (src)
        hf_rules_apply(r, src, c->rules, c->nrules);
    hf_record_seal(r);
    return r;
}

struct hf_record *hf_record_decode(const struct hf_config *c, const char *json, size_t len)
{
    yyjson_doc *doc = yyjson_read(json, len, YYJSON_READ_NUMBER_AS_RAW);
    yyjson_val *o = yyjson_doc_get_root(doc);
    struct hf_record *r = yyjson_is_obj(o) ? from_object(c, o) : NULL;
    yyjson_doc_free(doc);
    return r;
}
