/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency-key set: 64 stripes, each a chained hash table plus one FIFO
 * per window length in insertion order. With one window per FIFO, a FIFO
 * is also in expiry order, so expired keys are at the FIFO heads: they go
 * first, and when a stripe is full the key nearest its expiry (the oldest
 * of its window) goes next. A single FIFO for all windows kept a source's
 * expired 5-minute keys behind another's 24-hour keys and evicted the
 * latter first.
 *
 * A key is held as a 128-bit fingerprint of its scope and text (two
 * independent 64-bit hashes), in a 32-byte slot of an array that links
 * by index: a full set of 131,072 keys takes 5 MiB, where an allocation
 * per key with its text took 12.5. Two different keys are taken for one
 * only if both hashes agree, about once in 2^128 pairs. Restored keys
 * keep their text until hf_dedup_foreach_restored has seen them. */
#include "dedup.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define RESTORED (-1) /* the FIFO of keys restored with an explicit expiry */
#define NIL UINT32_MAX
#define REMOVED INT64_MIN /* a slot's expiry once it left its chain: freed when it leaves its FIFO */

struct slot {
    uint64_t h1, h2;
    int64_t expires_ms;
    uint32_t chain; /* next in the bucket; next free slot when free */
    uint32_t fifo_next;
};

struct fifo {
    int64_t window_ms;
    uint32_t head, tail;
};

struct stripe {
    pthread_mutex_t mu;
    uint32_t *buckets;
    size_t nbuckets, count, max;
    struct slot *slots;
    char **texts; /* per slot, the text of a restored key; NULL until a key is restored */
    uint32_t nslots, cap, free_head;
    struct fifo *fifos; /* one per window length seen; sources have a few */
    size_t nfifos;
};

struct hf_dedup {
    struct stripe s[STRIPES];
};

struct hf_dedup *hf_dedup_new(size_t max_entries)
{
    struct hf_dedup *d = hf_calloc(1, sizeof(*d));
    size_t per = max_entries / STRIPES + 1;
    for (int i = 0; i < STRIPES; i++) {
        struct stripe *st = &d->s[i];
        pthread_mutex_init(&st->mu, NULL);
        st->max = per;
        st->nbuckets = 1;
        while (st->nbuckets < per)
            st->nbuckets <<= 1;
        st->buckets = hf_calloc(st->nbuckets, sizeof(*st->buckets));
        memset(st->buckets, 0xff, st->nbuckets * sizeof(*st->buckets)); /* NIL */
        st->free_head = NIL;
    }
    return d;
}

void hf_dedup_free(struct hf_dedup *d)
{
    if (!d)
        return;
    for (int i = 0; i < STRIPES; i++) {
        struct stripe *st = &d->s[i];
        if (st->texts)
            for (uint32_t n = 0; n < st->nslots; n++)
                free(st->texts[n]);
        free(st->texts);
        free(st->slots);
        free(st->fifos);
        free(st->buckets);
        pthread_mutex_destroy(&st->mu);
    }
    free(d);
}

/* The stripe comes from the hash's top bits: buckets use the low bits, and
 * taking both from the same bits left 63 of every 64 buckets of a stripe
 * empty (chains 64 times longer than the table was sized for). */
static struct stripe *stripe_of(struct hf_dedup *d, uint64_t h) { return &d->s[(h >> 32) % STRIPES]; }

static size_t make_key(char *buf, size_t cap, const char *scope, const char *key)
{
    size_t sl = strlen(scope), kl = strlen(key);
    if (sl + kl + 2 > cap)
        kl = cap - sl - 2;
    memcpy(buf, scope, sl);
    buf[sl] = '\x1f';
    memcpy(buf + sl + 1, key, kl);
    buf[sl + 1 + kl] = '\0';
    return sl + 1 + kl;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ULL;
    h ^= h >> 27;
    h *= 0x81dadef4bc2dd44dULL;
    h ^= h >> 33;
    return h;
}

/* The fingerprint's second half: 8-byte words, multiply and rotate, a
 * function unrelated to hf_hash64's byte-wise FNV-1a. */
static uint64_t hash_words(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xc2b2ae3d27d4eb4fULL);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ mix(w)) * 0x9fb21c651e98df25ULL;
        h = h << 29 | h >> 35;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mix(h ^ mix(w ^ n));
}

static uint32_t *bucket_of(struct stripe *st, uint64_t h1) { return &st->buckets[h1 & (st->nbuckets - 1)]; }

static void unlink_chain(struct stripe *st, uint32_t i)
{
    uint32_t *pp = bucket_of(st, st->slots[i].h1);
    while (*pp != NIL && *pp != i)
        pp = &st->slots[*pp].chain;
    if (*pp == i)
        *pp = st->slots[i].chain;
}

static uint32_t alloc_slot(struct stripe *st)
{
    if (st->free_head != NIL) {
        uint32_t i = st->free_head;
        st->free_head = st->slots[i].chain;
        return i;
    }
    if (st->nslots == st->cap) {
        /* at once the stripe's share (untouched pages take no memory, and
         * doubling left the outgrown arrays as holes in the heap); more
         * only for keys restored past it */
        uint32_t cap = st->cap ? st->cap * 2 : (uint32_t)st->max;
        st->slots = hf_realloc(st->slots, cap * sizeof(*st->slots));
        if (st->texts) {
            st->texts = hf_realloc(st->texts, cap * sizeof(*st->texts));
            memset(st->texts + st->cap, 0, (cap - st->cap) * sizeof(*st->texts));
        }
        st->cap = cap;
    }
    return st->nslots++;
}

static void free_slot(struct stripe *st, uint32_t i)
{
    if (st->texts) {
        free(st->texts[i]);
        st->texts[i] = NULL;
    }
    st->slots[i].chain = st->free_head;
    st->free_head = i;
}

/* Takes the head of f out of the set. */
static void drop_head(struct stripe *st, struct fifo *f)
{
    uint32_t i = f->head;
    f->head = st->slots[i].fifo_next;
    if (f->head == NIL)
        f->tail = NIL;
    if (st->slots[i].expires_ms != REMOVED)
        unlink_chain(st, i);
    st->count--;
    free_slot(st, i);
}

/* Drops expired (and removed) keys: they are at the heads of the FIFOs. */
static void evict_expired(struct stripe *st, int64_t now_ms)
{
    for (size_t i = 0; i < st->nfifos; i++) {
        struct fifo *f = &st->fifos[i];
        while (f->head != NIL && st->slots[f->head].expires_ms <= now_ms)
            drop_head(st, f);
    }
}

/* Makes room for one key: drops the key nearest its expiry. */
static void make_room(struct stripe *st)
{
    while (st->count >= st->max) {
        struct fifo *victim = NULL;
        for (size_t i = 0; i < st->nfifos; i++)
            if (st->fifos[i].head != NIL &&
                (!victim || st->slots[st->fifos[i].head].expires_ms < st->slots[victim->head].expires_ms))
                victim = &st->fifos[i];
        if (!victim)
            return;
        drop_head(st, victim);
    }
}

static struct fifo *fifo_for(struct stripe *st, int64_t window_ms)
{
    for (size_t i = 0; i < st->nfifos; i++)
        if (st->fifos[i].window_ms == window_ms)
            return &st->fifos[i];
    st->fifos = hf_realloc(st->fifos, (st->nfifos + 1) * sizeof(*st->fifos));
    st->fifos[st->nfifos] = (struct fifo){.window_ms = window_ms, .head = NIL, .tail = NIL};
    return &st->fifos[st->nfifos++];
}

/* A key's place: its text in k (scope, 0x1f, key), its fingerprint, its
 * stripe (returned locked). */
struct place {
    char k[512];
    size_t kl;
    uint64_t h1, h2;
    struct stripe *st;
};

static void place_lock(struct hf_dedup *d, const char *scope, const char *key, struct place *p)
{
    p->kl = make_key(p->k, sizeof(p->k), scope, key);
    p->h1 = hf_hash64(p->k, p->kl);
    p->h2 = hash_words(p->k, p->kl);
    p->st = stripe_of(d, p->h1);
    pthread_mutex_lock(&p->st->mu);
}

static uint32_t lookup(const struct place *p)
{
    const struct slot *s = p->st->slots;
    for (uint32_t i = *bucket_of(p->st, p->h1); i != NIL; i = s[i].chain)
        if (s[i].h1 == p->h1 && s[i].h2 == p->h2)
            return i;
    return NIL;
}

static uint32_t insert(const struct place *p, int64_t window_ms, int64_t expires_ms)
{
    struct stripe *st = p->st;
    uint32_t i = alloc_slot(st);
    uint32_t *b = bucket_of(st, p->h1);
    st->slots[i] = (struct slot){.h1 = p->h1, .h2 = p->h2, .expires_ms = expires_ms, .chain = *b, .fifo_next = NIL};
    *b = i;
    struct fifo *f = fifo_for(st, window_ms);
    if (f->tail != NIL)
        st->slots[f->tail].fifo_next = i;
    else
        f->head = i;
    f->tail = i;
    st->count++;
    return i;
}

/* Takes slot i out of its chain; its FIFO frees it on eviction. */
static void retire(struct stripe *st, uint32_t i)
{
    unlink_chain(st, i);
    st->slots[i].expires_ms = REMOVED;
}

int hf_dedup_check_insert(struct hf_dedup *d, const char *scope, const char *key, int64_t window_ms, int64_t now_ms)
{
    struct place p;
    place_lock(d, scope, key, &p);
    int dup = 0;
    evict_expired(p.st, now_ms);
    uint32_t i = lookup(&p);
    if (i != NIL && p.st->slots[i].expires_ms > now_ms) {
        dup = 1;
    } else {
        /* expired but not yet at its FIFO's head (the clock went back):
         * retire it and insert anew at the tail */
        if (i != NIL)
            retire(p.st, i);
        /* room is made only to insert: a full stripe still answers for
         * every key it holds, the oldest included */
        make_room(p.st);
        insert(&p, window_ms, now_ms + window_ms);
    }
    pthread_mutex_unlock(&p.st->mu);
    return dup;
}

void hf_dedup_restore(struct hf_dedup *d, const char *scope, const char *key, int64_t expires_ms)
{
    struct place p;
    place_lock(d, scope, key, &p);
    struct stripe *st = p.st;
    uint32_t i = lookup(&p);
    if (i != NIL)
        st->slots[i].expires_ms = expires_ms;
    else
        i = insert(&p, RESTORED, expires_ms);
    if (!st->texts)
        st->texts = hf_calloc(st->cap, sizeof(*st->texts));
    if (!st->texts[i])
        st->texts[i] = hf_strdup(p.k);
    pthread_mutex_unlock(&st->mu);
}

void hf_dedup_remove(struct hf_dedup *d, const char *scope, const char *key)
{
    struct place p;
    place_lock(d, scope, key, &p);
    uint32_t i = lookup(&p);
    if (i != NIL)
        retire(p.st, i);
    pthread_mutex_unlock(&p.st->mu);
}

size_t hf_dedup_size(struct hf_dedup *d)
{
    size_t n = 0;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&d->s[i].mu);
        n += d->s[i].count;
        pthread_mutex_unlock(&d->s[i].mu);
    }
    return n;
}

void hf_dedup_foreach_restored(struct hf_dedup *d,
                               void (*fn)(void *arg, const char *scope, const char *key, int64_t expires_ms), void *arg)
{
    for (int s = 0; s < STRIPES; s++) {
        struct stripe *st = &d->s[s];
        pthread_mutex_lock(&st->mu);
        for (uint32_t i = 0; st->texts && i < st->nslots; i++) {
            char *text = st->texts[i];
            char *sep = text ? strchr(text, '\x1f') : NULL;
            if (sep && st->slots[i].expires_ms != REMOVED) {
                *sep = '\0';
                fn(arg, text, sep + 1, st->slots[i].expires_ms);
            }
            free(text);
        }
        free(st->texts);
        st->texts = NULL;
        pthread_mutex_unlock(&st->mu);
    }
}
