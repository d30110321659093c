/* SPDX-License-Identifier: Apache-2.0 */
/* The slack sink's pure parts: Block Kit layouts per sender on real
 * records, escaping of hostile values, Slack's limits kept by cutting with
 * a marker, the summary message, pacing and the minute window, answers
 * classified, and the configuration check. */
#include "tu_sources.h"
#include "verify.h"

#include "../../plugins/out_slack/slack.h"

#include "json_test.h"

/* Encodes r and parses the message; checks the limits every message must
 * keep whatever the record holds. */
static yyjson_val *encode(const struct hf_record *r, const char *text, bool blocks, int *cuts)
{
    struct hf_template *t = NULL;
    if (text) {
        char why[200];
        t = hf_template_compile(text, NULL, why, sizeof(why));
        if (!t)
            fail_msg("%s: %s", text, why);
    }
    struct hf_buf b;
    hf_buf_init(&b, 0);
    int rc = hf_slack_encode_record(r, t, blocks, &b);
    assert_true(rc >= 0);
    if (cuts)
        *cuts = rc;
    yyjson_val *m = tj_parse(b.data, strlen(b.data));
    if (!m)
        fail_msg("not JSON: %s", b.data);
    hf_buf_free(&b);
    hf_template_free(t);
    return m;
}

static const char *str(yyjson_val *o, const char *key)
{
    yyjson_val *v;
    if (!((v = yyjson_obj_get(o, key)) != NULL))
        return NULL;
    return yyjson_get_str(v);
}

static size_t chars(const char *s) { return hf_utf8_chars(s, strlen(s)); }

/* Slack's rules, as tests/peers/slack_receiver.py checks them. */
static void check_limits(yyjson_val *m)
{
    const char *text = str(m, "text");
    assert_non_null(text);
    assert_true(chars(text) >= 1 && chars(text) <= HF_SLACK_MAX_TEXT);
    yyjson_val *blocks;
    if (!((blocks = yyjson_obj_get(m, "blocks")) != NULL))
        return;
    size_t n = yyjson_arr_size(blocks), total = 0;
    assert_true(n >= 1 && n <= HF_SLACK_MAX_BLOCKS);
    for (size_t i = 0; i < n; i++) {
        yyjson_val *b = yyjson_arr_get(blocks, i), *t, *f, *el;
        const char *type = str(b, "type");
        if (!strcmp(type, "header")) {
            assert_true(((t = yyjson_obj_get(b, "text")) != NULL));
            assert_string_equal(str(t, "type"), "plain_text");
            assert_true(chars(str(t, "text")) <= HF_SLACK_MAX_HEADER);
            total += chars(str(t, "text"));
        } else if (!strcmp(type, "section")) {
            if (((t = yyjson_obj_get(b, "text")) != NULL)) {
                assert_true(chars(str(t, "text")) >= 1 && chars(str(t, "text")) <= HF_SLACK_MAX_SECTION);
                total += chars(str(t, "text"));
            }
            if (((f = yyjson_obj_get(b, "fields")) != NULL)) {
                size_t nf = yyjson_arr_size(f);
                assert_true(nf >= 1 && nf <= HF_SLACK_MAX_FIELDS);
                for (size_t j = 0; j < nf; j++) {
                    const char *ft = str(yyjson_arr_get(f, j), "text");
                    assert_true(chars(ft) >= 1 && chars(ft) <= HF_SLACK_MAX_FIELD);
                    total += chars(ft);
                }
            }
        } else if (!strcmp(type, "context")) {
            assert_true(((el = yyjson_obj_get(b, "elements")) != NULL));
            assert_true(yyjson_arr_size(el) >= 1 && yyjson_arr_size(el) <= 10);
            const char *ct = str(yyjson_arr_get(el, 0), "text");
            assert_true(chars(ct) >= 1 && chars(ct) <= HF_SLACK_MAX_SECTION);
            total += chars(ct);
        } else {
            fail_msg("unexpected block type %s", type);
        }
    }
    assert_true(total <= HF_SLACK_MAX_BLOCKS_TEXT);
}

static yyjson_val *block(yyjson_val *m, size_t i)
{
    yyjson_val *blocks;
    assert_true(((blocks = yyjson_obj_get(m, "blocks")) != NULL));
    assert_true(i < yyjson_arr_size(blocks));
    return yyjson_arr_get(blocks, i);
}

static const char *block_text(yyjson_val *m, size_t i)
{
    yyjson_val *t;
    assert_true(((t = yyjson_obj_get(block(m, i), "text")) != NULL));
    return str(t, "text");
}

static const char *field_text(yyjson_val *m, size_t i, size_t j)
{
    yyjson_val *f;
    assert_true(((f = yyjson_obj_get(block(m, i), "fields")) != NULL));
    return str(yyjson_arr_get(f, j), "text");
}

static size_t nblocks(yyjson_val *m)
{
    yyjson_val *blocks;
    return ((blocks = yyjson_obj_get(m, "blocks")) != NULL) ? yyjson_arr_size(blocks) : 0;
}

static void test_omega(void **state)
{
    (void)state;
    struct hf_record *r = tu_build("omega", "omega/decision.escalated.json");
    int cuts = -1;
    yyjson_val *m = encode(r, NULL, true, &cuts);
    check_limits(m);
    assert_int_equal(cuts, 0);
    assert_string_equal(str(m, "text"), "decision.escalated: ESCALATE (risk 0.85) Transfer $100k to new vendor");
    assert_string_equal(str(block(m, 0), "type"), "header");
    assert_string_equal(block_text(m, 0), "decision.escalated: ESCALATE (risk 0.85)");
    assert_string_equal(block_text(m, 1), "*Scenario*\nTransfer $100k to new vendor");
    assert_string_equal(field_text(m, 2, 0), "*Outcome*\nESCALATE");
    assert_string_equal(field_text(m, 2, 1), "*Risk score*\n0.85");
    assert_string_equal(field_text(m, 2, 2), "*Matched policies*\nhigh_value_transfer, new_vendor");
    assert_string_equal(field_text(m, 2, 3), "*Decision*\n`dec_abc123`");
    assert_string_equal(field_text(m, 2, 4), "*Audit*\n`aud_xyz789`");
    assert_string_equal(field_text(m, 2, 5), "*Severity*\nhigh");
    assert_string_equal(str(block(m, 3), "type"), "context");
    tj_free_all();
    /* blocks: none sends the text alone */
    m = encode(r, NULL, false, NULL);
    check_limits(m);
    assert_int_equal(nblocks(m), 0);
    assert_non_null(str(m, "text"));
    tj_free_all();
    hf_record_unref(r);
}

static void test_sentinelayer(void **state)
{
    (void)state;
    struct hf_record *r = tu_build("sentinelayer", "sentinelayer/scan.completed.json");
    yyjson_val *m = encode(r, NULL, true, NULL);
    check_limits(m);
    assert_string_equal(str(m, "text"), "scan.completed: acme/backend feature/auth gate blocked, 11 findings");
    assert_string_equal(block_text(m, 0), "scan.completed: acme/backend (feature/auth)");
    assert_string_equal(field_text(m, 1, 0), "*Repository*\nacme/backend");
    assert_string_equal(field_text(m, 1, 1), "*Branch*\nfeature/auth");
    assert_string_equal(field_text(m, 1, 2), "*Pull request*\n#142");
    assert_string_equal(field_text(m, 1, 3), "*Gate status*\nblocked");
    assert_string_equal(field_text(m, 1, 4), "*Findings*\n11 (P0 0, P1 2, P2 3, P3 5, info 1)");
    assert_string_equal(field_text(m, 1, 5), "*Commit*\n`a1b2c3d4e5f6`");
    assert_string_equal(block_text(m, 2),
                        "*Artifacts*\n<https://api.github.com/repos/acme/backend/actions/artifacts/12345/zip|findings>"
                        " \xc2\xb7 <https://api.github.com/repos/acme/backend/actions/artifacts/12346/zip|summary>");
    tj_free_all();
    hf_record_unref(r);

    r = tu_build("sentinelayer", "sentinelayer/scan.failed.json");
    m = encode(r, NULL, true, NULL);
    check_limits(m);
    assert_string_equal(block_text(m, 1), "*Error* `2`\nMissing required input: sentinelayer_token");
    tj_free_all();
    hf_record_unref(r);
}

/* A value that would mention the channel, forge a link or break the
 * markup is escaped; the template's own markup is not. */
static void test_escaping(void **state)
{
    (void)state;
    struct hf_record *r = tu_build_body(
        "other", "{\"type\":\"alert.x\",\"id\":\"a1\",\"note\":\"<!channel> & <@U024BE7LH> <https://evil.test|click>\","
                 "\"link\":\"https://ok.test/a?b=1&c=<2>|x\"}");
    yyjson_val *m = encode(r, "*${event_type}* <https://runbook.test|runbook>: ${data.note}", true, NULL);
    check_limits(m);
    assert_string_equal(str(m, "text"), "*alert.x* <https://runbook.test|runbook>: &lt;!channel&gt; &amp; "
                                        "&lt;@U024BE7LH&gt; &lt;https://evil.test|click&gt;");
    assert_string_equal(field_text(m, 1, 1),
                        "*note*\n&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt; &lt;https://evil.test|click&gt;");
    /* a URL field is a link; inside it nothing can end the link early */
    assert_string_equal(field_text(m, 1, 2), "*link*\n<https://ok.test/a?b=1&amp;c=&lt;2&gt;%7Cx|"
                                             "https://ok.test/a?b=1&amp;c=&lt;2&gt;|x>");
    tj_free_all();
    /* a template that comes out blank still gives Slack a text */
    m = encode(r, "${data.missing}", false, NULL);
    assert_string_equal(str(m, "text"), "hookfwd: alert.x");
    tj_free_all();
    hf_record_unref(r);
}

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

/* Past every limit at once: long texts are cut with a marker, entities and
 * multi-byte characters are never split, the message stays acceptable. */
static void test_limits(void **state)
{
    (void)state;
    char *scen = repeat("\xc3\xa9&", 5000); /* 10,000 characters, 15,000 bytes escaped */
    char *outcome = repeat("B", 400);
    struct hf_buf body;
    hf_buf_init(&body, 0);
    hf_buf_printf(&body,
                  "{\"event\":\"decision.blocked\",\"timestamp\":\"2026-01-14T12:01:07Z\",\"decision\":{\"id\":\"d1\","
                  "\"outcome\":\"%s\",\"riskScore\":0.9,\"scenario\":\"%s\"}}",
                  outcome, scen);
    struct hf_record *r = tu_build_body("omega", body.data);
    int cuts = 0;
    yyjson_val *m = encode(r, NULL, true, &cuts);
    check_limits(m);
    assert_true(cuts >= 3); /* header, scenario, outcome field; the text too */
    const char *h = block_text(m, 0);
    assert_int_equal(chars(h), HF_SLACK_MAX_HEADER);
    assert_non_null(strstr(h, "\xe2\x80\xa6"));
    const char *sc = block_text(m, 1);
    assert_int_equal(chars(sc), HF_SLACK_MAX_SECTION);
    /* ends with the marker right after a whole character or a whole escape */
    size_t n = strlen(sc);
    assert_memory_equal(sc + n - 3, "\xe2\x80\xa6", 3);
    assert_true(!memcmp(sc + n - 8, "&amp;", 5) || !memcmp(sc + n - 5, "\xc3\xa9", 2));
    assert_int_equal(chars(str(m, "text")), HF_SLACK_MAX_TEXT);
    /* the last block says the message was shortened */
    assert_non_null(strstr(block_text(m, 0), "\xe2\x80\xa6"));
    yyjson_val *last = block(m, nblocks(m) - 1), *el;
    assert_true(((el = yyjson_obj_get(last, "elements")) != NULL));
    assert_non_null(strstr(str(yyjson_arr_get(el, 0), "text"), "shortened"));
    tj_free_all();
    hf_record_unref(r);
    free(scen);
    free(outcome);

    /* many big fields: at most ten shown, the 12,000-character total kept */
    char *big = repeat("x<", 1500);
    hf_buf_reset(&body);
    hf_buf_puts(&body, "{\"type\":\"bulk\",\"id\":\"b1\"");
    for (int i = 0; i < 30; i++)
        hf_buf_printf(&body, ",\"f%02d\":\"%s\"", i, big);
    hf_buf_puts(&body, "}");
    r = tu_build_body("other", body.data);
    m = encode(r, NULL, true, &cuts);
    check_limits(m);
    assert_true(cuts > 0);
    tj_free_all();
    hf_record_unref(r);
    free(big);
    hf_buf_free(&body);

    /* a generic record with more fields than fit: ten, then a count */
    r = tu_build_body("other",
                      "{\"type\":\"many\",\"id\":\"m1\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
                      "\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12}");
    m = encode(r, NULL, true, NULL);
    check_limits(m);
    assert_string_equal(field_text(m, 1, 0), "*id*\nm1");
    yyjson_val *more, *mel;
    more = block(m, 2);
    assert_true(((mel = yyjson_obj_get(more, "elements")) != NULL));
    assert_string_equal(str(yyjson_arr_get(mel, 0), "text"), "3 more fields not shown");
    tj_free_all();
    hf_record_unref(r);
}

static void test_summary(void **state)
{
    (void)state;
    struct hf_slack_summary sm = {0};
    struct hf_record *blocked = tu_build("sentinelayer", "sentinelayer/scan.blocked.json");
    struct hf_record *failed = tu_build("sentinelayer", "sentinelayer/scan.failed.json");
    for (int i = 0; i < 16; i++)
        hf_slack_summary_add(&sm, blocked, 1000 + i);
    hf_slack_summary_add(&sm, failed, 2000);
    hf_slack_summary_add(&sm, failed, 2001);
    hf_slack_summary_add(&sm, blocked, 2002);
    assert_int_equal(sm.total, 19);
    assert_int_equal(sm.opened_ms, 1000);
    assert_ptr_equal(sm.newest, blocked);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    assert_int_equal(hf_slack_encode_summary(&sm, NULL, true, 20, &b), 0);
    yyjson_val *m = tj_parse(b.data, strlen(b.data));
    assert_non_null(m);
    check_limits(m);
    assert_string_equal(str(m, "text"), "17 more scan.blocked, 2 more scan.failed in the last minute, newest: "
                                        "scan.blocked: acme/payments fix/ledger gate blocked, 1 findings");
    assert_string_equal(block_text(m, 0), "*17 more scan.blocked*, *2 more scan.failed* in the last minute "
                                          "(more than 20 messages a minute are summed up)");
    /* then the newest event laid out as usual */
    assert_string_equal(block_text(m, 2), "scan.blocked: acme/payments (fix/ledger)");
    tj_free_all();
    /* past eight event types the rest is counted together */
    hf_slack_summary_clear(&sm);
    for (int i = 0; i < 11; i++) {
        char body[200];
        snprintf(body, sizeof(body), "{\"type\":\"t%d\",\"id\":\"x%d\"}", i, i);
        struct hf_record *r = tu_build_body("other", body);
        hf_slack_summary_add(&sm, r, 5);
        hf_record_unref(r);
    }
    hf_buf_reset(&b);
    hf_slack_encode_summary(&sm, NULL, false, 20, &b);
    m = tj_parse(b.data, strlen(b.data));
    assert_non_null(
        strstr(str(m, "text"), "1 more t7, 3 more of other types in the last minute, newest: t10 from other"));
    tj_free_all();
    hf_slack_summary_clear(&sm);
    hf_buf_free(&b);
    hf_record_unref(blocked);
    hf_record_unref(failed);
}

static void test_pace(void **state)
{
    (void)state;
    struct hf_slack_pace p;
    hf_slack_pace_init(&p, 5, 1.0, 3, 0);
    /* a burst of three, then one a second */
    assert_int_equal(hf_slack_pace_take(&p, 0), 0);
    assert_int_equal(hf_slack_pace_take(&p, 0), 0);
    assert_int_equal(hf_slack_pace_take(&p, 10), 0);
    int64_t w = hf_slack_pace_take(&p, 10);
    assert_true(w >= 990 && w <= 1001);
    assert_int_equal(hf_slack_pace_take(&p, 1010), 0);
    assert_true(hf_slack_pace_take(&p, 1500) > 0);
    /* Slack said 429 with Retry-After 5: nothing before, then one */
    hf_slack_pace_pause(&p, 2000, 5000);
    assert_int_equal(hf_slack_pace_take(&p, 6999), 1);
    assert_int_equal(hf_slack_pace_take(&p, 7000), 0);
    assert_true(hf_slack_pace_take(&p, 7000) > 0);
    /* the minute window: five messages, then full until the first is a
     * minute old */
    for (int i = 0; i < 5; i++) {
        assert_false(hf_slack_pace_window_full(&p, 10000 + i * 1000));
        hf_slack_pace_count(&p, 10000 + i * 1000);
    }
    assert_true(hf_slack_pace_window_full(&p, 20000));
    assert_true(hf_slack_pace_window_full(&p, 69999));
    assert_false(hf_slack_pace_window_full(&p, 70000));
    /* a summary counts even past a full window */
    hf_slack_pace_count(&p, 70000);
    hf_slack_pace_count(&p, 70001);
    assert_true(hf_slack_pace_window_full(&p, 70001));
    hf_slack_pace_free(&p);
}

static void test_classify(void **state)
{
    (void)state;
    char why[200];
    assert_int_equal(hf_slack_classify(200, "ok", why, sizeof(why)), HF_OUT_DELIVERED);
    assert_int_equal(hf_slack_classify(429, "rate_limited", why, sizeof(why)), HF_OUT_RETRY);
    assert_int_equal(hf_slack_classify(500, "rollup_error", why, sizeof(why)), HF_OUT_RETRY);
    assert_string_equal(why, "Slack answered 500 rollup_error");
    assert_int_equal(hf_slack_classify(0, "Connection refused", why, sizeof(why)), HF_OUT_RETRY);
    static const struct {
        long status;
        const char *token;
    } gone[] = {{400, "invalid_blocks"},     {400, "invalid_payload"},   {403, "invalid_token"},
                {403, "action_prohibited"},  {404, "channel_not_found"}, {404, "no_active_hooks"},
                {410, "channel_is_archived"}};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        assert_int_equal(hf_slack_classify(gone[i].status, gone[i].token, why, sizeof(why)), HF_OUT_REJECTED);
        char want[100];
        snprintf(want, sizeof(want), "Slack answered %ld %s", gone[i].status, gone[i].token);
        assert_string_equal(why, want);
    }
    /* a body that is not a token is kept to one clean line */
    hf_slack_classify(403, "<html>\r\nforbidden", why, sizeof(why));
    assert_string_equal(why, "Slack answered 403 <html>");
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
    assert_string_equal(load_sink("  - name: s\n    type: slack\n    url: https://hooks.slack.com/services/T1/B1/x\n"
                                  "    text: \"${event_type}: ${data.repo:-?}\"\n    blocks: none\n"
                                  "    max_per_minute: 5\n    timeout: 5s\n    filter: {events: [scan.blocked]}\n"),
                        "OK");
    const char *msg = load_sink("  - name: s\n    type: slack\n");
    assert_non_null(strstr(msg, "url"));
    msg = load_sink("  - name: s\n    type: slack\n    url: \"\"\n");
    snprintf(want, sizeof(want), ":%d:10: ", SINK_LINE(3));
    assert_non_null(strstr(msg, "empty"));
    assert_non_null(strstr(msg, want));
    msg = load_sink("  - name: s\n    type: slack\n    url: ftp://hooks.slack.com/services/T1/B1/secretpart\n");
    assert_non_null(strstr(msg, "the scheme must be http or https"));
    assert_null(strstr(msg, "secretpart")); /* the URL is a secret */
    msg = load_sink("  - name: s\n    type: slack\n    url: https://u:secretpart@hooks.slack.com/x\n");
    assert_non_null(strstr(msg, "user name or password"));
    assert_null(strstr(msg, "secretpart"));
    msg = load_sink("  - name: s\n    type: slack\n    url: https://h/x\n    text: \"${data.repo:x}\"\n");
    snprintf(want, sizeof(want), ":%d:11: 'text': bad character in '${data.repo:x}'", SINK_LINE(4));
    assert_non_null(strstr(msg, want));
    msg = load_sink("  - name: s\n    type: slack\n    url: https://h/x\n    max_per_minute: 0\n");
    assert_non_null(strstr(msg, "out of range"));
    msg = load_sink("  - name: s\n    type: slack\n    url: https://h/x\n    blocks: fancy\n");
    assert_non_null(strstr(msg, "auto|none"));
    msg = load_sink("  - name: s\n    type: slack\n    url: https://h/x\n    takes: both\n");
    assert_non_null(strstr(msg, "takes: the slack sink takes records only"));
    msg = load_sink("  - name: s\n    type: slack\n    url: https://h/x\n    channel: '#x'\n");
    assert_non_null(strstr(msg, "channel"));
    /* a secret from a file that is missing */
    msg = load_sink("  - name: s\n    type: slack\n    url: {file: /nonexistent/hookfwd-slack-url}\n");
    assert_non_null(strstr(msg, "/nonexistent/hookfwd-slack-url"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_omega),    cmocka_unit_test(test_sentinelayer), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_summary),      cmocka_unit_test(test_pace),
        cmocka_unit_test(test_classify), cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, tu_sources_setup, tu_sources_teardown);
}
