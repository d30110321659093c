/* Shared helpers: capped buffers, time, units, escaping, logging. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void hf_buf_init(struct hf_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void hf_buf_free(struct hf_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void hf_buf_reset(struct hf_buf *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data)
        b->data[0] = '\0';
}

int hf_buf_reserve(struct hf_buf *b, size_t extra)
{
    if (b->overflow)
        return -1;
    size_t need = b->len + extra + 1;
    if (b->limit && need > b->limit + 1) {
        b->overflow = true;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (b->limit && ncap > b->limit + 1)
        ncap = b->limit + 1;
    b->data = hf_realloc(b->data, ncap);
    b->cap = ncap;
    return 0;
}

int hf_buf_append(struct hf_buf *b, const void *p, size_t n)
{
    if (hf_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int hf_buf_puts(struct hf_buf *b, const char *s) { return hf_buf_append(b, s, strlen(s)); }
int hf_buf_putc(struct hf_buf *b, char c) { return hf_buf_append(b, &c, 1); }

int hf_buf_printf(struct hf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(tmp))
        return hf_buf_append(b, tmp, (size_t)n);
    if (hf_buf_reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t hf_utf8_check(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_len(p + i, n - i);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

/* 1 for the bytes a JSON string carries as they are: printable ASCII
 * (with DEL) except '"' and '\\'. A table lookup per byte instead of four
 * compares: every record and metric tag goes through here. */
static const unsigned char json_plain[256] = {
    [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

/* Length of the prefix of p that needs no escaping, eight bytes at a time
 * while no byte of a word can be < 0x20, >= 0x80, '"' or '\\' (these
 * tests never miss such a byte; a false alarm only ends the fast loop). */
static size_t plain_prefix(const unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, bs;
        memcpy(&w, p + i, 8);
        q = w ^ (ones * '"');
        bs = w ^ (ones * '\\');
        uint64_t bad = (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
        if (bad)
            break;
    }
    while (i < n && json_plain[p[i]])
        i++;
    return i;
}

int hf_buf_json_str(struct hf_buf *b, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    if (hf_buf_reserve(b, n + 2) < 0)
        return -1;
    const unsigned char *p = (const unsigned char *)s;
    size_t first = plain_prefix(p, n);
    if (first == n) {
        /* nothing to escape (keys, ids, most values): one copy */
        char *o = b->data + b->len;
        o[0] = '"';
        if (n)
            memcpy(o + 1, s, n);
        o[n + 1] = '"';
        o[n + 2] = '\0';
        b->len += n + 2;
        return 0;
    }
    hf_buf_putc(b, '"');
    size_t run = 0; /* start of a run of bytes that need no escaping */
    for (size_t i = first; i < n;) {
        while (i < n && json_plain[p[i]])
            i++;
        if (i == n)
            break;
        unsigned char c = p[i];
        size_t ul = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (ul > 0) {
            i += ul;
            continue;
        }
        hf_buf_append(b, s + run, i - run);
        switch (c) {
        case '"': hf_buf_append(b, "\\\"", 2); break;
        case '\\': hf_buf_append(b, "\\\\", 2); break;
        case '\n': hf_buf_append(b, "\\n", 2); break;
        case '\r': hf_buf_append(b, "\\r", 2); break;
        case '\t': hf_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
                hf_buf_append(b, e, 6);
            } else {
                hf_buf_append(b, "\xef\xbf\xbd", 3); /* invalid UTF-8 byte */
            }
        }
        i++;
        run = i;
    }
    hf_buf_append(b, s + run, n - run);
    return hf_buf_putc(b, '"');
}

int hf_buf_json_double(struct hf_buf *b, double d)
{
    if (!isfinite(d))
        return hf_buf_puts(b, "null");
    if (d == floor(d) && fabs(d) < 1e15) {
        /* what "%.0f" prints, without printf: counts and gauges are integers */
        char tmp[24], *e = tmp + sizeof(tmp), *q = e;
        uint64_t v = (uint64_t)(d < 0 ? -d : d);
        do {
            *--q = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (signbit(d))
            *--q = '-';
        return hf_buf_append(b, q, (size_t)(e - q));
    }
    /* the shortest text that reads back as the same double */
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return hf_buf_puts(b, tmp);
}

int64_t hf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hf_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days), for 0 <= z. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, unsigned v, int width, char after)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    p[width] = after;
    return p + width + 1;
}

void hf_format_iso_ms(int64_t ms, char *out, size_t outlen)
{
    /* every record and metric point carries one: gmtime_r takes glibc's
     * timezone lock and snprintf is slow, so years 1970-9999 are done here */
    if (ms >= 0 && ms < 253402300800000LL && outlen >= 25) {
        int64_t y;
        unsigned mo, d, rem = (unsigned)(ms % 86400000);
        civil_from_days(ms / 86400000, &y, &mo, &d);
        char *p = put_digits(out, (unsigned)y, 4, '-');
        p = put_digits(p, mo, 2, '-');
        p = put_digits(p, d, 2, 'T');
        p = put_digits(p, rem / 3600000, 2, ':');
        p = put_digits(p, rem / 60000 % 60, 2, ':');
        p = put_digits(p, rem / 1000 % 60, 2, '.');
        p = put_digits(p, rem % 1000, 3, 'Z');
        *p = '\0';
        return;
    }
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int digits(const char *s, size_t n, size_t at, size_t cnt, int *out)
{
    int v = 0;
    if (at + cnt > n)
        return -1;
    for (size_t i = at; i < at + cnt; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int hf_parse_rfc3339(const char *s, size_t n, int64_t *ms)
{
    int Y, M, D, h, m, sec;
    if (digits(s, n, 0, 4, &Y) || n < 20 || s[4] != '-' || digits(s, n, 5, 2, &M) || s[7] != '-' ||
        digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &m) || s[16] != ':' ||
        digits(s, n, 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    size_t i = 19;
    int frac = 0, fd = 0;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (fd < 3) {
                frac = frac * 10 + (s[i] - '0');
                fd++;
            }
            i++;
        }
        if (fd == 0)
            return -1;
        while (fd < 3) {
            frac *= 10;
            fd++;
        }
    }
    int off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &om))
            return -1;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1;
    }
    if (i != n)
        return -1;
    /* days from civil (Howard Hinnant's algorithm) */
    int y = Y - (M <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (unsigned)(M + (M > 2 ? -3 : 9)) + 2) / 5 + (unsigned)D - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
    *ms = ((days * 86400 + h * 3600 + m * 60 + sec) - off) * 1000 + frac;
    return 0;
}

static int parse_number_suffix(const char *s, int64_t *num, const char **suffix)
{
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    *num = v;
    while (*end == ' ')
        end++;
    *suffix = end;
    return 0;
}

struct unit {
    const char *suffix;
    int64_t mul;
};

static int parse_with_units(const char *s, const struct unit *units, int64_t *out)
{
    int64_t v;
    const char *suf;
    if (parse_number_suffix(s, &v, &suf) < 0)
        return -1;
    for (const struct unit *u = units; u->suffix; u++) {
        if (strcmp(suf, u->suffix))
            continue;
        if (v > INT64_MAX / u->mul)
            return -1;
        *out = v * u->mul;
        return 0;
    }
    return -1;
}

int hf_parse_size(const char *s, int64_t *out)
{
    static const struct unit units[] = {
        {"", 1}, {"B", 1}, {"K", 1024}, {"KB", 1024}, {"KiB", 1024}, {"M", 1 << 20}, {"MB", 1 << 20},
        {"MiB", 1 << 20}, {"G", 1LL << 30}, {"GB", 1LL << 30}, {"GiB", 1LL << 30}, {NULL, 0}};
    return parse_with_units(s, units, out);
}

int hf_parse_duration(const char *s, int64_t *out)
{
    static const struct unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
    return parse_with_units(s, units, out);
}

bool hf_glob(const char *pat, const char *s)
{
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            ss = s;
        } else if (star) {
            pat = star + 1;
            s = ++ss;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* The same as the loop in hf_snake_case, writing into room reserved
 * beforehand (at most two bytes per input byte) instead of one append per
 * byte: every key of every event goes through here. */
static void snake_case_direct(struct hf_buf *b, const char *s, size_t n)
{
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            bool prev_lower = i > 0 && (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]));
            bool next_lower = i + 1 < n && islower((unsigned char)s[i + 1]) && i > 0 &&
                              isupper((unsigned char)s[i - 1]);
            if (prev_lower || next_lower)
                *o++ = '_';
            *o++ = (char)tolower(c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

void hf_snake_case(struct hf_buf *b, const char *s, size_t n)
{
    bool has_lower = false;
    for (size_t i = 0; i < n && !has_lower; i++)
        has_lower = islower((unsigned char)s[i]);
    if (!has_lower) {
        /* "P1", "URL": not camelCase, keep as sent */
        hf_buf_append(b, s, n);
        return;
    }
    if (!b->overflow && (!b->limit || b->len + 2 * n <= b->limit) && hf_buf_reserve(b, 2 * n) == 0) {
        snake_case_direct(b, s, n);
        return;
    }
    /* near the buffer's cap: byte by byte, so it fills up exactly as before */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            bool prev_lower = i > 0 && (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]));
            bool next_lower = i + 1 < n && islower((unsigned char)s[i + 1]) && i > 0 &&
                              isupper((unsigned char)s[i - 1]);
            if (prev_lower || next_lower)
                hf_buf_putc(b, '_');
            hf_buf_putc(b, (char)tolower(c));
        } else {
            hf_buf_putc(b, (char)c);
        }
    }
}

void hf_hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hf_unhex(const char *s, size_t n, unsigned char *out, size_t outcap)
{
    if (n % 2 || n / 2 > outcap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (unsigned char)(a << 4 | b);
    }
    return (int)(n / 2);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int hf_b64_decode(const char *s, size_t n, unsigned char *out, size_t outcap)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6)
        return -1;
    return (int)o;
}

size_t hf_b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

uint64_t hf_hash64(const void *p, size_t n)
{
    /* FNV-1a with a final avalanche; good enough for in-process tables. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t hf_random64(void)
{
    static __thread uint64_t state;
    if (state == 0) {
        if (getrandom(&state, sizeof(state), 0) != sizeof(state) || state == 0)
            state = (uint64_t)hf_mono_ms() * 2654435761u + 1;
    }
    /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
}

void *hf_calloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) {
        fputs("level=error component=core msg=\"out of memory\"\n", stderr);
        abort();
    }
    return p;
}

void *hf_realloc(void *p, size_t sz)
{
    void *q = realloc(p, sz ? sz : 1);
    if (!q) {
        fputs("level=error component=core msg=\"out of memory\"\n", stderr);
        abort();
    }
    return q;
}

char *hf_strndup(const char *s, size_t n)
{
    char *d = hf_calloc(1, n + 1);
    memcpy(d, s, n);
    return d;
}

size_t hf_str_join3(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
    const char *parts[] = {a, b, c};
    size_t total = 0, at = 0;
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        size_t n = strlen(parts[i]);
        size_t room = cap > at + 1 ? cap - at - 1 : 0;
        size_t k = n < room ? n : room;
        memcpy(dst + at, parts[i], k);
        at += k;
        total += n;
    }
    if (cap)
        dst[at] = '\0';
    return total;
}

char *hf_strdup(const char *s) { return s ? hf_strndup(s, strlen(s)) : NULL; }

/* ---- logging ---- */

static enum hf_log_level log_level = HF_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

#define LOG_SLOTS 64
static struct {
    const void *fmt;
    const void *comp;
    int64_t window_start;
    unsigned suppressed;
} log_slots[LOG_SLOTS];

void hf_log_set_level(enum hf_log_level lvl) { log_level = lvl; }

void hf_log_keyed(enum hf_log_level lvl, const char *component, const void *key, const void *owner,
                  const char *text)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log_level)
        return;
    char msg[1200];
    snprintf(msg, sizeof(msg), "%s", text);
    int64_t now = hf_mono_ms();
    unsigned slot = (unsigned)(((uintptr_t)key >> 3) ^ ((uintptr_t)owner >> 4) ^ ((uintptr_t)component >> 3)) % LOG_SLOTS;
    unsigned report_suppressed = 0;
    pthread_mutex_lock(&log_mu);
    bool same = log_slots[slot].fmt == key && log_slots[slot].comp == owner;
    /* info lines are rare by design (start, reload, stop): never suppressed */
    if (same && lvl >= HF_LOG_WARN && now - log_slots[slot].window_start < 10000) {
        /* the same message again within 10 s: counted, said once later */
        log_slots[slot].suppressed++;
        pthread_mutex_unlock(&log_mu);
        return;
    }
    if (same)
        report_suppressed = log_slots[slot].suppressed;
    log_slots[slot].fmt = key;
    log_slots[slot].comp = owner;
    log_slots[slot].window_start = now;
    log_slots[slot].suppressed = 0;
    if (report_suppressed) {
        size_t ml = strlen(msg);
        snprintf(msg + ml, sizeof(msg) - ml, " (suppressed %u similar messages)", report_suppressed);
    }
    struct hf_buf b;
    hf_buf_init(&b, 4096);
    hf_buf_printf(&b, "level=%s component=%s msg=", names[lvl], component);
    hf_buf_json_str(&b, msg, strlen(msg));
    hf_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
    hf_buf_free(&b);
}

void hf_log(enum hf_log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hf_log_keyed(lvl, component, fmt, component, msg);
}

/* "host:port" or "[v6]:port"; the port must be 0..65535. */
int hf_split_hostport(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(rb - addr - 1), addr + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
    }
    snprintf(port, portlen, "%s", colon + 1);
    char *end;
    long p = strtol(port, &end, 10);
    return (*port && !*end && p >= 0 && p <= 65535) ? 0 : -1;
}
