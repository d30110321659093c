/* SPDX-License-Identifier: Apache-2.0 */
/* The syslog sink's encoders (RFC 5424, RFC 3164, CEF, LEEF 2.0) on the
 * fixtures and on hand-made records with every escaping edge case: quotes,
 * brackets, backslashes, '|', '=', line breaks, non-ASCII, over-long names,
 * truncation at a UTF-8 boundary; and the plugin's stream framing and
 * configuration errors. Expected strings are written out by hand. */
#include "testutil.h"
#include "verify.h"

#include "../../plugins/out_syslog/syslog_format.h"

#include <ctype.h>
#include <time.h>

static struct hf_config *cfg;
static struct hf_pipeline pipe_;

static int setup(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    cfg = tu_config(TU_SOURCES TU_STDOUT_SINK, &err);
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

static struct hf_record *fixture(const char *source, const char *file)
{
    return tu_fixture_record(&pipe_, source, file, 0, 1795453200123LL);
}

static void add_str(struct hf_record *r, size_t i, const char *key, const char *val)
{
    struct hf_field *f = (struct hf_field *)&r->fields[i];
    f->key = hf_rec_strdup(r, key);
    f->v = (struct hf_value){.type = HF_V_STRING, .s = hf_rec_strdup(r, val), .len = strlen(val)};
}

/* A record with nfields string fields, filled by the caller with add_str. */
static struct hf_record *hand_record(const char *source, const char *event, size_t nfields)
{
    struct hf_record *r = hf_record_new();
    r->source = hf_rec_strdup(r, source);
    r->event_type = hf_rec_strdup(r, event);
    r->event_id = "ev1";
    r->idempotency_key = "ev1:k";
    r->severity = HF_SEV_WARNING;
    r->event_ms = 1770260645678LL; /* 2026-02-05T03:04:05.678Z */
    r->received_ms = r->event_ms;
    r->timestamp = "2026-02-05T03:04:05.678Z";
    r->fields = hf_rec_alloc(r, (nfields ? nfields : 1) * sizeof(struct hf_field));
    r->nfields = nfields;
    return r;
}

static struct hf_syslog_fmt fmt(enum hf_syslog_format format)
{
    return (struct hf_syslog_fmt){.format = format,
                                  .facility = 16,
                                  .hostname = "host1",
                                  .app_name = "hookfwd",
                                  .procid = 4242,
                                  .sd_id = "hookfwd@32473",
                                  .version = "1.2.3"};
}

/* Encodes r and returns the text (static buffer); *cut gets the flag. */
static const char *enc(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max, bool *cut)
{
    static char text[70000];
    struct hf_buf b;
    bool t = false;
    hf_buf_init(&b, 0);
    assert_int_equal(hf_syslog_encode(f, r, max, &b, &t), 0);
    assert_true(b.len < sizeof(text));
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    hf_buf_free(&b);
    if (cut)
        *cut = t;
    return text;
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* ---- tables --------------------------------------------------------- */

static void test_facility_and_severity(void **state)
{
    (void)state;
    assert_int_equal(hf_syslog_facility_parse("kern"), 0);
    assert_int_equal(hf_syslog_facility_parse("auth"), 4);
    assert_int_equal(hf_syslog_facility_parse("authpriv"), 10);
    assert_int_equal(hf_syslog_facility_parse("audit"), 13);
    assert_int_equal(hf_syslog_facility_parse("local0"), 16);
    assert_int_equal(hf_syslog_facility_parse("LOCAL7"), 23);
    assert_int_equal(hf_syslog_facility_parse("0"), 0);
    assert_int_equal(hf_syslog_facility_parse("23"), 23);
    assert_int_equal(hf_syslog_facility_parse("24"), -1);
    assert_int_equal(hf_syslog_facility_parse("local8"), -1);
    assert_int_equal(hf_syslog_facility_parse("-1"), -1);
    assert_int_equal(hf_syslog_facility_parse("1a"), -1);
    assert_int_equal(hf_syslog_facility_parse("0016"), -1);
    assert_int_equal(hf_syslog_facility_parse(""), -1);
    /* RFC 5424 §6.2.1: info 6, warning 4, err 3, crit 2 */
    assert_int_equal(hf_syslog_severity(HF_SEV_INFO), 6);
    assert_int_equal(hf_syslog_severity(HF_SEV_WARNING), 4);
    assert_int_equal(hf_syslog_severity(HF_SEV_HIGH), 3);
    assert_int_equal(hf_syslog_severity(HF_SEV_CRITICAL), 2);
    assert_int_equal(hf_syslog_cef_severity(HF_SEV_INFO), 3);
    assert_int_equal(hf_syslog_cef_severity(HF_SEV_WARNING), 5);
    assert_int_equal(hf_syslog_cef_severity(HF_SEV_HIGH), 8);
    assert_int_equal(hf_syslog_cef_severity(HF_SEV_CRITICAL), 10);
}

static void test_sd_names(void **state)
{
    (void)state;
    char a[33], b[33];
    hf_syslog_sd_name("decision.risk_score", a); /* dots are PRINTUSASCII: kept */
    assert_string_equal(a, "decision.risk_score");
    hf_syslog_sd_name("a b=c]d\"e", a);
    assert_string_equal(a, "a_b_c_d_e");
    hf_syslog_sd_name("cl\xc3\xa9", a); /* é is two bytes outside US-ASCII */
    assert_string_equal(a, "cl__");
    hf_syslog_sd_name("", a);
    assert_string_equal(a, "_");
    hf_syslog_sd_name("exactly.thirty.two.characters.xx", a);
    assert_string_equal(a, "exactly.thirty.two.characters.xx");
    /* over 32: 25 bytes, '~', 6 hex digits; two names sharing the prefix differ */
    hf_syslog_sd_name("artifact_links.findings_download_url", a);
    hf_syslog_sd_name("artifact_links.findings_download_uri", b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strlen(b), 32);
    assert_memory_equal(a, "artifact_links.findings_d~", 26);
    assert_string_not_equal(a, b);
    for (int i = 26; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    /* the same name always maps to the same PARAM-NAME */
    hf_syslog_sd_name("artifact_links.findings_download_url", b);
    assert_string_equal(a, b);
}

static void test_clean_token_and_cut(void **state)
{
    (void)state;
    char out[40];
    hf_syslog_clean_token("scan completed\t\xc3\xa9", 32, out, sizeof(out));
    assert_string_equal(out, "scan_completed___");
    hf_syslog_clean_token("", 32, out, sizeof(out));
    assert_string_equal(out, "-");
    hf_syslog_clean_token(NULL, 32, out, sizeof(out));
    assert_string_equal(out, "-");
    hf_syslog_clean_token("0123456789012345678901234567890123456789", 32, out, sizeof(out));
    assert_string_equal(out, "01234567890123456789012345678901");
    /* "a€b": € is 3 bytes at 1..3 */
    assert_int_equal(hf_syslog_utf8_cut("a\xe2\x82\xac"
                                        "b",
                                        5, 10),
                     5);
    assert_int_equal(hf_syslog_utf8_cut("a\xe2\x82\xac"
                                        "b",
                                        5, 4),
                     4);
    assert_int_equal(hf_syslog_utf8_cut("a\xe2\x82\xac"
                                        "b",
                                        5, 3),
                     1);
    assert_int_equal(hf_syslog_utf8_cut("a\xe2\x82\xac"
                                        "b",
                                        5, 2),
                     1);
    assert_int_equal(hf_syslog_utf8_cut("a\xe2\x82\xac"
                                        "b",
                                        5, 1),
                     1);
}

/* ---- RFC 5424 ------------------------------------------------------- */

static void test_5424_fixture(void **state)
{
    (void)state;
    struct hf_record *r = fixture("omega", "omega/decision.escalated.json");
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC5424);
    bool cut = true;
    const char *m = enc(&f, r, 0, &cut);
    const char *want =
        "<131>1 2026-01-14T12:00:00.000Z host1 hookfwd 4242 decision.escalated "
        "[hookfwd@32473 source=\"omega\" event_type=\"decision.escalated\" event_id=\"dec_abc123\" severity=\"high\" "
        "idempotency_key=\"dec_abc123:decision.escalated\" decision.id=\"dec_abc123\" decision.outcome=\"ESCALATE\" "
        "decision.risk_score=\"0.85\" decision.scenario=\"Transfer $100k to new vendor\" "
        "decision.policy_matches=\"high_value_transfer,new_vendor\" decision.audit_id=\"aud_xyz789\"] ";
    assert_memory_equal(m, want, strlen(want));
    assert_string_equal(m + strlen(want), r->json); /* MSG: the record JSON, no BOM */
    assert_false(cut);

    /* BOM on request; nil PROCID; other facility */
    f.bom = true;
    f.procid = 0;
    f.facility = 4;
    m = enc(&f, r, 0, NULL);
    const char *hdr = "<35>1 2026-01-14T12:00:00.000Z host1 hookfwd - decision.escalated [";
    assert_memory_equal(m, hdr, strlen(hdr));
    const char *sp = strstr(m, "\"aud_xyz789\"] ");
    assert_non_null(sp);
    assert_memory_equal(sp + 14, "\xEF\xBB\xBF{\"source\"", 12);
    hf_record_unref(r);
}

static void test_5424_escaping(void **state)
{
    (void)state;
    struct hf_record *r = hand_record("acme", "odd event\xc3\xa9.with.a.very.long.type.name.beyond.32", 3);
    add_str(r, 0, "note", "say \"hi\" C:\\tmp [x] \\] a=b|c\nline2 caf\xc3\xa9 \xe2\x82\xac");
    add_str(r, 1, "weird key=]\"", "v");
    struct hf_field *nf = (struct hf_field *)&r->fields[2];
    nf->key = "gone";
    nf->v.type = HF_V_NULL;
    hf_record_seal(r);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC5424);
    f.message = HF_SYSLOG_MSG_SUMMARY;
    const char *m = enc(&f, r, 0, NULL);
    const char *want =
        "<132>1 2026-02-05T03:04:05.678Z host1 hookfwd 4242 odd_event__.with.a.very.long.typ "
        "[hookfwd@32473 source=\"acme\" event_type=\"odd event\xc3\xa9.with.a.very.long.type.name.beyond.32\" "
        "event_id=\"ev1\" severity=\"warning\" idempotency_key=\"ev1:k\" "
        "note=\"say \\\"hi\\\" C:\\\\tmp [x\\] \\\\\\] a=b|c\nline2 caf\xc3\xa9 \xe2\x82\xac\" weird_key___=\"v\"] "
        "acme odd event\xc3\xa9.with.a.very.long.type.name.beyond.32 ev1 severity=warning";
    assert_string_equal(m, want);

    /* newline framing: no raw line break may survive */
    f.one_line = true;
    m = enc(&f, r, 0, NULL);
    assert_null(strchr(m, '\n'));
    assert_non_null(strstr(m, "a=b|c line2 caf"));
    hf_record_unref(r);
}

static void test_5424_arrays_numbers_bools(void **state)
{
    (void)state;
    struct hf_record *r = fixture("omega", "omega/fuzz.finding.json");
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC5424);
    const char *m = enc(&f, r, 0, NULL);
    assert_non_null(strstr(m, " finding.reproducible=\"true\" finding.steps=\"4\"]"));
    assert_memory_equal(m, "<130>1 ", 7); /* critical: crit (2) */
    hf_record_unref(r);
    r = fixture("sentinelayer", "sentinelayer/scan.failed.json");
    m = enc(&f, r, 0, NULL);
    assert_null(strstr(m, " pr_number=")); /* null: left out of the SD */
    assert_non_null(strstr(m, " error_code=\"2\" "));
    hf_record_unref(r);
}

static void test_5424_truncation(void **state)
{
    (void)state;
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC5424);
    struct hf_record *r = fixture("sentinelayer", "sentinelayer/scan.completed.json");
    bool cut = false;
    const char *full = enc(&f, r, 0, &cut);
    size_t full_len = strlen(full);
    assert_false(cut);
    assert_true(full_len > 1024);

    /* the SD fits: MSG is cut to the limit */
    const char *m = enc(&f, r, 1024, &cut);
    assert_true(cut);
    assert_int_equal(strlen(m), 1024);
    assert_memory_equal(m, full, 1024);

    /* the SD does not fit: data fields go, metadata stays, MSG is cut */
    m = enc(&f, r, 480, &cut);
    assert_true(cut);
    assert_int_equal(strlen(m), 480);
    const char *sd = "[hookfwd@32473 source=\"sentinelayer\" event_type=\"scan.completed\" "
                     "event_id=\"run-20260223-001\" severity=\"info\" idempotency_key=\"run-20260223-001\"] ";
    const char *at = strstr(m, sd);
    assert_non_null(at);
    const char *msg = at + strlen(sd);
    assert_memory_equal(msg, r->json, strlen(msg));
    hf_record_unref(r);

    /* a cut never splits a UTF-8 sequence: euros (3 bytes) all the way */
    r = hand_record("acme", "e", 1);
    char big[3001];
    for (int i = 0; i < 1000; i++)
        memcpy(big + 3 * i, "\xe2\x82\xac", 3);
    big[3000] = '\0';
    add_str(r, 0, "k", "x");
    hf_record_seal(r);
    r->json = hf_rec_strdup(r, big); /* MSG made of euros only */
    r->json_len = 3000;
    for (size_t lim = 480; lim < 490; lim++) {
        m = enc(&f, r, lim, &cut);
        assert_true(cut);
        assert_true(strlen(m) <= lim && strlen(m) >= lim - 2);
        assert_true(valid_utf8(m, strlen(m)));
    }
    hf_record_unref(r);
}

/* ---- RFC 3164 ------------------------------------------------------- */

static void test_3164(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct hf_record *r = hand_record("omega", "decision.allowed", 1);
    add_str(r, 0, "k", "v");
    r->severity = HF_SEV_INFO;
    hf_record_seal(r);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC3164);
    const char *m = enc(&f, r, 0, NULL);
    char want[2048];
    snprintf(want, sizeof(want), "<134>Feb  5 03:04:05 host1 hookfwd[4242]: %s", r->json); /* day space-padded */
    assert_string_equal(m, want);

    setenv("TZ", "CET-1", 1); /* local time: one hour east */
    tzset();
    f.procid = 0;
    f.message = HF_SYSLOG_MSG_SUMMARY;
    m = enc(&f, r, 0, NULL);
    assert_string_equal(m, "<134>Feb  5 04:04:05 host1 hookfwd: omega decision.allowed ev1 severity=info");
    setenv("TZ", "UTC", 1);
    tzset();
    hf_record_unref(r);
}

static void test_3164_truncation(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct hf_record *r = hand_record("omega", "decision.allowed", 1);
    char big[2100];
    memset(big, 'x', 2000);
    /* a two-byte é straddles byte 1024 of the packet */
    size_t hdr = strlen("<132>Feb  5 03:04:05 host1 hookfwd[4242]: ");
    size_t json_prefix = strlen("{\"source\":\"omega\",\"event_type\":\"decision.allowed\",\"event_id\":\"ev1\","
                                "\"severity\":\"warning\",\"timestamp\":\"2026-02-05T03:04:05.678Z\","
                                "\"received_at\":\"2026-02-05T03:04:05.678Z\",\"signature_verified\":false,"
                                "\"signature_key\":null,\"idempotency_key\":\"ev1:k\",\"data\":{\"k\":\"");
    size_t at = 1023 - hdr - json_prefix;
    memcpy(big + at, "\xc3\xa9", 2);
    big[2000] = '\0';
    add_str(r, 0, "k", big);
    hf_record_seal(r);
    assert_memory_equal(r->json + json_prefix + at, "\xc3\xa9", 2);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC3164);
    bool cut = false;
    const char *m = enc(&f, r, HF_SYSLOG_RFC3164_MAX, &cut);
    assert_true(cut);
    assert_int_equal(strlen(m), 1023); /* the é would end at byte 1025: it goes whole */
    assert_true(valid_utf8(m, strlen(m)));
    assert_memory_equal(m + hdr, r->json, 1023 - hdr);
    /* one byte shorter record: exactly 1024 */
    r->json_len = 1024 - hdr;
    ((char *)r->json)[r->json_len] = '\0';
    memset((char *)r->json + json_prefix, 'y', r->json_len - json_prefix);
    m = enc(&f, r, HF_SYSLOG_RFC3164_MAX, &cut);
    assert_false(cut);
    assert_int_equal(strlen(m), 1024);
    hf_record_unref(r);
}

/* ---- CEF ------------------------------------------------------------ */

static void test_cef_fixture(void **state)
{
    (void)state;
    struct hf_record *r = fixture("omega", "omega/decision.blocked.json");
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_CEF);
    f.header = HF_SYSLOG_HDR_NONE;
    const char *m = enc(&f, r, 0, NULL);
    assert_string_equal(
        m, "CEF:0|OmegaEngine|Policy Engine|1.2.3|decision.blocked|Decision blocked|5|rt=1768392067000 "
           "cat=decision.blocked act=BLOCK externalId=dec_b7720f msg=omega decision.blocked dec_b7720f "
           "severity\\=warning outcome\\=BLOCK cs1Label=scenario cs1=Delete production database \"orders\" [cleanup] "
           "cs2Label=policyMatches cs2=destructive_action cs3Label=auditId cs3=aud_b7720f cfp1Label=riskScore "
           "cfp1=0.97 cs6Label=idempotencyKey cs6=dec_b7720f:decision.blocked dvchost=host1");
    hf_record_unref(r);

    r = fixture("sentinelayer", "sentinelayer/scan.blocked.json");
    f.header = HF_SYSLOG_HDR_RFC5424;
    m = enc(&f, r, 0, NULL);
    assert_string_equal(
        m, "<131>1 2026-02-23T10:20:00.000Z host1 hookfwd 4242 scan.blocked - CEF:0|Sentinelayer|Omar Gate|1.2.3|"
           "scan.blocked|Scan blocked|8|rt=1771842000000 cat=scan.blocked act=blocked externalId=run-20260223-003 "
           "msg=sentinelayer scan.blocked run-20260223-003 severity\\=high outcome\\=blocked cs1Label=repo "
           "cs1=acme/payments cs2Label=branch cs2=fix/ledger cs3Label=commitSha cs3=c3d4e5f6a7b8 cn1Label=prNumber "
           "cn1=977 cn2Label=totalFindings cn2=1 cs6Label=idempotencyKey cs6=run-20260223-003 dvchost=host1");
    hf_record_unref(r);
}

static void test_cef_escaping(void **state)
{
    (void)state;
    struct hf_record *r = hand_record("acme|corp\\x", "a|b\\c=d\ne", 2);
    add_str(r, 0, "note", "x=y \\ z\nw\rv|pipe caf\xc3\xa9");
    add_str(r, 1, "outcome", "DENY=1");
    r->event_id = NULL;
    r->idempotency_key = NULL;
    hf_record_seal(r);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_CEF);
    f.header = HF_SYSLOG_HDR_NONE;
    f.hostname = "-";
    const char *m = enc(&f, r, 0, NULL);
    /* header: '|' and '\' escaped, the line break a space; extension: '=',
     * '\', \n and \r escaped, pipes as they are */
    assert_string_equal(m, "CEF:0|acme\\|corp\\\\x|acme\\|corp\\\\x|1.2.3|a\\|b\\\\c=d e|A\\|b\\\\c=d e|5|"
                           "rt=1770260645678 cat=a|b\\\\c\\=d\\ne act=DENY\\=1 "
                           "msg=acme|corp\\\\x a|b\\\\c\\=d\\ne - severity\\=warning outcome\\=DENY\\=1 "
                           "cs1Label=note cs1=x\\=y \\\\ z\\nw\\rv|pipe caf\xc3\xa9 cs2Label=outcome cs2=DENY\\=1");
    /* truncation never leaves a lone escaping backslash at the end */
    bool cut;
    for (size_t lim = 100; lim < 200; lim++) {
        m = enc(&f, r, lim, &cut);
        size_t n = strlen(m), bs = 0;
        assert_true(cut && n <= lim);
        while (bs < n && m[n - 1 - bs] == '\\')
            bs++;
        assert_int_equal(bs % 2, 0);
    }
    hf_record_unref(r);
}

static void test_vendors(void **state)
{
    (void)state;
    const char *v, *p;
    hf_syslog_vendor("omega", &v, &p);
    assert_string_equal(v, "OmegaEngine");
    assert_string_equal(p, "Policy Engine");
    hf_syslog_vendor("sentinelayer-prod", &v, &p);
    assert_string_equal(v, "Sentinelayer");
    assert_string_equal(p, "Omar Gate");
    hf_syslog_vendor("github", &v, &p);
    assert_string_equal(v, "github");
    assert_string_equal(p, "github");
}

/* ---- LEEF ----------------------------------------------------------- */

static void test_leef(void **state)
{
    (void)state;
    struct hf_record *r = hand_record("omega", "decision|odd^one", 3);
    add_str(r, 0, "decision.scenario", "a^b\nc\rd=e|f \"q\" caf\xc3\xa9");
    add_str(r, 1, "key with^delim=x", "v");
    add_str(r, 2, "empty", "");
    hf_record_seal(r);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_LEEF);
    f.header = HF_SYSLOG_HDR_NONE;
    const char *m = enc(&f, r, 0, NULL);
    assert_string_equal(m, "LEEF:2.0|OmegaEngine|Policy Engine|1.2.3|decision odd one|^|"
                           "devTime=2026-02-05T03:04:05.678Z^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^sev=5"
                           "^cat=decision|odd one^source=omega^eventId=ev1^idempotencyKey=ev1:k"
                           "^decision.scenario=a b c d=e|f \"q\" caf\xc3\xa9^key_with_delim_x=v^empty=");
    hf_record_unref(r);

    /* with an RFC 3164 header in front */
    setenv("TZ", "UTC", 1);
    tzset();
    r = fixture("sentinelayer", "sentinelayer/scan.skipped.json");
    f.header = HF_SYSLOG_HDR_RFC3164;
    m = enc(&f, r, 0, NULL);
    assert_string_equal(m, "<134>Feb 23 10:21:00 host1 hookfwd[4242]: LEEF:2.0|Sentinelayer|Omar Gate|1.2.3|"
                           "scan.skipped|^|devTime=2026-02-23T10:21:00.000Z^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX"
                           "^sev=3^cat=scan.skipped^source=sentinelayer^eventId=run-20260223-004"
                           "^idempotencyKey=run-20260223-004^run_id=run-20260223-004^repo=acme/payments^branch=main"
                           "^commit_sha=d4e5f6a7b8c9^gate_status=passed^total_findings=0^estimated_cost_usd=0.00");
    hf_record_unref(r);
}

static void test_metric_point(void **state)
{
    (void)state;
    struct hf_record *r = fixture("omega", "omega/decision.escalated.json");
    assert_true(r->npoints > 0);
    struct hf_syslog_fmt f = fmt(HF_SYSLOG_RFC5424);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    bool cut = true;
    assert_int_equal(hf_syslog_encode_point(&f, r, &r->points[0], 0, &b, &cut), 0);
    assert_false(cut);
    hf_buf_putc(&b, '\0');
    assert_string_equal(b.data, "<134>1 2026-11-23T17:00:00.123Z host1 hookfwd 4242 metric - "
                                "{\"metric\":\"omega.events\",\"type\":\"count\",\"value\":1,"
                                "\"timestamp\":\"2026-11-23T17:00:00.123Z\",\"source\":\"omega\","
                                "\"tags\":[\"event:decision.escalated\",\"severity:high\",\"source:omega\"]}");
    hf_buf_free(&b);
    hf_record_unref(r);
}

/* ---- the plugin: framing and configuration -------------------------- */

static struct hf_sink *sink_from(const char *opts, struct hf_config **c, struct hf_cerr *err)
{
    char text[2048];
    snprintf(text, sizeof(text), TU_SOURCES "sinks:\n  - name: s\n    type: syslog\n    hostname: host1\n%s", opts);
    *c = tu_config(text, err);
    if (!*c)
        return NULL;
    return hf_sink_new(&(*c)->sinks[0], (*c)->file, NULL, err);
}

static void test_framing(void **state)
{
    (void)state;
    struct hf_config *c;
    struct hf_cerr err = {0};
    struct hf_record *r[3] = {fixture("omega", "omega/decision.escalated.json"),
                              fixture("sentinelayer", "sentinelayer/scan.failed.json"), hand_record("acme", "e", 1)};
    add_str(r[2], 0, "note", "line1\nline2\r\n");
    hf_record_seal(r[2]);
    struct hf_batch b = {.recs = r, .n = 3};
    const char *opts[] = {"    address: tcp://127.0.0.1:514\n",
                          "    address: tcp://127.0.0.1:514\n    framing: newline\n"};
    for (int k = 0; k < 2; k++) {
        struct hf_sink *s = sink_from(opts[k], &c, &err);
        if (!s)
            fail_msg("%s", err.msg);
        struct hf_buf out;
        hf_buf_init(&out, 0);
        assert_int_equal(s->plugin->encode(s, &b, &out), 0);
        hf_buf_putc(&out, '\0');
        const char *p = out.data;
        for (int i = 0; i < 3; i++) {
            if (k == 0) { /* RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG */
                char *end;
                long len = strtol(p, &end, 10);
                assert_true(*end == ' ' && end[1] == '<');
                p = end + 1 + len;
                assert_true(len > 100 && (*p == '\0' || isdigit((unsigned char)*p)));
                if (i == 2) /* octet counting carries line breaks as they are */
                    assert_non_null(strstr(end, "note=\"line1\nline2\r\n\"]"));
                assert_memory_equal(p - 2, "}}", 2);
            } else { /* non-transparent: LF after each message, none inside */
                const char *nl = strchr(p, '\n');
                if (i == 2)
                    assert_non_null(strstr(p, "note=\"line1 line2  \"]"));
                assert_non_null(nl);
                assert_memory_equal(nl - 2, "}}", 2);
                p = nl + 1;
            }
        }
        assert_int_equal(*p, '\0');
        hf_buf_free(&out);
        hf_sink_free(s);
        hf_config_free(c);
    }
    for (int i = 0; i < 3; i++)
        hf_record_unref(r[i]);
}

static void expect_error(const char *opts, const char *needle)
{
    struct hf_config *c = NULL;
    struct hf_cerr err = {0};
    struct hf_sink *s = sink_from(opts, &c, &err);
    if (s)
        fail_msg("accepted: %s", opts);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' lacks '%s'", err.msg, needle);
    /* the message points at the file, line and column */
    const char *colon = strchr(err.msg, ':');
    assert_non_null(colon);
    assert_true(isdigit((unsigned char)colon[1]));
    hf_config_free(c);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error("    address: tcp://127.0.0.1:514\n    facility: local8\n", "'local8' is not a valid facility");
    expect_error("    address: tcp://127.0.0.1:514\n    facility: 24\n", "'24' is not a valid facility");
    expect_error("    address: ftp://127.0.0.1\n", "must start with udp://");
    expect_error("    address: tcp://127.0.0.1:0\n", "port from 1 to 65535");
    expect_error("    address: tcp://[::1\n", "missing ']'");
    expect_error("    address: unix://relative/log\n", "absolute socket path");
    expect_error("    address: udp://127.0.0.1\n    framing: newline\n", "UDP sends one message per datagram");
    expect_error("    address: tcp://127.0.0.1\n    tls: {verify: false}\n", "need a tls:// address");
    expect_error("    address: udp://127.0.0.1\n    app_name: \"my app\"\n", "printable ASCII");
    expect_error("    address: udp://127.0.0.1\n    format: rfc3164\n    app_name: hook:fwd\n", "RFC 3164 TAG");
    expect_error("    address: udp://127.0.0.1\n    sd_id: hookfwd\n", "name@<private enterprise number>");
    expect_error("    address: tls://127.0.0.1\n    tls: {ca_file: /nonexistent/ca.pem}\n", "CA certificates");
    expect_error("    address: tls://127.0.0.1\n    tls: {key: /nonexistent/k.pem}\n", "go together");
    expect_error("    address: udp://127.0.0.1\n    takes: metrics\n    format: cef\n", "rfc5424 or rfc3164");
}

static void test_defaults(void **state)
{
    (void)state;
    struct hf_config *c;
    struct hf_cerr err = {0};
    struct hf_sink *s = sink_from("    address: udp://[::1]\n", &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    struct hf_record *r = fixture("omega", "omega/decision.allowed.json");
    struct hf_batch b = {.recs = &r, .n = 1};
    struct hf_buf out;
    hf_buf_init(&out, 0);
    assert_int_equal(s->plugin->encode(s, &b, &out), 0);
    hf_buf_putc(&out, '\0');
    char want[128];
    snprintf(want, sizeof(want), "<134>1 2026-01-14T12:02:00.250Z host1 hookfwd %d decision.allowed [", (int)getpid());
    /* default local0, app hookfwd; UDP datagrams carry no framing */
    assert_memory_equal(out.data, want, strlen(want));
    hf_buf_free(&out);
    hf_record_unref(r);
    hf_sink_free(s);
    hf_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facility_and_severity),
        cmocka_unit_test(test_sd_names),
        cmocka_unit_test(test_clean_token_and_cut),
        cmocka_unit_test(test_5424_fixture),
        cmocka_unit_test(test_5424_escaping),
        cmocka_unit_test(test_5424_arrays_numbers_bools),
        cmocka_unit_test(test_5424_truncation),
        cmocka_unit_test(test_3164),
        cmocka_unit_test(test_3164_truncation),
        cmocka_unit_test(test_cef_fixture),
        cmocka_unit_test(test_cef_escaping),
        cmocka_unit_test(test_vendors),
        cmocka_unit_test(test_leef),
        cmocka_unit_test(test_metric_point),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
