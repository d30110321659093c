/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink's internals shared by its files and its unit tests:
 * per-event topic and key templates, delivery-error classification (all
 * pure), and the librdkafka configuration built from the sink's YAML. */
#ifndef HF_OUT_KAFKA_H
#define HF_OUT_KAFKA_H

#include "plugin.h"
#include "record.h"
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

/* Kafka's own limit on a topic name's length. */
#define HF_KAFKA_TOPIC_MAX 249

enum hf_ktmpl_part { HF_KT_TEXT, HF_KT_SOURCE, HF_KT_EVENT_TYPE, HF_KT_SEVERITY };

struct hf_ktmpl_seg {
    enum hf_ktmpl_part part;
    char *text; /* HF_KT_TEXT only */
    size_t len;
};

/* A template such as "hookfwd.${source}.${event_type}", split once at load
 * so expanding it per message is a few appends. */
struct hf_ktmpl {
    struct hf_ktmpl_seg *segs;
    size_t nsegs;
};

/* Parses text; -1 with why set for a ${name} other than source,
 * event_type and severity. The template owns copies of the text. */
int hf_ktmpl_parse(struct hf_ktmpl *t, const char *text, char *why, size_t whylen);
void hf_ktmpl_free(struct hf_ktmpl *t);
bool hf_ktmpl_has_vars(const struct hf_ktmpl *t);
/* Appends the template filled from r. With as_topic, characters a topic
 * name cannot hold are replaced by '_' in the filled-in values, an empty
 * value becomes "_", and the result is cut at HF_KAFKA_TOPIC_MAX, so an
 * event type chosen by a sender can never make an invalid topic name. */
void hf_ktmpl_expand(const struct hf_ktmpl *t, const struct hf_record *r, bool as_topic, struct hf_buf *out);

/* Characters Kafka allows in a topic name: [A-Za-z0-9._-]. */
bool hf_kafka_topic_char(char c);
/* Checks a topic template's fixed text; -1 with why set. */
int hf_kafka_topic_check(const struct hf_ktmpl *t, char *why, size_t whylen);

enum hf_kkey_mode {
    HF_KKEY_DEFAULT,  /* idempotency key, else event_id, else no key */
    HF_KKEY_NONE,     /* key: "" - no key, messages spread over partitions */
    HF_KKEY_FIELD,    /* key: decision.id - a record field or pseudo-field */
    HF_KKEY_TEMPLATE, /* key: "${source}:${event_type}" */
};

struct hf_kkey {
    enum hf_kkey_mode mode;
    char *field;
    struct hf_ktmpl tmpl;
};

/* spec NULL: the default. -1 with why set on a bad template. */
int hf_kkey_parse(struct hf_kkey *k, const char *spec, char *why, size_t whylen);
void hf_kkey_free(struct hf_kkey *k);
/* Fills out with r's message key; false when the message has none (the
 * field is absent, null or an array). */
bool hf_kkey_value(const struct hf_kkey *k, const struct hf_record *r, struct hf_buf *out);

/* What a failed delivery report means for the record: HF_OUT_RETRY for
 * errors that can go away (timeouts, transport, leader changes, a full
 * queue, purges), HF_OUT_REJECTED for the message itself being refused
 * (too large, invalid, not authorized, unknown topic). */
enum hf_outcome hf_kafka_classify(rd_kafka_resp_err_t err);

/* kafka_conf.c */

/* The options as the core binds them (hf_kafka_options); owned by the
 * core. brokers is a "host:port,..." scalar or a list; properties a map of
 * librdkafka properties. */
struct kafka_options {
    const struct hf_cnode *brokers;
    char *topic, *metrics_topic;
    char *key; /* NULL: the default key; "": none */
    int compression;
    int64_t message_timeout_ms;
    const struct hf_cnode *properties;
};

extern const struct hf_option hf_kafka_options[];
/* The producer configuration of a sink: defaults, then `properties`, then
 * what hookfwd always sets (idempotence, acks=all, compression, timeout).
 * for_check leaves out the brokers so nothing connects. NULL, reported
 * through ck at the option or property at fault. */
rd_kafka_conf_t *hf_kafka_conf_build(const struct kafka_options *o, const struct hf_check *ck, bool for_check);
/* Reports a rd_kafka_new() failure at the properties (or the sink). */
int hf_kafka_new_error(const struct kafka_options *o, const struct hf_check *ck, const char *errstr);
/* The plugin's check hook: templates, key, brokers and the whole librdkafka
 * configuration (a producer is created without brokers and destroyed). */
int hf_kafka_check(const void *conf, const struct hf_check *ck);

#endif
