/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks, ISO 8601 output and RFC 3339 parsing. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
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
        digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s, n, 11, 2, &h) ||
        s[13] != ':' || digits(s, n, 14, 2, &m) || s[16] != ':' || digits(s, n, 17, 2, &sec))
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
