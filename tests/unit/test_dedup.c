/* SPDX-License-Identifier: Apache-2.0 */
/* The idempotency-key set (ingest/dedup.c): the window, eviction when a
 * stripe is full (expired keys first, then the oldest), removal and
 * restore, keys spread over the stripes, and concurrent inserts from
 * several threads. Time is passed in, so nothing here waits. */
#include "testutil.h"
#include "dedup.h"

#include <pthread.h>

#define STRIPES 64 /* dedup.c spreads keys over 64 stripes of max/64+1 keys */

static void key_name(char *out, size_t n, const char *prefix, int i) { snprintf(out, n, "%s-%06d", prefix, i); }

/* A key is a duplicate until its window has passed, then it is new again
 * (with a fresh window); scopes are separate. */
static void test_window(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(1000);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 10000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 10001), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 10999), 1);
    /* another source's key of the same text is not a duplicate */
    assert_int_equal(hf_dedup_check_insert(d, "sentinelayer", "run-1", 1000, 10500), 0);
    /* the window is over at 11000 (expiry is exclusive) */
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 11000), 0);
    /* inserted again: a new window from 11000 */
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 11999), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-1", 1000, 12000), 0);
    /* a duplicate does not extend the window */
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-2", 1000, 20000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-2", 1000, 20900), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "run-2", 1000, 21000), 0);
    hf_dedup_free(d);
}

/* remove forgets a key (its event was refused after all); restore puts a
 * key back with the expiry it had (start-up from dedup.log). */
static void test_remove_restore(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(1000);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "a", 60000, 1000), 0);
    hf_dedup_remove(d, "omega", "a");
    assert_int_equal(hf_dedup_check_insert(d, "omega", "a", 60000, 1001), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "a", 60000, 1002), 1);
    hf_dedup_remove(d, "omega", "never-seen"); /* harmless */

    hf_dedup_restore(d, "omega", "b", 5000);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "b", 60000, 4999), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "b", 60000, 5000), 0);
    /* restoring a key held already sets its expiry */
    hf_dedup_restore(d, "omega", "b", 7000);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "b", 60000, 6999), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "b", 60000, 7000), 0);
    hf_dedup_free(d);
}

/* Each stripe holds max/64+1 keys. Over the capacity, the oldest keys go
 * first; the newest ones stay. */
static void test_evicts_oldest_when_full(void **state)
{
    (void)state;
    const int per = 100, cap = STRIPES * per;
    struct hf_dedup *d = hf_dedup_new((size_t)cap);
    char k[64];
    const int total = 20 * cap;
    for (int i = 0; i < total; i++) {
        key_name(k, sizeof(k), "k", i);
        assert_int_equal(hf_dedup_check_insert(d, "s", k, 3600000, 1000), 0);
        if (i % 1000 == 0)
            assert_true(hf_dedup_size(d) <= (size_t)STRIPES * (per + 1));
    }
    assert_true(hf_dedup_size(d) <= (size_t)STRIPES * (per + 1));
    assert_true(hf_dedup_size(d) >= (size_t)cap / 2);
    /* the newest 640 (about 10 per stripe of 101) are all still held */
    for (int i = total - 640; i < total; i++) {
        key_name(k, sizeof(k), "k", i);
        if (hf_dedup_check_insert(d, "s", k, 3600000, 1001) != 1)
            fail_msg("%s, one of the newest keys, was evicted", k);
    }
    /* the oldest ones (each stripe took about 1900 keys after them) are gone */
    for (int i = 0; i < 640; i++) {
        key_name(k, sizeof(k), "k", i);
        if (hf_dedup_check_insert(d, "s", k, 3600000, 1001) != 0)
            fail_msg("%s, one of the oldest keys, is still held", k);
    }
    hf_dedup_free(d);
}

/* A full set still knows every key it holds: asking again for a key held
 * answers "duplicate" and drops nothing; room is made only to insert. */
static void test_full_set_keeps_what_it_holds(void **state)
{
    (void)state;
    /* one key per stripe: the first key fills its stripe */
    struct hf_dedup *d = hf_dedup_new(0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "only", 3600000, 1000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "only", 3600000, 1001), 1);
    assert_int_equal(hf_dedup_size(d), 1);
    hf_dedup_free(d);

    /* five per stripe, filled four times over */
    d = hf_dedup_new(STRIPES * 4);
    char k[64];
    const int n = STRIPES * 5 * 4;
    for (int i = 0; i < n; i++) {
        key_name(k, sizeof(k), "f", i);
        assert_int_equal(hf_dedup_check_insert(d, "s", k, 3600000, 1000), 0);
    }
    size_t held = hf_dedup_size(d);
    for (int i = n - 1; i >= n - STRIPES; i--) {
        key_name(k, sizeof(k), "f", i); /* the newest: surely held */
        assert_int_equal(hf_dedup_check_insert(d, "s", k, 3600000, 1001), 1);
        assert_int_equal(hf_dedup_size(d), held);
    }
    hf_dedup_free(d);
}

/* When a stripe is full, expired keys make room before any key still in
 * its window, even when the expired ones were inserted after it (sources
 * have windows of their own). */
static void test_evicts_expired_first(void **state)
{
    (void)state;
    const int per = 20;
    struct hf_dedup *d = hf_dedup_new(STRIPES * per);
    char k[64];
    /* 2 long-window keys per stripe on average, first in every FIFO */
    for (int i = 0; i < 2 * STRIPES; i++) {
        key_name(k, sizeof(k), "long", i);
        assert_int_equal(hf_dedup_check_insert(d, "slow", k, 86400000, 1000), 0);
    }
    /* then short-window keys until every stripe is full */
    for (int i = 0; i < 60 * STRIPES; i++) {
        key_name(k, sizeof(k), "short", i);
        hf_dedup_check_insert(d, "fast", k, 1000, 1001);
    }
    /* later, when the short windows are over, new keys come in: fewer per
     * stripe than there are expired keys to take their room */
    for (int i = 0; i < 5 * STRIPES; i++) {
        key_name(k, sizeof(k), "new", i);
        assert_int_equal(hf_dedup_check_insert(d, "fast", k, 1000, 5000), 0);
    }
    for (int i = 0; i < 2 * STRIPES; i++) {
        key_name(k, sizeof(k), "long", i);
        if (hf_dedup_check_insert(d, "slow", k, 86400000, 5001) != 1)
            fail_msg("%s is within its window but was evicted while expired keys stayed", k);
    }
    hf_dedup_free(d);
}

/* Keys spread over the stripes: 6400 keys fit a set of 64 x 201 only if
 * no stripe takes much more than its share. */
static void test_keys_spread(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(STRIPES * 200);
    char k[64];
    for (int i = 0; i < 6400; i++) {
        key_name(k, sizeof(k), "evt", i);
        assert_int_equal(hf_dedup_check_insert(d, "omega", k, 60000, 1000), 0);
    }
    assert_int_equal(hf_dedup_size(d), 6400);
    for (int i = 0; i < 6400; i++) {
        key_name(k, sizeof(k), "evt", i);
        assert_int_equal(hf_dedup_check_insert(d, "omega", k, 60000, 1001), 1);
    }
    hf_dedup_free(d);
}

struct seen {
    char lines[8][64];
    int n;
};

static void note_key(void *arg, const char *scope, const char *key, int64_t expires_ms)
{
    struct seen *s = arg;
    assert_true(s->n < 8);
    snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s/%s/%lld", scope, key, (long long)expires_ms);
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

/* Restored keys keep their text for one walk after start-up (Redis sources
 * mark them accepted): a key removed since is left out, a key inserted
 * (not restored) has no text, and the keys stay held after the walk. */
static void test_foreach_restored(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(1000);
    hf_dedup_restore(d, "omega", "a", 5000);
    hf_dedup_restore(d, "sentinelayer", "run-7", 6000);
    hf_dedup_restore(d, "omega", "gone", 7000);
    hf_dedup_restore(d, "omega", "a", 5500); /* its expiry moves */
    hf_dedup_remove(d, "omega", "gone");
    assert_int_equal(hf_dedup_check_insert(d, "omega", "fresh", 60000, 1000), 0);
    struct seen s = {0};
    hf_dedup_foreach_restored(d, note_key, &s);
    assert_int_equal(s.n, 2);
    qsort(s.lines, (size_t)s.n, sizeof(s.lines[0]), by_text);
    assert_string_equal(s.lines[0], "omega/a/5500");
    assert_string_equal(s.lines[1], "sentinelayer/run-7/6000");
    /* once only */
    s.n = 0;
    hf_dedup_foreach_restored(d, note_key, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "a", 60000, 1001), 1);
    assert_int_equal(hf_dedup_check_insert(d, "sentinelayer", "run-7", 60000, 1001), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "fresh", 60000, 1001), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "gone", 60000, 1001), 0);
    hf_dedup_free(d);
}

/* Keys that differ in one byte anywhere, scopes that differ only in where
 * the separator falls, and long keys (many 8-byte words, a partial
 * last one) are all told apart. */
static void test_similar_keys_distinct(void **state)
{
    (void)state;
    struct hf_dedup *d = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    char k[600];
    memset(k, 'x', sizeof(k) - 1);
    k[sizeof(k) - 1] = '\0';
    int inserted = 0;
    for (int len = 1; len <= 40; len++)
        for (int pos = 0; pos < len; pos++) {
            char key[64];
            memset(key, 'x', (size_t)len);
            key[len] = '\0';
            key[pos] = 'y';
            assert_int_equal(hf_dedup_check_insert(d, "s", key, 60000, 1000), 0);
            inserted++;
        }
    assert_int_equal(hf_dedup_check_insert(d, "ab", "c", 60000, 1000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "a", "bc", 60000, 1000), 0);
    assert_int_equal(hf_dedup_check_insert(d, "s", k + 100, 60000, 1000), 0); /* 499 bytes */
    assert_int_equal(hf_dedup_check_insert(d, "s", k + 101, 60000, 1000), 0);
    assert_int_equal(hf_dedup_size(d), (size_t)inserted + 4);
    assert_int_equal(hf_dedup_check_insert(d, "s", k + 100, 60000, 1001), 1);
    hf_dedup_free(d);
}

#define NTHREADS 4
#define NKEYS 20000

struct racer {
    struct hf_dedup *d;
    int id;
    bool shared; /* all threads insert the same keys */
    int inserted;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    char k[64];
    for (int j = 0; j < NKEYS; j++) {
        /* each thread walks the keys from a different starting point */
        int i = (j + r->id * (NKEYS / NTHREADS)) % NKEYS;
        if (r->shared)
            key_name(k, sizeof(k), "shared", i);
        else
            snprintf(k, sizeof(k), "t%d-%06d", r->id, i);
        if (hf_dedup_check_insert(r->d, "omega", k, 60000, 1000) == 0)
            r->inserted++;
        if (j % 97 == 0)
            hf_dedup_size(r->d); /* readers take every stripe's lock */
    }
    return NULL;
}

static void run_racers(struct hf_dedup *d, bool shared, struct racer *r)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        r[i] = (struct racer){.d = d, .id = i, .shared = shared};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}

/* Threads inserting the same keys: each key is new for exactly one of
 * them. Threads inserting their own keys: every key is kept. */
static void test_concurrent_inserts(void **state)
{
    (void)state;
    struct racer r[NTHREADS];
    struct hf_dedup *d = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    run_racers(d, true, r);
    int total = 0;
    for (int i = 0; i < NTHREADS; i++)
        total += r[i].inserted;
    assert_int_equal(total, NKEYS);
    assert_int_equal(hf_dedup_size(d), NKEYS);
    hf_dedup_free(d);

    d = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    run_racers(d, false, r);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(r[i].inserted, NKEYS);
    assert_int_equal(hf_dedup_size(d), NTHREADS * NKEYS);
    char k[64];
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < NKEYS; i += 97) {
            snprintf(k, sizeof(k), "t%d-%06d", t, i);
            assert_int_equal(hf_dedup_check_insert(d, "omega", k, 60000, 1001), 1);
        }
    hf_dedup_free(d);
}

int main(void)
{
    hf_log_set_level(HF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_remove_restore),
        cmocka_unit_test(test_evicts_oldest_when_full),
        cmocka_unit_test(test_full_set_keeps_what_it_holds),
        cmocka_unit_test(test_evicts_expired_first),
        cmocka_unit_test(test_keys_spread),
        cmocka_unit_test(test_foreach_restored),
        cmocka_unit_test(test_similar_keys_distinct),
        cmocka_unit_test(test_concurrent_inserts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
