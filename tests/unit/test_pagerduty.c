/* SPDX-License-Identifier: Apache-2.0 */
/* The pagerduty sink's pure parts: Events API v2 events from real records
 * under configurations loaded as users write them (templates, severity
 * map, resolve rules), PagerDuty's limits, its answers classified, and
 * the configuration check. */
#include "tu_sources.h"
#include "verify.h"

#include "../../plugins/out_pagerduty/pagerduty.h"

#include "json_test.h"

#define KEY "0123456789abcdef0123456789abcdef"

static struct hf_config *cfg;

/* Loads a pagerduty sink with the given extra options; its bound conf. */
static const struct hf_pd_conf *load(const char *opts)
{
    char text[4096];
    snprintf(text, sizeof(text), "%ssinks:\n  - name: pd\n    type: pagerduty\n    routing_key: " KEY "\n%s",
             TU_SOURCES, opts);
    struct hf_cerr err = {0};
    if (cfg)
        hf_config_free(cfg);
    cfg = tu_config(text, &err);
    if (!cfg)
        fail_msg("%s", err.msg);
    return cfg->sinks[0].plugin_conf;
}

static yyjson_val *encode(const struct hf_pd_conf *conf, const struct hf_record *r, int want_rc)
{
    struct hf_buf b;
    hf_buf_init(&b, 0);
    char why[300] = "";
    int rc = hf_pd_encode(conf, r, &b, why, sizeof(why));
    if (rc != want_rc)
        fail_msg("rc %d, wanted %d: %s", rc, want_rc, why);
    yyjson_val *m = tj_parse(b.data, strlen(b.data));
    if (!m)
        fail_msg("not JSON: %s", b.data);
    hf_buf_free(&b);
    return m;
}

static yyjson_val *get(yyjson_val *o, const char *path)
{
    char part[100];
    for (const char *p = path; o && *p;) {
        size_t n = strcspn(p, "/");
        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        yyjson_val *next = NULL;
        if (yyjson_is_arr(o))
            next = yyjson_arr_get(o, (size_t)strtoul(part, NULL, 10));
        else if (!((next = yyjson_obj_get(o, part)) != NULL))
            return NULL;
        o = next;
        p += n + (p[n] == '/');
    }
    return o;
}

static const char *str(yyjson_val *o, const char *path)
{
    yyjson_val *v = get(o, path);
    return v ? yyjson_get_str(v) : NULL;
}

static void test_trigger(void **state)
{
    (void)state;
    const struct hf_pd_conf *conf = load("");
    struct hf_record *r = tu_build("sentinelayer", "sentinelayer/scan.completed.json");
    yyjson_val *m = encode(conf, r, 0);
    assert_string_equal(str(m, "routing_key"), KEY);
    assert_string_equal(str(m, "event_action"), "trigger");
    assert_string_equal(str(m, "dedup_key"), "run-20260223-001"); /* the idempotency key */
    assert_string_equal(str(m, "payload/summary"),
                        "scan.completed: acme/backend feature/auth gate blocked, 11 findings");
    assert_string_equal(str(m, "payload/source"), "acme/backend");
    assert_string_equal(str(m, "payload/severity"), "info");
    assert_string_equal(str(m, "payload/timestamp"), "2026-02-23T08:15:30.000Z");
    assert_null(get(m, "payload/component"));
    /* custom_details: the record's data, types kept */
    assert_int_equal((int)tj_int(get(m, "payload/custom_details/severity_counts.P1")), 2);
    assert_string_equal(str(m, "payload/custom_details/estimated_cost_usd"), "0.0042");
    assert_true(yyjson_is_int(get(m, "payload/custom_details/pr_number")));
    /* links from the fields that are URLs */
    assert_string_equal(str(m, "links/0/text"), "findings");
    assert_string_equal(str(m, "links/0/href"),
                        "https://api.github.com/repos/acme/backend/actions/artifacts/12345/zip");
    assert_string_equal(str(m, "links/1/text"), "summary");
    assert_null(get(m, "links/2"));
    assert_string_equal(str(m, "client"), "hookfwd");
    tj_free_all();
    hf_record_unref(r);

    /* OmegaEngine: severity high is PagerDuty's error by default; the
     * source is the webhook source; arrays stay arrays */
    r = tu_build("omega", "omega/decision.escalated.json");
    m = encode(conf, r, 0);
    assert_string_equal(str(m, "payload/severity"), "error");
    assert_string_equal(str(m, "payload/source"), "omega");
    assert_string_equal(str(m, "dedup_key"), "dec_abc123:decision.escalated");
    assert_string_equal(str(m, "payload/summary"),
                        "decision.escalated: ESCALATE (risk 0.85) Transfer $100k to new vendor");
    assert_int_equal(yyjson_arr_size(get(m, "payload/custom_details/decision.policy_matches")), 2);
    assert_null(get(m, "links"));
    tj_free_all();

    /* templates and a severity map of the user's */
    conf = load("    summary: \"${data.decision.outcome}: ${data.decision.scenario}\"\n"
                "    source: \"omega-${data.decision.audit_id}\"\n"
                "    component: \"${data.decision.policy_matches}\"\n    group: \"${source}\"\n"
                "    class: \"${event_type}\"\n    dedup_key: \"decision/${event_id}\"\n"
                "    severity_map: {high: critical}\n");
    m = encode(conf, r, 0);
    assert_string_equal(str(m, "payload/summary"), "ESCALATE: Transfer $100k to new vendor");
    assert_string_equal(str(m, "payload/source"), "omega-aud_xyz789");
    assert_string_equal(str(m, "payload/component"), "high_value_transfer, new_vendor");
    assert_string_equal(str(m, "payload/group"), "omega");
    assert_string_equal(str(m, "payload/class"), "decision.escalated");
    assert_string_equal(str(m, "dedup_key"), "decision/dec_abc123");
    assert_string_equal(str(m, "payload/severity"), "critical");
    tj_free_all();
    hf_record_unref(r);
}

static void test_limits(void **state)
{
    (void)state;
    char *longv = malloc(3001);
    for (int i = 0; i < 3000; i++)
        longv[i] = i % 2 ? '\xa9' : '\xc3'; /* 1500 x "é": a cut must not split one */
    longv[3000] = '\0';
    char body[4000];
    snprintf(body, sizeof(body), "{\"type\":\"t\",\"id\":\"%s\",\"s\":\"%s\"}", "i1", longv);
    struct hf_record *r = tu_build_body("other", body);
    const struct hf_pd_conf *conf = load("    summary: \"\xc3\xa9${data.s}\"\n    dedup_key: \"${data.s}\"\n");
    yyjson_val *m = encode(conf, r, 1);
    const char *s = str(m, "payload/summary");
    assert_int_equal(hf_utf8_chars(s, strlen(s)), HF_PD_MAX_SUMMARY);
    assert_int_equal(hf_utf8_check(s, strlen(s)), strlen(s));
    assert_int_equal(strlen(s), 1023 * 2 + 3);
    assert_memory_equal(s + strlen(s) - 3, "\xe2\x80\xa6", 3);
    const char *k = str(m, "dedup_key");
    assert_int_equal(hf_utf8_chars(k, strlen(k)), HF_PD_MAX_DEDUP_KEY);
    assert_int_equal(hf_utf8_check(k, strlen(k)), strlen(k));
    char k1[1100];
    snprintf(k1, sizeof(k1), "%s", k);
    tj_free_all();
    /* the same record gives the same shortened key (a resolve must find it) */
    m = encode(conf, r, 1);
    assert_string_equal(str(m, "dedup_key"), k1);
    tj_free_all();
    hf_record_unref(r);
    free(longv);

    /* custom_details past 512 KB give way to a note */
    struct hf_buf big;
    hf_buf_init(&big, 0);
    hf_buf_puts(&big, "{\"type\":\"huge\",\"id\":\"h1\"");
    for (int i = 0; i < 40; i++) {
        hf_buf_printf(&big, ",\"f%d\":\"", i);
        for (int j = 0; j < 16000; j++)
            hf_buf_putc(&big, 'x');
        hf_buf_putc(&big, '"');
    }
    hf_buf_puts(&big, "}");
    r = tu_build_body("other", big.data);
    hf_buf_free(&big);
    conf = load("");
    struct hf_buf out;
    hf_buf_init(&out, 0);
    char why[200];
    assert_int_equal(hf_pd_encode(conf, r, &out, why, sizeof(why)), 1);
    assert_true(out.len < HF_PD_MAX_EVENT);
    m = tj_parse(out.data, strlen(out.data));
    assert_non_null(strstr(str(m, "payload/custom_details/hookfwd"), "past PagerDuty's 512 KB limit"));
    assert_string_equal(str(m, "payload/custom_details/idempotency_key"), "h1");
    tj_free_all();
    hf_buf_free(&out);
    hf_record_unref(r);
}

/* A passed scan.completed resolves the blocked-scan incident of its
 * repository and branch. */
static void test_resolve(void **state)
{
    (void)state;
    const struct hf_pd_conf *conf = load("    dedup_key: \"scan/${data.repo}/${data.branch}\"\n"
                                         "    resolve:\n      events: [scan.completed]\n"
                                         "      match: {gate_status: {eq: passed}}\n");
    struct hf_record *blocked = tu_build("sentinelayer", "sentinelayer/scan.blocked.json");
    struct hf_record *passed = tu_build_body("sentinelayer", "{\"event_type\":\"scan.completed\",\"run_id\":\"r2\","
                                                             "\"repo\":\"acme/payments\",\"branch\":\"fix/ledger\","
                                                             "\"gate_status\":\"passed\",\"total_findings\":0}");
    struct hf_record *still = tu_build("sentinelayer", "sentinelayer/scan.completed.json"); /* gate blocked */
    assert_int_equal(hf_pd_action_of(conf, blocked), HF_PD_TRIGGER);
    assert_int_equal(hf_pd_action_of(conf, passed), HF_PD_RESOLVE);
    assert_int_equal(hf_pd_action_of(conf, still), HF_PD_TRIGGER);
    yyjson_val *t = encode(conf, blocked, 0), *res = encode(conf, passed, 0);
    assert_string_equal(str(t, "dedup_key"), "scan/acme/payments/fix/ledger");
    assert_string_equal(str(res, "event_action"), "resolve");
    assert_string_equal(str(res, "dedup_key"), "scan/acme/payments/fix/ledger");
    assert_null(get(res, "payload"));
    tj_free_all();
    tj_free_all();

    /* resolve.dedup_key of its own */
    conf = load("    dedup_key: \"blocked:${data.repo}@${data.branch}\"\n"
                "    resolve:\n      events: [scan.completed]\n      match: {gate_status: {eq: passed}}\n"
                "      dedup_key: \"blocked:${data.repo}@${data.branch}\"\n");
    res = encode(conf, passed, 0);
    assert_string_equal(str(res, "dedup_key"), "blocked:acme/payments@fix/ledger");
    tj_free_all();

    /* nothing to resolve when the key comes out empty */
    conf = load("    dedup_key: \"${data.incident}\"\n    resolve: {events: [scan.completed]}\n");
    struct hf_buf b;
    hf_buf_init(&b, 0);
    char why[300];
    assert_int_equal(hf_pd_encode(conf, passed, &b, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty"));
    hf_buf_free(&b);
    hf_record_unref(blocked);
    hf_record_unref(passed);
    hf_record_unref(still);
}

static void test_classify(void **state)
{
    (void)state;
    char why[500];
    assert_int_equal(hf_pd_classify(202, "{\"status\":\"success\"}", 20, why, sizeof(why)), HF_OUT_DELIVERED);
    const char *bad = "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":"
                      "[\"Length of 'routing_key' is incorrect (should be 32 characters)\","
                      "\"'payload.summary' is missing or blank\"]}";
    assert_int_equal(hf_pd_classify(400, bad, strlen(bad), why, sizeof(why)), HF_OUT_REJECTED);
    assert_string_equal(why, "PagerDuty answered 400: Length of 'routing_key' is incorrect (should be 32 "
                             "characters); 'payload.summary' is missing or blank");
    const char *esc = "{\"errors\": [\"a \\\"quoted\\\" \\u00e9 word\"]}";
    hf_pd_classify(400, esc, strlen(esc), why, sizeof(why));
    assert_string_equal(why, "PagerDuty answered 400: a \"quoted\" ? word");
    const char *thr = "{\"status\":\"throttle event\",\"message\":\"Requests for this service are arriving too "
                      "quickly. Please retry later.\"}";
    assert_int_equal(hf_pd_classify(429, thr, strlen(thr), why, sizeof(why)), HF_OUT_RETRY);
    assert_non_null(strstr(why, "429"));
    assert_int_equal(hf_pd_classify(503, "<html>busy</html>", 17, why, sizeof(why)), HF_OUT_RETRY);
    assert_string_equal(why, "PagerDuty answered 503: <html>busy</html>");
    assert_int_equal(hf_pd_classify(0, "Connection refused", 18, why, sizeof(why)), HF_OUT_RETRY);
    assert_int_equal(hf_pd_classify(404, "{\"status\":\"error\",\"message\":\"Not Found\"}", 40, why, sizeof(why)),
                     HF_OUT_REJECTED);
}

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
#define SINK_LINE(n) (11 + (n))

static void test_config(void **state)
{
    (void)state;
    char want[200];
    const char *msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: short_secret_key\n");
    snprintf(want, sizeof(want), ":%d:18: sink 'p' (pagerduty): routing_key: must be 32 characters", SINK_LINE(3));
    assert_non_null(strstr(msg, want));
    assert_null(strstr(msg, "short_secret_key"));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n    takes: metrics\n");
    assert_non_null(strstr(msg, "takes: the pagerduty sink takes records only"));
    msg = load_sink("  - name: p\n    type: pagerduty\n");
    assert_non_null(strstr(msg, "routing_key"));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n    url: smtp://x/v2/enqueue\n");
    assert_non_null(strstr(msg, "http or https"));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n    severity_map: {high: urgent}\n");
    assert_non_null(strstr(msg, "critical|error|warning|info"));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n    severity_map: {hgh: error}\n");
    assert_non_null(strstr(msg, "hgh"));
    /* resolving by ${idempotency_key} would never find an incident */
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n    resolve: {events: [a]}\n");
    snprintf(want, sizeof(want), ":%d:14: sink 'p' (pagerduty): resolve: needs its own dedup_key", SINK_LINE(4));
    assert_non_null(strstr(msg, want));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n"
                    "    resolve: {events: [a], match: {x: {about: 1}}}\n");
    assert_non_null(strstr(msg, "unknown comparison 'about'"));
    msg = load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n"
                    "    resolve: {events: [a], dedup_key: \"${data.a:-${data.b}}\"}\n");
    assert_non_null(strstr(msg, "a default cannot hold a name"));
    assert_string_equal(load_sink("  - name: p\n    type: pagerduty\n    routing_key: " KEY "\n"
                                  "    url: https://events.eu.pagerduty.com/v2/enqueue\n"
                                  "    resolve: {events: [scan.completed], dedup_key: \"${data.repo}\"}\n"),
                        "OK");
}

static int teardown_cfg(void **state)
{
    (void)state;
    hf_config_free(cfg);
    cfg = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_trigger, teardown_cfg),
        cmocka_unit_test_teardown(test_limits, teardown_cfg),
        cmocka_unit_test_teardown(test_resolve, teardown_cfg),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, tu_sources_setup, tu_sources_teardown);
}
