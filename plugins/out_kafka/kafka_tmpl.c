/* SPDX-License-Identifier: Apache-2.0 */
/* Per-event topic and key templates of the kafka sink, and what a delivery
 * error means for the record. Pure functions: unit-tested on their own. */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum hf_ktmpl_part part;
} tmpl_vars[] = {
    {"source", HF_KT_SOURCE},
    {"event_type", HF_KT_EVENT_TYPE},
    {"severity", HF_KT_SEVERITY},
};

static void add_seg(struct hf_ktmpl *t, enum hf_ktmpl_part part, const char *text, size_t len)
{
    t->segs = hf_realloc(t->segs, (t->nsegs + 1) * sizeof(*t->segs));
    struct hf_ktmpl_seg *s = &t->segs[t->nsegs++];
    s->part = part;
    s->text = part == HF_KT_TEXT ? hf_strndup(text, len) : NULL;
    s->len = part == HF_KT_TEXT ? len : 0;
}

int hf_ktmpl_parse(struct hf_ktmpl *t, const char *text, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    const char *p = text, *lit = text;
    while ((p = strstr(p, "${")) != NULL) {
        const char *end = strchr(p + 2, '}');
        if (!end)
            break; /* an unterminated "${" is plain text */
        size_t nlen = (size_t)(end - p - 2);
        size_t v = 0;
        while (v < sizeof(tmpl_vars) / sizeof(tmpl_vars[0]) &&
               (strlen(tmpl_vars[v].name) != nlen || strncmp(tmpl_vars[v].name, p + 2, nlen) != 0))
            v++;
        if (v == sizeof(tmpl_vars) / sizeof(tmpl_vars[0])) {
            snprintf(why, whylen, "unknown template variable '${%.*s}' (valid: ${source}, ${event_type}, ${severity})",
                     (int)nlen, p + 2);
            hf_ktmpl_free(t);
            return -1;
        }
        if (p > lit)
            add_seg(t, HF_KT_TEXT, lit, (size_t)(p - lit));
        add_seg(t, tmpl_vars[v].part, NULL, 0);
        p = lit = end + 1;
    }
    if (*lit || t->nsegs == 0)
        add_seg(t, HF_KT_TEXT, lit, strlen(lit));
    return 0;
}

void hf_ktmpl_free(struct hf_ktmpl *t)
{
    for (size_t i = 0; i < t->nsegs; i++)
        free(t->segs[i].text);
    free(t->segs);
    memset(t, 0, sizeof(*t));
}

bool hf_ktmpl_has_vars(const struct hf_ktmpl *t)
{
    for (size_t i = 0; i < t->nsegs; i++)
        if (t->segs[i].part != HF_KT_TEXT)
            return true;
    return false;
}

bool hf_kafka_topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

int hf_kafka_topic_check(const struct hf_ktmpl *t, char *why, size_t whylen)
{
    size_t fixed = 0;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct hf_ktmpl_seg *s = &t->segs[i];
        if (s->part != HF_KT_TEXT) {
            fixed++; /* a value is at least one character */
            continue;
        }
        for (size_t j = 0; j < s->len; j++)
            if (!hf_kafka_topic_char(s->text[j])) {
                snprintf(why, whylen, "a topic name may only hold letters, digits, '.', '_' and '-', not '%c'",
                         s->text[j]);
                return -1;
            }
        fixed += s->len;
    }
    if (fixed == 0) {
        snprintf(why, whylen, "the topic is empty");
        return -1;
    }
    if (fixed > HF_KAFKA_TOPIC_MAX) {
        snprintf(why, whylen, "a topic name is at most %d characters", HF_KAFKA_TOPIC_MAX);
        return -1;
    }
    if (t->nsegs == 1 && t->segs[0].part == HF_KT_TEXT && (!strcmp(t->segs[0].text, ".") ||
                                                            !strcmp(t->segs[0].text, ".."))) {
        snprintf(why, whylen, "'%s' is not a valid topic name", t->segs[0].text);
        return -1;
    }
    return 0;
}

static const char *part_value(enum hf_ktmpl_part part, const struct hf_record *r)
{
    switch (part) {
    case HF_KT_SOURCE: return r->source;
    case HF_KT_EVENT_TYPE: return r->event_type;
    case HF_KT_SEVERITY: return hf_severity_name(r->severity);
    default: return NULL;
    }
}

static void append_topic_value(struct hf_buf *out, const char *v)
{
    if (!v || !*v) {
        hf_buf_putc(out, '_');
        return;
    }
    for (const char *p = v; *p; p++)
        hf_buf_putc(out, hf_kafka_topic_char(*p) ? *p : '_');
}

void hf_ktmpl_expand(const struct hf_ktmpl *t, const struct hf_record *r, bool as_topic, struct hf_buf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct hf_ktmpl_seg *s = &t->segs[i];
        if (s->part == HF_KT_TEXT) {
            hf_buf_append(out, s->text, s->len);
            continue;
        }
        const char *v = part_value(s->part, r);
        if (as_topic)
            append_topic_value(out, v);
        else if (v)
            hf_buf_puts(out, v);
    }
    if (as_topic && out->len - start > HF_KAFKA_TOPIC_MAX) {
        out->len = start + HF_KAFKA_TOPIC_MAX;
        out->data[out->len] = '\0';
    }
}

int hf_kkey_parse(struct hf_kkey *k, const char *spec, char *why, size_t whylen)
{
    memset(k, 0, sizeof(*k));
    if (!spec) {
        k->mode = HF_KKEY_DEFAULT;
        return 0;
    }
    if (!*spec) {
        k->mode = HF_KKEY_NONE;
        return 0;
    }
    if (strstr(spec, "${")) {
        k->mode = HF_KKEY_TEMPLATE;
        return hf_ktmpl_parse(&k->tmpl, spec, why, whylen);
    }
    k->mode = HF_KKEY_FIELD;
    k->field = hf_strdup(spec);
    return 0;
}

void hf_kkey_free(struct hf_kkey *k)
{
    free(k->field);
    hf_ktmpl_free(&k->tmpl);
    memset(k, 0, sizeof(*k));
}

static bool field_value(const char *field, const struct hf_record *r, struct hf_buf *out)
{
    if (!strcmp(field, "idempotency_key")) {
        if (!r->idempotency_key)
            return false;
        hf_buf_puts(out, r->idempotency_key);
        return true;
    }
    struct hf_value scratch;
    const struct hf_value *v = hf_record_get(r, field, &scratch);
    if (!v)
        return false;
    switch (v->type) {
    case HF_V_BOOL: hf_buf_puts(out, v->b ? "true" : "false"); return true;
    case HF_V_INT:
    case HF_V_DOUBLE:
    case HF_V_STRING:
        if (!v->s)
            return false;
        hf_buf_append(out, v->s, v->len);
        return true;
    default: return false; /* null or an array: no meaningful key */
    }
}

bool hf_kkey_value(const struct hf_kkey *k, const struct hf_record *r, struct hf_buf *out)
{
    switch (k->mode) {
    case HF_KKEY_NONE: return false;
    case HF_KKEY_FIELD: return field_value(k->field, r, out);
    case HF_KKEY_TEMPLATE: hf_ktmpl_expand(&k->tmpl, r, false, out); return true;
    default:
        /* the idempotency key keeps one decision's (or scan's) messages on
         * one partition, in order, and lets consumers deduplicate */
        if (r->idempotency_key) {
            hf_buf_puts(out, r->idempotency_key);
            return true;
        }
        if (r->event_id) {
            hf_buf_puts(out, r->event_id);
            return true;
        }
        return false;
    }
}

enum hf_outcome hf_kafka_classify(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return HF_OUT_DELIVERED;
    /* the message itself is refused: sending it again changes nothing */
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    /* the topic cannot take it: an operator has to act (ACLs, creating
     * the topic), then `hookfwd replay` the dead letters */
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return HF_OUT_REJECTED;
    default:
        /* timeouts, transport, leader changes, a full queue, purges after
         * a fatal error, and anything unknown: the runtime retries with
         * backoff and gives up into the dead letters after give_up_after */
        return HF_OUT_RETRY;
    }
}
