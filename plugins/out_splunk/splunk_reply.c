/* SPDX-License-Identifier: Apache-2.0 */
/* Reading HEC's answers: the {"text","code","invalid-event-number","ackId"}
 * reply, the status table that decides what a batch's fate is, and the ack
 * query's {"acks":{...}} answer. */
#include "splunk.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *parse_json(const char *body, size_t len)
{
    if (!body || len == 0 || len > (1u << 20))
        return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static int64_t get_int(json_object *o, const char *key, int64_t dflt)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    return json_object_get_int64(v);
}

/* Keeps a printable prefix of a body that is not HEC JSON (a proxy's HTML
 * error page, say), so the log says what answered. */
static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++)
        dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : ' ';
    dst[o] = '\0';
}

void hf_splunk_parse_reply(long status, const char *body, size_t len, struct hf_splunk_reply *out)
{
    memset(out, 0, sizeof(*out));
    out->status = status;
    out->code = -1;
    out->invalid_event = -1;
    out->ack_id = -1;
    json_object *o = parse_json(body, len);
    if (!o || !json_object_is_type(o, json_type_object)) {
        copy_text(out->text, sizeof(out->text), body, len);
        json_object_put(o);
        return;
    }
    out->code = (int)get_int(o, "code", -1);
    out->invalid_event = (long)get_int(o, "invalid-event-number", -1);
    out->ack_id = get_int(o, "ackId", -1);
    json_object *t;
    if (json_object_object_get_ex(o, "text", &t) && json_object_is_type(t, json_type_string))
        snprintf(out->text, sizeof(out->text), "%s", json_object_get_string(t));
    json_object_put(o);
}

static enum hf_splunk_class classify_400(int code)
{
    switch (code) {
    case 5:  /* no data */
    case 6:  /* invalid data format */
    case 12: /* event field is required */
    case 13: /* event field cannot be blank */
    case 15: /* error in handling indexed fields */
        return HF_SPLUNK_POISON;
    default: /* 7 index, 10/11 channel, 14 ack disabled, 16 ... */
        return HF_SPLUNK_CONFIG;
    }
}

enum hf_splunk_class hf_splunk_classify(const struct hf_splunk_reply *r)
{
    long st = r->status;
    if (st >= 200 && st < 300)
        return HF_SPLUNK_OK; /* 24 and 25 warn of capacity but the events were accepted */
    if (st == 401 || st == 403)
        return HF_SPLUNK_AUTH;
    if (st == 413)
        return HF_SPLUNK_TOO_LARGE;
    if (st == 400)
        return classify_400(r->code);
    if (st == 408 || st == 429 || st >= 500 || st < 200)
        return HF_SPLUNK_RETRY;
    /* 3xx (the token must not follow a redirect), 404 (wrong path), 405,
     * 407 and the rest of 4xx: nothing a resend fixes, the operator must */
    return HF_SPLUNK_CONFIG;
}

int hf_splunk_parse_acks(const char *body, size_t len, void (*fn)(void *arg, int64_t id), void *arg)
{
    json_object *o = parse_json(body, len), *acks;
    int rc = -1;
    if (o && json_object_object_get_ex(o, "acks", &acks) && json_object_is_type(acks, json_type_object)) {
        rc = 0;
        json_object_object_foreach(acks, key, val)
        {
            char *end;
            long long id = strtoll(key, &end, 10);
            if (*key && !*end && id >= 0 && json_object_is_type(val, json_type_boolean) &&
                json_object_get_boolean(val))
                fn(arg, (int64_t)id);
        }
    }
    json_object_put(o);
    return rc;
}
