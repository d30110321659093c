/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing, random numbers, allocation that aborts on exhaustion, strings. */
#define _GNU_SOURCE
#include "util.h"

#include <malloc.h>
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

/* glibc gives the free top of a heap back to the kernel once it passes
 * 128 KiB. A sink frees a batch of records (up to ~1 MiB) at once, the
 * heap's top is trimmed, and the next events fault the same pages in
 * again: half of the micro path's CPU (bench_pipeline: ~150k events/s per
 * core, ~320k with this). A 4 MiB trim threshold keeps them; fixing it
 * also fixes the mmap threshold (glibc stops moving it), so it is set
 * too, at 1 MiB: batch buffers below that come from the heap and are
 * reused. Malloc settings in GLIBC_TUNABLES are left to win. */
void hf_mem_tune(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc."))
        return;
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
