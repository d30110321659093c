/* SPDX-License-Identifier: Apache-2.0 */
/* Per-event templates: every name of the contract on real records,
 * defaults, each escaping mode, cuts that never split a character or an
 * escape, compile errors with offsets, and binding from a configuration
 * (HF_OPT_TEMPLATE and HF_OPT_FILTER) with file:line:col. */
#include "tu_sources.h"
#include "cnode.h"
#include "route.h"
#include "template.h"
#include "verify.h"

static char out[2048];

static const char *expand(const char *text, const struct hf_record *r, unsigned esc)
{
    char why[300];
    size_t off;
    struct hf_template *t = hf_template_compile(text, &off, why, sizeof(why));
    if (!t)
        fail_msg("%s: %s", text, why);
    size_t need = hf_template_expand(t, r, esc, out, sizeof(out));
    assert_int_equal(need, strlen(out));
    /* the buffer form gives the same bytes */
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "x");
    assert_int_equal(hf_template_append(t, r, esc, &b), 0);
    assert_string_equal(b.data + 1, out);
    hf_buf_free(&b);
    hf_template_free(t);
    return out;
}

static void test_names(void **state)
{
    (void)state;
    struct hf_record *r = tu_build("omega", "omega/decision.escalated.json");
    assert_string_equal(expand("${source}", r, 0), "omega");
    assert_string_equal(expand("${event_type}", r, 0), "decision.escalated");
    assert_string_equal(expand("${severity}", r, 0), "high");
    assert_string_equal(expand("${event_id}", r, 0), "dec_abc123");
    assert_string_equal(expand("${idempotency_key}", r, 0), "dec_abc123:decision.escalated");
    assert_string_equal(expand("${timestamp}", r, 0), "2026-01-14T12:00:00Z");
    assert_string_equal(expand("risk ${data.decision.risk_score} for ${data.decision.scenario}", r, 0),
                        "risk 0.85 for Transfer $100k to new vendor");
    /* a list reads as "a, b" */
    assert_string_equal(expand("[${data.decision.policy_matches}]", r, 0), "[high_value_transfer, new_vendor]");
    /* absent: empty, or the default */
    assert_string_equal(expand("<${data.repo}>", r, 0), "<>");
    assert_string_equal(expand("${data.repo:-unknown}/${data.branch:-}", r, 0), "unknown/");
    assert_string_equal(expand("${data.decision.outcome:-x}", r, 0), "ESCALATE");
    /* text around, "$" alone and "}" alone are plain */
    assert_string_equal(expand("cost $5 {a} ${event_type}!", r, 0), "cost $5 {a} decision.escalated!");
    hf_record_unref(r);

    r = tu_build("sentinelayer", "sentinelayer/scan.failed.json");
    /* a null field counts as absent; numbers keep their text; bools read true/false */
    assert_string_equal(expand("PR ${data.pr_number:-none} code ${data.error_code}", r, 0), "PR none code 2");
    assert_string_equal(expand("${data.repo}@${data.branch}", r, 0), "acme/backend@main");
    hf_record_unref(r);

    r = tu_build_body("other", "{\"type\":\"x.y\",\"id\":\"i1\",\"ok\":true,\"empty\":[],\"n\":-1.5e3}");
    assert_string_equal(expand("${data.ok} ${data.empty:-none} ${data.n}", r, 0), "true none -1.5e3");
    /* no idempotency key on this source: the default */
    assert_string_equal(expand("${idempotency_key:-none} ${event_id}", r, 0), "i1 i1");
    hf_record_unref(r);
}

static void test_escaping(void **state)
{
    (void)state;
    struct hf_record *r = tu_build_body(
        "other", "{\"type\":\"t\",\"id\":\"i\",\"v\":\"<!channel> a&b \\\"q\\\" \\\\ line1\\r\\nline2\\t\\u0001\"}");
    /* Slack mrkdwn: only the value is escaped, the template's own markup stays */
    assert_string_equal(expand("*${data.v}* <https://x|y>", r, HF_ESC_MRKDWN),
                        "*&lt;!channel&gt; a&amp;b \"q\" \\ line1\r\nline2\t\x01* <https://x|y>");
    /* JSON string content: the literal text is escaped too */
    assert_string_equal(expand("\"${data.v}\"", r, HF_ESC_JSON),
                        "\\\"<!channel> a&b \\\"q\\\" \\\\ line1\\r\\nline2\\t\\u0001\\\"");
    /* both at once (Slack text inside a JSON body) */
    assert_string_equal(expand("${data.v}", r, HF_ESC_JSON | HF_ESC_MRKDWN),
                        "&lt;!channel&gt; a&amp;b \\\"q\\\" \\\\ line1\\r\\nline2\\t\\u0001");
    /* a header value never carries CR or LF (nor other controls but TAB) */
    assert_string_equal(expand("Subject: ${data.v}", r, HF_ESC_HEADER),
                        "Subject: <!channel> a&b \"q\" \\ line1  line2\t ");
    /* a name: any byte but letters, digits, . _ - becomes _ */
    assert_string_equal(expand("t.${data.v}", r, HF_ESC_NAME), "t.__channel__a_b__q____line1__line2__");
    assert_string_equal(expand("t.${data.missing}", r, HF_ESC_NAME), "t._");
    hf_record_unref(r);

    /* invalid UTF-8 becomes U+FFFD in every escaping mode, stays as is in none */
    char s[] = "a\xff\xc3\xa9z";
    char o[32];
    assert_int_equal(hf_escape_text(s, strlen(s), HF_ESC_JSON, o, sizeof(o)), 7);
    assert_string_equal(o, "a\xef\xbf\xbd\xc3\xa9z");
    hf_escape_text(s, strlen(s), HF_ESC_MRKDWN, o, sizeof(o));
    assert_string_equal(o, "a\xef\xbf\xbd\xc3\xa9z");
    hf_escape_text(s, strlen(s), HF_ESC_HEADER, o, sizeof(o));
    assert_string_equal(o, "a\xef\xbf\xbd\xc3\xa9z");
    hf_escape_text(s, strlen(s), HF_ESC_NONE, o, sizeof(o));
    assert_string_equal(o, s);
    hf_escape_text(s, strlen(s), HF_ESC_NAME, o, sizeof(o));
    assert_string_equal(o, "a___z");
}

static void test_cuts(void **state)
{
    (void)state;
    struct hf_record *r = tu_build_body("other", "{\"type\":\"t\",\"id\":\"i\",\"v\":\"\xc3\xa9t\xc3\xa9 <b>\"}");
    char why[200];
    struct hf_template *t = hf_template_compile("x${data.v}", NULL, why, sizeof(why));
    assert_non_null(t);
    char full[64];
    size_t need = hf_template_expand(t, r, HF_ESC_MRKDWN, full, sizeof(full));
    assert_string_equal(full, "x\xc3\xa9t\xc3\xa9 &lt;b&gt;");
    assert_int_equal(need, strlen(full));
    /* every buffer size: the output is a prefix of the full one, cut
     * between characters and escapes, and the needed length never changes */
    for (size_t cap = 0; cap <= need + 1; cap++) {
        char small[64];
        memset(small, '#', sizeof(small));
        assert_int_equal(hf_template_expand(t, r, HF_ESC_MRKDWN, small, cap), need);
        if (cap == 0) {
            assert_int_equal(small[0], '#');
            continue;
        }
        size_t got = strlen(small);
        assert_true(got < cap);
        assert_memory_equal(small, full, got);
        static const size_t ok_cuts[] = {0, 1, 3, 4, 6, 7, 11, 12, 16};
        bool ok = false;
        for (size_t i = 0; i < sizeof(ok_cuts) / sizeof(ok_cuts[0]); i++)
            ok |= got == ok_cuts[i];
        if (!ok)
            fail_msg("cap %zu cut at %zu", cap, got);
    }
    hf_template_free(t);
    hf_record_unref(r);

    const char *e = "\xc3\xa9t\xc3\xa9";
    assert_int_equal(hf_utf8_chars(e, strlen(e)), 3);
    assert_int_equal(hf_utf8_prefix(e, strlen(e), 2), 3);
    assert_int_equal(hf_utf8_prefix(e, strlen(e), 9), 5);
    assert_int_equal(hf_utf8_chars("a\xff", 2), 2);
}

static void test_compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t off;
        const char *msg;
    } bad[] = {
        {"x ${nope}", 2, "unknown name '${nope}'"},
        {"${event_type} ${data.repo", 14, "unterminated '${data.repo'"},
        {"${}", 0, "empty name"},
        {"${:-x}", 0, "empty name"},
        {"${data.}", 0, "unknown name '${data.}'"},
        {"${data.a b}", 0, "bad character in '${data.a b}'"},
        {"${data.a:b}", 0, "bad character"},
        {"${data.a:-${data.b}}", 0, "a default cannot hold a name"},
        {"${sevrity}", 0, "valid: ${source}, ${event_type}"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[400] = "";
        size_t off = 99;
        struct hf_template *t = hf_template_compile(bad[i].text, &off, why, sizeof(why));
        if (t)
            fail_msg("'%s' compiled", bad[i].text);
        if (!strstr(why, bad[i].msg))
            fail_msg("'%s': %s", bad[i].text, why);
        assert_int_equal(off, bad[i].off);
    }
    char why[100];
    struct hf_template *t = hf_template_compile("plain text", NULL, why, sizeof(why));
    assert_true(hf_template_constant(t));
    assert_string_equal(hf_template_source(t), "plain text");
    hf_template_free(t);
    t = hf_template_compile("${data.repo:-x}/${idempotency_key}", NULL, why, sizeof(why));
    assert_false(hf_template_constant(t));
    assert_true(hf_template_uses(t, "data.repo"));
    assert_true(hf_template_uses(t, "idempotency_key"));
    assert_false(hf_template_uses(t, "data.rep"));
    hf_template_free(t);
    t = hf_template_compile("", NULL, why, sizeof(why));
    assert_non_null(t);
    assert_int_equal(hf_template_expand(t, NULL, 0, out, sizeof(out)), 0);
    hf_template_free(t);
}

/* Options bound from a configuration: templates compiled at load, a bad
 * one reported at its value, filters built and matched. */
struct bound {
    struct hf_template *text, *key, *dflt;
    struct hf_filter *resolve;
    struct hf_template *resolve_key;
};

static const struct hf_option resolve_sub[] = {
    {.name = "dedup_key", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct bound, resolve_key)}, {0}};

static const struct hf_option table[] = {
    {.name = "text", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct bound, text)},
    {.name = "key", .type = HF_OPT_TEMPLATE, HF_OPT_AT(struct bound, key)},
    {.name = "dflt", .type = HF_OPT_TEMPLATE, .def = "${idempotency_key}", HF_OPT_AT(struct bound, dflt)},
    {.name = "resolve", .type = HF_OPT_FILTER, .sub = resolve_sub, HF_OPT_AT(struct bound, resolve)},
    {0}};

static int bind_text(const char *yaml, struct bound *b, struct hf_cerr *err)
{
    struct hf_cnode *n = hf_cnode_load_string("t.yaml", yaml, strlen(yaml), err);
    if (!n)
        return -1;
    memset(b, 0, sizeof(*b));
    int rc = hf_cnode_validate("t.yaml", n, table, "sink 'a' (x)", err);
    if (rc == 0)
        rc = hf_opt_bind("t.yaml", n, table, b, err);
    hf_cnode_free(n);
    return rc;
}

static void test_bind(void **state)
{
    (void)state;
    struct bound b;
    struct hf_cerr err = {0};
    assert_int_equal(bind_text("text: \"${data.repo:-?} ${event_type}\"\n"
                               "resolve:\n"
                               "  events: [scan.completed]\n"
                               "  match: {gate_status: {eq: passed}}\n"
                               "  dedup_key: \"${data.repo}/${data.branch}\"\n",
                               &b, &err),
                     0);
    assert_non_null(b.text);
    assert_null(b.key);
    assert_non_null(b.dflt);
    assert_non_null(b.resolve);
    assert_non_null(b.resolve_key);
    struct hf_record *blocked = tu_build("sentinelayer", "sentinelayer/scan.completed.json");
    struct hf_record *skipped = tu_build("sentinelayer", "sentinelayer/scan.skipped.json");
    struct hf_record *passed = tu_build_body("sentinelayer", "{\"event_type\":\"scan.completed\",\"run_id\":\"r9\","
                                                             "\"repo\":\"acme/backend\",\"branch\":\"feature/auth\","
                                                             "\"gate_status\":\"passed\"}");
    assert_false(hf_filter_match(b.resolve, blocked));
    assert_false(hf_filter_match(b.resolve, skipped)); /* passed, but not scan.completed */
    assert_true(hf_filter_match(b.resolve, passed));
    hf_template_expand(b.resolve_key, passed, 0, out, sizeof(out));
    assert_string_equal(out, "acme/backend/feature/auth");
    hf_template_expand(b.text, blocked, 0, out, sizeof(out));
    assert_string_equal(out, "acme/backend scan.completed");
    hf_template_expand(b.dflt, blocked, 0, out, sizeof(out));
    assert_string_equal(out, "run-20260223-001");
    hf_record_unref(blocked);
    hf_record_unref(skipped);
    hf_record_unref(passed);
    hf_opt_unbind(table, &b);
    assert_null(b.text);
    assert_null(b.resolve);

    /* a bad name: file:line:col of the value, the option, the reason */
    assert_int_equal(bind_text("text: ok\nkey: \"x ${data.repo:b}\"\n", &b, &err), -1);
    assert_non_null(strstr(err.msg, "t.yaml:2:6: 'key': bad character in '${data.repo:b}'"));
    hf_opt_unbind(table, &b);
    assert_int_equal(bind_text("resolve:\n  events: [a]\n  dedup_key: \"${data.}x\"\n", &b, &err), -1);
    assert_non_null(strstr(err.msg, "t.yaml:3:14: 'dedup_key': unknown name '${data.}'"));
    hf_opt_unbind(table, &b);
    /* a filter's own checks and keys */
    assert_int_equal(bind_text("resolve:\n  match: {repo: {gt: abc}}\n", &b, &err), -1);
    assert_non_null(strstr(err.msg, "t.yaml:2:22: 'gt' compares numbers"));
    hf_opt_unbind(table, &b);
    assert_int_equal(bind_text("resolve:\n  evnts: [a]\n", &b, &err), -1);
    assert_non_null(strstr(err.msg, "t.yaml:2:3"));
    assert_non_null(strstr(err.msg, "evnts"));
    assert_int_equal(bind_text("resolve: [a]\n", &b, &err), -1);
    assert_non_null(strstr(err.msg, "'resolve' must be a map"));
}

/* An unknown per-event-looking name that is no environment variable is
 * an error at load, pointing at the value. */
static void test_config_env(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    const char *y1 = "a: \"${event_type} ${data.x:-d} ${timestamp}\"\nb: ${sevrity}\n";
    struct hf_cnode *n = hf_cnode_load_string("e.yaml", y1, strlen(y1), &err);
    assert_null(n);
    assert_non_null(strstr(err.msg, "e.yaml:2:4: environment variable sevrity is not set"));
    const char *y2 = "a: \"${event_type} ${data.x:-d} ${idempotency_key}\"\n";
    n = hf_cnode_load_string("e.yaml", y2, strlen(y2), &err);
    assert_non_null(n);
    assert_string_equal(n->child[0].value, "${event_type} ${data.x:-d} ${idempotency_key}");
    hf_cnode_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),          cmocka_unit_test(test_escaping), cmocka_unit_test(test_cuts),
        cmocka_unit_test(test_compile_errors), cmocka_unit_test(test_bind),     cmocka_unit_test(test_config_env),
    };
    return cmocka_run_group_tests(tests, tu_sources_setup, tu_sources_teardown);
}
