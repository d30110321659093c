/* SPDX-License-Identifier: Apache-2.0 */
/* The record decoder: a record rebuilt from its own JSON (journal entries,
 * dead letters), with its metric points from the source's rules. */
#define _GNU_SOURCE
#include "decode.h"
#include "profile.h"
#include "util.h"

#include <json-c/json.h>
#include <string.h>

static const char *jstr(struct hf_record *r, json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return hf_rec_strdup(r, json_object_get_string(v));
}

static void jvalue(struct hf_record *r, json_object *o, struct hf_value *v)
{
    memset(v, 0, sizeof(*v));
    json_type t = json_object_get_type(o);
    if (t == json_type_boolean) {
        v->type = HF_V_BOOL;
        v->b = json_object_get_boolean(o);
    } else if (t == json_type_int || t == json_type_double) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        v->type = t == json_type_int ? HF_V_INT : HF_V_DOUBLE;
        v->s = hf_rec_strndup(r, s, len);
        v->len = len;
        v->d = json_object_get_double(o);
        v->i = json_object_get_int64(o);
    } else if (t == json_type_string) {
        v->type = HF_V_STRING;
        v->len = (size_t)json_object_get_string_len(o);
        v->s = hf_rec_strndup(r, json_object_get_string(o), v->len);
    } else if (t == json_type_array) {
        size_t n = json_object_array_length(o);
        struct hf_value *items = hf_rec_alloc(r, (n ? n : 1) * sizeof(*items));
        for (size_t i = 0; i < n; i++)
            jvalue(r, json_object_array_get_idx(o, i), &items[i]);
        v->type = HF_V_ARRAY;
        v->items = items;
        v->nitems = n;
    } else {
        v->type = HF_V_NULL;
    }
}

static struct hf_record *from_object(const struct hf_config *c, json_object *o)
{
    const char *src_name = json_object_get_string(json_object_object_get(o, "source"));
    const char *ev = json_object_get_string(json_object_object_get(o, "event_type"));
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
    json_object *k = json_object_object_get(o, "signature_key");
    r->signature_key = k && json_object_is_type(k, json_type_int) ? json_object_get_int(k) : -1;
    json_object *data = json_object_object_get(o, "data");
    size_t n = data && json_object_is_type(data, json_type_object) ? (size_t)json_object_object_length(data) : 0;
    struct hf_field *f = hf_rec_alloc(r, (n ? n : 1) * sizeof(*f));
    size_t i = 0;
    if (n) {
        json_object_object_foreach(data, key, val)
        {
            f[i].key = hf_rec_strdup(r, key);
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
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
    if (tok)
        json_tokener_free(tok);
    if (!o)
        return NULL;
    struct hf_record *r = json_object_is_type(o, json_type_object) ? from_object(c, o) : NULL;
    json_object_put(o);
    return r;
}
