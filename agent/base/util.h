/* SPDX-License-Identifier: Apache-2.0 */
/* base/: what every part of hookfwd uses and that knows no hookfwd type:
 * capped buffers and JSON output (buf.c), time (time.c), units (units.c),
 * globs, snake_case, hex and base64 (text.c), hashing, random numbers and
 * allocation (mem.c), logging (log.c), addresses (addr.c). */
#ifndef HF_UTIL_H
#define HF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growable byte buffer with a hard cap; appends past the cap fail and set
 * `overflow`, so callers check once at the end instead of after every append. */
struct hf_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: no limit */
    bool overflow;
};

void hf_buf_init(struct hf_buf *b, size_t limit);
void hf_buf_free(struct hf_buf *b);
void hf_buf_reset(struct hf_buf *b);
int hf_buf_reserve(struct hf_buf *b, size_t extra);
/* The appends every encoder makes per field are inline: the usual case
 * (room left) is a copy, and a literal's strlen is folded at compile time. */
int hf_buf_append_grow(struct hf_buf *b, const void *p, size_t n);
static inline int hf_buf_append(struct hf_buf *b, const void *p, size_t n)
{
    if (b->overflow || b->len + n >= b->cap)
        return hf_buf_append_grow(b, p, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}
static inline int hf_buf_puts(struct hf_buf *b, const char *s) { return hf_buf_append(b, s, strlen(s)); }
static inline int hf_buf_putc(struct hf_buf *b, char c) { return hf_buf_append(b, &c, 1); }
int hf_buf_printf(struct hf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. Invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. */
int hf_buf_json_str(struct hf_buf *b, const char *s, size_t n);
/* Appends a double the way JSON wants it (no NaN/Inf: those become null). */
int hf_buf_json_double(struct hf_buf *b, double d);
/* Offset of the first byte of s that is not strict UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF), n when none. */
size_t hf_utf8_check(const char *s, size_t n);

int64_t hf_now_ms(void); /* wall clock, epoch milliseconds */
int64_t hf_mono_ms(void); /* monotonic milliseconds */
/* Formats epoch ms as 2026-11-23T17:00:00.123Z into out (>= 25 bytes). */
void hf_format_iso_ms(int64_t ms, char *out, size_t outlen);
/* Parses RFC 3339 (Z or +hh:mm, optional fraction) into epoch ms. */
int hf_parse_rfc3339(const char *s, size_t n, int64_t *ms);

/* "1MiB", "512KiB", "1048576" -> bytes. */
int hf_parse_size(const char *s, int64_t *out);
/* "500ms", "10s", "5m", "24h" -> milliseconds. */
int hf_parse_duration(const char *s, int64_t *out);
/* The inverse, as a user writes them: bytes in the largest unit that
 * divides them (1048576 -> "1MiB", 1500 -> "1500"), ms likewise
 * (3600000 -> "1h", 1500 -> "1500ms"). Return out. */
const char *hf_format_size(int64_t bytes, char *out, size_t outlen);
const char *hf_format_duration(int64_t ms, char *out, size_t outlen);

/* Glob with '*' and '?' only, whole-string match. */
bool hf_glob(const char *pat, const char *s);

/* camelCase -> snake_case into b (appends). */
void hf_snake_case(struct hf_buf *b, const char *s, size_t n);

void hf_hex(const unsigned char *in, size_t n, char *out /* 2n+1 */);
int hf_unhex(const char *s, size_t n, unsigned char *out, size_t outcap);
int hf_b64_decode(const char *s, size_t n, unsigned char *out, size_t outcap);
size_t hf_b64_encode(const unsigned char *in, size_t n, char *out /* 4*ceil(n/3)+1 */);

uint64_t hf_hash64(const void *p, size_t n);
/* Writes v's decimal digits backwards, ending before end; returns the
 * first (printf-free number writing on hot paths). */
static inline char *hf_digits_before(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}
uint64_t hf_random64(void);
/* The allocator's settings for a long-running agent (see mem.c); called
 * first thing by the agent and by the benchmarks. */
void hf_mem_tune(void);
/* Names the calling thread (what top -H, ps -L and gdb show), cut to the
 * 15 characters Linux keeps. */
void hf_thread_name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Puts the calling thread among those that never preempt another when
 * woken (SCHED_BATCH): the journal's commit. On a core shared with an
 * ingest thread it runs once that has taken every ready request, so one
 * fdatasync covers all of them. Not for sink workers: at saturation the
 * ingest thread is never idle, and a sink waking from each fdatasync only
 * at the end of its slice drained fewer records than were accepted. */
void hf_thread_background(void);

/* snprintf(dst, cap, "%s%s%s", a, b, c) without printf, for the per-event
 * path; a NULL part is skipped. Returns the untruncated length. */
size_t hf_str_join3(char *dst, size_t cap, const char *a, const char *b, const char *c);

char *hf_strdup(const char *s);
char *hf_strndup(const char *s, size_t n);
void *hf_calloc(size_t n, size_t sz); /* aborts on OOM: a daemon that cannot allocate a few bytes cannot go on */
void *hf_realloc(void *p, size_t sz);

/* Logging: one line per call on stderr, `level=... component=... msg="..."`.
 * Repeats of the same (component, format) within 10 s are counted and
 * reported once as "suppressed N similar messages". */
enum hf_log_level { HF_LOG_DEBUG, HF_LOG_INFO, HF_LOG_WARN, HF_LOG_ERROR };
void hf_log_set_level(enum hf_log_level lvl);
void hf_log(enum hf_log_level lvl, const char *component, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As hf_log, with the repeat suppression keyed by (key, owner) instead of
 * the format: for wrappers such as hf_sink_log. */
void hf_log_keyed(enum hf_log_level lvl, const char *component, const void *key, const void *owner, const char *msg);
#define hf_log_info(c, ...) hf_log(HF_LOG_INFO, c, __VA_ARGS__)
#define hf_log_warn(c, ...) hf_log(HF_LOG_WARN, c, __VA_ARGS__)
#define hf_log_error(c, ...) hf_log(HF_LOG_ERROR, c, __VA_ARGS__)
#define hf_log_debug(c, ...) hf_log(HF_LOG_DEBUG, c, __VA_ARGS__)

/* Splits "host:port" or "[v6]:port"; 0, or -1 when malformed. */
int hf_split_hostport(const char *addr, char *host, size_t hostlen, char *port, size_t portlen);

#endif
