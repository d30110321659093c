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

/* Appends the topic for r: t expanded with HF_ESC_NAME (a character a
 * topic name cannot hold becomes '_' in the filled-in values, an empty
 * value "_") and cut at HF_KAFKA_TOPIC_MAX, so an event type chosen by a
 * sender can never make an invalid topic name. */
void hf_kafka_topic(const struct hf_template *t, const struct hf_record *r, struct hf_buf *out);

/* Characters Kafka allows in a topic name: [A-Za-z0-9._-]. */
bool hf_kafka_topic_char(char c);
/* Checks a topic template's own text (outside its ${...}); -1 with why. */
int hf_kafka_topic_check(const struct hf_template *t, char *why, size_t whylen);

/* The message key of r under the `key` option, compiled as a template:
 * unset (NULL): the idempotency key, else event_id, else none; "": none;
 * plain text: the record field (or pseudo-field) of that name, e.g.
 * decision.id; with ${...}: the expansion. Appends it to out; false when
 * the message has none (a field absent, null or an array). */
bool hf_kafka_key(const struct hf_template *key, const struct hf_record *r, struct hf_buf *out);

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
    struct hf_template *topic, *metrics_topic; /* metrics_topic NULL: topic */
    struct hf_template *key; /* NULL: the default key; "": none; see hf_kafka_key */
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
