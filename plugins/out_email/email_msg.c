/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 5322 header text for the e-mail sink. Everything put into a header
 * may come from a webhook sender, so it goes through one door: control
 * characters (CR and LF above all, which would start a new header) become
 * spaces, invalid UTF-8 becomes U+FFFD, and non-ASCII text becomes RFC 2047
 * encoded words, because libcurl never negotiates SMTPUTF8 or 8BITMIME. */
#define _GNU_SOURCE
#include "email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HF_VERSION
#define HF_VERSION "0"
#endif

#define LINE_MAX_LEN 78

/* s made safe for a header: controls to spaces, bad UTF-8 to U+FFFD. */
static void clean_text(struct hf_buf *out, const char *s, size_t n)
{
    while (n > 0) {
        size_t ok = hf_utf8_check(s, n);
        for (size_t i = 0; i < ok; i++) {
            unsigned char c = (unsigned char)s[i];
            hf_buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
        if (ok == n)
            break;
        hf_buf_puts(out, "\xef\xbf\xbd");
        s += ok + 1;
        n -= ok + 1;
    }
}

static bool needs_encoding(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    /* text that looks like an encoded word would be decoded by the reader */
    return memmem(s, n, "=?", 2) != NULL;
}

/* The length of the current (last) line of b. */
static size_t line_len(const struct hf_buf *b)
{
    size_t i = b->len;
    while (i > 0 && b->data[i - 1] != '\n')
        i--;
    return b->len - i;
}

/* Plain ASCII words, folded before a space when a line would pass 78. */
static void put_folded(struct hf_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && s[j] != ' ')
            j++;
        if (i > 0 && line_len(b) + (j - i) > LINE_MAX_LEN)
            hf_buf_puts(b, "\r\n"); /* the space at s[i] starts the continuation line */
        hf_buf_append(b, s + i, j - i);
        i = j;
    }
}

/* UTF-8 text as "=?UTF-8?B?...?=" words, each on its own line after the
 * first, cut between characters. */
static void put_encoded(struct hf_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    bool first = true;
    while (i < n) {
        size_t room = LINE_MAX_LEN - (first ? line_len(b) : 1) - 12;
        if ((long)room < 8) {
            hf_buf_puts(b, "\r\n ");
            first = false;
            continue;
        }
        size_t take = room / 4 * 3, end = i + take < n ? i + take : n;
        while (end > i && end < n && ((unsigned char)s[end] & 0xc0) == 0x80)
            end--;
        if (end == i)
            end = i + 1;
        char enc[128];
        hf_b64_encode((const unsigned char *)s + i, end - i, enc);
        if (!first)
            hf_buf_puts(b, "\r\n ");
        hf_buf_printf(b, "=?UTF-8?B?%s?=", enc);
        first = false;
        i = end;
    }
}

void email_header_text(struct hf_buf *b, const char *s, size_t n)
{
    struct hf_buf t;
    hf_buf_init(&t, 0);
    clean_text(&t, s, n);
    if (t.len && needs_encoding(t.data, t.len))
        put_encoded(b, t.data, t.len);
    else if (t.len)
        put_folded(b, t.data, t.len);
    hf_buf_free(&t);
}

static const char *trim(const char *s, const char *e, const char **end)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *end = e;
    return s;
}

/* Splits "Name <a@b>" (or "a@b") into its display name and addr-spec. */
static void split_address(const char *addr, const char **name, size_t *namelen, const char **spec, size_t *speclen)
{
    const char *e = addr + strlen(addr), *lt = strrchr(addr, '<'), *te;
    *name = NULL;
    *namelen = 0;
    if (lt && e > lt && (te = strchr(lt, '>')) != NULL) {
        const char *ne;
        const char *ns = trim(addr, lt, &ne);
        if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"') {
            ns++;
            ne--;
        }
        *name = ns;
        *namelen = (size_t)(ne - ns);
        *spec = trim(lt + 1, te, &e);
    } else {
        *spec = trim(addr, e, &e);
    }
    *speclen = (size_t)(e - *spec);
}

int email_addr_spec(const char *addr, bool angle, char *out, size_t outlen)
{
    const char *name, *spec;
    size_t nl, sl;
    if (!addr)
        return -1;
    split_address(addr, &name, &nl, &spec, &sl);
    const char *at = memchr(spec, '@', sl);
    if (!at || at == spec || at == spec + sl - 1 || memchr(at + 1, '@', (size_t)(spec + sl - at - 1)))
        return -1;
    for (size_t i = 0; i < sl; i++) {
        unsigned char c = (unsigned char)spec[i];
        if (c <= 0x20 || c >= 0x7f || strchr("<>(),;:\\\"[]", c))
            return -1;
    }
    for (size_t i = 0; i < nl; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return -1;
    if (sl + 3 > outlen)
        return -1;
    snprintf(out, outlen, angle ? "<%.*s>" : "%.*s", (int)sl, spec);
    return 0;
}

void email_header_address(struct hf_buf *b, const char *addr)
{
    const char *name, *spec;
    size_t nl, sl;
    split_address(addr, &name, &nl, &spec, &sl);
    if (nl) {
        struct hf_buf t;
        hf_buf_init(&t, 0);
        clean_text(&t, name, nl);
        if (needs_encoding(t.data, t.len)) {
            put_encoded(b, t.data, t.len);
        } else {
            /* a quoted string: only '"' and '\' need escaping */
            hf_buf_putc(b, '"');
            for (size_t i = 0; i < t.len; i++) {
                if (t.data[i] == '"' || t.data[i] == '\\')
                    hf_buf_putc(b, '\\');
                hf_buf_putc(b, t.data[i]);
            }
            hf_buf_putc(b, '"');
        }
        hf_buf_free(&t);
        hf_buf_puts(b, line_len(b) + sl + 3 > LINE_MAX_LEN ? "\r\n <" : " <");
        hf_buf_append(b, spec, sl);
        hf_buf_putc(b, '>');
    } else {
        hf_buf_append(b, spec, sl);
    }
}

void email_date(struct hf_buf *b, int64_t ms)
{
    static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    hf_buf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void email_qp(struct hf_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;
        if (c == '\n') {
            hf_buf_puts(b, "\r\n");
            col = 0;
            continue;
        }
        bool at_eol = i + 1 == n || s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
        bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
        /* a leading dot stays literal: libcurl dot-stuffs the DATA stream */
        size_t w = literal ? 1 : 3;
        if (col + w > 75) {
            hf_buf_puts(b, "=\r\n");
            col = 0;
        }
        if (literal) {
            hf_buf_putc(b, (char)c);
        } else {
            hf_buf_putc(b, '=');
            hf_buf_putc(b, hex[c >> 4]);
            hf_buf_putc(b, hex[c & 15]);
        }
        col += w;
    }
    if (col)
        hf_buf_puts(b, "\r\n");
}

const char *email_domain(const char *from, char *out, size_t outlen)
{
    char spec[320];
    const char *at;
    if (email_addr_spec(from, false, spec, sizeof(spec)) < 0 || !(at = strrchr(spec, '@')))
        snprintf(out, outlen, "hookfwd.invalid");
    else
        snprintf(out, outlen, "%s", at + 1);
    return out;
}

void email_headers(struct hf_buf *b, const struct email_conf *cf, const char *subject, size_t subject_len,
                   const char *message_id, int64_t now_ms)
{
    hf_buf_puts(b, "Date: ");
    email_date(b, now_ms);
    hf_buf_puts(b, "\r\nFrom: ");
    email_header_address(b, cf->from);
    hf_buf_puts(b, "\r\nTo: ");
    for (size_t i = 0; i < cf->to.n; i++) {
        if (i)
            hf_buf_puts(b, line_len(b) + strlen(cf->to.v[i]) + 2 > LINE_MAX_LEN ? ",\r\n " : ", ");
        email_header_address(b, cf->to.v[i]);
    }
    hf_buf_puts(b, "\r\nSubject: ");
    email_header_text(b, subject, subject_len);
    hf_buf_printf(b, "\r\nMessage-ID: %s\r\n", message_id);
    /* RFC 3834: machine-generated, so vacation responders stay quiet */
    hf_buf_puts(b, "Auto-Submitted: auto-generated\r\n");
    hf_buf_puts(b, "X-Mailer: hookfwd/" HF_VERSION "\r\n");
    hf_buf_puts(b, "MIME-Version: 1.0\r\n");
}
