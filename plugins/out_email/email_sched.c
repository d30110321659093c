/* SPDX-License-Identifier: Apache-2.0 */
/* When a digest goes out: period boundaries in the configured time zone.
 * Time zones are read from the system's TZif files (RFC 8536) rather than
 * through TZ and localtime_r, which would change the whole process's zone
 * from a sink's worker thread. Past the file's last transition the POSIX
 * rule in its footer decides (slim files stop in the 1990s). */
#include "email.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1u << 20)

/* A POSIX TZ rule date: Jn, n or Mm.w.d, with the local time it applies at. */
struct rule_date {
    char kind; /* 'J', 'N' or 'M' */
    int a, b, c;
    int32_t secs;
};

struct posix_tz {
    bool valid;
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    struct rule_date start, end;
};

struct email_tz {
    int64_t *trans; /* transition instants, epoch seconds */
    uint8_t *idx; /* type in force from each transition */
    size_t ntrans;
    int32_t *type_off;
    size_t ntypes;
    struct posix_tz rule;
};

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    return yoe + era * 400 + (m <= 2);
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") ---- */

static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *e = strchr(p, '>');
        return e ? e + 1 : NULL;
    }
    const char *s = p;
    while (isalpha((unsigned char)*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; NULL when malformed. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    long h = strtol(p, (char **)&p, 10), m = 0, s = 0;
    if (*p == ':') {
        m = strtol(p + 1, (char **)&p, 10);
        if (*p == ':')
            s = strtol(p + 1, (char **)&p, 10);
    }
    if (h > 167 || m > 59 || s > 59)
        return NULL;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *d)
{
    memset(d, 0, sizeof(*d));
    d->secs = 7200;
    if (*p == 'M') {
        d->kind = 'M';
        d->a = (int)strtol(p + 1, (char **)&p, 10);
        if (*p++ != '.')
            return NULL;
        d->b = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.')
            return NULL;
        d->c = (int)strtol(p, (char **)&p, 10);
        if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c < 0 || d->c > 6)
            return NULL;
    } else if (*p == 'J' || isdigit((unsigned char)*p)) {
        d->kind = *p == 'J' ? 'J' : 'N';
        if (*p == 'J')
            p++;
        d->a = (int)strtol(p, (char **)&p, 10);
        if (d->a < (d->kind == 'J') || d->a > 365)
            return NULL;
    } else {
        return NULL;
    }
    if (*p == '/')
        p = parse_hms(p + 1, &d->secs);
    return p;
}

static int parse_posix(const char *p, struct posix_tz *tz)
{
    memset(tz, 0, sizeof(*tz));
    int32_t v;
    if (!(p = skip_name(p)) || !(p = parse_hms(p, &v)))
        return -1;
    tz->std_off = -v; /* POSIX offsets count west of Greenwich */
    if (*p) {
        if (!(p = skip_name(p)))
            return -1;
        tz->has_dst = true;
        tz->dst_off = tz->std_off + 3600;
        if (*p && *p != ',') {
            if (!(p = parse_hms(p, &v)))
                return -1;
            tz->dst_off = -v;
        }
        if (*p != ',' || !(p = parse_rule_date(p + 1, &tz->start)) || *p != ',' ||
            !(p = parse_rule_date(p + 1, &tz->end)))
            return -1;
    }
    if (*p)
        return -1;
    tz->valid = true;
    return 0;
}

/* Local seconds since the epoch at which rule date d happens in year y. */
static int64_t rule_local(const struct rule_date *d, int64_t y)
{
    int64_t day;
    if (d->kind == 'J') {
        day = days_from_civil(y, 1, 1) + d->a - 1;
        if (leap(y) && d->a >= 60)
            day++;
    } else if (d->kind == 'N') {
        day = days_from_civil(y, 1, 1) + d->a;
    } else {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = days_from_civil(y, d->a, 1);
        int wd = (int)((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
        int64_t dd = first + (d->c - wd + 7) % 7 + 7 * (d->b - 1);
        int len = mdays[d->a - 1] + (d->a == 2 && leap(y));
        while (dd >= first + len)
            dd -= 7;
        day = dd;
    }
    return day * 86400 + d->secs;
}

static int32_t posix_offset(const struct posix_tz *tz, int64_t t)
{
    if (!tz->has_dst)
        return tz->std_off;
    int64_t y = year_of_days(floor_div(t + tz->std_off, 86400));
    int64_t start = rule_local(&tz->start, y) - tz->std_off;
    int64_t end = rule_local(&tz->end, y) - tz->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

/* ---- TZif files ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

static int parse_tzif(const unsigned char *d, size_t len, struct email_tz *tz)
{
    if (len < 44 || memcmp(d, "TZif", 4))
        return -1;
    int ver = d[4];
    size_t off = 0, tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (off + 44 > len || memcmp(d + off, "TZif", 4))
            return -1;
        const unsigned char *h = d + off + 20;
        size_t isut = be32(h), isstd = be32(h + 4), leapc = be32(h + 8), timec = be32(h + 12), typec = be32(h + 16),
               charc = be32(h + 20);
        size_t body = timec * tsize + timec + typec * 6 + charc + leapc * (tsize + 4) + isstd + isut;
        if (typec == 0 || timec > 100000 || typec > 256 || off + 44 + body > len)
            return -1;
        if (pass == 0 && ver >= '2') {
            off += 44 + body;
            tsize = 8;
            continue;
        }
        const unsigned char *p = d + off + 44;
        tz->ntrans = timec;
        tz->trans = hf_calloc(timec ? timec : 1, sizeof(*tz->trans));
        tz->idx = hf_calloc(timec ? timec : 1, 1);
        for (size_t i = 0; i < timec; i++)
            tz->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        p += timec * tsize;
        for (size_t i = 0; i < timec; i++)
            tz->idx[i] = p[i] < typec ? p[i] : 0;
        p += timec;
        tz->ntypes = typec;
        tz->type_off = hf_calloc(typec, sizeof(*tz->type_off));
        for (size_t i = 0; i < typec; i++)
            tz->type_off[i] = (int32_t)be32(p + i * 6);
        off += 44 + body;
        break;
    }
    /* the footer: "\n<POSIX TZ>\n" after the version 2+ data */
    if (ver >= '2' && off < len && d[off] == '\n') {
        const unsigned char *e = memchr(d + off + 1, '\n', len - off - 1);
        if (e && e - (d + off + 1) < 128) {
            char rule[128];
            memcpy(rule, d + off + 1, (size_t)(e - (d + off + 1)));
            rule[e - (d + off + 1)] = '\0';
            if (rule[0])
                parse_posix(rule, &tz->rule);
        }
    }
    return 0;
}

/* "+02:00", "-0530", "UTC+1" are fixed offsets east of UTC. */
static int parse_fixed(const char *s, int32_t *off)
{
    if (!strncmp(s, "UTC", 3) || !strncmp(s, "GMT", 3))
        s += 3;
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s == '-' ? -1 : 1;
    s++;
    int h = 0, m = 0, n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    if (n == 4 && !s[4]) {
        h = (s[0] - '0') * 10 + (s[1] - '0');
        m = (s[2] - '0') * 10 + (s[3] - '0');
    } else if ((n == 1 || n == 2) && (!s[n] || (s[n] == ':' && isdigit((unsigned char)s[n + 1]) &&
                                                isdigit((unsigned char)s[n + 2]) && !s[n + 3]))) {
        h = n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
        m = s[n] ? (s[n + 1] - '0') * 10 + (s[n + 2] - '0') : 0;
    } else {
        return -1;
    }
    if (h > 14 || m > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60);
    return 0;
}

struct email_tz *email_tz_load(const char *name, char *why, size_t whylen)
{
    struct email_tz *tz = hf_calloc(1, sizeof(*tz));
    int32_t fixed;
    if (!name || !*name || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Z")) {
        tz->rule.valid = true;
        return tz;
    }
    if (parse_fixed(name, &fixed) == 0) {
        tz->rule.valid = true;
        tz->rule.std_off = fixed;
        return tz;
    }
    /* a zone name: letters, digits, '_', '-', '+' and '/' between parts,
     * so it cannot leave the zoneinfo directory */
    bool ok = isalpha((unsigned char)name[0]) && !strstr(name, "..") && !strstr(name, "//");
    for (const char *p = name; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr("_-+/", *p);
    if (!ok) {
        snprintf(why, whylen, "'%s' is not a time zone (UTC, +02:00 or a name such as Europe/Berlin)", name);
        free(tz);
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
    FILE *f = fopen(path, "rb");
    unsigned char *buf = hf_calloc(1, TZ_MAX_FILE);
    size_t len = f ? fread(buf, 1, TZ_MAX_FILE, f) : 0;
    if (f)
        fclose(f);
    if (!f || parse_tzif(buf, len, tz) < 0) {
        snprintf(why, whylen, "unknown time zone '%s' (no readable %s)", name, path);
        free(buf);
        email_tz_free(tz);
        return NULL;
    }
    free(buf);
    return tz;
}

void email_tz_free(struct email_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->idx);
    free(tz->type_off);
    free(tz);
}

int32_t email_tz_offset(const struct email_tz *tz, int64_t t)
{
    if (!tz->ntrans || (tz->rule.valid && t >= tz->trans[tz->ntrans - 1]) || t < tz->trans[0]) {
        if (tz->rule.valid)
            return posix_offset(&tz->rule, t);
        if (!tz->ntypes)
            return 0;
        return tz->ntrans && t >= tz->trans[0] ? tz->type_off[tz->idx[tz->ntrans - 1]] : tz->type_off[0];
    }
    size_t lo = 0, hi = tz->ntrans; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->idx[lo]];
}

/* ---- the schedule ---- */

int email_parse_hhmm(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) || s[5])
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* The UTC instant (ms) of local time `local_ms`: the offset in force then,
 * found in two rounds (a local time skipped by a DST change maps to the
 * instant after the gap). */
static int64_t local_to_utc(const struct email_tz *tz, int64_t local_ms)
{
    int64_t guess = local_ms - (int64_t)email_tz_offset(tz, floor_div(local_ms, 1000)) * 1000;
    int64_t again = local_ms - (int64_t)email_tz_offset(tz, floor_div(guess, 1000)) * 1000;
    return again > guess ? again : guess;
}

int64_t email_period_end(const struct email_sched *sc, int64_t t_ms)
{
    int64_t local = t_ms + (int64_t)email_tz_offset(sc->tz, floor_div(t_ms, 1000)) * 1000;
    int64_t day = floor_div(local, 86400000) * 86400000;
    int64_t end;
    if (sc->at_min >= 0) {
        end = local_to_utc(sc->tz, day + (int64_t)sc->at_min * 60000);
        for (int i = 1; end <= t_ms && i < 4; i++)
            end = local_to_utc(sc->tz, day + (int64_t)i * 86400000 + (int64_t)sc->at_min * 60000);
        return end;
    }
    /* periods that divide a day start at local midnight; longer ones count
     * from the epoch in local time */
    int64_t every = sc->every_ms > 0 ? sc->every_ms : 86400000;
    int64_t base = 86400000 % every == 0 ? day : 0;
    int64_t k = floor_div(local - base, every) + 1;
    end = local_to_utc(sc->tz, base + k * every);
    while (end <= t_ms)
        end = local_to_utc(sc->tz, base + ++k * every);
    return end;
}
