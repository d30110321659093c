/* SPDX-License-Identifier: Apache-2.0 */
/* Slack messages: a Block Kit layout per sender (OmegaEngine decisions,
 * Sentinelayer scans, the first fields of anything else) with a plain
 * notification text, every text within Slack's limits (cut with a marker,
 * never refused), every value from a record mrkdwn-escaped so a field
 * cannot mention <!channel> or forge a link. Pure functions. */
#define _GNU_SOURCE
#include "slack.h"
#include "alert_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKER "\xe2\x80\xa6" /* "…", one character */
/* A value is escaped into at most this many bytes before it is cut to a
 * limit: 3000 characters of 4-byte UTF-8 or 5-byte "&amp;" fit. */
#define VALUE_BYTES_MAX 16384

struct enc {
    struct hf_buf *out;
    size_t budget; /* characters of block text still allowed */
    int nblocks;
    int cuts;
    struct hf_buf blk; /* the block being built */
    struct hf_buf txt; /* the text being built */
};

/* ---- texts ---- */

static bool present(const struct hf_value *v)
{
    if (!v || v->type == HF_V_NULL)
        return false;
    if (v->type == HF_V_ARRAY)
        return v->nitems > 0;
    if (v->type == HF_V_STRING)
        return v->len > 0;
    return true;
}

static void lit(struct hf_buf *t, const char *s) { hf_buf_puts(t, s); }

/* Appends s escaped for mrkdwn (and as-is plain_text, which Slack reads
 * with the same three escapes). */
static void esc(struct hf_buf *t, const char *s, size_t n)
{
    if (hf_buf_reserve(t, 64) < 0)
        return;
    size_t room = t->cap - t->len;
    size_t need = hf_escape_text(s, n, HF_ESC_MRKDWN, t->data + t->len, room);
    if (need >= room) {
        size_t want = need < VALUE_BYTES_MAX ? need : VALUE_BYTES_MAX;
        if (hf_buf_reserve(t, want) < 0)
            return;
        room = want + 1;
        need = hf_escape_text(s, n, HF_ESC_MRKDWN, t->data + t->len, room);
        if (need >= room) {
            t->len += strlen(t->data + t->len);
            return;
        }
    }
    t->len += need;
}

static void esc_str(struct hf_buf *t, const char *s) { esc(t, s ? s : "", s ? strlen(s) : 0); }

static void esc_value(struct hf_buf *t, const struct hf_value *v)
{
    switch (v->type) {
    case HF_V_BOOL: lit(t, v->b ? "true" : "false"); break;
    case HF_V_INT:
    case HF_V_DOUBLE:
    case HF_V_STRING: esc(t, v->s ? v->s : "", v->s ? v->len : 0); break;
    case HF_V_ARRAY:
        for (size_t i = 0; i < v->nitems && t->len < VALUE_BYTES_MAX; i++) {
            if (i)
                lit(t, ", ");
            esc_value(t, &v->items[i]);
        }
        break;
    case HF_V_NULL: break;
    }
}

/* <URL|label>: the URL with & < > escaped and '|' percent-encoded (it
 * would end the URL), no blanks; the label escaped. */
static void link(struct hf_buf *t, const char *url, size_t n, const char *label)
{
    lit(t, "<");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c == '|')
            lit(t, "%7C");
        else if (c <= 0x20 || c == 0x7f)
            hf_buf_printf(t, "%%%02X", c);
        else
            esc(t, url + i, 1);
    }
    lit(t, "|");
    esc_str(t, label);
    lit(t, ">");
}

/* Where to cut s to at most max_chars characters: between characters,
 * never inside an escape (&amp;) nor inside markup (<...>). */
static size_t mrkdwn_cut(const char *s, size_t n, size_t max_chars)
{
    size_t cut = hf_utf8_prefix(s, n, max_chars);
    for (size_t k = 1; k <= 4 && k <= cut; k++) {
        if (s[cut - k] == ';')
            break;
        if (s[cut - k] == '&') {
            cut -= k;
            break;
        }
    }
    /* escaped values hold no '<': any here is a link or markup of ours or
     * of the template's, and half of one must not go */
    const char *lt = memrchr(s, '<', cut), *gt = memrchr(s, '>', cut);
    if (lt && (!gt || gt < lt))
        cut = (size_t)(lt - s);
    return cut;
}

/* Writes the text in e->txt as a JSON string into b, cut to limit
 * characters (and to what is left of the message's budget when counted).
 * False, with nothing written, when the text is blank or there is no
 * room. */
static bool put_string(struct enc *e, struct hf_buf *b, size_t limit, bool counted)
{
    const char *s = e->txt.data ? e->txt.data : "";
    size_t n = e->txt.len;
    if (counted && limit > e->budget)
        limit = e->budget;
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
        blank = s[i] == ' ' || s[i] == '\n' || s[i] == '\t';
    if (blank || limit < 2)
        return false;
    size_t chars = hf_utf8_chars(s, n);
    if (chars <= limit) {
        hf_buf_json_str(b, s, n);
    } else {
        size_t keep = mrkdwn_cut(s, n, limit - 1);
        chars = hf_utf8_chars(s, keep) + 1;
        /* the marker replaces what was cut, in place */
        e->txt.len = keep;
        hf_buf_puts(&e->txt, MARKER);
        hf_buf_json_str(b, e->txt.data, e->txt.len);
        e->cuts++;
    }
    if (counted)
        e->budget -= chars;
    return true;
}

/* {"type":TYPE,"text":"..."}, as put_string. */
static bool text_obj(struct enc *e, struct hf_buf *b, const char *type, size_t limit, bool counted)
{
    size_t at = b->len;
    hf_buf_puts(b, "{\"type\":\"");
    hf_buf_puts(b, type);
    hf_buf_puts(b, "\",\"text\":");
    if (!put_string(e, b, limit, counted)) {
        b->len = at;
        if (b->data)
            b->data[at] = '\0';
        return false;
    }
    hf_buf_putc(b, '}');
    return true;
}

/* ---- blocks ---- */

static bool room_for_block(const struct enc *e)
{
    /* the last slot is kept for the note that something was left out */
    return e->nblocks < HF_SLACK_MAX_BLOCKS - 1 && e->budget > 16;
}

static void block_start(struct enc *e)
{
    hf_buf_reset(&e->blk);
    hf_buf_puts(&e->blk, "");
}

static void block_add(struct enc *e)
{
    if (e->nblocks)
        hf_buf_putc(e->out, ',');
    hf_buf_append(e->out, e->blk.data, e->blk.len);
    e->nblocks++;
}

static void txt_start(struct enc *e)
{
    hf_buf_reset(&e->txt);
    hf_buf_puts(&e->txt, "");
}

/* A header block from e->txt. */
static void header(struct enc *e)
{
    if (!room_for_block(e))
        return;
    block_start(e);
    hf_buf_puts(&e->blk, "{\"type\":\"header\",\"text\":");
    if (!text_obj(e, &e->blk, "plain_text", HF_SLACK_MAX_HEADER, true))
        return;
    hf_buf_putc(&e->blk, '}');
    block_add(e);
}

/* A section with e->txt as its text. */
static void section(struct enc *e)
{
    if (!room_for_block(e))
        return;
    block_start(e);
    hf_buf_puts(&e->blk, "{\"type\":\"section\",\"text\":");
    if (!text_obj(e, &e->blk, "mrkdwn", HF_SLACK_MAX_SECTION, true))
        return;
    hf_buf_putc(&e->blk, '}');
    block_add(e);
}

static void context(struct enc *e)
{
    if (!room_for_block(e))
        return;
    block_start(e);
    hf_buf_puts(&e->blk, "{\"type\":\"context\",\"elements\":[");
    if (!text_obj(e, &e->blk, "mrkdwn", HF_SLACK_MAX_SECTION, true))
        return;
    hf_buf_puts(&e->blk, "]}");
    block_add(e);
}

/* Fields are gathered into one section of up to ten. */
struct fields {
    struct hf_buf b;
    int n;
};

static void fields_start(struct fields *f)
{
    hf_buf_init(&f->b, 0);
    hf_buf_puts(&f->b, "");
    f->n = 0;
}

static void fields_flush(struct enc *e, struct fields *f)
{
    if (f->n && room_for_block(e)) {
        block_start(e);
        hf_buf_puts(&e->blk, "{\"type\":\"section\",\"fields\":[");
        hf_buf_append(&e->blk, f->b.data, f->b.len);
        hf_buf_puts(&e->blk, "]}");
        block_add(e);
    }
    hf_buf_reset(&f->b);
    hf_buf_puts(&f->b, "");
    f->n = 0;
}

/* One field "*label*\n" + what the caller put in e->txt after it. */
static void field_add(struct enc *e, struct fields *f)
{
    if (f->n == HF_SLACK_MAX_FIELDS)
        fields_flush(e, f);
    size_t at = f->b.len;
    if (f->n)
        hf_buf_putc(&f->b, ',');
    if (!text_obj(e, &f->b, "mrkdwn", HF_SLACK_MAX_FIELD, true)) {
        f->b.len = at;
        f->b.data[at] = '\0';
        return;
    }
    f->n++;
}

static void field_value(struct enc *e, struct fields *f, const char *label, const struct hf_record *r, const char *key,
                        const char *prefix, bool code)
{
    const struct hf_value *v = hf_alert_field(r, key);
    if (!present(v))
        return;
    txt_start(e);
    lit(&e->txt, "*");
    lit(&e->txt, label);
    lit(&e->txt, "*\n");
    if (prefix)
        lit(&e->txt, prefix);
    if (code)
        lit(&e->txt, "`");
    esc_value(&e->txt, v);
    if (code)
        lit(&e->txt, "`");
    field_add(e, f);
}

/* "omega · decision.blocked · high · 2026-01-14T12:01:07Z · dec_b7720f" */
static void meta_context(struct enc *e, const struct hf_record *r)
{
    txt_start(e);
    esc_str(&e->txt, r->source);
    lit(&e->txt, " \xc2\xb7 ");
    esc_str(&e->txt, r->event_type);
    lit(&e->txt, " \xc2\xb7 ");
    lit(&e->txt, hf_severity_name(r->severity));
    if (r->timestamp) {
        lit(&e->txt, " \xc2\xb7 ");
        esc_str(&e->txt, r->timestamp);
    }
    if (r->event_id) {
        lit(&e->txt, " \xc2\xb7 `");
        esc_str(&e->txt, r->event_id);
        lit(&e->txt, "`");
    }
    context(e);
}

/* ---- layouts ---- */

static void layout_omega(struct enc *e, const struct hf_record *r)
{
    txt_start(e);
    esc_str(&e->txt, r->event_type);
    const struct hf_value *o = hf_alert_field(r, "decision.outcome"), *rs = hf_alert_field(r, "decision.risk_score");
    if (present(o)) {
        lit(&e->txt, ": ");
        esc_value(&e->txt, o);
    }
    if (present(rs)) {
        lit(&e->txt, " (risk ");
        esc_value(&e->txt, rs);
        lit(&e->txt, ")");
    }
    header(e);
    const struct hf_value *sc = hf_alert_field(r, "decision.scenario");
    if (present(sc)) {
        txt_start(e);
        lit(&e->txt, "*Scenario*\n");
        esc_value(&e->txt, sc);
        section(e);
    }
    struct fields f;
    fields_start(&f);
    field_value(e, &f, "Outcome", r, "decision.outcome", NULL, false);
    field_value(e, &f, "Risk score", r, "decision.risk_score", NULL, false);
    field_value(e, &f, "Matched policies", r, "decision.policy_matches", NULL, false);
    field_value(e, &f, "Decision", r, "decision.id", NULL, true);
    field_value(e, &f, "Audit", r, "decision.audit_id", NULL, true);
    txt_start(e);
    lit(&e->txt, "*Severity*\n");
    lit(&e->txt, hf_severity_name(r->severity));
    field_add(e, &f);
    fields_flush(e, &f);
    hf_buf_free(&f.b);
    meta_context(e, r);
}

static bool has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static void layout_sentinelayer(struct enc *e, const struct hf_record *r)
{
    txt_start(e);
    esc_str(&e->txt, r->event_type);
    const struct hf_value *repo = hf_alert_field(r, "repo"), *branch = hf_alert_field(r, "branch");
    if (present(repo)) {
        lit(&e->txt, ": ");
        esc_value(&e->txt, repo);
    }
    if (present(branch)) {
        lit(&e->txt, " (");
        esc_value(&e->txt, branch);
        lit(&e->txt, ")");
    }
    header(e);
    const struct hf_value *em = hf_alert_field(r, "error_message"), *ec = hf_alert_field(r, "error_code");
    if (present(em) || present(ec)) {
        txt_start(e);
        lit(&e->txt, "*Error*");
        if (present(ec)) {
            lit(&e->txt, " `");
            esc_value(&e->txt, ec);
            lit(&e->txt, "`");
        }
        lit(&e->txt, "\n");
        if (present(em))
            esc_value(&e->txt, em);
        section(e);
    }
    struct fields f;
    fields_start(&f);
    field_value(e, &f, "Repository", r, "repo", NULL, false);
    field_value(e, &f, "Branch", r, "branch", NULL, false);
    field_value(e, &f, "Pull request", r, "pr_number", "#", false);
    field_value(e, &f, "Gate status", r, "gate_status", NULL, false);
    /* "11 (P0 0, P1 2, P2 3, P3 5, info 1)" */
    const struct hf_value *tf = hf_alert_field(r, "total_findings");
    bool any_sev = false;
    txt_start(e);
    lit(&e->txt, "*Findings*\n");
    if (present(tf))
        esc_value(&e->txt, tf);
    for (size_t i = 0; i < r->nfields; i++) {
        const struct hf_field *fl = &r->fields[i];
        if (!has_prefix(fl->key, "severity_counts.") || !present(&fl->v))
            continue;
        lit(&e->txt, any_sev ? ", " : (present(tf) ? " (" : "("));
        esc_str(&e->txt, fl->key + strlen("severity_counts."));
        lit(&e->txt, " ");
        esc_value(&e->txt, &fl->v);
        any_sev = true;
    }
    if (any_sev)
        lit(&e->txt, ")");
    if (present(tf) || any_sev)
        field_add(e, &f);
    field_value(e, &f, "Commit", r, "commit_sha", NULL, true);
    field_value(e, &f, "Run", r, "run_id", NULL, true);
    field_value(e, &f, "Estimated cost (USD)", r, "estimated_cost_usd", NULL, false);
    fields_flush(e, &f);
    hf_buf_free(&f.b);
    /* artifact links, each whole or not at all */
    txt_start(e);
    lit(&e->txt, "*Artifacts*");
    size_t nlinks = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct hf_field *fl = &r->fields[i];
        if (!has_prefix(fl->key, "artifact_links.") || !hf_alert_is_url(&fl->v))
            continue;
        size_t at = e->txt.len;
        lit(&e->txt, nlinks ? " \xc2\xb7 " : "\n");
        link(&e->txt, fl->v.s, fl->v.len, fl->key + strlen("artifact_links."));
        if (hf_utf8_chars(e->txt.data, e->txt.len) > HF_SLACK_MAX_SECTION) {
            e->txt.len = at;
            e->txt.data[at] = '\0';
            e->cuts++;
            break;
        }
        nlinks++;
    }
    if (nlinks)
        section(e);
    meta_context(e, r);
}

static void layout_generic(struct enc *e, const struct hf_record *r)
{
    txt_start(e);
    esc_str(&e->txt, r->event_type);
    lit(&e->txt, " from ");
    esc_str(&e->txt, r->source);
    header(e);
    struct fields f;
    fields_start(&f);
    size_t shown = 0, more = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct hf_field *fl = &r->fields[i];
        if (!present(&fl->v))
            continue;
        if (shown == HF_SLACK_MAX_FIELDS) {
            more++;
            continue;
        }
        txt_start(e);
        lit(&e->txt, "*");
        esc_str(&e->txt, fl->key);
        lit(&e->txt, "*\n");
        if (hf_alert_is_url(&fl->v))
            link(&e->txt, fl->v.s, fl->v.len, fl->v.len > 80 ? "link" : fl->v.s);
        else
            esc_value(&e->txt, &fl->v);
        field_add(e, &f);
        shown++;
    }
    fields_flush(e, &f);
    hf_buf_free(&f.b);
    if (more) {
        txt_start(e);
        hf_buf_printf(&e->txt, "%zu more field%s not shown", more, more == 1 ? "" : "s");
        context(e);
    }
    meta_context(e, r);
}

static void record_blocks(struct enc *e, const struct hf_record *r)
{
    switch (hf_alert_layout_of(r)) {
    case HF_ALERT_OMEGA: layout_omega(e, r); break;
    case HF_ALERT_SENTINELAYER: layout_sentinelayer(e, r); break;
    default: layout_generic(e, r); break;
    }
}

/* ---- messages ---- */

static const struct hf_template *text_for(const struct hf_record *r, const struct hf_template *text)
{
    return text ? text : hf_alert_default_text(r);
}

static void enc_init(struct enc *e, struct hf_buf *out)
{
    memset(e, 0, sizeof(*e));
    e->out = out;
    e->budget = HF_SLACK_MAX_BLOCKS_TEXT;
    hf_buf_init(&e->blk, 0);
    hf_buf_init(&e->txt, 0);
}

static void enc_free(struct enc *e)
{
    hf_buf_free(&e->blk);
    hf_buf_free(&e->txt);
}

/* {"text":"...", the notification; never blank (Slack refuses that). */
static void put_text(struct enc *e, const char *prefix, const struct hf_template *t, const struct hf_record *r)
{
    txt_start(e);
    if (prefix)
        lit(&e->txt, prefix);
    if (t && r)
        hf_template_append(t, r, HF_ESC_MRKDWN, &e->txt);
    hf_buf_puts(e->out, "{\"text\":");
    if (put_string(e, e->out, HF_SLACK_MAX_TEXT, false))
        return;
    /* the template came out blank for this record */
    txt_start(e);
    lit(&e->txt, "hookfwd: ");
    esc_str(&e->txt, r ? r->event_type : "event");
    put_string(e, e->out, HF_SLACK_MAX_TEXT, false);
}

static int finish(struct enc *e, bool with_blocks, size_t blocks_at)
{
    if (with_blocks) {
        if (e->cuts && e->nblocks < HF_SLACK_MAX_BLOCKS) {
            block_start(e);
            hf_buf_puts(&e->blk, "{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":\"" MARKER
                                 " shortened to fit Slack's limits\"}]}");
            block_add(e);
        }
        if (e->nblocks == 0)
            e->out->len = blocks_at; /* no "blocks" at all rather than an empty list */
        else
            hf_buf_putc(e->out, ']');
    }
    hf_buf_puts(e->out, ",\"unfurl_links\":false,\"unfurl_media\":false}");
    int cuts = e->cuts;
    enc_free(e);
    return e->out->overflow ? -1 : cuts;
}

int hf_slack_encode_record(const struct hf_record *r, const struct hf_template *text, bool with_blocks,
                           struct hf_buf *out)
{
    struct enc e;
    enc_init(&e, out);
    put_text(&e, NULL, text_for(r, text), r);
    size_t blocks_at = out->len;
    if (with_blocks) {
        hf_buf_puts(out, ",\"blocks\":[");
        record_blocks(&e, r);
    }
    return finish(&e, with_blocks, blocks_at);
}

/* "17 more scan.blocked, 3 more scan.failed in the last minute" */
static void summary_line(struct hf_buf *t, const struct hf_slack_summary *sm, bool bold)
{
    for (size_t i = 0; i < sm->ntypes; i++) {
        if (i)
            lit(t, ", ");
        if (bold)
            lit(t, "*");
        hf_buf_printf(t, "%zu more ", sm->types[i].count);
        esc_str(t, sm->types[i].name);
        if (bold)
            lit(t, "*");
    }
    if (sm->other)
        hf_buf_printf(t, "%s%zu more of other types", sm->ntypes ? ", " : "", sm->other);
    lit(t, " in the last minute");
}

int hf_slack_encode_summary(const struct hf_slack_summary *sm, const struct hf_template *text, bool with_blocks,
                            int64_t max_per_minute, struct hf_buf *out)
{
    struct enc e;
    enc_init(&e, out);
    struct hf_buf line;
    hf_buf_init(&line, 0);
    hf_buf_puts(&line, "");
    summary_line(&line, sm, false);
    hf_buf_puts(&line, sm->newest ? ", newest: " : "");
    put_text(&e, line.data, sm->newest ? text_for(sm->newest, text) : NULL, sm->newest);
    hf_buf_free(&line);
    size_t blocks_at = out->len;
    if (with_blocks) {
        hf_buf_puts(out, ",\"blocks\":[");
        txt_start(&e);
        summary_line(&e.txt, sm, true);
        hf_buf_printf(&e.txt, " (more than %lld messages a minute are summed up)", (long long)max_per_minute);
        section(&e);
        if (sm->newest) {
            txt_start(&e);
            lit(&e.txt, "Newest:");
            context(&e);
            record_blocks(&e, sm->newest);
        }
    }
    return finish(&e, with_blocks, blocks_at);
}
