/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the sink encoders that are pure functions, fed records built
 * by the real parse + flatten + rules path from fuzzed bodies:
 *   Splunk HEC   hf_splunk_encode_record (+ hf_splunk_gzip)
 *   Datadog      hf_dd_normalize_tag, hf_dd_metric_name, hf_dd_point_key,
 *                hf_dd_bucket_add, hf_dd_encode (none / gzip / deflate)
 *   syslog       hf_syslog_encode (RFC 5424, RFC 3164, CEF, LEEF) and
 *                hf_syslog_encode_point, with and without a length limit
 *   templates    hf_template_expand with every per-event name, in each
 *                escaping and into buffers of every small size
 *   Slack        hf_slack_encode_record (blocks auto / none, a text template)
 *   PagerDuty    hf_pd_encode (trigger, and resolve)
 * Each part is compiled only when its plugin is in the build.
 *
 * Input: byte 0 picks the source and options, byte 1 the encoder variants,
 * byte 2 the length limit; the rest is the body (or, when it is not a valid
 * event, raw bytes for the name/tag normalizers alone).
 *
 * Checked: HEC output is one valid JSON object per line, as many as
 * promised, and gunzips back to itself; Datadog names and tags keep to
 * their character sets and lengths, and every body parses as JSON; syslog
 * messages respect the limit, keep RFC 5424 structure (header tokens,
 * SD-ELEMENT escaping, MSG equal to the record JSON when not cut), CEF's
 * six header pipes and escaped '=' in extension values, LEEF's header and
 * key=value attributes, no line breaks when one_line, and UTF-8 that stays
 * valid after a cut (RFC 3164 excepted: it cuts bytes, as relays do).
 * Templates: a cut output is a prefix of the whole one, JSON-escaped text
 * is a valid JSON string, header text holds no CR or LF, names only
 * [A-Za-z0-9._-], mrkdwn text no '<' or '>' from a value. Slack messages
 * are JSON objects within Slack's limits (50 blocks, 150/3000/2000
 * characters, 10 fields, 12,000 in all); PagerDuty events are JSON objects
 * under 512 KB with a summary of at most 1024 characters and a dedup_key
 * of at most 255. */
#include "fuzz_common.h"
#include "pipeline.h"
#include "record.h"
#include "verify.h"

#include <ctype.h>
#include <yyjson.h>
#include <math.h>
#include <stdint.h>
#include <zlib.h>

#ifdef HF_WITH_SPLUNK
#include "out_splunk/splunk.h"
#endif
#ifdef HF_WITH_DATADOG
#include "out_datadog/datadog.h"
#endif
#ifdef HF_WITH_SYSLOG
#include "out_syslog/syslog_format.h"
#endif
#ifdef HF_WITH_SLACK
#include "out_slack/slack.h"
#endif
#ifdef HF_WITH_PAGERDUTY
#include "out_pagerduty/pagerduty.h"
#endif
#include "template.h"

static struct hf_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg = fuzz_default_config();
    return 0;
}

static void fail(const char *what, const char *out, size_t len)
{
    fprintf(stderr, "fuzz_encoders: %s\n--- output (%zu bytes):\n%.*s\n", what, len, (int)(len > 3000 ? 3000 : len),
            out ? out : "");
    abort();
}

static FUZZ_UNUSED bool strict_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        unsigned cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const unsigned min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static FUZZ_UNUSED bool is_json_object(const char *s, size_t n)
{
    /* strict RFC 8259 (yyjson's defaults), UTF-8 validated; numbers as
     * text, so 1e999 (valid JSON past a double) is fine */
    yyjson_doc *doc = yyjson_read(s, n, YYJSON_READ_NUMBER_AS_RAW);
    bool ok = doc && yyjson_doc_get_read_size(doc) == n && yyjson_is_obj(yyjson_doc_get_root(doc));
    yyjson_doc_free(doc);
    return ok && strict_utf8((const unsigned char *)s, n);
}

/* gunzip / inflate (windowBits 15+16 or 15) into out. */
static FUZZ_UNUSED int inflate_all(const char *in, size_t len, int window_bits, struct hf_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, window_bits) != Z_OK)
        return -1;
    hf_buf_reset(out);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    int rc;
    do {
        if (hf_buf_reserve(out, 65536) < 0)
            break;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 65536;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len = (size_t)((char *)z.next_out - out->data);
    } while (rc == Z_OK);
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* ---- Splunk HEC ---- */

#ifdef HF_WITH_SPLUNK
static void fuzz_splunk(const struct hf_record *r, unsigned opt)
{
    struct splunk_conf conf = {.host = (char *)"fuzz-host",
                               .index = (opt & 1) ? (char *)"main" : NULL,
                               .metrics_index = (opt & 2) ? (char *)"metrics" : NULL,
                               .sourcetype = (opt & 4) ? (char *)"hookfwd:fuzz" : NULL};
    static const enum hf_takes takes[] = {HF_TAKES_RECORDS, HF_TAKES_METRICS, HF_TAKES_BOTH};
    struct hf_buf out, gz, back;
    hf_buf_init(&out, 0);
    hf_buf_init(&gz, 0);
    hf_buf_init(&back, 0);
    for (int t = 0; t < 3; t++) {
        hf_buf_reset(&out);
        size_t n = hf_splunk_encode_record(&conf, takes[t], r, &out);
        if (n != hf_splunk_count_objects(takes[t], r))
            fail("HEC: objects written differ from hf_splunk_count_objects", out.data, out.len);
        size_t lines = 0;
        for (size_t i = 0; i < out.len;) {
            const char *nl = memchr(out.data + i, '\n', out.len - i);
            if (!nl)
                fail("HEC: output does not end with a newline", out.data, out.len);
            size_t l = (size_t)(nl - out.data) - i;
            if (!is_json_object(out.data + i, l))
                fail("HEC: a line is not one valid JSON object", out.data + i, l);
            lines++;
            i += l + 1;
        }
        if (lines != n)
            fail("HEC: line count differs from the objects promised", out.data, out.len);
        if (out.len &&
            (hf_splunk_gzip(out.data, out.len, &gz) < 0 || inflate_all(gz.data, gz.len, 15 + 16, &back) < 0 ||
             back.len != out.len || memcmp(back.data, out.data, out.len)))
            fail("HEC: gzip does not round-trip", out.data, out.len);
    }
    hf_buf_free(&out);
    hf_buf_free(&gz);
    hf_buf_free(&back);
}
#endif

/* ---- Datadog ---- */

#ifdef HF_WITH_DATADOG
static void check_dd_name(const char *s, size_t n, bool tag)
{
    if (n > HF_DD_NAME_MAX)
        fail("Datadog: normalized name or tag longer than 200", s, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= '0' && c <= '9') || c == '_' || c == '.' || (c >= 'a' && c <= 'z') ||
                  (tag ? (c == '-' || c == ':' || c == '/') : (c >= 'A' && c <= 'Z'));
        if (!ok)
            fail(tag ? "Datadog: tag has a character outside [a-z0-9_-:./]" : "Datadog: name outside [A-Za-z0-9_.]", s,
                 n);
    }
    if (tag && n && s[n - 1] == ':')
        fail("Datadog: tag ends with ':'", s, n);
}

static void fuzz_dd_strings(const uint8_t *data, size_t size)
{
    char out[HF_DD_NAME_MAX + 1];
    size_t n = hf_dd_normalize_tag((const char *)data, size, out);
    check_dd_name(out, n, true);
    char *s = hf_strndup((const char *)data, size); /* NUL-terminated view */
    size_t half = strlen(s) / 2;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)(half < 60 ? half : 60), s);
    n = hf_dd_metric_name(prefix, s + half, out);
    check_dd_name(out, n, false);
    n = hf_dd_metric_name(NULL, s, out);
    check_dd_name(out, n, false);
    free(s);
}

struct dd_emit_ctx {
    enum hf_dd_compression c;
    struct hf_buf back;
    size_t bodies;
};

static void dd_emit(void *arg, size_t lo, size_t hi, struct hf_buf *body, size_t raw_len)
{
    struct dd_emit_ctx *x = arg;
    x->bodies++;
    if (hi <= lo)
        fail("Datadog: an empty range was emitted", body->data, body->len);
    const char *json = body->data;
    size_t len = body->len;
    if (x->c != HF_DD_NONE) {
        if (inflate_all(body->data, body->len, x->c == HF_DD_GZIP ? 15 + 16 : 15, &x->back) < 0)
            fail("Datadog: compressed body does not inflate", NULL, 0);
        json = x->back.data;
        len = x->back.len;
    }
    if (len != raw_len)
        fail("Datadog: raw_len differs from the body's size", json, len);
    if (!is_json_object(json, len))
        fail("Datadog: series body is not valid JSON", json, len);
}

static void fuzz_datadog(const struct hf_record *r, unsigned opt)
{
    struct hf_dd_tags sink_tags = {0};
    hf_dd_tags_add(&sink_tags, "env:fuzz");
    hf_dd_tags_add(&sink_tags, (opt & 1) ? "Team:Sec Ops" : "service:hookfwd");
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, r->received_ms / 1000);
    struct hf_buf scratch;
    hf_buf_init(&scratch, 0);
    for (int round = 0; round < 2; round++) /* twice: the second folds into existing series */
        for (size_t i = 0; i < r->npoints; i++) {
            size_t name_len;
            size_t kl =
                hf_dd_point_key((opt & 2) ? "fuzz.prefix" : NULL, &sink_tags, &r->points[i], &scratch, &name_len);
            if (!kl)
                continue;
            check_dd_name(scratch.data, name_len, false);
            if (scratch.data[name_len] != '|')
                fail("Datadog: key has no '|' after the name", scratch.data, kl);
            hf_dd_bucket_add(&b, scratch.data, kl, name_len, r->points[i].type, r->points[i].value);
            if (isfinite(r->points[i].value) && !hf_dd_bucket_find(&b, scratch.data, kl, r->points[i].type))
                fail("Datadog: a series just added is not found", scratch.data, kl);
        }
    static const enum hf_dd_compression comp[] = {HF_DD_NONE, HF_DD_GZIP, HF_DD_DEFLATE};
    for (int c = 0; c < 3; c++) {
        struct hf_dd_encoder e;
        hf_dd_encoder_init(&e, comp[c], 10, (opt & 4) ? "fuzz \"host\"" : NULL);
        struct dd_emit_ctx x = {.c = comp[c]};
        hf_buf_init(&x.back, 0);
        size_t n = hf_dd_encode(&e, &b, 0, b.n, dd_emit, &x);
        if (n != x.bodies || (b.n && !n))
            fail("Datadog: bodies emitted differ from the count returned", NULL, 0);
        hf_buf_free(&x.back);
        hf_dd_encoder_free(&e);
    }
    hf_buf_free(&scratch);
    hf_dd_bucket_free(&b);
    hf_dd_tags_free(&sink_tags);
}
#endif

/* ---- syslog ---- */

#ifdef HF_WITH_SYSLOG
static bool printus(unsigned char c) { return c >= 33 && c <= 126; }

/* A header token: 1..max PRINTUSASCII, then one space. */
static size_t token(const char *s, size_t n, size_t i, size_t max)
{
    size_t st = i;
    while (i < n && s[i] != ' ') {
        if (!printus((unsigned char)s[i]))
            return 0;
        i++;
    }
    if (i == st || i - st > max || i >= n)
        return 0;
    return i + 1;
}

/* RFC 5424 STRUCTURED-DATA from s[i]; returns the index after it or 0. */
static size_t sd(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '-')
        return i + 1;
    if (i >= n || s[i] != '[')
        return 0;
    while (i < n && s[i] == '[') {
        i++;
        size_t st = i;
        while (i < n && printus((unsigned char)s[i]) && s[i] != '=' && s[i] != ']' && s[i] != '"')
            i++;
        if (i == st || i - st > 32)
            return 0;
        while (i < n && s[i] == ' ') {
            i++;
            st = i;
            while (i < n && printus((unsigned char)s[i]) && s[i] != '=' && s[i] != ']' && s[i] != '"')
                i++;
            if (i == st || i - st > 32 || i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
                return 0;
            i += 2;
            st = i;
            while (i < n && s[i] != '"' && s[i] != ']') {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']'))
                    i++;
                i++;
            }
            if (i >= n || s[i] != '"')
                return 0; /* an unescaped ']' or the end inside a value */
            if (!strict_utf8((const unsigned char *)s + st, i - st))
                return 0;
            i++;
        }
        if (i >= n || s[i] != ']')
            return 0;
        i++;
    }
    return i;
}

/* "<PRI>1 TS HOST APP PROCID MSGID SD[ MSG]"; returns MSG's offset (n when
 * absent) or 0. */
static size_t rfc5424(const char *s, size_t n, bool cut)
{
    size_t i = 0;
    if (n < 4 || s[0] != '<')
        return 0;
    for (i = 1; i < n && i < 5 && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    if (i == 1 || i >= n || s[i] != '>' || i + 2 >= n || s[i + 1] != '1' || s[i + 2] != ' ')
        return 0;
    i += 3;
    static const size_t max[] = {32, 255, 48, 128, 32};
    for (int k = 0; k < 5; k++)
        if (!(i = token(s, n, i, max[k])))
            return 0;
    size_t e = sd(s, n, i);
    if (!e)
        return 0;
    if (e == n)
        return n;
    if (s[e] != ' ')
        return 0;
    (void)cut;
    return e + 1;
}

static void check_cef(const char *s, size_t n, size_t at, bool cut)
{
    if (n - at < 6 || memcmp(s + at, "CEF:0|", 6)) {
        if (!cut || n - at >= 6)
            fail("CEF: the payload does not start with CEF:0|", s, n);
        return;
    }
    size_t i = at + 6;
    int pipes = 0;
    for (; i < n && pipes < 6; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '|')
            pipes++;
        else if (s[i] == '\n' || s[i] == '\r')
            fail("CEF: line break in the header", s, n);
    }
    if (pipes < 6) {
        if (!cut)
            fail("CEF: fewer than six header pipes", s, n);
        return;
    }
    /* extension: an unescaped '=' must end a key [A-Za-z0-9_]+ after a space */
    size_t ext = i;
    for (; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '\n' || s[i] == '\r')
            fail("CEF: raw line break in the extension", s, n);
        if (s[i] != '=')
            continue;
        size_t k = i;
        while (k > ext && (isalnum((unsigned char)s[k - 1]) || s[k - 1] == '_'))
            k--;
        if (k == i || (k > ext && s[k - 1] != ' '))
            fail("CEF: an unescaped '=' that does not end an extension key", s, n);
    }
}

static void check_leef(const char *s, size_t n, size_t at, bool cut)
{
    if (n - at < 9 || memcmp(s + at, "LEEF:2.0|", 9)) {
        if (!cut || n - at >= 9)
            fail("LEEF: the payload does not start with LEEF:2.0|", s, n);
        return;
    }
    size_t i = at;
    int pipes = 0;
    size_t attrs = 0;
    for (; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            fail("LEEF: line break", s, n);
        if (s[i] == '|' && ++pipes == 6) {
            attrs = i + 1;
            break;
        }
    }
    if (!attrs) {
        if (!cut)
            fail("LEEF: fewer than six header pipes", s, n);
        return;
    }
    if (s[attrs - 2] != '^' || s[attrs - 3] != '|')
        fail("LEEF: the delimiter field is not ^", s, n);
    /* ^key=value, keys without blanks or '=' */
    for (i = attrs; i < n;) {
        size_t e = i;
        while (e < n && s[e] != '^')
            e++;
        const char *eq = memchr(s + i, '=', e - i);
        if (!eq && !(cut && e == n))
            fail("LEEF: an attribute without '='", s, n);
        for (const char *k = s + i; eq && k < eq; k++)
            if ((unsigned char)*k <= ' ')
                fail("LEEF: blank in an attribute key", s, n);
        if (eq == s + i)
            fail("LEEF: empty attribute key", s, n);
        i = e + 1;
    }
}

static void fuzz_syslog(const struct hf_record *r, unsigned opt, unsigned lim)
{
    struct hf_syslog_fmt f = {.format = (enum hf_syslog_format)(opt & 3),
                              .message = (opt & 4) ? HF_SYSLOG_MSG_SUMMARY : HF_SYSLOG_MSG_JSON,
                              .header = (enum hf_syslog_header)((opt >> 3) % 3),
                              .facility = (int)(lim % 24),
                              .hostname = (opt & 32) ? "-" : "fuzz-host.example",
                              .app_name = "hookfwd",
                              .procid = (opt & 64) ? 4242 : 0,
                              .sd_id = "hookfwd@32473",
                              .version = "0.1.0",
                              .bom = (opt & 128) != 0,
                              .one_line = (lim & 1) != 0};
    static const size_t limits[] = {0, 200, 480, 1024, 2048, 65000};
    size_t max_len = limits[(lim >> 1) % 6];
    struct hf_buf out;
    hf_buf_init(&out, 0);
    bool cut = false;
    if (hf_syslog_encode(&f, r, max_len, &out, &cut) < 0)
        fail("syslog: encode failed", out.data, out.len);
    if (max_len && out.len > max_len)
        fail("syslog: message longer than the limit", out.data, out.len);
    if (cut && !max_len)
        fail("syslog: cut without a limit", out.data, out.len);
    bool bytes_cut = f.format == HF_SYSLOG_RFC3164 || (f.format >= HF_SYSLOG_CEF && f.header == HF_SYSLOG_HDR_RFC3164);
    if (!bytes_cut && !strict_utf8((const unsigned char *)out.data, out.len))
        fail("syslog: invalid UTF-8", out.data, out.len);
    if (f.one_line && memchr(out.data, '\n', out.len))
        fail("syslog: line break with one_line", out.data, out.len);
    bool framed_5424 =
        f.format == HF_SYSLOG_RFC5424 || (f.format >= HF_SYSLOG_CEF && f.header == HF_SYSLOG_HDR_RFC5424);
    size_t payload = 0; /* where CEF/LEEF starts: after the syslog header, if any */
    if (framed_5424) {
        size_t msg = rfc5424(out.data, out.len, cut);
        payload = msg;
        if (!msg)
            fail("syslog: not RFC 5424", out.data, out.len);
        if (f.format == HF_SYSLOG_RFC5424 && f.message == HF_SYSLOG_MSG_JSON && !cut) {
            size_t bom = f.bom ? 3 : 0;
            if (out.len - msg != bom + r->json_len || memcmp(out.data + msg + bom, r->json, r->json_len))
                fail("syslog: RFC 5424 MSG is not the record JSON", out.data, out.len);
        }
    }
    if (f.format >= HF_SYSLOG_CEF && f.header == HF_SYSLOG_HDR_RFC3164) {
        const char *colon = memmem(out.data, out.len, ": ", 2); /* after "host app[pid]" */
        payload = colon ? (size_t)(colon - out.data) + 2 : out.len;
    }
    if (f.format == HF_SYSLOG_CEF)
        check_cef(out.data, out.len, payload, cut);
    else if (f.format == HF_SYSLOG_LEEF)
        check_leef(out.data, out.len, payload, cut);
    for (size_t i = 0; i < r->npoints && f.format <= HF_SYSLOG_RFC3164; i++) {
        hf_buf_reset(&out);
        cut = false;
        if (hf_syslog_encode_point(&f, r, &r->points[i], max_len, &out, &cut) < 0)
            fail("syslog: point encode failed", out.data, out.len);
        if (max_len && out.len > max_len)
            fail("syslog: point message longer than the limit", out.data, out.len);
        if (f.format == HF_SYSLOG_RFC5424 && !rfc5424(out.data, out.len, cut))
            fail("syslog: point message is not RFC 5424", out.data, out.len);
    }
    char name[HF_SYSLOG_SD_NAME_MAX + 1];
    for (size_t i = 0; i < r->nfields; i++) {
        hf_syslog_sd_name(r->fields[i].key, name);
        size_t nl = strlen(name);
        if (!nl || nl > HF_SYSLOG_SD_NAME_MAX)
            fail("syslog: SD name length", name, nl);
        for (size_t k = 0; k < nl; k++)
            if (!printus((unsigned char)name[k]) || strchr("= ]\"", name[k]))
                fail("syslog: SD name character", name, nl);
    }
    hf_buf_free(&out);
}
#endif

/* ---- templates ---- */

static struct hf_template *tmpl_all, *tmpl_mrkdwn;

static struct hf_template *tmpl(const char *text)
{
    char why[300];
    struct hf_template *t = hf_template_compile(text, NULL, why, sizeof(why));
    if (!t)
        fail("a fixed template does not compile", why, strlen(why));
    return t;
}

static void fuzz_templates(const struct hf_record *r, unsigned opt)
{
    if (!tmpl_all) {
        tmpl_all = tmpl("${source}|${event_type}|${severity}|${event_id}|${idempotency_key}|${timestamp}|"
                        "${data.decision.scenario}|${data.repo:-none}|${data.decision.policy_matches}|${data.x:-d\"}");
        tmpl_mrkdwn = tmpl("*${event_type}* <https://x.test|x> ${data.decision.scenario}${data.repo}");
    }
    static const unsigned escs[] = {HF_ESC_NONE,   HF_ESC_JSON, HF_ESC_MRKDWN,
                                    HF_ESC_HEADER, HF_ESC_NAME, HF_ESC_JSON | HF_ESC_MRKDWN};
    unsigned esc = escs[opt % 6];
    const struct hf_template *t = (opt & 8) ? tmpl_mrkdwn : tmpl_all;
    size_t need = hf_template_expand(t, r, esc, NULL, 0);
    char *full = malloc(need + 1);
    if (hf_template_expand(t, r, esc, full, need + 1) != need || strlen(full) > need)
        fail("template: the length needed changes", full, need);
    /* a smaller buffer: a prefix, cut between characters and escapes */
    size_t cap = (opt >> 4) % (need + 2);
    char *small = malloc(cap + 1);
    if (hf_template_expand(t, r, esc, small, cap) != need)
        fail("template: the length needed depends on the buffer", full, need);
    if (cap && (strlen(small) >= cap || memcmp(small, full, strlen(small))))
        fail("template: a cut output is not a prefix of the whole", small, strlen(small));
    size_t n = strlen(full);
    if (esc != HF_ESC_NONE && n == need && !strict_utf8((unsigned char *)full, n))
        fail("template: escaped output is not UTF-8", full, n);
    if (esc & HF_ESC_JSON) {
        struct hf_buf j;
        hf_buf_init(&j, 0);
        hf_buf_printf(&j, "{\"t\":\"%s\"}", full);
        if (n == need && !is_json_object(j.data, j.len))
            fail("template: JSON-escaped text is not a JSON string", full, n);
        hf_buf_free(&j);
    }
    if ((esc & HF_ESC_HEADER) && (memchr(full, '\r', n) || memchr(full, '\n', n)))
        fail("template: a header value holds CR or LF", full, n);
    /* tmpl_all's own text is only '|': anything else came from a value */
    if (esc == HF_ESC_NAME && t == tmpl_all)
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)full[i]) && !strchr("._-|", full[i]))
                fail("template: a name holds a character a topic cannot", full, n);
    if ((esc & HF_ESC_MRKDWN) && t == tmpl_all && (memchr(full, '<', n) || memchr(full, '>', n)))
        fail("template: mrkdwn text holds a '<' or '>' from a value", full, n);
    free(small);
    free(full);
}

static FUZZ_UNUSED size_t ucount(yyjson_val *v) { return hf_utf8_chars(yyjson_get_str(v), yyjson_get_len(v)); }

/* ---- Slack ---- */

#ifdef HF_WITH_SLACK
static void slack_text_obj(yyjson_val *o, size_t max, size_t *total, const char *out, size_t len)
{
    yyjson_val *t = yyjson_obj_get(o, "text");
    if (!yyjson_is_str(t) || ucount(t) < 1 || ucount(t) > max)
        fail("Slack: a text object out of its limit", out, len);
    *total += ucount(t);
}

static void fuzz_slack(const struct hf_record *r, unsigned opt)
{
    struct hf_buf out;
    hf_buf_init(&out, 0);
    if (hf_slack_encode_record(r, (opt & 2) ? tmpl_mrkdwn : NULL, opt & 1, &out) < 0)
        fail("Slack: encode failed", out.data, out.len);
    if (!is_json_object(out.data, out.len))
        fail("Slack: not one JSON object", out.data, out.len);
    yyjson_doc *doc = yyjson_read(out.data, out.len, YYJSON_READ_NUMBER_AS_RAW);
    yyjson_val *root = yyjson_doc_get_root(doc), *text = yyjson_obj_get(root, "text");
    if (!yyjson_is_str(text) || ucount(text) < 1 || ucount(text) > HF_SLACK_MAX_TEXT)
        fail("Slack: the notification text is missing or too long", out.data, out.len);
    yyjson_val *blocks = yyjson_obj_get(root, "blocks");
    size_t total = 0;
    if (blocks && (yyjson_arr_size(blocks) < 1 || yyjson_arr_size(blocks) > HF_SLACK_MAX_BLOCKS))
        fail("Slack: block count", out.data, out.len);
    size_t i, max;
    yyjson_val *b;
    yyjson_arr_foreach(blocks, i, max, b)
    {
        const char *type = yyjson_get_str(yyjson_obj_get(b, "type"));
        if (!type)
            fail("Slack: a block without a type", out.data, out.len);
        if (!strcmp(type, "header"))
            slack_text_obj(yyjson_obj_get(b, "text"), HF_SLACK_MAX_HEADER, &total, out.data, out.len);
        else if (!strcmp(type, "section")) {
            yyjson_val *t = yyjson_obj_get(b, "text"), *f = yyjson_obj_get(b, "fields");
            if (!t && !f)
                fail("Slack: a section without text or fields", out.data, out.len);
            if (t)
                slack_text_obj(t, HF_SLACK_MAX_SECTION, &total, out.data, out.len);
            if (f && (yyjson_arr_size(f) < 1 || yyjson_arr_size(f) > HF_SLACK_MAX_FIELDS))
                fail("Slack: field count", out.data, out.len);
            size_t j, jmax;
            yyjson_val *fv;
            yyjson_arr_foreach(f, j, jmax, fv) slack_text_obj(fv, HF_SLACK_MAX_FIELD, &total, out.data, out.len);
        } else if (!strcmp(type, "context")) {
            yyjson_val *el = yyjson_obj_get(b, "elements");
            if (yyjson_arr_size(el) < 1 || yyjson_arr_size(el) > HF_SLACK_MAX_CONTEXT)
                fail("Slack: context element count", out.data, out.len);
            size_t j, jmax;
            yyjson_val *ev;
            yyjson_arr_foreach(el, j, jmax, ev) slack_text_obj(ev, HF_SLACK_MAX_SECTION, &total, out.data, out.len);
        } else {
            fail("Slack: a block type hookfwd does not send", out.data, out.len);
        }
    }
    if (total > HF_SLACK_MAX_BLOCKS_TEXT)
        fail("Slack: the blocks carry more than 12,000 characters", out.data, out.len);
    yyjson_doc_free(doc);
    hf_buf_free(&out);
}
#endif

/* ---- PagerDuty ---- */

#ifdef HF_WITH_PAGERDUTY
static void fuzz_pagerduty(const struct hf_record *r, unsigned opt)
{
    static struct hf_pd_conf conf;
    static struct hf_filter *all;
    if (!conf.routing_key) {
        conf.routing_key = (char *)"0123456789abcdef0123456789abcdef";
        conf.url = (char *)"https://events.pagerduty.com/v2/enqueue";
        conf.dedup_key = tmpl("${idempotency_key}/${data.repo}/${data.decision.scenario}");
        conf.component = tmpl("${data.decision.policy_matches}");
        conf.class_ = tmpl("${event_type}");
        conf.severity_map[HF_SEV_INFO] = HF_PD_INFO;
        conf.severity_map[HF_SEV_WARNING] = HF_PD_WARNING;
        conf.severity_map[HF_SEV_HIGH] = HF_PD_ERROR;
        conf.severity_map[HF_SEV_CRITICAL] = HF_PD_CRITICAL;
        all = calloc(1, sizeof(struct hf_filter)); /* an empty filter matches every record */
    }
    conf.summary = (opt & 4) ? tmpl_all : NULL;
    conf.resolve = (opt & 8) ? all : NULL;
    struct hf_buf out;
    hf_buf_init(&out, 0);
    char why[300];
    int rc = hf_pd_encode(&conf, r, &out, why, sizeof(why));
    if (rc >= 0) {
        if (!is_json_object(out.data, out.len) || out.len >= HF_PD_MAX_EVENT)
            fail("PagerDuty: not one JSON object under 512 KB", out.data, out.len);
        yyjson_doc *doc = yyjson_read(out.data, out.len, YYJSON_READ_NUMBER_AS_RAW);
        yyjson_val *root = yyjson_doc_get_root(doc);
        yyjson_val *key = yyjson_obj_get(root, "dedup_key"),
                   *sum = yyjson_obj_get(yyjson_obj_get(root, "payload"), "summary");
        if (key && (ucount(key) < 1 || ucount(key) > HF_PD_MAX_DEDUP_KEY))
            fail("PagerDuty: dedup_key length", out.data, out.len);
        if (!conf.resolve && (!sum || ucount(sum) < 1 || ucount(sum) > HF_PD_MAX_SUMMARY))
            fail("PagerDuty: summary length", out.data, out.len);
        yyjson_doc_free(doc);
    } else if (!conf.resolve) {
        fail("PagerDuty: a trigger could not be encoded", why, strlen(why));
    }
    hf_buf_free(&out);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    unsigned sel = data[0], opt = data[1], lim = data[2];
    static const char *const names[] = {"omega", "sentinelayer", "other"};
    const struct hf_source *src = fuzz_source(cfg, names[sel % 3]);
    size_t len = size - 3;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 3, len);
#ifdef HF_WITH_DATADOG
    fuzz_dd_strings(data + 3, len);
#endif
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    struct hf_pipeline pl = {.cfg = cfg};
    char reason[200];
    struct hf_record *r = hf_build_record(&pl, src, body, len, &vr, (sel & 0x10) ? "msg_fuzz" : NULL,
                                          FUZZ_NOW_MS + (int64_t)lim * 86400000LL, reason, sizeof(reason));
    if (r) {
#ifdef HF_WITH_SPLUNK
        fuzz_splunk(r, opt);
#endif
#ifdef HF_WITH_DATADOG
        fuzz_datadog(r, opt);
#endif
#ifdef HF_WITH_SYSLOG
        fuzz_syslog(r, opt, lim);
#endif
        fuzz_templates(r, opt | (unsigned)lim << 4);
#ifdef HF_WITH_SLACK
        fuzz_slack(r, opt);
#endif
#ifdef HF_WITH_PAGERDUTY
        fuzz_pagerduty(r, opt);
#endif
        hf_record_unref(r);
    }
    (void)opt;
    free(body);
    return 0;
}
