/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink's options and the librdkafka configuration built from
 * them, checked when the YAML is loaded so `hookfwd check` and a reload
 * reject a bad property with its file:line:col. */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(m) HF_OPT_AT(struct kafka_options, m)
#define COMPRESSIONS "none|gzip|snappy|lz4|zstd"

const struct hf_option hf_kafka_options[] = {
    {.name = "brokers",
     .type = HF_OPT_ANY,
     .required = true,
     .help = "bootstrap brokers: \"host:port,host:port\" or a list of host:port",
     OPT(brokers)},
    {.name = "topic",
     .type = HF_OPT_TEMPLATE,
     .required = true,
     .help = "topic template, e.g. hookfwd.${source}.${event_type}",
     OPT(topic)},
    {.name = "metrics_topic",
     .type = HF_OPT_TEMPLATE,
     .help = "topic template for metric points (default: topic)",
     OPT(metrics_topic)},
    {.name = "key",
     .type = HF_OPT_TEMPLATE,
     .help = "message key: a record field, a template, or \"\" for none (default: the idempotency key)",
     OPT(key)},
    {.name = "compression", .type = HF_OPT_ENUM, .enums = COMPRESSIONS, .def = "none", OPT(compression)},
    {.name = "message_timeout",
     .type = HF_OPT_DURATION,
     .def = "60s",
     .min = 1000,
     .max = 86400000,
     .help = "how long librdkafka retries a message before its delivery report fails",
     OPT(message_timeout_ms)},
    {.name = "properties",
     .type = HF_OPT_STRMAP,
     .help = "librdkafka properties (its CONFIGURATION.md)",
     OPT(properties)},
    {0}};

/* Properties hookfwd sets itself: the sink's own option or a fixed value. */
static const struct {
    const char *name;
    const char *allowed; /* values that agree with hookfwd ("a|b"), NULL: none */
    const char *instead;
} owned_props[] = {
    {"bootstrap.servers", NULL, "use the sink's 'brokers' option"},
    {"metadata.broker.list", NULL, "use the sink's 'brokers' option"},
    {"compression.codec", NULL, "use the sink's 'compression' option"},
    {"compression.type", NULL, "use the sink's 'compression' option"},
    {"message.timeout.ms", NULL, "use the sink's 'message_timeout' option"},
    {"delivery.timeout.ms", NULL, "use the sink's 'message_timeout' option"},
    {"enable.idempotence", "true", "hookfwd always runs an idempotent producer"},
    {"acks", "all|-1", "hookfwd always produces with acks=all"},
    {"request.required.acks", "all|-1", "hookfwd always produces with acks=all"},
    {"transactional.id", NULL, "hookfwd does not use Kafka transactions"},
    {"delivery.report.only.error", "false", "a batch is delivered only when every message's report says so"},
};

static bool value_in(const char *allowed, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = allowed; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && !strncmp(p, v, n))
            return true;
        p = bar ? bar + 1 : p + l;
    }
    return false;
}

static bool secret_property(const char *name)
{
    static const char *const words[] = {"password", "secret", "key", "token", "jaas", "oauthbearer.config"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(name, words[i]))
            return true;
    return false;
}

/* Some property values are credentials (sasl.password...): librdkafka
 * quotes a rejected value in its message, so every copy of it is masked. */
static void mask_value(char *msg, size_t cap, const char *name, const char *value)
{
    size_t vl = strlen(value);
    if (vl == 0 || !secret_property(name))
        return;
    char out[512];
    size_t o = 0;
    for (const char *p = msg; *p && o + 4 < sizeof(out);) {
        if (!strncmp(p, value, vl)) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += vl;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(msg, cap, "%s", out);
}

static int set_owned_check(const struct hf_check *ck, const struct hf_cnode *p)
{
    const char *key = hf_node_key(p), *value = hf_node_text(p);
    for (size_t i = 0; i < sizeof(owned_props) / sizeof(owned_props[0]); i++) {
        if (strcmp(key, owned_props[i].name) != 0)
            continue;
        if (owned_props[i].allowed && value && value_in(owned_props[i].allowed, value))
            return 0;
        return hf_check_fail_at(ck, p, true, "librdkafka property '%s' cannot be set here: %s", key,
                                owned_props[i].instead);
    }
    return 0;
}

static int apply_properties(const struct kafka_options *o, const struct hf_check *ck, rd_kafka_conf_t *kc)
{
    for (size_t i = 0; i < hf_node_count(o->properties); i++) {
        const struct hf_cnode *p = hf_node_child(o->properties, i);
        const char *key = hf_node_key(p), *value = hf_node_text(p);
        if (set_owned_check(ck, p) < 0)
            return -1;
        char errstr[512];
        if (rd_kafka_conf_set(kc, key, value ? value : "", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            mask_value(errstr, sizeof(errstr), key, value ? value : "");
            return hf_check_fail_at(ck, p, true, "librdkafka property '%s': %s", key, errstr);
        }
    }
    return 0;
}

/* Each broker of "host[:port],..." (librdkafka's own syntax, a
 * "PROTOCOL://" prefix allowed) has a host and, when given, a port from 1
 * to 65535. */
static bool brokers_valid(const char *list, char *bad, size_t badlen)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        char item[300];
        snprintf(item, sizeof(item), "%.*s", (int)(n < sizeof(item) ? n : sizeof(item) - 1), p);
        snprintf(bad, badlen, "%s", item);
        char *host = strstr(item, "://") ? strstr(item, "://") + 3 : item;
        while (*host == ' ')
            host++;
        char *colon = strrchr(host, ':'), *end = NULL;
        if (!*host || colon == host)
            return false;
        if (colon && !strchr(colon, ']')) {
            long port = strtol(colon + 1, &end, 10);
            if (end == colon + 1 || *end || port < 1 || port > 65535)
                return false;
        }
        if (!p[n])
            return true;
        p += n + 1;
    }
}

/* "a:9092,b:9092" from a scalar or a list; -1 reported. */
static int brokers_text(const struct kafka_options *o, const struct hf_check *ck, struct hf_buf *out)
{
    const struct hf_cnode *n = o->brokers;
    if (hf_node_text(n)) {
        hf_buf_puts(out, hf_node_text(n));
    } else if (hf_node_is_list(n)) {
        for (size_t i = 0; i < hf_node_count(n); i++) {
            const char *b = hf_node_text(hf_node_child(n, i));
            if (!b || !*b)
                return hf_check_fail_at(ck, hf_node_child(n, i), false, "each broker must be a host:port string");
            if (i)
                hf_buf_putc(out, ',');
            hf_buf_puts(out, b);
        }
    } else {
        return hf_check_fail(ck, "brokers", "must be \"host:port,...\" or a list");
    }
    if (out->len == 0)
        return hf_check_fail(ck, "brokers", "is empty");
    char bad[300];
    if (!brokers_valid(out->data, bad, sizeof(bad)))
        return hf_check_fail(ck, "brokers", "'%s' is not host:port with a port from 1 to 65535", bad);
    return 0;
}

static int set_fixed(rd_kafka_conf_t *kc, const char *name, const char *value, const struct hf_check *ck)
{
    char errstr[512];
    if (rd_kafka_conf_set(kc, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return 0;
    return hf_check_fail(ck, NULL, "librdkafka property '%s': %s", name, errstr);
}

rd_kafka_conf_t *hf_kafka_conf_build(const struct kafka_options *o, const struct hf_check *ck, bool for_check)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    struct hf_buf brokers;
    hf_buf_init(&brokers, 0);
    char timeout[32], compression[16];
    snprintf(timeout, sizeof(timeout), "%lld", (long long)o->message_timeout_ms);
    hf_opt_enum_text(COMPRESSIONS, o->compression, compression, sizeof(compression));
    int rc = -1;
    if (brokers_text(o, ck, &brokers) < 0)
        goto done;
    /* a default the properties may change */
    if (set_fixed(kc, "client.id", "hookfwd", ck) < 0 || apply_properties(o, ck, kc) < 0)
        goto done;
    if (set_fixed(kc, "enable.idempotence", "true", ck) < 0 || set_fixed(kc, "acks", "all", ck) < 0 ||
        set_fixed(kc, "compression.codec", compression, ck) < 0 || set_fixed(kc, "message.timeout.ms", timeout, ck) < 0)
        goto done;
    if (!for_check && set_fixed(kc, "bootstrap.servers", brokers.data, ck) < 0)
        goto done;
    rc = 0;
done:
    hf_buf_free(&brokers);
    if (rc < 0) {
        rd_kafka_conf_destroy(kc);
        return NULL;
    }
    return kc;
}

int hf_kafka_new_error(const struct kafka_options *o, const struct hf_check *ck, const char *errstr)
{
    return hf_check_fail(ck, o->properties ? "properties" : NULL, "librdkafka: %s", errstr);
}

static int check_topic(const struct hf_check *ck, const char *opt, const struct hf_template *t)
{
    char why[300];
    if (t && hf_kafka_topic_check(t, why, sizeof(why)) < 0)
        return hf_check_fail(ck, opt, "%s", why);
    return 0;
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

int hf_kafka_check(const void *conf, const struct hf_check *ck)
{
    const struct kafka_options *o = conf;
    /* the templates compiled at load; a topic's own text is checked here */
    if (check_topic(ck, "topic", o->topic) < 0 || check_topic(ck, "metrics_topic", o->metrics_topic) < 0)
        return -1;
    rd_kafka_conf_t *kc = hf_kafka_conf_build(o, ck, true);
    if (!kc)
        return -1;
    /* rd_kafka_new() checks what rd_kafka_conf_set() cannot: combinations
     * (max.in.flight with idempotence), certificate files, SASL setup.
     * Without brokers it opens no connection. */
    rd_kafka_conf_set_log_cb(kc, quiet_log);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(kc);
        return hf_kafka_new_error(o, ck, errstr);
    }
    rd_kafka_destroy(rk);
    return 0;
}
