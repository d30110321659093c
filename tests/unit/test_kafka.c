/* SPDX-License-Identifier: Apache-2.0 */
/* The kafka sink's pure parts: topic and key templates on real records,
 * delivery-error classification, and the configuration check (unknown
 * librdkafka properties, owned properties, templates) with positions. */
#include "tu_sources.h"
#include "verify.h"

#ifndef HF_WITH_KAFKA
int main(void)
{
    puts("the kafka sink is not built (HOOKFWD_WITH_KAFKA=OFF or no librdkafka): nothing to test");
    return 0;
}
#else
#include "../../plugins/out_kafka/kafka.h"

static struct hf_record *build_body(const char *source, const char *body, size_t len)
{
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    char reason[200] = "";
    struct hf_record *r = hf_build_record(&tu_pipe, tu_source(tu_cfg, source), body, len, &vr, NULL, TU_RECEIVED_MS,
                                          reason, sizeof(reason));
    if (!r)
        fail_msg("%s: %s", body, reason);
    return r;
}

static struct hf_record *build(const char *source, const char *fixture)
{
    size_t len = 0;
    char *body = tu_fixture(fixture, &len);
    struct hf_record *r = build_body(source, body, len);
    free(body);
    return r;
}

/* Expands text (a topic when as_topic) for r into a static buffer. */
static const char *expand(const char *text, const struct hf_record *r, bool as_topic)
{
    static char out[512];
    char why[200];
    struct hf_template *t = hf_template_compile(text, NULL, why, sizeof(why));
    if (!t)
        fail_msg("%s: %s", text, why);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    if (as_topic)
        hf_kafka_topic(t, r, &b);
    else
        hf_template_append(t, r, HF_ESC_NONE, &b);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    hf_buf_free(&b);
    hf_template_free(t);
    return out;
}

/* The key for spec (NULL: default) or "(none)". */
static const char *key_of(const char *spec, const struct hf_record *r)
{
    static char out[512];
    char why[200];
    struct hf_template *k = spec ? hf_template_compile(spec, NULL, why, sizeof(why)) : NULL;
    if (spec && !k)
        fail_msg("%s: %s", spec, why);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    bool has = hf_kafka_key(k, r, &b);
    snprintf(out, sizeof(out), "%s", !has ? "(none)" : b.data ? b.data : "");
    hf_buf_free(&b);
    hf_template_free(k);
    return out;
}

static void test_topic_templates(void **state)
{
    (void)state;
    struct hf_record *r = build("omega", "omega/decision.blocked.json");
    assert_string_equal(expand("hookfwd.${source}", r, true), "hookfwd.omega");
    assert_string_equal(expand("hookfwd.${source}.${event_type}", r, true), "hookfwd.omega.decision.blocked");
    assert_string_equal(expand("${severity}-${source}", r, true), "warning-omega");
    assert_string_equal(expand("fixed", r, true), "fixed");
    /* every per-event name of the contract, in a topic and in a key */
    assert_string_equal(expand("t.${event_id}.${data.decision.outcome}", r, true), "t.dec_b7720f.BLOCK");
    assert_string_equal(expand("${idempotency_key}/${data.decision.risk_score}", r, false),
                        "dec_b7720f:decision.blocked/0.97");
    hf_record_unref(r);

    /* a sender picks the event type of a generic source: it cannot make an
     * invalid topic name, but a key keeps it as it is */
    const char body[] = "{\"type\":\"user created/v1 \\u00e9\",\"id\":\"u1\"}";
    r = build_body("other", body, sizeof(body) - 1);
    assert_string_equal(r->event_type, "user created/v1 \xc3\xa9");
    assert_string_equal(expand("t.${event_type}", r, true), "t.user_created_v1___");
    assert_string_equal(expand("${event_type}|${source}", r, false), "user created/v1 \xc3\xa9|other");
    hf_record_unref(r);

    char big[400];
    memset(big, 'x', 300);
    big[300] = '\0';
    char bodybig[512];
    int n = snprintf(bodybig, sizeof(bodybig), "{\"type\":\"%s\",\"id\":\"u2\"}", big);
    r = build_body("other", bodybig, (size_t)n);
    const char *t = expand("hookfwd.${event_type}", r, true);
    assert_int_equal(strlen(t), HF_KAFKA_TOPIC_MAX);
    assert_memory_equal(t, "hookfwd.xxx", 11);
    hf_record_unref(r);
}

static struct hf_template *compile(const char *text)
{
    char why[200];
    struct hf_template *t = hf_template_compile(text, NULL, why, sizeof(why));
    if (!t)
        fail_msg("%s: %s", text, why);
    return t;
}

static void test_template_errors(void **state)
{
    (void)state;
    char why[200];
    /* a bad ${...} is the template engine's error (the config check reports
     * it at the option: test_config_check) */
    assert_null(hf_template_compile("x.${nope}", NULL, why, sizeof(why)));
    assert_non_null(strstr(why, "unknown name '${nope}'"));
    assert_null(hf_template_compile("a${source", NULL, why, sizeof(why)));

    struct hf_template *t = compile("bad topic.${source}");
    assert_int_equal(hf_kafka_topic_check(t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not ' '"));
    hf_template_free(t);

    t = compile("..");
    assert_int_equal(hf_kafka_topic_check(t, why, sizeof(why)), -1);
    hf_template_free(t);

    t = compile("");
    assert_int_equal(hf_kafka_topic_check(t, why, sizeof(why)), -1);
    hf_template_free(t);

    /* a default's text is a value: escaped per message, not checked here */
    t = compile("a.${source}-${event_type}_${severity}.${data.repo:-no repo}");
    assert_int_equal(hf_kafka_topic_check(t, why, sizeof(why)), 0);
    hf_template_free(t);
}

static void test_keys(void **state)
{
    (void)state;
    struct hf_record *omega = build("omega", "omega/decision.escalated.json");
    struct hf_record *scan = build("sentinelayer", "sentinelayer/scan.failed.json");
    struct hf_record *quota = build("omega", "omega/quota.warning.json");

    /* default: the idempotency key */
    assert_string_equal(key_of(NULL, omega), "dec_abc123:decision.escalated");
    assert_string_equal(key_of(NULL, scan), "run-20260223-002");
    assert_string_equal(key_of(NULL, quota), quota->idempotency_key);
    /* a field, a pseudo-field, numbers as sent, null and absent: no key */
    assert_string_equal(key_of("decision.id", omega), "dec_abc123");
    assert_string_equal(key_of("repo", scan), "acme/backend");
    assert_string_equal(key_of("error_code", scan), "2");
    assert_string_equal(key_of("decision.risk_score", omega), "0.85");
    assert_string_equal(key_of("event_id", omega), "dec_abc123");
    assert_string_equal(key_of("severity", scan), "warning");
    assert_string_equal(key_of("idempotency_key", scan), "run-20260223-002");
    assert_string_equal(key_of("pr_number", scan), "(none)");
    assert_string_equal(key_of("decision.policy_matches", omega), "(none)");
    assert_string_equal(key_of("no.such.field", omega), "(none)");
    assert_string_equal(key_of("event_id", quota), "(none)");
    /* a template; "" means no key */
    assert_string_equal(key_of("${source}:${event_type}", scan), "sentinelayer:scan.failed");
    assert_string_equal(key_of("", omega), "(none)");

    /* no idempotency key: the event id, then none */
    const char with_id[] = "{\"type\":\"a.b\",\"id\":\"evt_7\"}";
    struct hf_record *r = build_body("other", with_id, sizeof(with_id) - 1);
    if (!r->idempotency_key)
        assert_string_equal(key_of(NULL, r), "evt_7");
    hf_record_unref(r);

    hf_record_unref(omega);
    hf_record_unref(scan);
    hf_record_unref(quota);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(hf_kafka_classify(RD_KAFKA_RESP_ERR_NO_ERROR), HF_OUT_DELIVERED);
    rd_kafka_resp_err_t permanent[] = {
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_INVALID_MSG,        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
        RD_KAFKA_RESP_ERR_INVALID_RECORD,     RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,    RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
    };
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
        assert_int_equal(hf_kafka_classify(permanent[i]), HF_OUT_REJECTED);
    rd_kafka_resp_err_t transient[] = {
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR__PURGE_INFLIGHT,
        RD_KAFKA_RESP_ERR__PURGE_QUEUE,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR__FATAL,
    };
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
        assert_int_equal(hf_kafka_classify(transient[i]), HF_OUT_RETRY);
}

/* Loads a config whose only sink is the kafka sink written as `sink`
 * (YAML lines under "sinks:"); returns the error message or "OK". */
static const char *load_sink(const char *sink)
{
    static struct hf_cerr err;
    char text[4096];
    snprintf(text, sizeof(text),
             "%s"
             "sinks:\n%s",
             TU_SOURCES, sink);
    memset(&err, 0, sizeof(err));
    struct hf_config *c = tu_config(text, &err);
    if (!c)
        return err.msg;
    hf_config_free(c);
    return "OK";
}

/* Line n of the sink block in the file: 10 lines of sources, then "sinks:". */
#define SINK_LINE(n) (11 + (n))

static void test_config_check(void **state)
{
    (void)state;
    char want[200];
    assert_string_equal(load_sink("  - name: k\n    type: kafka\n    brokers: 127.0.0.1:9092\n"
                                  "    topic: hookfwd.${source}\n"),
                        "OK");
    assert_string_equal(load_sink("  - name: k\n    type: kafka\n    brokers: [\"a:9092\", \"b:9092\"]\n"
                                  "    topic: t\n    key: \"${source}:${event_type}\"\n    compression: zstd\n"
                                  "    message_timeout: 5s\n    metrics_topic: m.${source}\n    takes: both\n"
                                  "    properties:\n      linger.ms: 20\n      acks: all\n      client.id: x\n"),
                        "OK");

    /* a template's error at its value: the option, the reason */
    const char *tm = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: \"t.${data.}\"\n");
    snprintf(want, sizeof(want), ":%d:12: 'topic': unknown name '${data.}'", SINK_LINE(4));
    assert_non_null(strstr(tm, want));
    tm = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    key: \"${data.id:x}\"\n");
    snprintf(want, sizeof(want), ":%d:10: 'key': bad character", SINK_LINE(5));
    assert_non_null(strstr(tm, want));
    tm = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: \"a b.${source}\"\n");
    snprintf(want, sizeof(want), ":%d:12: sink 'k' (kafka): topic: a topic name may only hold", SINK_LINE(4));
    assert_non_null(strstr(tm, want));

    /* an unknown property: librdkafka's own message at the property */
    const char *msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n"
                                "    properties:\n      linger.ms: 5\n      foo.bar: 1\n");
    snprintf(want, sizeof(want), ":%d:7: sink 'k' (kafka): librdkafka property 'foo.bar': ", SINK_LINE(7));
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, "No such configuration property"));
    assert_non_null(strstr(msg, ".yaml:"));

    /* a bad value */
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n"
                    "      linger.ms: soon\n");
    snprintf(want, sizeof(want), ":%d:7: sink 'k' (kafka): librdkafka property 'linger.ms': ", SINK_LINE(6));
    assert_non_null(strstr(msg, want));

    /* what hookfwd owns */
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n      acks: 1\n");
    assert_non_null(strstr(msg, "'acks' cannot be set here: hookfwd always produces with acks=all"));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n"
                    "      bootstrap.servers: x:1\n");
    assert_non_null(strstr(msg, "use the sink's 'brokers' option"));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n"
                    "      enable.idempotence: false\n");
    assert_non_null(strstr(msg, "idempotent"));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n"
                    "      delivery.report.only.error: true\n");
    assert_non_null(strstr(msg, "every message's report"));

    /* combinations only rd_kafka_new() sees */
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    properties:\n"
                    "      max.in.flight: 10\n");
    snprintf(want, sizeof(want), ":%d:7: sink 'k' (kafka): properties: librdkafka: ", SINK_LINE(6));
    assert_non_null(strstr(msg, want));

    /* templates and brokers */
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: \"has space.${source}\"\n");
    snprintf(want, sizeof(want), ":%d:12: sink 'k' (kafka): topic: ", SINK_LINE(4));
    assert_non_null(strstr(msg, want));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: []\n    topic: t\n");
    assert_non_null(strstr(msg, "brokers: is empty"));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: {a: b}\n    topic: t\n");
    assert_non_null(strstr(msg, "brokers: must be"));
    msg = load_sink("  - name: k\n    type: kafka\n    topic: t\n");
    assert_non_null(strstr(msg, "missing required key 'brokers'"));
    msg = load_sink("  - name: k\n    type: kafka\n    brokers: b:1\n    topic: t\n    compression: brotli\n");
    assert_non_null(strstr(msg, "not a valid compression"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_templates), cmocka_unit_test(test_template_errors), cmocka_unit_test(test_keys),
        cmocka_unit_test(test_classify),        cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, tu_sources_setup, tu_sources_teardown);
}
#endif
