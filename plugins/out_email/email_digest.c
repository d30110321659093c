/* SPDX-License-Identifier: Apache-2.0 */
/* What the e-mail sink says: one event per message, or a digest (counts
 * by event type and severity, then the newest events with their key
 * fields) as multipart/alternative text and HTML. Bodies are
 * quoted-printable, so any UTF-8 a sender put in a field survives an
 * SMTP server without 8BITMIME. */
#define _GNU_SOURCE
#include "email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields a reader wants first, by profile: Sentinelayer scans, then
 * OmegaEngine decisions. A record with none of them shows its first ones. */
static const char *const key_names[] = {
    "repo",
    "branch",
    "pr_number",
    "gate_status",
    "total_findings",
    "error_code",
    "error_message",
    "commit_sha",
    "decision.outcome",
    "decision.risk_score",
    "decision.scenario",
    "decision.policy_matches",
    "decision.id",
    "decision.audit_id",
    NULL,
};

static void value_text(const struct hf_value *v, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    if (v->type != HF_V_ARRAY) {
        hf_value_text(v, out, outlen);
    } else {
        for (size_t i = 0; i < v->nitems && n + 4 < outlen; i++) {
            if (i)
                n += (size_t)snprintf(out + n, outlen - n, ", ");
            if (n < outlen)
                hf_value_text(&v->items[i], out + n, outlen - n);
            n = strlen(out);
        }
    }
    /* a value cut by the buffer must not end inside a UTF-8 character */
    n = strlen(out);
    if (n + 1 >= outlen) {
        while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
            n--;
        if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
            n--;
        out[n] = '\0';
    }
}

size_t email_key_fields(const struct hf_record *r, struct email_kv *out, size_t max)
{
    size_t n = 0;
    for (size_t k = 0; key_names[k] && n < max; k++)
        for (size_t i = 0; i < r->nfields; i++)
            if (!strcmp(r->fields[i].key, key_names[k])) {
                out[n].key = r->fields[i].key;
                value_text(&r->fields[i].v, out[n].value, sizeof(out[n].value));
                n++;
                break;
            }
    for (size_t i = 0; n == 0 && i < r->nfields && i < max; i++) {
        out[i].key = r->fields[i].key;
        value_text(&r->fields[i].v, out[i].value, sizeof(out[i].value));
        if (i + 1 == max || i + 1 == r->nfields)
            n = i + 1;
    }
    return n;
}

static void html_escape(struct hf_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': hf_buf_puts(b, "&amp;"); break;
        case '<': hf_buf_puts(b, "&lt;"); break;
        case '>': hf_buf_puts(b, "&gt;"); break;
        case '"': hf_buf_puts(b, "&quot;"); break;
        case '\'': hf_buf_puts(b, "&#39;"); break;
        default: hf_buf_putc(b, *s);
        }
    }
}

static void message_id(char *out, size_t outlen, const struct email_conf *cf, const char *sink_name, const char *key,
                       int64_t now_ms)
{
    char dom[256];
    struct hf_buf k;
    hf_buf_init(&k, 0);
    hf_buf_printf(&k, "%s\n%s", sink_name, key ? key : "");
    uint64_t h = hf_hash64(k.data, k.len);
    hf_buf_free(&k);
    /* with a key the id is stable, so a message sent twice (a retry after
     * a lost 250) reads as one to a client that threads on it */
    snprintf(out, outlen, "<hookfwd.%016llx.%llx@%s>", (unsigned long long)h,
             key ? 0ULL : (unsigned long long)(now_ms ^ (int64_t)hf_random64()),
             email_domain(cf->from, dom, sizeof(dom)));
}

void email_default_subject(struct hf_buf *b, const struct hf_record *r)
{
    hf_buf_printf(b, "[hookfwd] %s (%s) from %s", r->event_type ? r->event_type : "event",
                  hf_severity_name(r->severity), r->source ? r->source : "?");
    struct email_kv kv[1];
    if (email_key_fields(r, kv, 1))
        hf_buf_printf(b, ": %s %s", kv[0].key, kv[0].value);
}

void email_digest_subject(struct hf_buf *b, const char *sink_name, size_t n, struct hf_record *const *recs)
{
    size_t worst = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i]->severity > recs[worst]->severity)
            worst = i;
    hf_buf_printf(b, "[hookfwd] %s digest: %zu event%s", sink_name, n, n == 1 ? "" : "s");
    if (n)
        hf_buf_printf(b, ", highest severity %s", hf_severity_name(recs[worst]->severity));
}

static void each_text(struct hf_buf *t, const struct hf_record *r)
{
    hf_buf_printf(t, "%s (%s) from %s\n\n", r->event_type ? r->event_type : "event", hf_severity_name(r->severity),
                  r->source ? r->source : "?");
    hf_buf_printf(t, "Time:     %s\n", r->timestamp ? r->timestamp : "");
    if (r->event_id)
        hf_buf_printf(t, "Event id: %s\n", r->event_id);
    struct email_kv kv[8];
    size_t n = email_key_fields(r, kv, 8);
    if (n)
        hf_buf_puts(t, "\n");
    for (size_t i = 0; i < n; i++)
        hf_buf_printf(t, "%s: %s\n", kv[i].key, kv[i].value);
    hf_buf_puts(t, "\nAll fields:\n");
    for (size_t i = 0; i < r->nfields; i++) {
        char v[1024];
        value_text(&r->fields[i].v, v, sizeof(v));
        hf_buf_printf(t, "  %s: %s\n", r->fields[i].key, v);
    }
    hf_buf_puts(t, "\n-- \nSent by hookfwd\n");
}

void email_each_message(struct hf_buf *b, const struct email_conf *cf, const struct hf_record *r, const char *subject,
                        size_t subject_len, const char *sink_name, int64_t now_ms)
{
    char mid[400];
    message_id(mid, sizeof(mid), cf, sink_name, r->idempotency_key ? r->idempotency_key : r->event_id, now_ms);
    email_headers(b, cf, subject, subject_len, mid, now_ms);
    hf_buf_puts(b, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    struct hf_buf t;
    hf_buf_init(&t, 0);
    each_text(&t, r);
    email_qp(b, t.data, t.len);
    hf_buf_free(&t);
}

/* ---- the digest ---- */

#define MAX_TYPES 64

struct type_count {
    const char *type;
    size_t by_sev[HF_SEV__COUNT];
    size_t total;
};

static int cmp_count(const void *a, const void *b)
{
    const struct type_count *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    return strcmp(x->type, y->type);
}

/* Counts by event type (the most frequent first; past MAX_TYPES - 1 kinds
 * the rest are one "(other)" row) and severity. */
static size_t count_types(struct hf_record *const *recs, size_t n, struct type_count *tc, size_t *sev_total)
{
    size_t nt = 0;
    memset(tc, 0, MAX_TYPES * sizeof(*tc));
    for (size_t i = 0; i < n; i++) {
        const char *t = recs[i]->event_type ? recs[i]->event_type : "(none)";
        size_t j = 0;
        while (j < nt && strcmp(tc[j].type, t))
            j++;
        if (j == nt && nt < MAX_TYPES - 1)
            tc[nt++].type = t;
        else if (j == nt)
            tc[j].type = "(other)"; /* the last row, j == MAX_TYPES - 1 */
        tc[j].by_sev[recs[i]->severity]++;
        tc[j].total++;
        sev_total[recs[i]->severity]++;
    }
    qsort(tc, nt, sizeof(*tc), cmp_count);
    return nt + (tc[MAX_TYPES - 1].total ? 1 : 0);
}

static void digest_text(struct hf_buf *t, struct hf_record *const *recs, size_t n, size_t max_items,
                        const struct type_count *tc, size_t nt, const size_t *sev_total, const char *sink_name)
{
    char first[32], last[32];
    hf_format_iso_ms(recs[0]->received_ms, first, sizeof(first));
    hf_format_iso_ms(recs[n - 1]->received_ms, last, sizeof(last));
    hf_buf_printf(t, "hookfwd digest (sink %s): %zu event%s received from %s to %s\n\n", sink_name, n,
                  n == 1 ? "" : "s", first, last);
    hf_buf_printf(t, "%-28s %8s %8s %8s %8s %8s\n", "Event type", "info", "warning", "high", "critical", "total");
    for (size_t i = 0; i < nt; i++)
        hf_buf_printf(t, "%-28s %8zu %8zu %8zu %8zu %8zu\n", tc[i].type, tc[i].by_sev[HF_SEV_INFO],
                      tc[i].by_sev[HF_SEV_WARNING], tc[i].by_sev[HF_SEV_HIGH], tc[i].by_sev[HF_SEV_CRITICAL],
                      tc[i].total);
    hf_buf_printf(t, "%-28s %8zu %8zu %8zu %8zu %8zu\n\n", "All", sev_total[HF_SEV_INFO], sev_total[HF_SEV_WARNING],
                  sev_total[HF_SEV_HIGH], sev_total[HF_SEV_CRITICAL], n);
    size_t shown = n < max_items ? n : max_items;
    hf_buf_printf(t, "Newest %zu event%s:\n", shown, shown == 1 ? "" : "s");
    for (size_t k = 0; k < shown; k++) {
        const struct hf_record *r = recs[n - 1 - k];
        hf_buf_printf(t, "\n- %s  %s  %s  %s  %s\n", r->timestamp ? r->timestamp : "",
                      r->event_type ? r->event_type : "", hf_severity_name(r->severity), r->source ? r->source : "",
                      r->event_id ? r->event_id : "");
        struct email_kv kv[6];
        size_t nk = email_key_fields(r, kv, 6);
        for (size_t i = 0; i < nk; i++)
            hf_buf_printf(t, "    %s: %s\n", kv[i].key, kv[i].value);
    }
    if (n > shown)
        hf_buf_printf(t, "\n(%zu older event%s not listed)\n", n - shown, n - shown == 1 ? "" : "s");
    hf_buf_puts(t, "\n-- \nSent by hookfwd\n");
}

static void html_cell(struct hf_buf *h, const char *tag, const char *s)
{
    hf_buf_printf(h, "<%s>", tag);
    html_escape(h, s);
    hf_buf_printf(h, "</%s>", tag);
}

static void html_num(struct hf_buf *h, size_t v) { hf_buf_printf(h, "<td align=\"right\">%zu</td>", v); }

static void digest_html(struct hf_buf *h, struct hf_record *const *recs, size_t n, size_t max_items,
                        const struct type_count *tc, size_t nt, const size_t *sev_total, const char *sink_name)
{
    char first[32], last[32];
    hf_format_iso_ms(recs[0]->received_ms, first, sizeof(first));
    hf_format_iso_ms(recs[n - 1]->received_ms, last, sizeof(last));
    hf_buf_puts(h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hookfwd digest</title></head>\n"
                   "<body style=\"font-family: sans-serif\">\n<h2>hookfwd digest (sink ");
    html_escape(h, sink_name);
    hf_buf_printf(h, ")</h2>\n<p>%zu event%s received from %s to %s</p>\n", n, n == 1 ? "" : "s", first, last);
    hf_buf_puts(h, "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" id=\"counts\">\n<tr><th>Event type</th>"
                   "<th>info</th><th>warning</th><th>high</th><th>critical</th><th>total</th></tr>\n");
    for (size_t i = 0; i < nt; i++) {
        hf_buf_puts(h, "<tr>");
        html_cell(h, "td", tc[i].type);
        for (int s = 0; s < HF_SEV__COUNT; s++)
            html_num(h, tc[i].by_sev[s]);
        html_num(h, tc[i].total);
        hf_buf_puts(h, "</tr>\n");
    }
    hf_buf_puts(h, "<tr><th>All</th>");
    for (int s = 0; s < HF_SEV__COUNT; s++)
        html_num(h, sev_total[s]);
    html_num(h, n);
    hf_buf_puts(h, "</tr>\n</table>\n");
    size_t shown = n < max_items ? n : max_items;
    hf_buf_printf(h,
                  "<h3>Newest %zu event%s</h3>\n<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" "
                  "id=\"events\">\n<tr><th>Time</th><th>Event</th><th>Severity</th><th>Source</th><th>Id</th>"
                  "<th>Details</th></tr>\n",
                  shown, shown == 1 ? "" : "s");
    for (size_t k = 0; k < shown; k++) {
        const struct hf_record *r = recs[n - 1 - k];
        hf_buf_puts(h, "<tr>");
        html_cell(h, "td", r->timestamp ? r->timestamp : "");
        html_cell(h, "td", r->event_type ? r->event_type : "");
        html_cell(h, "td", hf_severity_name(r->severity));
        html_cell(h, "td", r->source ? r->source : "");
        html_cell(h, "td", r->event_id ? r->event_id : "");
        hf_buf_puts(h, "<td>");
        struct email_kv kv[6];
        size_t nk = email_key_fields(r, kv, 6);
        for (size_t i = 0; i < nk; i++) {
            hf_buf_puts(h, i ? "<br>" : "");
            html_escape(h, kv[i].key);
            hf_buf_puts(h, ": ");
            html_escape(h, kv[i].value);
        }
        hf_buf_puts(h, "</td></tr>\n");
    }
    hf_buf_puts(h, "</table>\n");
    if (n > shown)
        hf_buf_printf(h, "<p>%zu older event%s not listed</p>\n", n - shown, n - shown == 1 ? "" : "s");
    hf_buf_puts(h, "<p style=\"color: #666\">Sent by hookfwd</p>\n</body></html>\n");
}

void email_digest_message(struct hf_buf *b, const struct email_conf *cf, struct hf_record *const *recs, size_t n,
                          const char *subject, size_t subject_len, const char *sink_name, int64_t now_ms)
{
    char mid[400], key[128], boundary[64];
    /* the same digest (same first and last record) keeps its Message-ID
     * across retries */
    snprintf(key, sizeof(key), "digest %s %s %zu", n ? recs[0]->event_id ? recs[0]->event_id : "" : "",
             n ? recs[n - 1]->event_id ? recs[n - 1]->event_id : "" : "", n);
    message_id(mid, sizeof(mid), cf, sink_name, key, now_ms);
    snprintf(boundary, sizeof(boundary), "hookfwd-%016llx", (unsigned long long)hf_random64());
    email_headers(b, cf, subject, subject_len, mid, now_ms);
    hf_buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
    hf_buf_puts(b, "This is a MIME message: a text and an HTML version of one digest.\r\n");
    if (n == 0) {
        hf_buf_printf(b, "--%s--\r\n", boundary);
        return;
    }
    struct type_count *tc = hf_calloc(MAX_TYPES, sizeof(*tc));
    size_t sev_total[HF_SEV__COUNT] = {0};
    size_t nt = count_types(recs, n, tc, sev_total);
    size_t max_items = cf->digest.max_items > 0 ? (size_t)cf->digest.max_items : 50;
    struct hf_buf part;
    hf_buf_init(&part, 0);
    digest_text(&part, recs, n, max_items, tc, nt, sev_total, sink_name);
    hf_buf_printf(b,
                  "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary);
    email_qp(b, part.data, part.len);
    hf_buf_reset(&part);
    digest_html(&part, recs, n, max_items, tc, nt, sev_total, sink_name);
    hf_buf_printf(b,
                  "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary);
    email_qp(b, part.data, part.len);
    hf_buf_printf(b, "\r\n--%s--\r\n", boundary);
    hf_buf_free(&part);
    free(tc);
}
