/* SPDX-License-Identifier: Apache-2.0 */
/* The e-mail sink: alerts over SMTP with libcurl, one message per event
 * (`each`) or one digest per period (`digest`). The parts: options and
 * their check (email_conf.c), the RFC 5322 / MIME text (email_msg.c), the
 * digest body (email_digest.c), time zones and the digest schedule
 * (email_sched.c), the SMTP transfer (email_smtp.c) and the plugin that
 * ties them to the sink runtime (email.c). */
#ifndef HF_OUT_EMAIL_H
#define HF_OUT_EMAIL_H

#include "plugin.h"
#include "tls_conf.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

enum email_starttls { EMAIL_TLS_REQUIRED, EMAIL_TLS_OPTIONAL, EMAIL_TLS_OFF };
enum email_mode { EMAIL_EACH, EMAIL_DIGEST };

struct email_conf {
    char *url;
    int starttls; /* enum email_starttls */
    char *username;
    char *password;
    char *from;
    struct hf_strlist to;
    struct hf_template *subject; /* NULL: the default subject */
    int mode; /* enum email_mode */
    struct {
        int64_t every_ms;
        char *at; /* "HH:MM" */
        char *timezone;
        int64_t max_items;
    } digest;
    int64_t timeout_ms;
    struct hf_tls_conf tls;
};

/* ---- time zones and the digest schedule (email_sched.c) ---- */

/* A time zone: UTC, a fixed offset, or a TZif file's transitions with the
 * POSIX rule for the times past them. */
struct email_tz;
/* Loads NAME ("UTC", "+02:00", "Europe/Berlin" from /usr/share/zoneinfo);
 * NULL with why set when it cannot. */
struct email_tz *email_tz_load(const char *name, char *why, size_t whylen);
void email_tz_free(struct email_tz *tz);
/* Offset from UTC in seconds at the instant t (epoch seconds). */
int32_t email_tz_offset(const struct email_tz *tz, int64_t t);

struct email_sched {
    int64_t every_ms;
    int at_min; /* minutes after local midnight, -1 for none */
    const struct email_tz *tz;
};
/* "HH:MM" to minutes after midnight; -1 when malformed. */
int email_parse_hhmm(const char *s);
/* The end of the digest period that contains t_ms (epoch ms): the first
 * boundary after it. Boundaries are local midnight plus every `every`
 * (or `at` each day), so they do not depend on when the agent started. */
int64_t email_period_end(const struct email_sched *sc, int64_t t_ms);

/* ---- message text (email_msg.c) ---- */

/* Appends text for a header value: CR, LF and other control characters
 * become spaces, invalid UTF-8 becomes U+FFFD; non-ASCII text is sent as
 * RFC 2047 encoded words (UTF-8, base64), folded so no line passes 78
 * characters, counting what b's last line already holds ("Subject: "). */
void email_header_text(struct hf_buf *b, const char *s, size_t n);
/* An address header value (From, To): each entry "Name <a@b>" or "a@b",
 * the display name encoded like header text. */
void email_header_address(struct hf_buf *b, const char *addr);
/* The addr-spec of "Name <a@b>" or "a@b" into out ("<a@b>" for the SMTP
 * envelope when angle is true); -1 when it is not an address. */
int email_addr_spec(const char *addr, bool angle, char *out, size_t outlen);
/* RFC 5322 date-time of epoch ms, in UTC ("Tue, 23 Feb 2026 10:20:00 +0000"). */
void email_date(struct hf_buf *b, int64_t ms);
/* Appends s as quoted-printable (RFC 2045), CRLF line ends. */
void email_qp(struct hf_buf *b, const char *s, size_t n);
/* The domain part of the sender, for Message-ID ("hookfwd.invalid" when none). */
const char *email_domain(const char *from, char *out, size_t outlen);

/* The header block shared by both modes, up to and including MIME-Version. */
void email_headers(struct hf_buf *b, const struct email_conf *cf, const char *subject, size_t subject_len,
                   const char *message_id, int64_t now_ms);

/* ---- message bodies (email_digest.c) ---- */

/* The record's key fields as "name: value" pairs for a human reader. */
struct email_kv {
    const char *key;
    char value[160];
};
size_t email_key_fields(const struct hf_record *r, struct email_kv *out, size_t max);

/* One event, one message (mode each): text/plain, quoted-printable. */
void email_each_message(struct hf_buf *b, const struct email_conf *cf, const struct hf_record *r, const char *subject,
                        size_t subject_len, const char *sink_name, int64_t now_ms);
/* The digest of recs (oldest first): multipart/alternative, text and HTML. */
void email_digest_message(struct hf_buf *b, const struct email_conf *cf, struct hf_record *const *recs, size_t n,
                          const char *subject, size_t subject_len, const char *sink_name, int64_t now_ms);
/* The default subjects. */
void email_default_subject(struct hf_buf *b, const struct hf_record *r);
void email_digest_subject(struct hf_buf *b, const char *sink_name, size_t n, struct hf_record *const *recs);

/* ---- SMTP over libcurl (email_smtp.c) ---- */

enum smtp_state { SMTP_IDLE, SMTP_RUNNING, SMTP_DONE };

struct smtp_xfer {
    CURL *easy;
    struct curl_slist *rcpt;
    struct hf_buf msg;
    size_t off;
    enum smtp_state state;
    CURLcode result;
    long code; /* the server's last reply code */
    char reply[256]; /* the server's last reply line */
    char errbuf[CURL_ERROR_SIZE];
};

struct smtp_client {
    CURLM *multi;
    const struct email_conf *cf;
    char mail_from[320];
    char *url; /* tls.server_name in place of the host */
    struct curl_slist *connect_to; /* tls.server_name: where the connection really goes */
};

/* -1 with why filled when the sender or tls.server_name cannot be used. */
int smtp_client_init(struct smtp_client *c, const struct email_conf *cf, char *why, size_t whylen);
void smtp_client_free(struct smtp_client *c);
/* Starts sending x->msg to every recipient; -1 when libcurl refuses. */
int smtp_start(struct smtp_client *c, struct smtp_xfer *x);
/* Drives transfers for up to timeout_ms; x->state is SMTP_DONE when finished. */
void smtp_step(struct smtp_client *c, int timeout_ms);
void smtp_abort(struct smtp_client *c, struct smtp_xfer *x);
void smtp_xfer_reset(struct smtp_xfer *x);
/* The outcome of a finished transfer: delivered (250 after DATA), retry
 * (4xx, network, TLS) or rejected (5xx); reason filled for the latter two. */
enum hf_outcome smtp_outcome(const struct smtp_xfer *x, char *reason, size_t reasonlen);

/* ---- options (email_conf.c) ---- */

extern const struct hf_option email_options[];
int email_check(const void *conf, const struct hf_check *ck);

#endif
