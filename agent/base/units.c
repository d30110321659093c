/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes (1MiB) and durations (500ms) as written in the configuration. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    static const struct unit units[] = {{"", 1},          {"B", 1},          {"K", 1024},        {"KB", 1024},
                                        {"KiB", 1024},    {"M", 1 << 20},    {"MB", 1 << 20},    {"MiB", 1 << 20},
                                        {"G", 1LL << 30}, {"GB", 1LL << 30}, {"GiB", 1LL << 30}, {NULL, 0}};
    return parse_with_units(s, units, out);
}

int hf_parse_duration(const char *s, int64_t *out)
{
    static const struct unit units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                                        {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
    return parse_with_units(s, units, out);
}

/* units largest first, ending with the one of multiplier 1 */
static const char *format_with_units(int64_t v, const struct unit *units, char *out, size_t outlen)
{
    const struct unit *u = units;
    while (u->mul > 1 && (v == 0 || v % u->mul))
        u++;
    snprintf(out, outlen, "%lld%s", (long long)(v / u->mul), u->suffix);
    return out;
}

const char *hf_format_size(int64_t bytes, char *out, size_t outlen)
{
    static const struct unit units[] = {{"GiB", 1LL << 30}, {"MiB", 1 << 20}, {"KiB", 1024}, {"", 1}};
    return format_with_units(bytes, units, out, outlen);
}

const char *hf_format_duration(int64_t ms, char *out, size_t outlen)
{
    static const struct unit units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    return format_with_units(ms, units, out, outlen);
}
