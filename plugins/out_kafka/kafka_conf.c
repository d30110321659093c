/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink's options and the librdkafka configuration built from
 * them, checked when the YAML is loaded so `hookfwd check` and a reload
 * reject a bad property with its file:line:col. */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct hf_option hf_kafka_options[] = {
    {.name = "brokers", .type = HF_OPT_ANY, .required = true,
     .help = "bootstrap brokers: \"host:port,host:port\" or a list of host:port"},
    {.name = "topic", .type = HF_OPT_STR, .required = true,
     .help = "topic template: ${source}, ${event_type}, ${severity}"},
    {.name = "metrics_topic", .type = HF_OPT_STR, .help = "topic template for metric points (default: topic)"},
    {.name = "key", .type = HF_OPT_STR,
     .help = "message key: a record field, a template, or \"\" for none (default: the idempotency key)"},
    {.name = "compression", .type = HF_OPT_ENUM, .enums = "none|gzip|snappy|lz4|zstd", .def = "none"},
    {.name = "message_timeout", .type = HF_OPT_DURATION, .def = "60s", .min = 1000, .max = 86400000,
     .help = "how long librdkafka retries a message before its delivery report fails"},
    {.name = "properties", .type = HF_OPT_STRMAP, .help = "librdkafka properties (its CONFIGURATION.md)"},
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

static int set_owned_check(const struct hf_sink_conf *conf, const char *file, const struct hf_cnode *p,
                           struct hf_cerr *err)
{
    for (size_t i = 0; i < sizeof(owned_props) / sizeof(owned_props[0]); i++) {
        if (strcmp(p->key, owned_props[i].name) != 0)
            continue;
        if (owned_props[i].allowed && value_in(owned_props[i].allowed, p->value))
            return 0;
        hf_cerr_at(err, file, p->key_line, p->key_col, "sink '%s': librdkafka property '%s' cannot be set here: %s",
                   conf->name, p->key, owned_props[i].instead);
        return -1;
    }
    return 0;
}

static int apply_properties(const struct hf_sink_conf *conf, const char *file, rd_kafka_conf_t *kc,
                            struct hf_cerr *err)
{
    const struct hf_cnode *props = hf_cnode_get(conf->node, "properties");
    for (size_t i = 0; props && i < props->nchild; i++) {
        const struct hf_cnode *p = &props->child[i];
        if (set_owned_check(conf, file, p, err) < 0)
            return -1;
        char errstr[512];
        if (rd_kafka_conf_set(kc, p->key, p->value ? p->value : "", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            mask_value(errstr, sizeof(errstr), p->key, p->value ? p->value : "");
            hf_cerr_at(err, file, p->key_line, p->key_col, "sink '%s': librdkafka property '%s': %s", conf->name,
                       p->key, errstr);
            return -1;
        }
    }
    return 0;
}

/* "a:9092,b:9092" from a scalar or a list; -1 with err set. */
static int brokers_text(const struct hf_sink_conf *conf, const char *file, struct hf_buf *out, struct hf_cerr *err)
{
    const struct hf_cnode *n = hf_cnode_get(conf->node, "brokers");
    if (n->kind == HF_CN_SCALAR) {
        hf_buf_puts(out, n->value ? n->value : "");
    } else if (n->kind == HF_CN_SEQ) {
        for (size_t i = 0; i < n->nchild; i++) {
            const struct hf_cnode *b = &n->child[i];
            if (b->kind != HF_CN_SCALAR || !b->value || !*b->value) {
                hf_cerr_at(err, file, b->line, b->col, "sink '%s': each broker must be a host:port string",
                           conf->name);
                return -1;
            }
            if (i)
                hf_buf_putc(out, ',');
            hf_buf_puts(out, b->value);
        }
    } else {
        hf_cerr_at(err, file, n->line, n->col, "sink '%s': 'brokers' must be \"host:port,...\" or a list",
                   conf->name);
        return -1;
    }
    if (out->len == 0) {
        hf_cerr_at(err, file, n->line, n->col, "sink '%s': 'brokers' is empty", conf->name);
        return -1;
    }
    return 0;
}

static int set_fixed(rd_kafka_conf_t *kc, const char *name, const char *value, const struct hf_sink_conf *conf,
                     const char *file, struct hf_cerr *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(kc, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return 0;
    hf_cerr_at(err, file, conf->node->line, conf->node->col, "sink '%s': librdkafka property '%s': %s", conf->name,
               name, errstr);
    return -1;
}

rd_kafka_conf_t *hf_kafka_conf_build(const struct hf_sink_conf *conf, const char *file, bool for_check,
                                     struct hf_cerr *err)
{
    const struct hf_option *t = hf_kafka_options;
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    struct hf_buf brokers;
    hf_buf_init(&brokers, 0);
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%lld", (long long)hf_conf_num(conf->node, t, "message_timeout"));
    int rc = -1;
    if (brokers_text(conf, file, &brokers, err) < 0)
        goto done;
    /* a default the properties may change */
    if (set_fixed(kc, "client.id", "hookfwd", conf, file, err) < 0 || apply_properties(conf, file, kc, err) < 0)
        goto done;
    if (set_fixed(kc, "enable.idempotence", "true", conf, file, err) < 0 ||
        set_fixed(kc, "acks", "all", conf, file, err) < 0 ||
        set_fixed(kc, "compression.codec", hf_conf_str(conf->node, t, "compression"), conf, file, err) < 0 ||
        set_fixed(kc, "message.timeout.ms", timeout, conf, file, err) < 0)
        goto done;
    if (!for_check && set_fixed(kc, "bootstrap.servers", brokers.data, conf, file, err) < 0)
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

void hf_kafka_new_error(const struct hf_sink_conf *conf, const char *file, const char *errstr, struct hf_cerr *err)
{
    const struct hf_cnode *at = hf_cnode_get(conf->node, "properties");
    if (!at)
        at = conf->node;
    hf_cerr_at(err, file, at->line, at->col, "sink '%s': librdkafka: %s", conf->name, errstr);
}

static int check_template(const struct hf_sink_conf *conf, const char *file, const char *opt, bool topic,
                          struct hf_cerr *err)
{
    const struct hf_cnode *n = hf_cnode_get(conf->node, opt);
    if (!n)
        return 0;
    char why[300];
    struct hf_kkey k;
    struct hf_ktmpl tm;
    int rc = topic ? hf_ktmpl_parse(&tm, n->value, why, sizeof(why)) : hf_kkey_parse(&k, n->value, why, sizeof(why));
    if (rc == 0 && topic) {
        rc = hf_kafka_topic_check(&tm, why, sizeof(why));
        hf_ktmpl_free(&tm);
    } else if (rc == 0) {
        hf_kkey_free(&k);
    }
    if (rc < 0)
        hf_cerr_at(err, file, n->line, n->col, "sink '%s': '%s': %s", conf->name, opt, why);
    return rc;
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

int hf_kafka_check(const struct hf_sink_conf *conf, const char *file, struct hf_cerr *err)
{
    if (check_template(conf, file, "topic", true, err) < 0 ||
        check_template(conf, file, "metrics_topic", true, err) < 0 || check_template(conf, file, "key", false, err) < 0)
        return -1;
    rd_kafka_conf_t *kc = hf_kafka_conf_build(conf, file, true, err);
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
        hf_kafka_new_error(conf, file, errstr, err);
        return -1;
    }
    rd_kafka_destroy(rk);
    return 0;
}
