/* SPDX-License-Identifier: Apache-2.0 */
/* The e-mail sink without a network: header text (CR/LF from a field,
 * RFC 2047 encoded words, folding), addresses, dates, quoted-printable,
 * the digest (counts by event type and severity, the newest items), and
 * the schedule in time zones with DST, through the TZif files and past
 * their last transition. Expected values are written out by hand. */
#include "testutil.h"

#include "../../plugins/out_email/email.h"

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

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

/* Every line of a header block at most 78 characters, CRLF-terminated. */
static void assert_lines_short(const char *s)
{
    const char *line = s;
    for (const char *p = s; *p; p++)
        if (*p == '\n') {
            assert_true(p > s && p[-1] == '\r');
            assert_true(p - line - 1 <= 78);
            line = p + 1;
        }
}

static void test_header_text_plain_and_injection(void **state)
{
    (void)state;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "Subject: ");
    const char *evil = "scan blocked\r\nBcc: attacker@example.com\r\n\r\nbody";
    email_header_text(&b, evil, strlen(evil));
    assert_string_equal(b.data, "Subject: scan blocked  Bcc: attacker@example.com    body");
    hf_buf_free(&b);
}

static void test_header_text_encoded_words(void **state)
{
    (void)state;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "Subject: ");
    email_header_text(&b, "Blocked ✓", strlen("Blocked ✓"));
    /* "Blocked ✓" in UTF-8 is 42 6c 6f 63 6b 65 64 20 e2 9c 93 */
    assert_string_equal(b.data, "Subject: =?UTF-8?B?QmxvY2tlZCDinJM=?=");
    hf_buf_reset(&b);
    /* a long non-ASCII subject: several words, folded, cut between
     * characters (each "é" is two bytes, never split) */
    char longs[400];
    for (int i = 0; i < 60; i++)
        memcpy(longs + 2 * i, "é", 2);
    longs[120] = '\0';
    hf_buf_puts(&b, "Subject: ");
    email_header_text(&b, longs, strlen(longs));
    hf_buf_puts(&b, "\r\n");
    assert_lines_short(b.data);
    assert_non_null(strstr(b.data, "?=\r\n =?UTF-8?B?"));
    /* decode every word back and compare */
    struct hf_buf dec;
    hf_buf_init(&dec, 0);
    for (const char *p = b.data; (p = strstr(p, "=?UTF-8?B?")) != NULL;) {
        p += 10;
        const char *e = strstr(p, "?=");
        unsigned char raw[128];
        int n = hf_b64_decode(p, (size_t)(e - p), raw, sizeof(raw));
        assert_true(n > 0);
        /* each word holds whole characters */
        assert_true(raw[0] == 0xc3 && raw[n - 1] == 0xa9);
        hf_buf_append(&dec, raw, (size_t)n);
        p = e + 2;
    }
    hf_buf_putc(&dec, '\0');
    assert_string_equal(dec.data, longs);
    hf_buf_free(&dec);
    /* text that looks like an encoded word is encoded itself */
    hf_buf_reset(&b);
    email_header_text(&b, "=?UTF-8?B?SGk=?=", 16);
    assert_string_equal(b.data, "=?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?=");
    /* invalid UTF-8 becomes U+FFFD before encoding */
    hf_buf_reset(&b);
    email_header_text(&b, "a\xff", 2);
    assert_string_equal(b.data, "=?UTF-8?B?Ye+/vQ==?=");
    hf_buf_free(&b);
}

static void test_header_text_folds_long_ascii(void **state)
{
    (void)state;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "Subject: ");
    const char *s = "word word word word word word word word word word word word word word word word word word";
    email_header_text(&b, s, strlen(s));
    hf_buf_puts(&b, "\r\n");
    assert_lines_short(b.data);
    /* unfolding (removing CRLF) gives the text back */
    struct hf_buf u;
    hf_buf_init(&u, 0);
    for (const char *p = b.data + 9; *p; p++)
        if (*p != '\r' && *p != '\n')
            hf_buf_putc(&u, *p);
    hf_buf_putc(&u, '\0');
    assert_string_equal(u.data, s);
    hf_buf_free(&u);
    hf_buf_free(&b);
}

static void test_addresses(void **state)
{
    (void)state;
    char out[320];
    assert_int_equal(email_addr_spec("Alerts <alerts@example.com>", true, out, sizeof(out)), 0);
    assert_string_equal(out, "<alerts@example.com>");
    assert_int_equal(email_addr_spec(" ops@example.com ", false, out, sizeof(out)), 0);
    assert_string_equal(out, "ops@example.com");
    assert_int_equal(email_addr_spec("\"Sec, Team\" <sec@example.com>", false, out, sizeof(out)), 0);
    assert_string_equal(out, "sec@example.com");
    assert_int_equal(email_addr_spec("no-at-sign", false, out, sizeof(out)), -1);
    assert_int_equal(email_addr_spec("a@b@c", false, out, sizeof(out)), -1);
    assert_int_equal(email_addr_spec("a b@example.com", false, out, sizeof(out)), -1);
    assert_int_equal(email_addr_spec("x@example.com>\r\nBcc: y@example.com", false, out, sizeof(out)), -1);
    assert_int_equal(email_addr_spec("Name\r\nBcc: y@z <x@example.com>", false, out, sizeof(out)), -1);

    struct hf_buf b;
    hf_buf_init(&b, 0);
    email_header_address(&b, "Sécurité <sec@example.com>");
    assert_string_equal(b.data, "=?UTF-8?B?U8OpY3VyaXTDqQ==?= <sec@example.com>");
    hf_buf_reset(&b);
    email_header_address(&b, "\"Ops \\ \"On Call\"\" <ops@example.com>");
    assert_string_equal(b.data, "\"Ops \\\\ \\\"On Call\\\"\" <ops@example.com>");
    hf_buf_reset(&b);
    email_header_address(&b, "plain@example.com");
    assert_string_equal(b.data, "plain@example.com");
    hf_buf_free(&b);
    char dom[64];
    assert_string_equal(email_domain("Alerts <alerts@mail.example.org>", dom, sizeof(dom)), "mail.example.org");
}

static void test_date(void **state)
{
    (void)state;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    email_date(&b, utc(2026, 2, 23, 10, 20) + 5999);
    assert_string_equal(b.data, "Mon, 23 Feb 2026 10:20:05 +0000");
    hf_buf_free(&b);
}

static void test_quoted_printable(void **state)
{
    (void)state;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    const char *s = "a=b café \n.dot\ntrailing \n";
    email_qp(&b, s, strlen(s));
    assert_string_equal(b.data, "a=3Db caf=C3=A9=20\r\n.dot\r\ntrailing=20\r\n");
    hf_buf_reset(&b);
    char longline[200];
    memset(longline, 'x', 180);
    longline[180] = '\0';
    email_qp(&b, longline, 180);
    assert_lines_short(b.data);
    assert_non_null(strstr(b.data, "=\r\n"));
    hf_buf_free(&b);
}

/* Quoted-printable back to text (soft breaks joined, CRLF to LF). */
static char *qp_decode(const char *s)
{
    struct hf_buf b;
    hf_buf_init(&b, 0);
    for (; *s; s++) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
            s += 2;
        } else if (s[0] == '=' && s[1] && s[2]) {
            unsigned char c;
            hf_unhex(s + 1, 2, &c, 1);
            hf_buf_putc(&b, (char)c);
            s += 2;
        } else if (s[0] != '\r') {
            hf_buf_putc(&b, s[0]);
        }
    }
    hf_buf_putc(&b, '\0');
    return b.data;
}

static struct email_conf conf_for(char **to, size_t nto)
{
    struct email_conf cf = {.from = "Alerts <alerts@example.com>", .to = {.v = to, .n = nto}};
    cf.digest.max_items = 2;
    return cf;
}

static void test_each_message(void **state)
{
    (void)state;
    char *to[] = {"ops@example.com", "Sec <sec@example.com>"};
    struct email_conf cf = conf_for(to, 2);
    struct hf_record *r =
        tu_fixture_record(&pipe_, "sentinelayer", "sentinelayer/scan.blocked.json", 0, utc(2026, 2, 23, 10, 20));
    struct hf_buf subj, b;
    hf_buf_init(&subj, 0);
    hf_buf_init(&b, 0);
    email_default_subject(&subj, r);
    assert_string_equal(subj.data, "[hookfwd] scan.blocked (high) from sentinelayer: repo acme/payments");
    email_each_message(&b, &cf, r, subj.data, subj.len, "mail", utc(2026, 2, 23, 10, 21));
    const char *want_head = "Date: Mon, 23 Feb 2026 10:21:00 +0000\r\n"
                            "From: \"Alerts\" <alerts@example.com>\r\n"
                            "To: ops@example.com, \"Sec\" <sec@example.com>\r\n"
                            "Subject: [hookfwd] scan.blocked (high) from sentinelayer: repo acme/payments\r\n"
                            "Message-ID: <hookfwd.";
    assert_memory_equal(b.data, want_head, strlen(want_head));
    assert_non_null(strstr(b.data, "@example.com>\r\nAuto-Submitted: auto-generated\r\n"));
    assert_non_null(strstr(b.data, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
    assert_non_null(strstr(b.data, "\r\nrepo: acme/payments\r\nbranch: fix/ledger\r\n"));
    /* the same event keeps its Message-ID (a resend threads as one) */
    const char *mid = strstr(b.data, "Message-ID: ");
    char id1[80];
    snprintf(id1, sizeof(id1), "%.*s", (int)(strchr(mid, '\r') - mid), mid);
    hf_buf_reset(&b);
    email_each_message(&b, &cf, r, subj.data, subj.len, "mail", utc(2026, 2, 23, 11, 0));
    assert_non_null(strstr(b.data, id1));
    hf_buf_free(&subj);
    hf_buf_free(&b);
    hf_record_unref(r);
}

static void test_digest_message(void **state)
{
    (void)state;
    char *to[] = {"ops@example.com"};
    struct email_conf cf = conf_for(to, 1);
    const char *files[][2] = {
        {"omega", "omega/decision.escalated.json"},        {"sentinelayer", "sentinelayer/scan.skipped.json"},
        {"sentinelayer", "sentinelayer/scan.failed.json"}, {"sentinelayer", "sentinelayer/scan.blocked.json"},
        {"omega", "omega/decision.blocked.json"},
    };
    struct hf_record *recs[5];
    for (int i = 0; i < 5; i++)
        recs[i] = tu_fixture_record(&pipe_, files[i][0], files[i][1], 0, utc(2026, 2, 23, 10, i));
    struct hf_buf subj, b;
    hf_buf_init(&subj, 0);
    hf_buf_init(&b, 0);
    email_digest_subject(&subj, "daily", 5, recs);
    assert_string_equal(subj.data, "[hookfwd] daily digest: 5 events, highest severity high");
    email_digest_message(&b, &cf, recs, 5, subj.data, subj.len, "daily", utc(2026, 2, 24, 0, 0));
    assert_non_null(strstr(b.data, "Content-Type: multipart/alternative; boundary=\"hookfwd-"));
    assert_non_null(strstr(b.data, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(b.data, "Content-Type: text/html; charset=utf-8\r\n"));
    /* the counts table by type and severity, in the decoded text part */
    char *text = qp_decode(strstr(strstr(b.data, "Content-Type: text/plain"), "\r\n\r\n"));
    const char *rows[] = {
        "Event type                       info  warning     high critical    total\n",
        "decision.blocked                    0        1        0        0        1\n",
        "decision.escalated                  0        0        1        0        1\n",
        "scan.blocked                        0        0        1        0        1\n",
        "scan.failed                         0        1        0        0        1\n",
        "scan.skipped                        1        0        0        0        1\n",
        "All                                 1        2        2        0        5\n",
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (!strstr(text, rows[i]))
            fail_msg("row %zu missing: %s\n%s", i, rows[i], text);
    /* max_items 2: the newest two, newest first, then the rest counted */
    const char *dec = strstr(text, "- 2026-01-14T12:01:07Z  decision.blocked  warning  omega  dec_b7720f\n"
                                   "    decision.outcome: BLOCK\n    decision.risk_score: 0.97\n");
    const char *blk = strstr(text, "- 2026-02-23T10:20:00Z  scan.blocked  high  sentinelayer  run-20260223-003\n"
                                   "    repo: acme/payments\n");
    assert_non_null(dec);
    assert_non_null(blk);
    assert_true(dec < blk);
    assert_null(strstr(text, "scan.failed  warning"));
    assert_non_null(strstr(text, "(3 older events not listed)"));
    /* the HTML part escapes what a sender wrote (the scenario's quotes) */
    assert_non_null(strstr(text, "decision.scenario: Delete production database &quot;orders&quot; [cleanup]"));
    assert_non_null(strstr(text, "<tr><td>scan.skipped</td><td align=\"right\">1</td>"));
    free(text);
    hf_buf_free(&subj);
    hf_buf_free(&b);
    for (int i = 0; i < 5; i++)
        hf_record_unref(recs[i]);
}

static void test_timezones(void **state)
{
    (void)state;
    char why[300];
    struct email_tz *berlin = email_tz_load("Europe/Berlin", why, sizeof(why));
    if (!berlin)
        skip();
    /* 2026: CET until 29 March 01:00Z, CEST until 25 October 01:00Z */
    assert_int_equal(email_tz_offset(berlin, utc(2026, 1, 15, 12, 0) / 1000), 3600);
    assert_int_equal(email_tz_offset(berlin, utc(2026, 3, 29, 0, 59) / 1000), 3600);
    assert_int_equal(email_tz_offset(berlin, utc(2026, 3, 29, 1, 0) / 1000), 7200);
    assert_int_equal(email_tz_offset(berlin, utc(2026, 10, 25, 0, 59) / 1000), 7200);
    assert_int_equal(email_tz_offset(berlin, utc(2026, 10, 25, 1, 0) / 1000), 3600);
    /* past the file's transitions the POSIX rule decides: 2045 */
    assert_int_equal(email_tz_offset(berlin, utc(2045, 7, 1, 12, 0) / 1000), 7200);
    assert_int_equal(email_tz_offset(berlin, utc(2045, 12, 1, 12, 0) / 1000), 3600);
    assert_int_equal(email_tz_offset(berlin, utc(2045, 3, 26, 0, 59) / 1000), 3600);
    assert_int_equal(email_tz_offset(berlin, utc(2045, 3, 26, 1, 0) / 1000), 7200);

    /* a daily digest at 09:00 Berlin time */
    struct email_sched sc = {.every_ms = 86400000, .at_min = 9 * 60, .tz = berlin};
    assert_int_equal(email_period_end(&sc, utc(2026, 1, 15, 7, 59)), utc(2026, 1, 15, 8, 0));
    assert_int_equal(email_period_end(&sc, utc(2026, 1, 15, 8, 0)), utc(2026, 1, 16, 8, 0));
    assert_int_equal(email_period_end(&sc, utc(2026, 7, 15, 6, 30)), utc(2026, 7, 15, 7, 0));
    /* across the spring change: 28 March 09:00 CET, 29 March 09:00 CEST */
    assert_int_equal(email_period_end(&sc, utc(2026, 3, 28, 9, 0)), utc(2026, 3, 29, 7, 0));
    assert_int_equal(email_period_end(&sc, utc(2045, 7, 1, 12, 0)), utc(2045, 7, 2, 7, 0));
    /* a time that does not exist (02:30 on the spring change) is the
     * instant after the gap */
    sc.at_min = 2 * 60 + 30;
    assert_int_equal(email_period_end(&sc, utc(2026, 3, 28, 23, 0)), utc(2026, 3, 29, 1, 30));
    email_tz_free(berlin);

    struct email_tz *ny = email_tz_load("America/New_York", why, sizeof(why));
    assert_non_null(ny);
    struct email_sched ns = {.every_ms = 86400000, .at_min = 0, .tz = ny};
    assert_int_equal(email_period_end(&ns, utc(2026, 1, 10, 12, 0)), utc(2026, 1, 11, 5, 0));
    assert_int_equal(email_period_end(&ns, utc(2026, 6, 10, 12, 0)), utc(2026, 6, 11, 4, 0));
    email_tz_free(ny);

    /* fixed offsets and UTC; periods that divide a day start at midnight */
    struct email_tz *plus = email_tz_load("+05:30", why, sizeof(why));
    assert_non_null(plus);
    struct email_sched ps = {.every_ms = 6 * 3600000, .at_min = -1, .tz = plus};
    /* local 14:00 on the 10th -> next boundary local 18:00 = 12:30Z */
    assert_int_equal(email_period_end(&ps, utc(2026, 1, 10, 8, 30)), utc(2026, 1, 10, 12, 30));
    email_tz_free(plus);
    struct email_tz *u = email_tz_load("UTC", why, sizeof(why));
    struct email_sched us = {.every_ms = 2000, .at_min = -1, .tz = u};
    assert_int_equal(email_period_end(&us, utc(2026, 1, 1, 0, 0) + 1999), utc(2026, 1, 1, 0, 0) + 2000);
    assert_int_equal(email_period_end(&us, utc(2026, 1, 1, 0, 0) + 2000), utc(2026, 1, 1, 0, 0) + 4000);
    email_tz_free(u);

    assert_null(email_tz_load("../../etc/passwd", why, sizeof(why)));
    assert_null(email_tz_load("Mars/Olympus_Mons", why, sizeof(why)));
    assert_non_null(strstr(why, "unknown time zone"));
    assert_int_equal(email_parse_hhmm("09:00"), 540);
    assert_int_equal(email_parse_hhmm("23:59"), 1439);
    assert_int_equal(email_parse_hhmm("24:00"), -1);
    assert_int_equal(email_parse_hhmm("9:00"), -1);
}

static void test_smtp_outcome(void **state)
{
    (void)state;
    struct smtp_xfer x = {.result = CURLE_OK, .code = 250};
    char why[400];
    assert_int_equal(smtp_outcome(&x, why, sizeof(why)), HF_OUT_DELIVERED);
    x = (struct smtp_xfer){.result = CURLE_SEND_ERROR, .code = 550};
    snprintf(x.reply, sizeof(x.reply), "550 5.1.1 <x@example.com>: recipient rejected");
    assert_int_equal(smtp_outcome(&x, why, sizeof(why)), HF_OUT_REJECTED);
    assert_string_equal(why, "SMTP server refused the message: 550 5.1.1 <x@example.com>: recipient rejected");
    x = (struct smtp_xfer){.result = CURLE_SEND_ERROR, .code = 451};
    assert_int_equal(smtp_outcome(&x, why, sizeof(why)), HF_OUT_RETRY);
    x = (struct smtp_xfer){.result = CURLE_COULDNT_CONNECT, .code = 0};
    assert_int_equal(smtp_outcome(&x, why, sizeof(why)), HF_OUT_RETRY);
    x = (struct smtp_xfer){.result = CURLE_USE_SSL_FAILED, .code = 0};
    assert_int_equal(smtp_outcome(&x, why, sizeof(why)), HF_OUT_RETRY);
    assert_non_null(strstr(why, "no STARTTLS"));
}

/* `hookfwd check` on one email sink; returns the error or "" */
static const char *check_sink(const char *opts, struct hf_cerr *err)
{
    char text[2048];
    snprintf(text, sizeof(text),
             TU_SOURCES "sinks:\n  - {name: m, type: email, from: a@example.com, to: [b@example.com], %s}\n", opts);
    struct hf_config *c = tu_config(text, err);
    if (c) {
        hf_config_free(c);
        return "";
    }
    return err->msg;
}

static void test_check(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    assert_string_equal(check_sink("url: 'smtp://mail.example.com:587', username: u, password: p, mode: digest,"
                                   " digest: {at: '09:00', timezone: Europe/Berlin}, subject: '${event_type}'",
                                   &err),
                        "");
    assert_string_equal(check_sink("url: 'smtps://mail.example.com', digest: {every: 2s, max_items: 5}", &err), "");
    assert_non_null(strstr(check_sink("url: 'http://mail.example.com'", &err), "url: the scheme must be"));
    assert_non_null(strstr(check_sink("url: 'smtp://u:p@mail.example.com'", &err), "url"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', starttls: off, username: u, password: p", &err),
                           "starttls: a password would cross the network in clear text"));
    assert_string_equal(check_sink("url: 'smtps://x', starttls: off, username: u, password: p", &err), "");
    assert_non_null(strstr(check_sink("url: 'smtp://x', username: u", &err), "password"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', digest: {at: '25:00'}", &err), "digest.at"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', digest: {at: '09:00', every: 12h}", &err),
                           "a time of day needs every: 24h"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', digest: {timezone: Mars/Base}", &err), "unknown time zone"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', digest: {every: 10ms}", &err), "every"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', mode: weekly", &err), "mode"));
    assert_non_null(strstr(check_sink("url: 'smtp://x', subject: '${data.}'", &err), "subject"));
    /* a bad recipient, named */
    struct hf_config *c =
        tu_config(TU_SOURCES "sinks:\n  - {name: m, type: email, url: 'smtp://x', from: a@example.com,"
                             " to: [ok@example.com, 'bad address']}\n",
                  &err);
    assert_null(c);
    assert_non_null(strstr(err.msg, "to: 'bad address' is not an e-mail address"));
    c = tu_config(TU_SOURCES "sinks:\n  - {name: m, type: email, url: 'smtp://x', from: 'x\\r\\nBcc: y@z',"
                             " to: [ok@example.com]}\n",
                  &err);
    assert_null(c);
    assert_non_null(strstr(err.msg, "from: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_text_plain_and_injection),
        cmocka_unit_test(test_header_text_encoded_words),
        cmocka_unit_test(test_header_text_folds_long_ascii),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_each_message),
        cmocka_unit_test(test_digest_message),
        cmocka_unit_test(test_timezones),
        cmocka_unit_test(test_smtp_outcome),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
