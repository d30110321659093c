/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration errors carry file:line:col and say what would be valid;
 * filters and dedup behave as documented. */
#include "testutil.h"
#include "dedup.h"
#include "route.h"

struct bad_case {
    const char *yaml;
    int line, col;
    const char *needle;
};

static void test_errors_with_positions(void **state)
{
    (void)state;
    setenv("HF_TEST_SECRET", "s3cr3t!value", 1);
    unsetenv("HF_TEST_UNSET");
    int bad = 0;
    const struct bad_case cases[] = {
        {"listen:\n  adress: 1\n" TU_SOURCES TU_STDOUT_SINK, 2, 3, "unknown key 'adress' (valid: address, tls"},
        {"listen:\n  max_body: lots\n" TU_SOURCES TU_STDOUT_SINK, 2, 13, "size such as"},
        {"listen:\n  threads: 0\n" TU_SOURCES TU_STDOUT_SINK, 2, 12, "out of range"},
        {"listen:\n  read_timeout: 10\n" TU_SOURCES TU_STDOUT_SINK, 2, 17, "duration such as"},
        {"listen:\n  address: nope\n" TU_SOURCES TU_STDOUT_SINK, 2, 12, "host:port"},
        {"storage: {mode: tape}\n" TU_SOURCES TU_STDOUT_SINK, 1, 17, "valid: memory|disk"},
        {TU_SOURCES "sinks:\n  - {name: x, type: splunk}\n", 12, 21, "unknown type 'splunk'"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, colour: red}\n", 12, 29, "unknown key 'colour'"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, batch: {max_events: -1}}\n", 12, 49, "out of range"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, filter: {severity_at_least: loud}}\n", 12, 57,
         "valid: info|warning|high|critical"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, filter: {match: {decision.risk_score: {gtx: 1}}}}\n", 12, 68,
         "unknown comparison 'gtx'"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout}\n  - {name: x, type: stdout}\n", 13, 12, "used twice"},
        {TU_SOURCES "sinks:\n  - {name: x, type: file}\n", 12, 5, "missing required key 'path'"},
        {"sources:\n  - name: a\n    path: /a\n    signature: {secrets: [\"${HF_TEST_UNSET}\"], header: "
         "X}\n" TU_STDOUT_SINK,
         4, 27, "environment variable HF_TEST_UNSET is not set"},
        {"sources:\n  - name: a\n    path: /a\n    signature: {secrets: [x]}\n" TU_STDOUT_SINK, 4, 16,
         "needs 'header'"},
        {"sources:\n  - name: a\n    path: a\n    signature: {secrets: [x], header: X}\n" TU_STDOUT_SINK, 3, 11,
         "must start with '/'"},
        {"sources:\n  - name: a\n    path: /a\n    signature: {secrets: [\"${HF_TEST_SECRET}\"], "
         "scheme: standard-webhooks}\n" TU_STDOUT_SINK,
         4, 27, "whsec_ followed by base64"},
        {"sources: [\n", 2, 1, "YAML syntax error"},
        {"listen: {}\n", 1, 1, "missing required key 'sources'"},
        {"listen:\n  address: 127.0.0.1:1\n  address: 127.0.0.1:2\n" TU_SOURCES TU_STDOUT_SINK, 3, 3,
         "duplicate key 'address'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hf_cerr err = {{0}};
        char *path = tu_temp_file(cases[i].yaml);
        struct hf_config *c = hf_config_load(path, &err);
        if (c)
            fail_msg("case %zu: accepted", i);
        char want[1200];
        snprintf(want, sizeof(want), "%s:%d:%d: ", path, cases[i].line, cases[i].col);
        if (strncmp(err.msg, want, strlen(want)) || !strstr(err.msg, cases[i].needle)) {
            print_message("case %zu: expected '%s...%s', got '%s'\n", i, want, cases[i].needle, err.msg);
            bad++;
        }
        /* a secret never appears in an error */
        assert_null(strstr(err.msg, "s3cr3t!value"));
        unlink(path);
        free(path);
    }
    assert_int_equal(bad, 0);
}

static void test_good_config(void **state)
{
    (void)state;
    struct hf_cerr err = {{0}};
    struct hf_config *c = tu_config("listen: {address: \"[::1]:0\", max_body: 2MiB, read_timeout: 1500ms}\n" TU_SOURCES
                                    "sinks:\n  - name: f\n    type: file\n    path: /dev/null\n    takes: metrics\n"
                                    "    batch: {max_events: 10, flush_interval: 50ms}\n"
                                    "    retry: {initial: 1s, max: 2m, give_up_after: 1h}\n",
                                    &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(c->max_body, 2 << 20);
    assert_int_equal(c->read_timeout_ms, 1500);
    assert_int_equal(c->sinks[0].takes, HF_TAKES_METRICS);
    assert_int_equal(c->sinks[0].batch_max_events, 10);
    assert_int_equal(c->sinks[0].flush_ms, 50);
    assert_int_equal(c->sinks[0].retry_max_ms, 120000);
    assert_int_equal(c->sinks[0].give_up_ms, 3600000);
    assert_int_equal(c->sources[0].nsecrets, 2);
    hf_config_free(c);
}

static struct hf_record *rec(const char *event, enum hf_severity sev, double risk, const char *outcome)
{
    struct hf_record *r = hf_record_new();
    r->source = "omega";
    r->event_type = event;
    r->severity = sev;
    struct hf_field *f = hf_rec_alloc(r, 2 * sizeof(*f));
    char num[32];
    int nl = snprintf(num, sizeof(num), "%g", risk);
    f[0] = (struct hf_field){
        .key = "decision.risk_score",
        .v = {.type = HF_V_DOUBLE, .d = risk, .s = hf_rec_strndup(r, num, (size_t)nl), .len = (size_t)nl}};
    f[1] = (struct hf_field){.key = "gate_status", .v = {.type = HF_V_STRING, .s = outcome, .len = strlen(outcome)}};
    r->fields = f;
    r->nfields = 2;
    return r;
}

static void test_filters(void **state)
{
    (void)state;
    struct hf_cerr err = {{0}};
    struct hf_config *c =
        tu_config(TU_SOURCES "sinks:\n  - name: s\n    type: stdout\n    filter:\n"
                             "      events: [\"decision.*\", \"scan.*\", \"!scan.skipped\", \"!decision.allowed\"]\n"
                             "      severity_at_least: warning\n"
                             "      match:\n        decision.risk_score: {gt: 0.8}\n"
                             "        gate_status: {in: [blocked, error]}\n",
                  &err);
    if (!c)
        fail_msg("%s", err.msg);
    const struct hf_filter *f = &c->sinks[0].filter;
    struct {
        const char *ev;
        enum hf_severity sev;
        double risk;
        const char *gate;
        bool want;
    } cases[] = {
        {"decision.blocked", HF_SEV_WARNING, 0.97, "blocked", true},
        {"decision.blocked", HF_SEV_WARNING, 0.8, "blocked", false}, /* gt is strict */
        {"decision.blocked", HF_SEV_INFO, 0.97, "blocked", false}, /* severity */
        {"decision.allowed", HF_SEV_HIGH, 0.97, "blocked", false}, /* excluded */
        {"scan.skipped", HF_SEV_HIGH, 0.97, "error", false}, /* excluded */
        {"scan.failed", HF_SEV_CRITICAL, 0.9, "error", true},
        {"scan.failed", HF_SEV_CRITICAL, 0.9, "passed", false}, /* not in set */
        {"quota.warning", HF_SEV_CRITICAL, 0.9, "error", false}, /* not included */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hf_record *r = rec(cases[i].ev, cases[i].sev, cases[i].risk, cases[i].gate);
        if (hf_filter_match(f, r) != cases[i].want)
            fail_msg("filter case %zu: expected %d", i, cases[i].want);
        hf_record_unref(r);
    }
    hf_config_free(c);
}

static void test_dedup_window(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(1000);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k1", 1000, 10000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k1", 1000, 10500), 1);
    assert_int_equal(hf_dedup_check_insert(d, "other", "k1", 1000, 10500), 0); /* scoped per source */
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k1", 1000, 11001), 0); /* window passed */
    hf_dedup_remove(d, "omega", "k1");
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k1", 1000, 11002), 0);
    /* bounded: old keys are evicted, the set does not grow past its cap */
    for (int i = 0; i < 100000; i++) {
        char k[32];
        snprintf(k, sizeof(k), "key-%d", i);
        hf_dedup_check_insert(d, "omega", k, 3600000, 20000);
    }
    assert_true(hf_dedup_size(d) <= 1000 + 64);
    hf_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_with_positions),
        cmocka_unit_test(test_good_config),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_dedup_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
