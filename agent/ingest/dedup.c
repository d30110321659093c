/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency-key set: 64 stripes, each a chained hash table plus one FIFO
 * per window length in insertion order. With one window per FIFO, a FIFO
 * is also in expiry order, so expired keys are at the FIFO heads: they go
 * first, and when a stripe is full the key nearest its expiry (the oldest
 * of its window) goes next. A single FIFO for all windows kept a source's
 * expired 5-minute keys behind another's 24-hour keys and evicted the
 * latter first. */
#include "dedup.h"
#include "util.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define RESTORED (-1) /* the FIFO of keys restored with an explicit expiry */

struct entry {
    struct entry *chain;
    struct entry *fifo_next;
    uint64_t hash;
    int64_t expires_ms; /* INT64_MIN: removed, freed when it leaves its FIFO */
    char key[]; /* scope "\x1f" key */
};

struct fifo {
    int64_t window_ms;
    struct entry *head, *tail;
};

struct stripe {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets, count, max;
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
        pthread_mutex_init(&d->s[i].mu, NULL);
        d->s[i].max = per;
        d->s[i].nbuckets = 1;
        while (d->s[i].nbuckets < per)
            d->s[i].nbuckets <<= 1;
        d->s[i].buckets = hf_calloc(d->s[i].nbuckets, sizeof(struct entry *));
    }
    return d;
}

void hf_dedup_free(struct hf_dedup *d)
{
    if (!d)
        return;
    for (int i = 0; i < STRIPES; i++) {
        for (size_t f = 0; f < d->s[i].nfifos; f++)
            for (struct entry *e = d->s[i].fifos[f].head, *n; e; e = n) {
                n = e->fifo_next;
                free(e);
            }
        free(d->s[i].fifos);
        free(d->s[i].buckets);
        pthread_mutex_destroy(&d->s[i].mu);
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

static void unlink_chain(struct stripe *st, struct entry *e)
{
    struct entry **pp = &st->buckets[e->hash & (st->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
}

/* Takes the head of f out of the set; it is freed, or, with spare and
 * none kept yet, kept in *spare for the key about to be inserted (a full
 * set evicts one key per insert: its memory serves the new one). */
static void drop_head(struct stripe *st, struct fifo *f, struct entry **spare)
{
    struct entry *e = f->head;
    f->head = e->fifo_next;
    if (!f->head)
        f->tail = NULL;
    if (e->expires_ms != INT64_MIN) /* INT64_MIN: already removed from the chain */
        unlink_chain(st, e);
    st->count--;
    if (spare && !*spare)
        *spare = e;
    else
        free(e);
}

/* Drops expired (and removed) keys: they are at the heads of the FIFOs. */
static void evict_expired(struct stripe *st, int64_t now_ms)
{
    for (size_t i = 0; i < st->nfifos; i++) {
        struct fifo *f = &st->fifos[i];
        while (f->head && f->head->expires_ms <= now_ms)
            drop_head(st, f, NULL);
    }
}

/* Makes room for one key: drops the key nearest its expiry. */
static void make_room(struct stripe *st, struct entry **spare)
{
    while (st->count >= st->max) {
        struct fifo *victim = NULL;
        for (size_t i = 0; i < st->nfifos; i++)
            if (st->fifos[i].head && (!victim || st->fifos[i].head->expires_ms < victim->head->expires_ms))
                victim = &st->fifos[i];
        if (!victim)
            return;
        drop_head(st, victim, spare);
    }
}

static struct fifo *fifo_for(struct stripe *st, int64_t window_ms)
{
    for (size_t i = 0; i < st->nfifos; i++)
        if (st->fifos[i].window_ms == window_ms)
            return &st->fifos[i];
    st->fifos = hf_realloc(st->fifos, (st->nfifos + 1) * sizeof(*st->fifos));
    st->fifos[st->nfifos] = (struct fifo){.window_ms = window_ms};
    return &st->fifos[st->nfifos++];
}

static struct entry *lookup(struct stripe *st, uint64_t h, const char *k)
{
    for (struct entry *e = st->buckets[h & (st->nbuckets - 1)]; e; e = e->chain)
        if (e->hash == h && !strcmp(e->key, k))
            return e;
    return NULL;
}

static void insert(struct stripe *st, uint64_t h, const char *k, size_t kl, int64_t window_ms, int64_t expires_ms,
                   struct entry *spare)
{
    struct entry *e = spare;
    if (e && malloc_usable_size(e) < sizeof(*e) + kl + 1) {
        free(e);
        e = NULL;
    }
    if (!e)
        e = malloc(sizeof(*e) + kl + 1);
    if (!e)
        return;
    e->hash = h;
    e->expires_ms = expires_ms;
    memcpy(e->key, k, kl + 1);
    size_t b = h & (st->nbuckets - 1);
    e->chain = st->buckets[b];
    st->buckets[b] = e;
    e->fifo_next = NULL;
    struct fifo *f = fifo_for(st, window_ms);
    if (f->tail)
        f->tail->fifo_next = e;
    else
        f->head = e;
    f->tail = e;
    st->count++;
}

/* A key's place: its text in k (scope, NUL, key), its hash, its stripe
 * (returned locked). */
struct place {
    char k[512];
    size_t kl;
    uint64_t h;
    struct stripe *st;
};

static void place_lock(struct hf_dedup *d, const char *scope, const char *key, struct place *p)
{
    p->kl = make_key(p->k, sizeof(p->k), scope, key);
    p->h = hf_hash64(p->k, p->kl);
    p->st = stripe_of(d, p->h);
    pthread_mutex_lock(&p->st->mu);
}

/* Takes e out of its chain; its FIFO frees it on eviction. */
static void retire(struct stripe *st, struct entry *e)
{
    unlink_chain(st, e);
    e->expires_ms = INT64_MIN;
}

int hf_dedup_check_insert(struct hf_dedup *d, const char *scope, const char *key, int64_t window_ms, int64_t now_ms)
{
    struct place p;
    place_lock(d, scope, key, &p);
    int dup = 0;
    evict_expired(p.st, now_ms);
    struct entry *e = lookup(p.st, p.h, p.k);
    if (e && e->expires_ms > now_ms) {
        dup = 1;
    } else {
        /* expired but not yet at its FIFO's head (the clock went back):
         * retire it and insert anew at the tail */
        if (e)
            retire(p.st, e);
        /* room is made only to insert: a full stripe still answers for
         * every key it holds, the oldest included */
        struct entry *spare = NULL;
        make_room(p.st, &spare);
        insert(p.st, p.h, p.k, p.kl, window_ms, now_ms + window_ms, spare);
    }
    pthread_mutex_unlock(&p.st->mu);
    return dup;
}

void hf_dedup_restore(struct hf_dedup *d, const char *scope, const char *key, int64_t expires_ms)
{
    struct place p;
    place_lock(d, scope, key, &p);
    struct entry *e = lookup(p.st, p.h, p.k);
    if (e)
        e->expires_ms = expires_ms;
    else
        insert(p.st, p.h, p.k, p.kl, RESTORED, expires_ms, NULL);
    pthread_mutex_unlock(&p.st->mu);
}

void hf_dedup_remove(struct hf_dedup *d, const char *scope, const char *key)
{
    struct place p;
    place_lock(d, scope, key, &p);
    struct entry *e = lookup(p.st, p.h, p.k);
    if (e)
        retire(p.st, e);
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

void hf_dedup_foreach(struct hf_dedup *d, void (*fn)(void *arg, const char *scope, const char *key, int64_t expires_ms),
                      void *arg)
{
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&d->s[i].mu);
        for (size_t f = 0; f < d->s[i].nfifos; f++)
            for (struct entry *e = d->s[i].fifos[f].head; e; e = e->fifo_next) {
                char *sep = strchr(e->key, '\x1f');
                if (e->expires_ms == INT64_MIN || !sep)
                    continue;
                *sep = '\0';
                fn(arg, e->key, sep + 1, e->expires_ms);
                *sep = '\x1f';
            }
        pthread_mutex_unlock(&d->s[i].mu);
    }
}
