/* SPDX-License-Identifier: Apache-2.0 */
/* Encoders of the syslog sink: RFC 5424, RFC 3164, CEF and LEEF 2.0 from a
 * record, with each format's escaping and the UDP truncation rules. The
 * choices behind them are listed in syslog_format.h. */
#define _GNU_SOURCE
#include "syslog_format.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef void (*escape_fn)(struct hf_buf *b, const char *s, size_t n, bool one_line);

static const char *const facility_names[] = {"kern",   "user",   "mail",   "daemon", "auth",     "syslog",
                                             "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
                                             "ntp",    "audit",  "alert",  "clock",  "local0",   "local1",
                                             "local2", "local3", "local4", "local5", "local6",   "local7"};

int hf_syslog_facility_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    for (int i = 0; i < 24; i++)
        if (!strcasecmp(s, facility_names[i]))
            return i;
    int v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || p - s > 2)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= 23 ? v : -1;
}

int hf_syslog_severity(enum hf_severity s)
{
    switch (s) {
    case HF_SEV_WARNING: return 4;
    case HF_SEV_HIGH: return 3;
    case HF_SEV_CRITICAL: return 2;
    default: return 6;
    }
}

int hf_syslog_cef_severity(enum hf_severity s)
{
    switch (s) {
    case HF_SEV_WARNING: return 5;
    case HF_SEV_HIGH: return 8;
    case HF_SEV_CRITICAL: return 10;
    default: return 3;
    }
}

void hf_syslog_vendor(const char *source, const char **vendor, const char **product)
{
    if (!strncasecmp(source, "omega", 5)) {
        *vendor = "OmegaEngine";
        *product = "Policy Engine";
    } else if (!strncasecmp(source, "sentinelayer", 12)) {
        *vendor = "Sentinelayer";
        *product = "Omar Gate";
    } else {
        *vendor = source;
        *product = source;
    }
}

static bool printusascii(unsigned char c) { return c >= 33 && c <= 126; }

void hf_syslog_clean_token(const char *s, size_t max, char *out, size_t outlen)
{
    size_t n = 0;
    for (; s && s[n] && n < max && n + 1 < outlen; n++)
        out[n] = printusascii((unsigned char)s[n]) ? s[n] : '_';
    if (n == 0 && outlen >= 2)
        out[n++] = '-';
    out[n] = '\0';
}

void hf_syslog_sd_name(const char *key, char *out)
{
    size_t len = strlen(key);
    size_t keep = len > HF_SYSLOG_SD_NAME_MAX ? 25 : len;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)key[i];
        out[i] = printusascii(c) && c != '=' && c != ']' && c != '"' ? (char)c : '_';
    }
    if (len > HF_SYSLOG_SD_NAME_MAX) {
        /* 25 + '~' + 6 hex = 32: long names stay distinct and recognisable */
        snprintf(out + keep, HF_SYSLOG_SD_NAME_MAX + 1 - keep, "~%06llx",
                 (unsigned long long)(hf_hash64(key, len) & 0xffffffULL));
        return;
    }
    if (keep == 0)
        out[keep++] = '_';
    out[keep] = '\0';
}

size_t hf_syslog_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t cut = max;
    /* step back over continuation bytes to the start of the cut sequence */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* ---- escapers ------------------------------------------------------- */

static void put_plain(struct hf_buf *b, const char *s, size_t n, bool one_line)
{
    for (size_t i = 0; i < n; i++)
        hf_buf_putc(b, one_line && (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i]);
}

/* RFC 5424 §6.3.3: '"', '\' and ']' MUST be escaped in a PARAM-VALUE. */
static void esc_sd(struct hf_buf *b, const char *s, size_t n, bool one_line)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == '\\' || c == ']')
            hf_buf_putc(b, '\\');
        hf_buf_putc(b, one_line && (c == '\n' || c == '\r') ? ' ' : c);
    }
}

/* CEF header fields: '\' and '|' escaped; a header has no line breaks. */
static void esc_cef_header(struct hf_buf *b, const char *s, size_t n, bool one_line)
{
    (void)one_line;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '|')
            hf_buf_putc(b, '\\');
        hf_buf_putc(b, c == '\n' || c == '\r' ? ' ' : c);
    }
}

/* CEF extension values: '\' and '=' escaped, CR/LF as \r and \n. */
static void esc_cef_ext(struct hf_buf *b, const char *s, size_t n, bool one_line)
{
    (void)one_line;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '=')
            hf_buf_putc(b, '\\');
        if (c == '\n')
            hf_buf_puts(b, "\\n");
        else if (c == '\r')
            hf_buf_puts(b, "\\r");
        else
            hf_buf_putc(b, c);
    }
}

#define LEEF_DELIM '^'

/* LEEF has no escaping: the delimiter and line breaks cannot occur in a
 * value, so they become spaces; '|' too in the header. */
static void esc_leef(struct hf_buf *b, const char *s, size_t n, bool header)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool bad = c == LEEF_DELIM || c == '\n' || c == '\r' || (header && c == '|');
        hf_buf_putc(b, bad ? ' ' : c);
    }
}

static void esc_leef_value(struct hf_buf *b, const char *s, size_t n, bool one_line)
{
    (void)one_line;
    esc_leef(b, s, n, false);
}

/* A scalar or array as text through esc; arrays are joined with ','. */
static void put_value(struct hf_buf *b, const struct hf_value *v, escape_fn esc, bool one_line)
{
    switch (v->type) {
    case HF_V_NULL: break;
    case HF_V_BOOL: hf_buf_puts(b, v->b ? "true" : "false"); break;
    case HF_V_INT:
    case HF_V_DOUBLE: hf_buf_append(b, v->s, v->len); break;
    case HF_V_STRING: esc(b, v->s, v->len, one_line); break;
    case HF_V_ARRAY:
        for (size_t i = 0; i < v->nitems; i++) {
            if (i)
                hf_buf_putc(b, ',');
            put_value(b, &v->items[i], esc, one_line);
        }
        break;
    }
}

static void put_str(struct hf_buf *b, const char *s, escape_fn esc, bool one_line)
{
    if (s)
        esc(b, s, strlen(s), one_line);
}

/* ---- shared pieces -------------------------------------------------- */

static const struct hf_value *field(const struct hf_record *r, const char *key)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].key, key))
            return r->fields[i].v.type == HF_V_NULL ? NULL : &r->fields[i].v;
    return NULL;
}

/* The field an operator reads as "what happened": the decision's outcome
 * or the scan's gate status. */
static const struct hf_value *action_field(const struct hf_record *r)
{
    static const char *const keys[] = {"decision.outcome", "gate_status", "outcome", "action", "status"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct hf_value *v = field(r, keys[i]);
        if (v && v->type != HF_V_ARRAY)
            return v;
    }
    return NULL;
}

/* "omega decision.escalated dec_abc123 severity=high outcome=ESCALATE",
 * built plain, then escaped as a whole for where it goes. */
static void put_summary(struct hf_buf *b, const struct hf_record *r, escape_fn esc, bool one_line)
{
    struct hf_buf t;
    hf_buf_init(&t, 0);
    hf_buf_printf(&t, "%s %s %s severity=%s", r->source, r->event_type, r->event_id ? r->event_id : "-",
                  hf_severity_name(r->severity));
    const struct hf_value *act = action_field(r);
    if (act) {
        hf_buf_puts(&t, " outcome=");
        put_value(&t, act, put_plain, false);
    }
    esc(b, t.data ? t.data : "", t.len, one_line);
    hf_buf_free(&t);
}

static int pri(const struct hf_syslog_fmt *f, enum hf_severity s) { return f->facility * 8 + hf_syslog_severity(s); }

static void put_5424_header(struct hf_buf *b, const struct hf_syslog_fmt *f, int prival, int64_t ms,
                            const char *msgid_src)
{
    char ts[40], msgid[HF_SYSLOG_MSGID_MAX + 1];
    hf_format_iso_ms(ms, ts, sizeof(ts));
    hf_syslog_clean_token(msgid_src, HF_SYSLOG_MSGID_MAX, msgid, sizeof(msgid));
    hf_buf_printf(b, "<%d>1 %s %s %s ", prival, ts, f->hostname, f->app_name);
    if (f->procid > 0)
        hf_buf_printf(b, "%d ", f->procid);
    else
        hf_buf_puts(b, "- ");
    hf_buf_printf(b, "%s ", msgid);
}

static void put_3164_header(struct hf_buf *b, const struct hf_syslog_fmt *f, int prival, int64_t ms)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&sec, &tm);
    /* a day under 10 is space-padded: "Feb  5" */
    hf_buf_printf(b, "<%d>%s %2d %02d:%02d:%02d %s %s", prival, mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, f->hostname, f->app_name);
    if (f->procid > 0)
        hf_buf_printf(b, "[%d]", f->procid);
    hf_buf_puts(b, ": ");
}

static void put_sd_param(struct hf_buf *b, const char *name, const struct hf_value *v, bool one_line)
{
    hf_buf_printf(b, " %s=\"", name);
    put_value(b, v, esc_sd, one_line);
    hf_buf_putc(b, '"');
}

static void put_sd_meta(struct hf_buf *b, const char *name, const char *s, bool one_line)
{
    if (!s)
        return;
    struct hf_value v = {.type = HF_V_STRING, .s = s, .len = strlen(s)};
    put_sd_param(b, name, &v, one_line);
}

static void put_sd(struct hf_buf *b, const struct hf_syslog_fmt *f, const struct hf_record *r, bool with_data)
{
    hf_buf_printf(b, "[%s", f->sd_id);
    put_sd_meta(b, "source", r->source, f->one_line);
    put_sd_meta(b, "event_type", r->event_type, f->one_line);
    put_sd_meta(b, "event_id", r->event_id, f->one_line);
    put_sd_meta(b, "severity", hf_severity_name(r->severity), f->one_line);
    put_sd_meta(b, "idempotency_key", r->idempotency_key, f->one_line);
    for (size_t i = 0; with_data && i < r->nfields; i++) {
        if (r->fields[i].v.type == HF_V_NULL)
            continue;
        char name[HF_SYSLOG_SD_NAME_MAX + 1];
        hf_syslog_sd_name(r->fields[i].key, name);
        put_sd_param(b, name, &r->fields[i].v, f->one_line);
    }
    hf_buf_putc(b, ']');
}

static void put_msg(struct hf_buf *b, const struct hf_syslog_fmt *f, const struct hf_record *r)
{
    if (f->message == HF_SYSLOG_MSG_SUMMARY)
        put_summary(b, r, put_plain, true);
    else
        hf_buf_append(b, r->json, r->json_len);
}

/* Cuts the message that starts at `start` so it is at most max bytes,
 * never inside a UTF-8 sequence nor after a lone escaping backslash when
 * `escaped` (CEF). Only bytes from `floor` on may go. */
static void cut_tail(struct hf_buf *b, size_t start, size_t floor, size_t max, bool escaped)
{
    size_t len = b->len - start;
    if (len <= max)
        return;
    size_t keep = hf_syslog_utf8_cut(b->data + start, len, max);
    if (escaped) {
        size_t bs = 0;
        while (bs < keep && b->data[start + keep - 1 - bs] == '\\')
            bs++;
        if (bs % 2)
            keep--;
    }
    if (start + keep < floor)
        keep = floor - start;
    b->len = start + keep;
}

/* ---- RFC 5424 ------------------------------------------------------- */

static void encode_5424(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max_len, struct hf_buf *b,
                        bool *truncated)
{
    size_t start = b->len;
    for (int pass = 0; pass < 3; pass++) {
        b->len = start;
        put_5424_header(b, f, pri(f, r->severity), r->event_ms, r->event_type);
        /* pass 0: everything; pass 1: without the data fields; pass 2: no SD */
        if (pass < 2)
            put_sd(b, f, r, pass == 0);
        else
            hf_buf_putc(b, '-');
        size_t hdr_end = b->len;
        hf_buf_putc(b, ' ');
        if (f->bom)
            hf_buf_append(b, "\xEF\xBB\xBF", 3);
        size_t msg_at = b->len;
        put_msg(b, f, r);
        if (!max_len || b->len - start <= max_len)
            return;
        *truncated = true;
        if (hdr_end - start > max_len && pass < 2)
            continue;
        cut_tail(b, start, hdr_end - start <= max_len ? hdr_end : start, max_len, false);
        if (b->len <= msg_at && b->len >= hdr_end) /* nothing of MSG left: no SP, no BOM */
            b->len = hdr_end;
        return;
    }
}

/* ---- RFC 3164 ------------------------------------------------------- */

static void encode_3164(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max_len, struct hf_buf *b,
                        bool *truncated)
{
    size_t start = b->len;
    put_3164_header(b, f, pri(f, r->severity), r->event_ms);
    put_msg(b, f, r);
    if (max_len && b->len - start > max_len) {
        *truncated = true;
        cut_tail(b, start, start, max_len, false);
    }
}

/* ---- CEF ------------------------------------------------------------ */

struct cef_slot {
    const char *key; /* CEF extension key, e.g. cs1 */
    const char *field; /* record field */
    const char *label; /* cs1Label value */
};

static const struct cef_slot omega_slots[] = {
    {"cs1", "decision.scenario", "scenario"}, {"cs2", "decision.policy_matches", "policyMatches"},
    {"cs3", "decision.audit_id", "auditId"},  {"cs4", "finding.category", "findingCategory"},
    {"cs5", "finding.agent_id", "agentId"},   {"cfp1", "decision.risk_score", "riskScore"},
    {"cn1", "finding.steps", "findingSteps"}, {NULL, NULL, NULL}};

static const struct cef_slot sentinelayer_slots[] = {{"cs1", "repo", "repo"},
                                                     {"cs2", "branch", "branch"},
                                                     {"cs3", "commit_sha", "commitSha"},
                                                     {"cs4", "error_message", "errorMessage"},
                                                     {"cs5", "artifact_links.findings", "findingsUrl"},
                                                     {"cn1", "pr_number", "prNumber"},
                                                     {"cn2", "total_findings", "totalFindings"},
                                                     {"cn3", "error_code", "errorCode"},
                                                     {NULL, NULL, NULL}};

static void cef_ext(struct hf_buf *b, const char *key, const struct hf_value *v)
{
    hf_buf_printf(b, " %s=", key);
    put_value(b, v, esc_cef_ext, false);
}

static void cef_ext_str(struct hf_buf *b, const char *key, const char *s)
{
    if (!s)
        return;
    struct hf_value v = {.type = HF_V_STRING, .s = s, .len = strlen(s)};
    cef_ext(b, key, &v);
}

static void cef_labelled(struct hf_buf *b, const char *key, const char *label, const struct hf_value *v)
{
    char lk[32];
    snprintf(lk, sizeof(lk), "%sLabel", key);
    cef_ext_str(b, lk, label);
    cef_ext(b, key, v);
}

/* Custom strings: the vendor's table, or the first five data fields of an
 * unknown source; cs6 is always the idempotency key. */
static void cef_custom(struct hf_buf *b, const struct hf_record *r, const char *vendor)
{
    const struct cef_slot *slots = !strcmp(vendor, "OmegaEngine")    ? omega_slots
                                   : !strcmp(vendor, "Sentinelayer") ? sentinelayer_slots
                                                                     : NULL;
    if (slots) {
        for (const struct cef_slot *s = slots; s->key; s++) {
            const struct hf_value *v = field(r, s->field);
            if (v)
                cef_labelled(b, s->key, s->label, v);
        }
    } else {
        int n = 0;
        for (size_t i = 0; i < r->nfields && n < 5; i++) {
            if (r->fields[i].v.type == HF_V_NULL)
                continue;
            char key[16];
            snprintf(key, sizeof(key), "cs%d", ++n);
            cef_labelled(b, key, r->fields[i].key, &r->fields[i].v);
        }
    }
    if (r->idempotency_key) {
        struct hf_value v = {.type = HF_V_STRING, .s = r->idempotency_key, .len = strlen(r->idempotency_key)};
        cef_labelled(b, "cs6", "idempotencyKey", &v);
    }
}

/* "decision.escalated" -> "Decision escalated" */
static void cef_name(struct hf_buf *b, const char *event_type)
{
    size_t at = b->len;
    put_str(b, event_type, esc_cef_header, false);
    for (size_t i = at; i < b->len; i++)
        if (b->data[i] == '.' || b->data[i] == '_')
            b->data[i] = ' ';
    if (b->len > at && b->data[at] >= 'a' && b->data[at] <= 'z')
        b->data[at] = (char)(b->data[at] - 'a' + 'A');
}

static void put_cef(struct hf_buf *b, const struct hf_syslog_fmt *f, const struct hf_record *r)
{
    const char *vendor, *product;
    hf_syslog_vendor(r->source, &vendor, &product);
    hf_buf_puts(b, "CEF:0|");
    put_str(b, vendor, esc_cef_header, false);
    hf_buf_putc(b, '|');
    put_str(b, product, esc_cef_header, false);
    hf_buf_putc(b, '|');
    put_str(b, f->version, esc_cef_header, false);
    hf_buf_putc(b, '|');
    put_str(b, r->event_type, esc_cef_header, false);
    hf_buf_putc(b, '|');
    cef_name(b, r->event_type);
    hf_buf_printf(b, "|%d|rt=%lld", hf_syslog_cef_severity(r->severity), (long long)r->event_ms);
    cef_ext_str(b, "cat", r->event_type);
    const struct hf_value *act = action_field(r);
    if (act)
        cef_ext(b, "act", act);
    cef_ext_str(b, "externalId", r->event_id);
    hf_buf_puts(b, " msg=");
    put_summary(b, r, esc_cef_ext, false);
    cef_custom(b, r, vendor);
    if (f->hostname && strcmp(f->hostname, "-"))
        cef_ext_str(b, "dvchost", f->hostname);
}

/* ---- LEEF 2.0 ------------------------------------------------------- */

static void leef_attr(struct hf_buf *b, const char *key, const struct hf_value *v)
{
    hf_buf_putc(b, LEEF_DELIM);
    /* keys: no '=', no delimiter, no blanks, never empty (a JSON member
     * named "" would otherwise give an attribute with no key) */
    if (!*key)
        hf_buf_putc(b, '_');
    for (const char *p = key; *p; p++)
        hf_buf_putc(b, *p == '=' || *p == LEEF_DELIM || (unsigned char)*p <= ' ' ? '_' : *p);
    hf_buf_putc(b, '=');
    put_value(b, v, esc_leef_value, true);
}

static void leef_attr_str(struct hf_buf *b, const char *key, const char *s)
{
    if (!s)
        return;
    struct hf_value v = {.type = HF_V_STRING, .s = s, .len = strlen(s)};
    leef_attr(b, key, &v);
}

static void put_leef(struct hf_buf *b, const struct hf_syslog_fmt *f, const struct hf_record *r)
{
    const char *vendor, *product;
    char ts[40];
    hf_syslog_vendor(r->source, &vendor, &product);
    hf_buf_puts(b, "LEEF:2.0|");
    esc_leef(b, vendor, strlen(vendor), true);
    hf_buf_putc(b, '|');
    esc_leef(b, product, strlen(product), true);
    hf_buf_putc(b, '|');
    esc_leef(b, f->version, strlen(f->version), true);
    hf_buf_putc(b, '|');
    /* EventID is at most 255 characters */
    esc_leef(b, r->event_type, hf_syslog_utf8_cut(r->event_type, strlen(r->event_type), 255), true);
    hf_buf_printf(b, "|%c|", LEEF_DELIM);
    hf_format_iso_ms(r->event_ms, ts, sizeof(ts));
    hf_buf_printf(b, "devTime=%s%cdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX", ts, LEEF_DELIM);
    hf_buf_printf(b, "%csev=%d", LEEF_DELIM, hf_syslog_cef_severity(r->severity));
    leef_attr_str(b, "cat", r->event_type);
    leef_attr_str(b, "source", r->source);
    leef_attr_str(b, "eventId", r->event_id);
    leef_attr_str(b, "idempotencyKey", r->idempotency_key);
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].v.type != HF_V_NULL)
            leef_attr(b, r->fields[i].key, &r->fields[i].v);
}

static void encode_siem(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max_len, struct hf_buf *b,
                        bool *truncated)
{
    size_t start = b->len;
    if (f->header == HF_SYSLOG_HDR_RFC5424) {
        put_5424_header(b, f, pri(f, r->severity), r->event_ms, r->event_type);
        hf_buf_puts(b, "- ");
    } else if (f->header == HF_SYSLOG_HDR_RFC3164) {
        put_3164_header(b, f, pri(f, r->severity), r->event_ms);
    }
    size_t body = b->len;
    if (f->format == HF_SYSLOG_CEF)
        put_cef(b, f, r);
    else
        put_leef(b, f, r);
    if (max_len && b->len - start > max_len) {
        *truncated = true;
        cut_tail(b, start, body < start + max_len ? body : start, max_len, f->format == HF_SYSLOG_CEF);
    }
}

int hf_syslog_encode(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max_len, struct hf_buf *out,
                     bool *truncated)
{
    bool cut = false;
    switch (f->format) {
    case HF_SYSLOG_RFC5424: encode_5424(f, r, max_len, out, &cut); break;
    case HF_SYSLOG_RFC3164: encode_3164(f, r, max_len, out, &cut); break;
    case HF_SYSLOG_CEF:
    case HF_SYSLOG_LEEF: encode_siem(f, r, max_len, out, &cut); break;
    }
    if (truncated)
        *truncated = cut;
    return out->overflow ? -1 : 0;
}

int hf_syslog_encode_point(const struct hf_syslog_fmt *f, const struct hf_record *r, const struct hf_point *pt,
                           size_t max_len, struct hf_buf *out, bool *truncated)
{
    size_t start = out->len;
    int prival = f->facility * 8 + 6;
    if (f->format == HF_SYSLOG_RFC3164)
        put_3164_header(out, f, prival, r->received_ms);
    else {
        put_5424_header(out, f, prival, r->received_ms, "metric");
        hf_buf_puts(out, "- ");
    }
    hf_point_json(out, r, pt);
    bool cut = max_len && out->len - start > max_len;
    if (cut)
        cut_tail(out, start, start, max_len, false);
    if (truncated)
        *truncated = cut;
    return out->overflow ? -1 : 0;
}
