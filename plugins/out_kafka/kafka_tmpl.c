/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink's topic and key (per-event templates, template.h), and
 * what a delivery error means for the record. Pure functions: unit-tested
 * on their own. */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hf_kafka_topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

int hf_kafka_topic_check(const struct hf_template *t, char *why, size_t whylen)
{
    const char *text = hf_template_source(t);
    size_t fixed = 0;
    for (const char *p = text; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p, '}'); /* compiled, so there is one */
            p = end ? end + 1 : p + strlen(p);
            fixed++; /* a value is at least one character */
            continue;
        }
        if (!hf_kafka_topic_char(*p)) {
            snprintf(why, whylen, "a topic name may only hold letters, digits, '.', '_' and '-', not '%c'", *p);
            return -1;
        }
        fixed++;
        p++;
    }
    if (fixed == 0) {
        snprintf(why, whylen, "the topic is empty");
        return -1;
    }
    if (fixed > HF_KAFKA_TOPIC_MAX) {
        snprintf(why, whylen, "a topic name is at most %d characters", HF_KAFKA_TOPIC_MAX);
        return -1;
    }
    if (!strcmp(text, ".") || !strcmp(text, "..")) {
        snprintf(why, whylen, "'%s' is not a valid topic name", text);
        return -1;
    }
    return 0;
}

void hf_kafka_topic(const struct hf_template *t, const struct hf_record *r, struct hf_buf *out)
{
    /* with HF_ESC_NAME every byte out is one ASCII character: the buffer's
     * size is the cut */
    char topic[HF_KAFKA_TOPIC_MAX + 1];
    hf_template_expand(t, r, HF_ESC_NAME, topic, sizeof(topic));
    hf_buf_puts(out, topic);
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

bool hf_kafka_key(const struct hf_template *key, const struct hf_record *r, struct hf_buf *out)
{
    if (!key) {
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
    const char *text = hf_template_source(key);
    if (!*text)
        return false;
    if (hf_template_constant(key))
        return field_value(text, r, out);
    hf_template_append(key, r, HF_ESC_NONE, out);
    return true;
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
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return HF_OUT_REJECTED;
    default:
        /* timeouts, transport, leader changes, a full queue, purges after
         * a fatal error, and anything unknown: the runtime retries with
         * backoff and gives up into the dead letters after give_up_after */
        return HF_OUT_RETRY;
    }
}
