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

/* Each case is refused at its file:line:col with its needle in the
 * message, which never holds the test secret; returns the failures. */
static int refused_cases(const struct bad_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct hf_cerr err = {0};
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
        /* a secret never appears in an error, the first or any kept */
        for (int k = -1; k < err.n && k < HF_CERR_KEEP; k++) {
            const char *m = k < 0 ? err.msg : err.list[k];
            if (strstr(m, "s3cr3t")) {
                print_message("case %zu: the secret shows in '%s'\n", i, m);
                bad++;
            }
        }
        unlink(path);
        free(path);
    }
    return bad;
}

static void test_errors_with_positions(void **state)
{
    (void)state;
    setenv("HF_TEST_SECRET", "s3cr3t!value", 1);
    unsetenv("HF_TEST_UNSET");
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
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* A value from ${ENV} that validation refuses is quoted as written,
 * whatever the option's type and whoever checks it. */
struct want_error {
    int line, col;
    const char *needle;
};

/* err kept exactly these errors, in order, each at its position and none
 * quoting an expanded secret; msg is the first. */
static void assert_errors(const struct hf_cerr *err, const char *path, const struct want_error *want, size_t n)
{
    assert_int_equal(err->n, (int)n);
    for (size_t i = 0; i < n; i++) {
        char head[1200];
        snprintf(head, sizeof(head), "%s:%d:%d: ", path, want[i].line, want[i].col);
        if (strncmp(err->list[i], head, strlen(head)) || !strstr(err->list[i], want[i].needle))
            fail_msg("error %zu: expected '%s...%s', got '%s'", i, head, want[i].needle, err->list[i]);
        assert_null(strstr(err->list[i], "s3cr3t"));
    }
    assert_string_equal(err->msg, err->list[0]);
}

/* The file's shape is checked past the first error: every unknown key,
 * wrong type, bad value and missing key is named, in file order, each at
 * its own position, none quoting an expanded secret; msg is the first. */
static void test_every_error_named(void **state)
{
    (void)state;
    setenv("HF_TEST_SECRET", "s3cr3t!value", 1);
    char *path = tu_temp_file("listen:\n  adress: 1\n  threads: ${HF_TEST_SECRET}\n"
                              "sources:\n"
                              "  - name: a\n    path: /a\n    colour: red\n"
                              "    signature: {scheme: hmac-sha256, header: X, secrets: [s]}\n"
                              "  - name: b\n"
                              "  - plain\n" TU_STDOUT_SINK);
    struct hf_cerr err = {0};
    struct hf_config *c = hf_config_load(path, &err);
    assert_null(c);
    const struct want_error want[] = {{2, 3, "unknown key 'adress'"},
                                      {3, 12, "'threads' must be an integer or auto"},
                                      {7, 5, "unknown key 'colour'"},
                                      {9, 5, "missing required key 'path'"},
                                      {9, 5, "missing required key 'signature'"},
                                      {10, 5, "each entry of 'sources' must be a map"}};
    assert_errors(&err, path, want, sizeof(want) / sizeof(*want));
    /* past HF_CERR_KEEP errors, the rest are counted */
    struct hf_buf y;
    hf_buf_init(&y, 0);
    hf_buf_puts(&y, "listen:\n");
    for (int i = 0; i < HF_CERR_KEEP + 3; i++)
        hf_buf_printf(&y, "  bad%d: 1\n", i);
    hf_buf_puts(&y, TU_SOURCES TU_STDOUT_SINK);
    char *path2 = tu_temp_file(y.data);
    struct hf_cerr err2 = {0};
    assert_null(hf_config_load(path2, &err2));
    assert_int_equal(err2.n, HF_CERR_KEEP + 3);
    assert_non_null(strstr(err2.list[HF_CERR_KEEP - 1], "unknown key 'bad7'"));
    unlink(path);
    unlink(path2);
    free(path);
    free(path2);
    hf_buf_free(&y);
}

/* Past the file's shape, each section, source, rule and sink is still
 * checked after one with an error: one error each, in order. */
static void test_every_check_named(void **state)
{
    (void)state;
    /* a value with no piece that a message quotes (the scrub would take it) */
    setenv("HF_TEST_ADMIN", "s3cr3t!zq7", 1);
    char *path = tu_temp_file("listen:\n  address: nohost\n"
                              "admin:\n  address: \"${HF_TEST_ADMIN}\"\n"
                              "sources:\n"
                              "  - name: a\n    path: a\n"
                              "    signature: {scheme: hmac-sha256, header: X, secrets: [s]}\n"
                              "  - name: b\n    path: /b\n"
                              "    signature: {scheme: hmac-sha256, header: X, secrets: []}\n"
                              "  - name: a\n    path: /c\n"
                              "    signature: {scheme: hmac-sha256, header: X, secrets: [s]}\n"
                              "metrics:\n  - {name: m, type: gauge}\n"
                              "sinks:\n"
                              "  - {name: x, type: stdout, filter: {match: {a: {gt: \"y\"}}}}\n"
                              "  - {name: x, type: stdout}\n");
    struct hf_cerr err = {0};
    assert_null(hf_config_load(path, &err));
    const struct want_error want[] = {{2, 12, "'nohost' must be host:port"},
                                      {4, 12, "'${HF_TEST_ADMIN}' must be host:port"},
                                      {7, 11, "source 'a': path must start with '/'"},
                                      {11, 58, "source 'b': at least one secret is needed"},
                                      {13, 11, "source 'a' repeats the name or path of source 'a'"},
                                      {16, 21, "metric 'm': a gauge needs 'value'"},
                                      {18, 54, "'y' is not a number"},
                                      {19, 12, "sink name 'x' is used twice"}};
    assert_errors(&err, path, want, sizeof(want) / sizeof(*want));
    unlink(path);
    free(path);
}

static void test_expanded_values_not_quoted(void **state)
{
    (void)state;
    setenv("HF_TEST_SECRET", "s3cr3t!value", 1);
    setenv("HF_TEST_SECRET_URL", "ftp://s3cr3t@host/x", 1);
    const struct bad_case cases[] = {
        {"storage:\n  mode: ${HF_TEST_SECRET}\n" TU_SOURCES TU_STDOUT_SINK, 2, 9,
         "'${HF_TEST_SECRET}' is not a valid mode (valid: memory|disk)"},
        {"listen:\n  address: ${HF_TEST_SECRET}\n" TU_SOURCES TU_STDOUT_SINK, 2, 12,
         "'${HF_TEST_SECRET}' must be host:port"},
        {"admin:\n  address: \"x${HF_TEST_SECRET}\"\n" TU_SOURCES TU_STDOUT_SINK, 2, 12,
         "'x${HF_TEST_SECRET}' must be host:port"},
        {TU_SOURCES "    severity_map: {scan.blocked: \"${HF_TEST_SECRET}\"}\n" TU_STDOUT_SINK, 11, 34,
         "severity '${HF_TEST_SECRET}' is not valid"},
        {TU_SOURCES "sinks:\n  - {name: x, type: \"${HF_TEST_SECRET}\"}\n", 12, 21, "unknown type '${HF_TEST_SECRET}'"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, format: \"${HF_TEST_SECRET}\"}\n", 12, 37,
         "'${HF_TEST_SECRET}' is not a valid format"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, filter: {match: {a: {gt: \"${HF_TEST_SECRET}\"}}}}\n", 12, 54,
         "'${HF_TEST_SECRET}' is not a number"},
        {TU_SOURCES "metrics:\n  - {name: m, type: count, tags: [\"=${HF_TEST_SECRET}\"]}\n" TU_STDOUT_SINK, 12, 35,
         "'=${HF_TEST_SECRET}' is not a valid tag"},
        {TU_SOURCES "sinks:\n  - {name: x, type: file, path: /x, format: \"${HF_TEST_SECRET}\"}\n", 12, 45,
         "'${HF_TEST_SECRET}' is not a valid format"},
    };
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);

    /* the scrub itself: a quote of the value or of a piece of it, and the
     * value unquoted, become the text as written */
    struct hf_cerr err = {0};
    char *path = tu_temp_file("a: \"${HF_TEST_SECRET_URL}\"\nb: {file: /etc/k}\n");
    struct hf_cnode *root = hf_cnode_load(path, &err);
    assert_non_null(root);
    char msg[200] = "url: scheme 'ftp' (of ftp://s3cr3t@host/x), not 's3cr3t@host', 'ok'";
    hf_cnode_scrub(hf_cnode_get(root, "a"), true, msg, sizeof(msg));
    assert_string_equal(msg, "url: scheme '${HF_TEST_SECRET_URL}' (of ${HF_TEST_SECRET_URL}), not "
                             "'${HF_TEST_SECRET_URL}', 'ok'");
    char msg2[200] = "'whsec_x' is not valid";
    hf_cnode_scrub(hf_cnode_get(root, "b"), true, msg2, sizeof(msg2));
    assert_string_equal(msg2, "'{file: /etc/k}' is not valid");
    char tiny[24] = "'ftp' and more text";
    hf_cnode_scrub(hf_cnode_get(root, "a"), true, tiny, sizeof(tiny));
    assert_null(strstr(tiny, "ftp"));
    hf_cnode_free(root);
    unlink(path);
    free(path);
}

/* Bounds are printed in the units a user writes; no maximum reads "at least". */
static void test_range_units(void **state)
{
    (void)state;
    const struct bad_case cases[] = {
        {"storage:\n  max_size: 512KiB\n" TU_SOURCES TU_STDOUT_SINK, 2, 13,
         "'max_size' is out of range (at least 1MiB)"},
        {"listen:\n  read_timeout: 1d\n" TU_SOURCES TU_STDOUT_SINK, 2, 17,
         "'read_timeout' is out of range (100ms..1h)"},
        {"listen:\n  max_header: 100\n" TU_SOURCES TU_STDOUT_SINK, 2, 15, "'max_header' is out of range (1KiB..1MiB)"},
        {"listen:\n  threads: 65\n" TU_SOURCES TU_STDOUT_SINK, 2, 12, "'threads' is out of range (1..64)"},
        {"sources:\n  - name: a\n    path: /a\n    signature: {secrets: [x], header: X}\n    dedup: {window: "
         "31d}\n" TU_STDOUT_SINK,
         5, 21, "'window' is out of range (1s..30d)"},
        {TU_SOURCES "sinks:\n  - {name: x, type: stdout, batch: {max_bytes: 1GiB}}\n", 12, 48,
         "'max_bytes' is out of range (1KiB..256MiB)"},
    };
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
    char b[32];
    assert_string_equal(hf_format_size(1536, b, sizeof(b)), "1536");
    assert_string_equal(hf_format_size(3LL << 30, b, sizeof(b)), "3GiB");
    assert_string_equal(hf_format_duration(1500, b, sizeof(b)), "1500ms");
    assert_string_equal(hf_format_duration(90000, b, sizeof(b)), "90s");
    assert_string_equal(hf_format_duration(0, b, sizeof(b)), "0ms");
}

/* User metric rules: only a count may omit value; a tag is FIELD or
 * NAME=FIELD, both parts non-empty. */
static void test_metric_rules(void **state)
{
    (void)state;
    const struct bad_case cases[] = {
        {TU_SOURCES "metrics:\n  - name: my.g\n    type: gauge\n    events: [\"decision.*\"]\n" TU_STDOUT_SINK, 13, 11,
         "metric 'my.g': a gauge needs 'value'"},
        {TU_SOURCES "metrics:\n  - {name: d, type: distribution}\n" TU_STDOUT_SINK, 12, 21,
         "a distribution needs 'value'"},
        {TU_SOURCES "metrics:\n  - {name: d, type: gauge, value: \"\"}\n" TU_STDOUT_SINK, 12, 35,
         "a gauge needs 'value'"},
        {TU_SOURCES "metrics:\n  - {name: x.y, type: count, tags: [outcome=, event]}\n" TU_STDOUT_SINK, 12, 37,
         "metric 'x.y': 'outcome=' is not a valid tag (valid: FIELD, or NAME=FIELD such as outcome=decision.outcome)"},
        {TU_SOURCES "metrics:\n  - {name: x.y, type: count, tags: [\"=decision.outcome\"]}\n" TU_STDOUT_SINK, 12, 37,
         "'=decision.outcome' is not a valid tag"},
        {TU_SOURCES "metrics:\n  - {name: x.y, type: count, tags: [event, \"\"]}\n" TU_STDOUT_SINK, 12, 44,
         "'' is not a valid tag"},
    };
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
    struct hf_cerr err = {0};
    struct hf_config *c =
        tu_config(TU_SOURCES "metrics:\n  - {name: n, type: count, tags: [outcome=decision.outcome, "
                             "event]}\n  - {name: g, type: gauge, value: decision.risk_score}\n" TU_STDOUT_SINK,
                  &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(c->nrules, 2);
    assert_string_equal(c->rules[0].tags[0].name, "outcome");
    assert_string_equal(c->rules[0].tags[0].field, "decision.outcome");
    hf_config_free(c);
}

/* Signature options of the other scheme are refused, not ignored. */
static void test_scheme_options(void **state)
{
    (void)state;
#define SRC "sources:\n  - name: a\n    path: /a\n"
    const struct bad_case cases[] = {
        {SRC "    signature: {header: X, secrets: [x], tolerance: 5m}\n" TU_STDOUT_SINK, 4, 42,
         "source 'a': signature.tolerance applies to scheme standard-webhooks, not hmac-sha256"},
        {SRC "    signature: {scheme: standard-webhooks, secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw], embedded: "
             "sig}\n" TU_STDOUT_SINK,
         4, 95, "signature.embedded applies to scheme hmac-sha256, not standard-webhooks"},
        {SRC "    signature:\n      scheme: standard-webhooks\n      header: X-Sig\n      secrets: "
             "[whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]\n" TU_STDOUT_SINK,
         6, 7, "signature.header applies to scheme hmac-sha256, not standard-webhooks"},
    };
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
    struct hf_cerr err = {0};
    struct hf_config *c =
        tu_config(SRC "    signature: {scheme: standard-webhooks, secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw], "
                      "tolerance: 10m}\n" TU_STDOUT_SINK,
                  &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(c->sources[0].tolerance_ms, 600000);
    hf_config_free(c);
#undef SRC
}

/* listen.tls files are checked as the sinks' tls files are: readable,
 * and a pair OpenSSL loads. */
static void test_listen_tls(void **state)
{
    (void)state;
    const char *not_pem = SOURCE_DIR "/CMakeLists.txt";
    char yaml[3][1024];
    snprintf(yaml[0], sizeof(yaml[0]),
             "listen:\n  tls: {cert: /nonexistent.crt, key: /nonexistent.key}\n" TU_SOURCES TU_STDOUT_SINK);
    snprintf(yaml[1], sizeof(yaml[1]),
             "listen:\n  tls:\n    cert: %s\n    key: /nonexistent.key\n" TU_SOURCES TU_STDOUT_SINK, not_pem);
    snprintf(yaml[2], sizeof(yaml[2]), "listen:\n  tls:\n    cert: %s\n    key: %s\n" TU_SOURCES TU_STDOUT_SINK,
             not_pem, not_pem);
    const struct bad_case cases[] = {
        {yaml[0], 2, 15, "listen: tls.cert: cannot be read (certificate /nonexistent.crt: No such file or directory)"},
        {yaml[1], 4, 10, "listen: tls.key: cannot be read (private key /nonexistent.key"},
        {yaml[2], 3, 11, "listen: tls.cert: cannot use the certificate"},
    };
    assert_int_equal(refused_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

static void test_good_config(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
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
    struct hf_cerr err = {0};
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
        cmocka_unit_test(test_errors_with_positions), cmocka_unit_test(test_every_error_named),
        cmocka_unit_test(test_every_check_named),     cmocka_unit_test(test_expanded_values_not_quoted),
        cmocka_unit_test(test_range_units),           cmocka_unit_test(test_metric_rules),
        cmocka_unit_test(test_scheme_options),        cmocka_unit_test(test_listen_tls),
        cmocka_unit_test(test_good_config),           cmocka_unit_test(test_filters),
        cmocka_unit_test(test_dedup_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
