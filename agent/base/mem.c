/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing, random numbers, allocation that aborts on exhaustion, strings. */
#define _GNU_SOURCE
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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
