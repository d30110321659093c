/* SPDX-License-Identifier: Apache-2.0 */
/* Flattening, profiles, idempotency keys and metric rules on the fixtures. */
#include "stats.h"
#include "testutil.h"
#include "verify.h"

#include <yyjson.h>

static struct hf_config *cfg;
static struct hf_pipeline pipe_;

static int setup(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    cfg = tu_config(TU_SOURCES
                    "  - name: other\n    path: /other\n    event_field: type\n    id_field: id\n"
                    "    severity_map: {\"alert.*\": critical}\n"
                    "    signature: {scheme: standard-webhooks, secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}\n"
                    "metrics:\n"
                    "  - name: user.risk\n    type: gauge\n    value: decision.risk_score\n"
                    "    events: [\"decision.b*\"]\n    tags: [outcome=decision.outcome, event]\n"
                    "  - {name: user.scenario, type: gauge, value: decision.scenario, events: [\"decision.*\"]}\n"
                    "  - {name: user.absent, type: distribution, value: decision.absent, events: [\"decision.*\"]}\n"
                    "  - {name: user.level, type: gauge, value: level, events: [x]}\n" TU_STDOUT_SINK,
                    &err);
    if (!cfg)
        fail_msg("%s", err.msg);
    pipe_.cfg = cfg;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_config_free(cfg);
    return 0;
}

static struct hf_record *build(const char *source, const char *fixture)
{
    return tu_fixture_record(&pipe_, source, fixture, 0, 1795453200123LL);
}

static const char *field_text(struct hf_record *r, const char *key, char *buf, size_t n)
{
    struct hf_value scratch;
    const struct hf_value *v = hf_record_get(r, key, &scratch);
    if (!v)
        return NULL;
    if (v->type == HF_V_ARRAY) {
        struct hf_buf b;
        hf_buf_init(&b, n - 1);
        for (size_t i = 0; i < v->nitems; i++) {
            char t[128];
            hf_value_text(&v->items[i], t, sizeof(t));
            hf_buf_printf(&b, "%s%s", i ? "," : "", t);
        }
        snprintf(buf, n, "[%s]", b.data ? b.data : "");
        hf_buf_free(&b);
        return buf;
    }
    hf_value_text(v, buf, n);
    return buf;
}

#define ASSERT_FIELD(r, key, want)                                                                                     \
    do {                                                                                                               \
        char _b[512];                                                                                                  \
        const char *_got = field_text(r, key, _b, sizeof(_b));                                                         \
        if (!_got || strcmp(_got, want))                                                                               \
            fail_msg("field %s: expected %s, got %s", key, want, _got ? _got : "(absent)");                            \
    } while (0)

/* The example record of INTERFACE.md, field by field. */
static void test_omega_escalated(void **state)
{
    (void)state;
    struct hf_record *r = build("omega", "omega/decision.escalated.json");
    assert_string_equal(r->source, "omega");
    assert_string_equal(r->event_type, "decision.escalated");
    assert_string_equal(r->event_id, "dec_abc123");
    assert_string_equal(hf_severity_name(r->severity), "high");
    assert_string_equal(r->timestamp, "2026-01-14T12:00:00Z");
    assert_int_equal(r->event_ms, 1768392000000LL);
    assert_string_equal(r->idempotency_key, "dec_abc123:decision.escalated");
    assert_int_equal(r->nfields, 6);
    ASSERT_FIELD(r, "decision.id", "dec_abc123");
    ASSERT_FIELD(r, "decision.outcome", "ESCALATE");
    ASSERT_FIELD(r, "decision.risk_score", "0.85");
    ASSERT_FIELD(r, "decision.scenario", "Transfer $100k to new vendor");
    ASSERT_FIELD(r, "decision.policy_matches", "[high_value_transfer,new_vendor]");
    ASSERT_FIELD(r, "decision.audit_id", "aud_xyz789");

    /* the JSON text parses and carries the typed values */
    yyjson_doc *doc = yyjson_read(r->json, r->json_len, 0);
    yyjson_val *o = yyjson_doc_get_root(doc);
    assert_non_null(o);
    yyjson_val *data = yyjson_obj_get(o, "data");
    assert_true(yyjson_is_real(yyjson_obj_get(data, "decision.risk_score")));
    assert_true(yyjson_is_arr(yyjson_obj_get(data, "decision.policy_matches")));
    assert_true(yyjson_get_bool(yyjson_obj_get(o, "signature_verified")));
    assert_true(yyjson_is_int(yyjson_obj_get(o, "signature_key")));
    assert_int_equal(yyjson_get_int(yyjson_obj_get(o, "signature_key")), 0);
    assert_string_equal(yyjson_get_str(yyjson_obj_get(o, "received_at")), "2026-11-23T17:00:00.123Z");
    assert_null(yyjson_obj_get(data, "event"));
    assert_null(yyjson_obj_get(data, "timestamp"));
    yyjson_doc_free(doc);
    hf_record_unref(r);
}

static void test_embedded_same_record(void **state)
{
    (void)state;
    size_t len;
    char *body = tu_fixture("omega/decision.escalated.embedded.json", &len);
    struct hf_verify_result vr;
    hf_verify(tu_source(cfg, "omega"), body, len, tu_header, NULL, hf_now_ms(), &vr);
    assert_int_equal(vr.status, HF_VERIFY_OK);
    char reason[200];
    struct hf_record *a =
        hf_build_record(&pipe_, tu_source(cfg, "omega"), body, len, &vr, NULL, 1795453200123LL, reason, sizeof(reason));
    struct hf_record *b = build("omega", "omega/decision.escalated.json");
    assert_non_null(a);
    /* no "signature" member in the data; otherwise the same record */
    assert_null(strstr(a->json, "\"signature\":\"sha256"));
    assert_int_equal(a->signature_key, 1);
    assert_int_equal(a->nfields, b->nfields);
    assert_string_equal(a->idempotency_key, b->idempotency_key);
    hf_record_unref(a);
    hf_record_unref(b);
    free(body);
}

static void test_unseen_shapes(void **state)
{
    (void)state;
    struct hf_record *r = build("omega", "omega/fuzz.finding.json");
    assert_string_equal(hf_severity_name(r->severity), "critical");
    assert_string_equal(r->event_id, "fz_9912");
    assert_string_equal(r->idempotency_key, "fz_9912:fuzz.finding");
    ASSERT_FIELD(r, "finding.agent_id", "agent_payments");
    ASSERT_FIELD(r, "finding.reproducible", "true");
    ASSERT_FIELD(r, "finding.steps", "4");
    hf_record_unref(r);

    r = build("omega", "omega/quota.warning.json");
    assert_string_equal(hf_severity_name(r->severity), "warning");
    ASSERT_FIELD(r, "quota.org_id", "org_42");
    ASSERT_FIELD(r, "quota.percent", "91.0");
    assert_null(r->event_id);
    /* no id in the payload: keyed by the delivery's MAC, so a retry dedups */
    assert_non_null(r->idempotency_key);
    assert_true(strncmp(r->idempotency_key, "quota.warning:", 14) == 0);
    hf_record_unref(r);

    r = build("omega", "omega/calibration.drift.json");
    assert_string_equal(hf_severity_name(r->severity), "high");
    ASSERT_FIELD(r, "calibration.drift", "0.071");
    hf_record_unref(r);
}

static void test_sentinelayer(void **state)
{
    (void)state;
    struct hf_record *r = build("sentinelayer", "sentinelayer/scan.completed.json");
    assert_string_equal(r->event_type, "scan.completed");
    assert_string_equal(r->idempotency_key, "run-20260223-001");
    assert_string_equal(hf_severity_name(r->severity), "info");
    ASSERT_FIELD(r, "severity_counts.P1", "2");
    ASSERT_FIELD(r, "estimated_cost_usd", "0.0042");
    ASSERT_FIELD(r, "artifact_links.findings", "https://api.github.com/repos/acme/backend/actions/artifacts/12345/zip");
    ASSERT_FIELD(r, "pr_number", "142");
    struct hf_value scratch;
    assert_int_equal(hf_record_get(r, "estimated_cost_usd", &scratch)->type, HF_V_STRING);
    struct hf_record *p = build("sentinelayer", "sentinelayer/scan.completed.pretty.json");
    assert_string_equal(p->json + strlen("{"), r->json + strlen("{")); /* same record from pretty input */
    hf_record_unref(p);
    hf_record_unref(r);

    r = build("sentinelayer", "sentinelayer/scan.failed.json");
    assert_string_equal(hf_severity_name(r->severity), "warning");
    ASSERT_FIELD(r, "pr_number", "null");
    ASSERT_FIELD(r, "error_code", "2");
    hf_record_unref(r);
    r = build("sentinelayer", "sentinelayer/scan.blocked.json");
    assert_string_equal(hf_severity_name(r->severity), "high");
    hf_record_unref(r);
}

static const struct hf_point *find_point(struct hf_record *r, const char *name, const char *tag)
{
    for (size_t i = 0; i < r->npoints; i++) {
        if (strcmp(r->points[i].name, name))
            continue;
        if (!tag)
            return &r->points[i];
        for (size_t t = 0; t < r->points[i].ntags; t++)
            if (!strcmp(r->points[i].tags[t], tag))
                return &r->points[i];
    }
    return NULL;
}

static void test_omega_rules(void **state)
{
    (void)state;
    struct hf_record *r = build("omega", "omega/decision.escalated.json");
    const struct hf_point *p = find_point(r, "omega.events", NULL);
    assert_non_null(p);
    assert_int_equal(p->type, HF_MT_COUNT);
    assert_int_equal(p->ntags, 3);
    assert_string_equal(p->tags[0], "event:decision.escalated");
    assert_string_equal(p->tags[1], "severity:high");
    assert_string_equal(p->tags[2], "source:omega");
    p = find_point(r, "omega.decision.count", NULL);
    assert_non_null(p);
    assert_non_null(find_point(r, "omega.decision.count", "policy:high_value_transfer"));
    assert_non_null(find_point(r, "omega.decision.count", "policy:new_vendor"));
    assert_non_null(find_point(r, "omega.decision.count", "outcome:ESCALATE"));
    p = find_point(r, "omega.decision.risk_score", "outcome:ESCALATE");
    assert_non_null(p);
    assert_int_equal(p->type, HF_MT_DIST);
    assert_true(p->value == 0.85);
    assert_null(find_point(r, "user.risk", NULL)); /* user rule matches decision.b* only */
    assert_int_equal(r->npoints, 3);
    hf_record_unref(r);

    r = build("omega", "omega/decision.blocked.json");
    p = find_point(r, "user.risk", "outcome:BLOCK");
    assert_non_null(p);
    assert_int_equal(p->type, HF_MT_GAUGE);
    assert_true(p->value == 0.97);
    assert_non_null(find_point(r, "user.risk", "event:decision.blocked"));
    hf_record_unref(r);

    r = build("omega", "omega/fuzz.finding.json");
    assert_int_equal(r->npoints, 1); /* omega.events only */
    hf_record_unref(r);
}

/* A rule whose value field holds no finite number, or is absent, adds no
 * point and is counted by reason (hookfwd_metric_rule_skipped_total). */
static struct hf_record *build_body(const char *source, const char *body)
{
    struct hf_verify_result vr = {.status = HF_VERIFY_OK};
    char reason[200] = "";
    struct hf_record *r = hf_build_record(&pipe_, tu_source(pipe_.cfg, source), body, strlen(body), &vr, NULL,
                                          1795453200123LL, reason, sizeof(reason));
    if (!r)
        fail_msg("%s", reason);
    return r;
}

static void test_rule_skips(void **state)
{
    (void)state;
    unsigned long long text0 = hf_stats_rule_skipped("user.scenario", HF_SKIP_NOT_NUMBER),
                       absent0 = hf_stats_rule_skipped("user.absent", HF_SKIP_MISSING),
                       level_nan0 = hf_stats_rule_skipped("user.level", HF_SKIP_NOT_NUMBER),
                       level_null0 = hf_stats_rule_skipped("user.level", HF_SKIP_MISSING);
    struct hf_record *r = build("omega", "omega/decision.blocked.json");
    assert_null(find_point(r, "user.scenario", NULL));
    assert_null(find_point(r, "user.absent", NULL));
    assert_non_null(find_point(r, "user.risk", NULL)); /* the other rules still apply */
    hf_record_unref(r);
    assert_int_equal(hf_stats_rule_skipped("user.scenario", HF_SKIP_NOT_NUMBER), text0 + 1);
    assert_int_equal(hf_stats_rule_skipped("user.scenario", HF_SKIP_MISSING), 0);
    assert_int_equal(hf_stats_rule_skipped("user.absent", HF_SKIP_MISSING), absent0 + 1);
    assert_int_equal(hf_stats_rule_skipped("user.absent", HF_SKIP_NOT_NUMBER), 0);

    /* text that reads as a number counts; "nan" and "inf" are not finite */
    const char *bodies[] = {
        "{\"type\":\"x\",\"id\":\"a1\",\"level\":\"0.5\"}",  "{\"type\":\"x\",\"id\":\"a2\",\"level\":\"nan\"}",
        "{\"type\":\"x\",\"id\":\"a3\",\"level\":\"-inf\"}", "{\"type\":\"x\",\"id\":\"a4\",\"level\":[1,2]}",
        "{\"type\":\"x\",\"id\":\"a5\",\"level\":null}",     "{\"type\":\"x\",\"id\":\"a6\"}"};
    int points = 0;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        r = build_body("other", bodies[i]);
        const struct hf_point *p = find_point(r, "user.level", NULL);
        if (p) {
            assert_true(p->value == 0.5);
            points++;
        }
        hf_record_unref(r);
    }
    assert_int_equal(points, 1);
    assert_int_equal(hf_stats_rule_skipped("user.level", HF_SKIP_NOT_NUMBER), level_nan0 + 3);
    assert_int_equal(hf_stats_rule_skipped("user.level", HF_SKIP_MISSING), level_null0 + 2);
    assert_int_equal(hf_stats_rule_skipped("no.such.rule", HF_SKIP_MISSING), 0);
}

static void test_sentinelayer_rules(void **state)
{
    (void)state;
    struct hf_record *r = build("sentinelayer", "sentinelayer/scan.completed.json");
    const struct hf_point *p = find_point(r, "sentinelayer.scan.findings", "severity:P1");
    assert_non_null(p);
    assert_int_equal(p->type, HF_MT_GAUGE);
    assert_true(p->value == 2);
    assert_non_null(find_point(r, "sentinelayer.scan.findings", "severity:info"));
    int findings = 0;
    for (size_t i = 0; i < r->npoints; i++)
        findings += !strcmp(r->points[i].name, "sentinelayer.scan.findings");
    assert_int_equal(findings, 5);
    p = find_point(r, "sentinelayer.scan.cost_usd", "repo:acme/backend");
    assert_non_null(p);
    assert_true(p->value == 0.0042);
    p = find_point(r, "sentinelayer.scan.total_findings", "gate_status:blocked");
    assert_true(p && p->value == 11);
    p = find_point(r, "sentinelayer.scan.count", "branch:feature/auth");
    assert_true(p && p->value == 1);
    assert_null(find_point(r, "sentinelayer.scan.failed", NULL));
    hf_record_unref(r);

    r = build("sentinelayer", "sentinelayer/scan.failed.json");
    p = find_point(r, "sentinelayer.scan.failed", "error_code:2");
    assert_non_null(p);
    assert_non_null(find_point(r, "sentinelayer.scan.failed", "repo:acme/backend"));
    assert_null(find_point(r, "sentinelayer.scan.findings", NULL)); /* empty severity_counts */
    hf_record_unref(r);
}

static void test_bad_bodies(void **state)
{
    (void)state;
    const struct hf_source *src = tu_source(cfg, "omega");
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    char deep[1000];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        deep[n++] = '[';
    for (int i = 0; i < 200; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    const char *bad[] = {"",
                         "{",
                         "{\"event\":\"x\"",
                         "[]",
                         "\"str\"",
                         "{\"event\":1}",
                         "{\"decision\":{}}",
                         "{\"event\":\"a\"} trailing",
                         "{\"event\":\"\xff\xfe\"}",
                         deep,
                         "{\"event\":\"a\",}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char reason[200] = "";
        struct hf_record *r =
            hf_build_record(&pipe_, src, bad[i], strlen(bad[i]), &vr, NULL, 0, reason, sizeof(reason));
        if (r)
            fail_msg("bad body %zu accepted", i);
        assert_true(reason[0] != '\0');
    }
    /* odd but valid: huge numbers (exact text kept), unicode */
    const char *odd =
        "{\"event\":\"x.y\",\"n\":1e400,\"big\":123456789012345678901234567890,\"neg\":-9223372036854775809,"
        "\"max\":18446744073709551615,\"f\":0.10000000000000000555,\"k\":2,"
        "\"u\":\"caf\\u00e9 \xe2\x82\xac\",\"deep\":{\"a\":[{\"b\":1},{\"c\":[1,2]}]}}";
    char reason[200] = "";
    struct hf_record *r = hf_build_record(&pipe_, src, odd, strlen(odd), &vr, NULL, 0, reason, sizeof(reason));
    if (!r)
        fail_msg("odd body rejected: %s", reason);
    ASSERT_FIELD(r, "k", "2");
    ASSERT_FIELD(r, "n", "1e400");
    ASSERT_FIELD(r, "big", "123456789012345678901234567890");
    ASSERT_FIELD(r, "neg", "-9223372036854775809");
    ASSERT_FIELD(r, "max", "18446744073709551615");
    ASSERT_FIELD(r, "f", "0.10000000000000000555");
    ASSERT_FIELD(r, "deep.a.0.b", "1");
    ASSERT_FIELD(r, "deep.a.1.c", "[1,2]");
    assert_non_null(strstr(r->json, "\"big\":123456789012345678901234567890,"));
    yyjson_doc *d = yyjson_read(r->json, r->json_len, YYJSON_READ_BIGNUM_AS_RAW);
    assert_non_null(d); /* still valid JSON (1e400 is, past a double) */
    yyjson_doc_free(d);
    hf_record_unref(r);
}

/* Duplicate keys anywhere, and nesting past 64 levels, are refused;
 * 64 levels are fine; 100,000 levels are refused without exhausting the
 * stack. */
static void test_duplicates_and_depth(void **state)
{
    (void)state;
    const struct hf_source *src = tu_source(cfg, "omega");
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    char reason[200];
    const char *dups[] = {"{\"event\":\"x\",\"k\":1,\"k\":2}", "{\"event\":\"x\",\"event\":\"y\"}",
                          "{\"event\":\"x\",\"a\":{\"b\":1,\"c\":2,\"b\":3}}",
                          "{\"event\":\"x\",\"a\":[{\"b\":1},{\"b\":1,\"b\":1}]}"};
    for (size_t i = 0; i < sizeof(dups) / sizeof(*dups); i++) {
        reason[0] = '\0';
        struct hf_record *r =
            hf_build_record(&pipe_, src, dups[i], strlen(dups[i]), &vr, NULL, 0, reason, sizeof(reason));
        if (r)
            fail_msg("duplicate keys accepted: %s", dups[i]);
        assert_non_null(strstr(reason, "duplicate"));
    }
    /* a large object (sorted check) with one repeat far apart */
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "{\"event\":\"x\"");
    for (int i = 0; i < 100; i++)
        hf_buf_printf(&b, ",\"key%d\":%d", i, i);
    hf_buf_puts(&b, "}");
    struct hf_record *r = hf_build_record(&pipe_, src, b.data, b.len, &vr, NULL, 0, reason, sizeof(reason));
    assert_non_null(r);
    assert_int_equal(r->nfields, 100);
    hf_record_unref(r);
    b.len--;
    hf_buf_puts(&b, ",\"key7\":0}");
    r = hf_build_record(&pipe_, src, b.data, b.len, &vr, NULL, 0, reason, sizeof(reason));
    assert_null(r);
    /* depth: the root object is level 1 */
    for (int levels = 64; levels <= 65; levels++) {
        /* the root, levels - 2 arrays, a leaf object */
        hf_buf_reset(&b);
        hf_buf_puts(&b, "{\"event\":\"x\",\"d\":");
        for (int i = 0; i < levels - 2; i++)
            hf_buf_puts(&b, "[");
        hf_buf_puts(&b, "{\"leaf\":1}");
        for (int i = 0; i < levels - 2; i++)
            hf_buf_puts(&b, "]");
        hf_buf_puts(&b, "}");
        r = hf_build_record(&pipe_, src, b.data, b.len, &vr, NULL, 0, reason, sizeof(reason));
        if (levels == 64 && !r)
            fail_msg("64 levels refused: %s", reason);
        if (levels == 65 && r)
            fail_msg("65 levels accepted");
        hf_record_unref(r);
    }
    hf_buf_reset(&b);
    hf_buf_puts(&b, "{\"event\":\"x\",\"d\":");
    for (int i = 0; i < 100000; i++)
        hf_buf_putc(&b, '[');
    for (int i = 0; i < 100000; i++)
        hf_buf_putc(&b, ']');
    hf_buf_puts(&b, "}");
    r = hf_build_record(&pipe_, src, b.data, b.len, &vr, NULL, 0, reason, sizeof(reason));
    assert_null(r);
    assert_non_null(strstr(reason, "deeper than 64"));
    hf_buf_free(&b);
}

static void test_generic_source(void **state)
{
    (void)state;
    const char *body = "{\"type\":\"alert.raised\",\"id\":\"a1\",\"alertName\":\"CPUHigh\",\"HTTPStatus\":500}";
    char reason[200];
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    struct hf_record *r =
        hf_build_record(&pipe_, tu_source(cfg, "other"), body, strlen(body), &vr, "msg_1", 0, reason, sizeof(reason));
    assert_non_null(r);
    assert_string_equal(r->event_type, "alert.raised");
    assert_string_equal(r->event_id, "a1");
    assert_string_equal(r->idempotency_key, "msg_1"); /* webhook-id */
    assert_string_equal(hf_severity_name(r->severity), "critical"); /* severity_map */
    ASSERT_FIELD(r, "alert_name", "CPUHigh");
    ASSERT_FIELD(r, "http_status", "500");
    hf_record_unref(r);
}

/* Points are built only when a sink takes metrics: a records-only
 * pipeline carries none (and the same record JSON), one metrics sink
 * among record sinks brings them back. */
static struct hf_pipeline *pipeline_with(const char *sinks)
{
    struct hf_cerr err = {0};
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), "%ssinks:\n%s", TU_SOURCES, sinks);
    struct hf_config *c = tu_config(yaml, &err);
    if (!c)
        fail_msg("%s", err.msg);
    struct hf_pipeline *p = hf_pipeline_new(c, NULL, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static void test_points_only_when_taken(void **state)
{
    (void)state;
    struct hf_pipeline *rec_only = pipeline_with("  - {name: a, type: stdout, takes: records}\n"
                                                 "  - {name: b, type: stdout, takes: records}\n");
    struct hf_pipeline *mixed = pipeline_with("  - {name: a, type: stdout, takes: records}\n"
                                              "  - {name: b, type: stdout, takes: metrics}\n");
    assert_true(rec_only->no_points);
    assert_false(mixed->no_points);
    struct hf_record *a = tu_fixture_record(rec_only, "omega", "omega/decision.escalated.json", 0, 1795453200123LL);
    struct hf_record *b = tu_fixture_record(mixed, "omega", "omega/decision.escalated.json", 0, 1795453200123LL);
    assert_int_equal(a->npoints, 0);
    assert_true(b->npoints > 0);
    assert_int_equal(a->json_len, b->json_len);
    assert_memory_equal(a->json, b->json, a->json_len);
    assert_int_equal(a->nfields, b->nfields);
    hf_record_unref(a);
    hf_record_unref(b);
    hf_pipeline_unref(rec_only);
    hf_pipeline_unref(mixed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_omega_escalated),
        cmocka_unit_test(test_embedded_same_record),
        cmocka_unit_test(test_unseen_shapes),
        cmocka_unit_test(test_sentinelayer),
        cmocka_unit_test(test_omega_rules),
        cmocka_unit_test(test_sentinelayer_rules),
        cmocka_unit_test(test_rule_skips),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_duplicates_and_depth),
        cmocka_unit_test(test_generic_source),
        cmocka_unit_test(test_points_only_when_taken),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
