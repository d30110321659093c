/* SPDX-License-Identifier: Apache-2.0 */
/* Encoders of the syslog sink: one record (or metric point) in, one syslog
 * message out, as RFC 5424, RFC 3164, ArcSight CEF or QRadar LEEF 2.0.
 * Pure functions: no I/O, no globals, no clock reads, so every escaping rule
 * is testable on its own (tests/unit/test_syslog.c).
 *
 * Choices, written down once:
 *  - Severity: record info -> 6 (info), warning -> 4 (warning),
 *    high -> 3 (err), critical -> 2 (crit). CEF and LEEF: info 3,
 *    warning 5, high 8, critical 10.
 *  - RFC 5424 structured data: one SD-ELEMENT (sd_id, default
 *    hookfwd@32473) with source, event_type, event_id, severity,
 *    idempotency_key, then every data field; nulls are left out, arrays are
 *    joined with ','. PARAM-NAMEs keep dots; other characters outside
 *    PRINTUSASCII or among '=', ' ', ']', '"' become '_'; a name over 32
 *    bytes becomes its first 25 bytes, '~' and 6 hex digits of a hash of
 *    the whole name, so long names stay distinct.
 *  - RFC 5424 MSG carries no BOM unless asked: MSG-ANY is valid, and a BOM
 *    in front of JSON trips rsyslog's mmjsonparse and most SIEM parsers.
 *  - RFC 3164 timestamps are local time (localtime_r, so TZ applies).
 *  - CEF and LEEF lines travel as the MSG of an RFC 5424 (default) or RFC
 *    3164 header, or bare.
 *  - Truncation (UDP only): the MSG is cut at a UTF-8 boundary; when the
 *    header and structured data alone do not fit, the data fields are
 *    dropped from the SD-ELEMENT first. RFC 3164 packets are cut at the
 *    byte limit, as the RFC's relays do. */
#ifndef HF_SYSLOG_FORMAT_H
#define HF_SYSLOG_FORMAT_H

#include "record.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_syslog_format { HF_SYSLOG_RFC5424, HF_SYSLOG_RFC3164, HF_SYSLOG_CEF, HF_SYSLOG_LEEF };
enum hf_syslog_msg { HF_SYSLOG_MSG_JSON, HF_SYSLOG_MSG_SUMMARY };
enum hf_syslog_header { HF_SYSLOG_HDR_RFC5424, HF_SYSLOG_HDR_RFC3164, HF_SYSLOG_HDR_NONE };

#define HF_SYSLOG_RFC3164_MAX 1024
#define HF_SYSLOG_SD_NAME_MAX 32
#define HF_SYSLOG_MSGID_MAX 32
#define HF_SYSLOG_APPNAME_MAX 48
#define HF_SYSLOG_TAG_MAX 32
#define HF_SYSLOG_HOSTNAME_MAX 255

/* Everything an encoder needs; strings are borrowed and must already be
 * valid for the header they go into (hf_syslog_clean_* below). */
struct hf_syslog_fmt {
    enum hf_syslog_format format;
    enum hf_syslog_msg message;
    enum hf_syslog_header header; /* cef and leef only */
    int facility; /* 0..23 */
    const char *hostname; /* "-" for none */
    const char *app_name;
    int procid; /* 0: nil */
    const char *sd_id; /* e.g. hookfwd@32473 */
    const char *version; /* CEF/LEEF device version */
    bool bom; /* RFC 5424 MSG starts with EF BB BF */
    bool one_line; /* newline framing: CR/LF in values become spaces */
};

/* Appends one message for r to out. max_len 0 means no limit; otherwise the
 * message is cut to at most max_len bytes by the rules above and *truncated
 * is set. Returns 0, or -1 when out overflowed its cap. */
int hf_syslog_encode(const struct hf_syslog_fmt *f, const struct hf_record *r, size_t max_len, struct hf_buf *out,
                     bool *truncated);

/* One metric point as a message whose MSG is the point's JSON (rfc5424 and
 * rfc3164 only; MSGID/TAG "metric"). */
int hf_syslog_encode_point(const struct hf_syslog_fmt *f, const struct hf_record *r, const struct hf_point *pt,
                           size_t max_len, struct hf_buf *out, bool *truncated);

/* Syslog severity (0..7) and CEF/LEEF severity (0..10) of a record severity. */
int hf_syslog_severity(enum hf_severity s);
int hf_syslog_cef_severity(enum hf_severity s);

/* "local0", "auth", "16" -> 0..23; -1 when unknown. */
int hf_syslog_facility_parse(const char *s);

/* Writes a PARAM-NAME for key into out (>= 33 bytes): see the header comment. */
void hf_syslog_sd_name(const char *key, char *out);

/* Copies s into out (outlen >= max + 1) keeping PRINTUSASCII and replacing
 * anything else with '_', cut at max bytes; "-" when s is empty or NULL. */
void hf_syslog_clean_token(const char *s, size_t max, char *out, size_t outlen);

/* Length of the longest prefix of s[0..n) that is at most max bytes and
 * does not end inside a UTF-8 sequence. */
size_t hf_syslog_utf8_cut(const char *s, size_t n, size_t max);

/* CEF device vendor and product for a source name: OmegaEngine / Policy
 * Engine for omega*, Sentinelayer / Omar Gate for sentinelayer*, the source
 * name otherwise. */
void hf_syslog_vendor(const char *source, const char **vendor, const char **product);

#endif
