/* SPDX-License-Identifier: Apache-2.0 */
/* Reading HEC's answers: the {"text","code","invalid-event-number","ackId"}
 * reply, the status table that decides what a batch's fate is, and the ack
 * query's {"acks":{...}} answer. */
#include "splunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

static yyjson_doc *parse_json(const char *body, size_t len)
{
    if (!body || len == 0 || len > (1u << 20))
        return NULL;
    return yyjson_read(body, len, 0);
}

static int64_t get_int(yyjson_val *o, const char *key, int64_t dflt)
{
    yyjson_val *v = yyjson_obj_get(o, key);
    return yyjson_is_int(v) ? yyjson_get_sint(v) : dflt;
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
    yyjson_doc *doc = parse_json(body, len);
    yyjson_val *o = yyjson_doc_get_root(doc);
    if (!yyjson_is_obj(o)) {
        copy_text(out->text, sizeof(out->text), body, len);
        yyjson_doc_free(doc);
        return;
    }
    out->code = (int)get_int(o, "code", -1);
    out->invalid_event = (long)get_int(o, "invalid-event-number", -1);
    out->ack_id = get_int(o, "ackId", -1);
    const char *t = yyjson_get_str(yyjson_obj_get(o, "text"));
    if (t)
        snprintf(out->text, sizeof(out->text), "%s", t);
    yyjson_doc_free(doc);
}

static enum hf_splunk_class classify_400(int code)
{
    switch (code) {
    case 5: /* no data */
    case 6: /* invalid data format */
    case 12: /* event field is required */
    case 13: /* event field cannot be blank */
    case 15: /* error in handling indexed fields */ return HF_SPLUNK_POISON;
    default: /* 7 index, 10/11 channel, 14 ack disabled, 16 ... */ return HF_SPLUNK_CONFIG;
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
    yyjson_doc *doc = parse_json(body, len);
    yyjson_val *acks = yyjson_obj_get(yyjson_doc_get_root(doc), "acks");
    int rc = -1;
    if (yyjson_is_obj(acks)) {
        rc = 0;
        size_t idx, max;
        yyjson_val *k, *val;
        yyjson_obj_foreach(acks, idx, max, k, val)
        {
            const char *key = yyjson_get_str(k);
            char *end;
            long long id = strtoll(key, &end, 10);
            if (*key && !*end && id >= 0 && yyjson_is_true(val))
                fn(arg, (int64_t)id);
        }
    }
    yyjson_doc_free(doc);
    return rc;
}
