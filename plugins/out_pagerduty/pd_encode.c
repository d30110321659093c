/* SPDX-License-Identifier: Apache-2.0 */
/* PagerDuty Events API v2 events from records, and PagerDuty's answers
 * read back. Pure functions. */
#define _GNU_SOURCE
#include "pagerduty.h"
#include "alert_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKER "\xe2\x80\xa6" /* "…", one character */

static const char *const pd_sev_names[] = {"critical", "error", "warning", "info"};

enum hf_pd_action hf_pd_action_of(const struct hf_pd_conf *conf, const struct hf_record *r)
{
    return conf->resolve && hf_filter_match(conf->resolve, r) ? HF_PD_RESOLVE : HF_PD_TRIGGER;
}

/* Expands t for r into buf (cap bytes) cut to max_chars characters, a
 * marker in place of what was cut. Returns the length; *cut set when cut. */
static size_t expand_cut(const struct hf_template *t, const struct hf_record *r, char *buf, size_t cap,
                         size_t max_chars, bool *cut)
{
    size_t need = hf_template_expand(t, r, HF_ESC_NONE, buf, cap);
    size_t len = strlen(buf); /* a NUL inside a value ends the text here */
    if (need < cap && hf_utf8_chars(buf, len) <= max_chars)
        return len;
    size_t keep = hf_utf8_prefix(buf, len, max_chars - 1);
    if (keep + sizeof(MARKER) > cap)
        keep = hf_utf8_prefix(buf, cap - sizeof(MARKER), max_chars - 1);
    memcpy(buf + keep, MARKER, sizeof(MARKER));
    *cut = true;
    return keep + sizeof(MARKER) - 1;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

static void put_key(struct hf_buf *b, bool *first, const char *key)
{
    if (!*first)
        hf_buf_putc(b, ',');
    *first = false;
    hf_buf_json_str(b, key, strlen(key));
    hf_buf_putc(b, ':');
}

static void put_value(struct hf_buf *b, const struct hf_value *v)
{
    switch (v->type) {
    case HF_V_NULL: hf_buf_puts(b, "null"); break;
    case HF_V_BOOL: hf_buf_puts(b, v->b ? "true" : "false"); break;
    case HF_V_INT:
    case HF_V_DOUBLE: hf_buf_append(b, v->s, v->len); break; /* the number's text as received */
    case HF_V_STRING: hf_buf_json_str(b, v->s ? v->s : "", v->s ? v->len : 0); break;
    case HF_V_ARRAY:
        hf_buf_putc(b, '[');
        for (size_t i = 0; i < v->nitems; i++) {
            if (i)
                hf_buf_putc(b, ',');
            put_value(b, &v->items[i]);
        }
        hf_buf_putc(b, ']');
        break;
    }
}

/* A template's expansion as a payload member; left out when unset or
 * blank. */
static void put_tmpl(struct hf_buf *b, bool *first, const char *key, const struct hf_template *t,
                     const struct hf_record *r, bool *cut)
{
    if (!t)
        return;
    char buf[HF_PD_MAX_SUMMARY * 4 + 8];
    size_t n = expand_cut(t, r, buf, sizeof(buf), HF_PD_MAX_SUMMARY, cut);
    if (blank(buf, n))
        return;
    put_key(b, first, key);
    hf_buf_json_str(b, buf, n);
}

/* The dedup key: at most 255 characters. A longer one keeps its start and
 * ends with a hash of the whole, so the same record always gives the same
 * key (a resolve must find its trigger). Returns the length, 0 for none. */
static size_t dedup_key(const struct hf_template *t, const struct hf_record *r, char *buf, size_t cap, bool *cut)
{
    size_t need = hf_template_expand(t, r, HF_ESC_NONE, buf, cap);
    size_t len = strlen(buf);
    if (need < cap && hf_utf8_chars(buf, len) <= HF_PD_MAX_DEDUP_KEY)
        return blank(buf, len) ? 0 : len;
    uint64_t h = hf_hash64(buf, len);
    size_t keep = hf_utf8_prefix(buf, len, HF_PD_MAX_DEDUP_KEY - 17);
    snprintf(buf + keep, cap - keep, "~%016llx", (unsigned long long)h);
    *cut = true;
    return keep + 17;
}

static void custom_details(struct hf_buf *b, const struct hf_record *r)
{
    bool first = true;
    hf_buf_putc(b, '{');
    for (size_t i = 0; i < r->nfields; i++) {
        put_key(b, &first, r->fields[i].key);
        put_value(b, &r->fields[i].v);
    }
    hf_buf_putc(b, '}');
}

/* Links from the fields that are URLs (Sentinelayer's artifact links):
 * text is the key without its "artifact_links." prefix. */
static void links(struct hf_buf *b, const struct hf_record *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfields && n < HF_PD_MAX_LINKS; i++) {
        const struct hf_field *f = &r->fields[i];
        if (!hf_alert_is_url(&f->v))
            continue;
        hf_buf_puts(b, n ? "," : ",\"links\":[");
        hf_buf_puts(b, "{\"href\":");
        hf_buf_json_str(b, f->v.s, f->v.len);
        const char *text = f->key;
        if (!strncmp(text, "artifact_links.", 15))
            text += 15;
        hf_buf_puts(b, ",\"text\":");
        hf_buf_json_str(b, text, strlen(text));
        hf_buf_putc(b, '}');
        n++;
    }
    if (n)
        hf_buf_putc(b, ']');
}

int hf_pd_encode(const struct hf_pd_conf *conf, const struct hf_record *r, struct hf_buf *out, char *why, size_t whylen)
{
    bool cut = false;
    enum hf_pd_action act = hf_pd_action_of(conf, r);
    char key[HF_PD_MAX_DEDUP_KEY * 4 + 32];
    const struct hf_template *kt =
        act == HF_PD_RESOLVE && conf->resolve_dedup_key ? conf->resolve_dedup_key : conf->dedup_key;
    size_t klen = kt ? dedup_key(kt, r, key, sizeof(key), &cut) : 0;
    if (act == HF_PD_RESOLVE && klen == 0) {
        snprintf(why, whylen, "the resolve dedup_key '%s' is empty for this event: nothing to resolve",
                 hf_template_source(kt));
        return -1;
    }
    size_t start = out->len;
    hf_buf_puts(out, "{\"routing_key\":");
    hf_buf_json_str(out, conf->routing_key, strlen(conf->routing_key));
    hf_buf_puts(out, act == HF_PD_RESOLVE ? ",\"event_action\":\"resolve\"" : ",\"event_action\":\"trigger\"");
    if (klen) {
        hf_buf_puts(out, ",\"dedup_key\":");
        hf_buf_json_str(out, key, klen);
    }
    if (act == HF_PD_RESOLVE) {
        hf_buf_puts(out, ",\"client\":\"hookfwd\"}");
        return out->overflow ? -1 : 0;
    }
    hf_buf_puts(out, ",\"payload\":{");
    bool first = true;
    const struct hf_template *st = conf->summary ? conf->summary : hf_alert_default_text(r);
    char buf[HF_PD_MAX_SUMMARY * 4 + 8];
    size_t n = expand_cut(st, r, buf, sizeof(buf), HF_PD_MAX_SUMMARY, &cut);
    if (blank(buf, n))
        n = (size_t)snprintf(buf, sizeof(buf), "%s from %s", r->event_type, r->source);
    put_key(out, &first, "summary");
    hf_buf_json_str(out, buf, n);
    /* the source: the configured template, else the repository a scan is
     * about, else the webhook source the event came in on */
    n = 0;
    if (conf->source)
        n = expand_cut(conf->source, r, buf, sizeof(buf), HF_PD_MAX_SUMMARY, &cut);
    const struct hf_value *repo = hf_alert_field(r, "repo");
    if (blank(buf, n) && hf_alert_layout_of(r) == HF_ALERT_SENTINELAYER && repo && repo->type == HF_V_STRING &&
        repo->len && repo->len < 1000)
        n = (size_t)snprintf(buf, sizeof(buf), "%.*s", (int)repo->len, repo->s);
    if (blank(buf, n))
        n = (size_t)snprintf(buf, sizeof(buf), "%s", r->source);
    put_key(out, &first, "source");
    hf_buf_json_str(out, buf, n);
    put_key(out, &first, "severity");
    int ps = conf->severity_map[r->severity < HF_SEV__COUNT ? r->severity : HF_SEV_INFO];
    hf_buf_json_str(out, pd_sev_names[ps & 3], strlen(pd_sev_names[ps & 3]));
    char ts[40];
    hf_format_iso_ms(r->event_ms, ts, sizeof(ts));
    put_key(out, &first, "timestamp");
    hf_buf_json_str(out, ts, strlen(ts));
    put_tmpl(out, &first, "component", conf->component, r, &cut);
    put_tmpl(out, &first, "group", conf->group, r, &cut);
    put_tmpl(out, &first, "class", conf->class_, r, &cut);
    put_key(out, &first, "custom_details");
    size_t cd = out->len;
    custom_details(out, r);
    /* past PagerDuty's 512 KB, the details give way to a note (the whole
     * record is still in the journal and every other sink) */
    if (out->len - start + 2048 > HF_PD_MAX_EVENT) {
        size_t big = out->len - cd;
        out->len = cd;
        out->overflow = false;
        hf_buf_printf(out, "{\"hookfwd\":\"custom_details left out: %zu bytes, past PagerDuty's 512 KB limit\"", big);
        if (r->idempotency_key) {
            hf_buf_puts(out, ",\"idempotency_key\":");
            hf_buf_json_str(out, r->idempotency_key, strlen(r->idempotency_key));
        }
        hf_buf_putc(out, '}');
        cut = true;
    }
    hf_buf_putc(out, '}');
    links(out, r);
    hf_buf_puts(out, ",\"client\":\"hookfwd\"}");
    if (out->overflow)
        return -1;
    return cut ? 1 : 0;
}

/* Appends the strings of the JSON array after "errors" in body to out,
 * separated by "; ". False when there is none. */
static bool errors_of(const char *body, size_t len, char *out, size_t outlen)
{
    const char *p = memmem(body, len, "\"errors\"", 8), *end = body + len;
    size_t o = 0;
    if (!p)
        return false;
    p += 8;
    while (p < end && (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    if (p >= end || *p != '[')
        return false;
    p++;
    int n = 0;
    while (p < end && *p != ']') {
        if (*p != '"') {
            p++;
            continue;
        }
        if (n++ && o + 2 < outlen) {
            out[o++] = ';';
            out[o++] = ' ';
        }
        for (p++; p < end && *p != '"'; p++) {
            char c = *p;
            if (c == '\\' && p + 1 < end) {
                c = *++p;
                if (c == 'u') { /* \uXXXX: kept as '?', a reason needs no exact code point */
                    p += p + 4 < end ? 4 : 0;
                    c = '?';
                } else if (c == 'n' || c == 't' || c == 'r') {
                    c = ' ';
                }
            }
            if (o + 1 < outlen && (unsigned char)c >= 0x20)
                out[o++] = c;
        }
        p++;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
    return n > 0;
}

enum hf_outcome hf_pd_classify(long status, const char *body, size_t body_len, char *reason, size_t reasonlen)
{
    char said[400] = "";
    if (status >= 200 && status < 300) {
        snprintf(reason, reasonlen, "%s", "");
        return HF_OUT_DELIVERED;
    }
    if (status == 0) {
        snprintf(reason, reasonlen, "no answer from PagerDuty: %s", body && *body ? body : "transport error");
        return HF_OUT_RETRY;
    }
    if (!body || !errors_of(body, body_len, said, sizeof(said))) {
        /* a message, or the first line of whatever came back */
        size_t o = 0;
        for (size_t i = 0; body && i < body_len && body[i] != '\n' && o + 1 < 200; i++)
            said[o++] = (unsigned char)body[i] >= 0x20 ? body[i] : ' ';
        said[o] = '\0';
    }
    snprintf(reason, reasonlen, "PagerDuty answered %ld%s%s", status, said[0] ? ": " : "", said);
    if (status == 408 || status == 429 || status >= 500)
        return HF_OUT_RETRY;
    /* 400 is PagerDuty's "Event object is invalid": the same event would
     * be refused again; other 4xx (a wrong URL, a refused key) need an
     * operator, then a replay */
    return HF_OUT_REJECTED;
}
