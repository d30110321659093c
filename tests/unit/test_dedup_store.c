/* SPDX-License-Identifier: Apache-2.0 */
/* Shared dedup: the claim / accepted / release protocol (dedup_claim.c)
 * run by several "agents" against a model of Redis's SET NX/PX, GET and
 * DEL with a clock the test moves; the redis:// URL parser; the config
 * rules around dedup.store. The same protocol against a real redis-server
 * is tests/integration/test_redis.sh. */
#include "testutil.h"

#include "dedup_claim.h"
#include "redis_conf.h"

/* ---- a model of the Redis commands the protocol uses ---- */

#define MODEL_KEYS 16

struct model {
    struct {
        char key[256];
        char val[16];
        int64_t expires; /* model ms */
        bool used;
    } k[MODEL_KEYS];
    int64_t now;
};

static int find(struct model *m, const char *key, size_t kl)
{
    for (int i = 0; i < MODEL_KEYS; i++)
        if (m->k[i].used && m->k[i].expires > m->now && strlen(m->k[i].key) == kl && !memcmp(m->k[i].key, key, kl))
            return i;
    return -1;
}

static bool arg_is(const struct hf_store_cmd *c, int i, const char *s)
{
    return c->argvlen[i] == strlen(s) && !memcmp(c->argv[i], s, c->argvlen[i]);
}

/* Executes cmd; the reply's strings point into the model. */
static void exec(struct model *m, const struct hf_store_cmd *c, struct hf_store_reply *r)
{
    memset(r, 0, sizeof(*r));
    int at = find(m, c->argv[1], c->argvlen[1]);
    if (arg_is(c, 0, "GET")) {
        assert_int_equal(c->argc, 2);
        if (at < 0) {
            r->type = HF_SR_NIL;
        } else {
            r->type = HF_SR_STRING;
            r->str = m->k[at].val;
            r->len = strlen(m->k[at].val);
        }
        return;
    }
    if (arg_is(c, 0, "DEL")) {
        assert_int_equal(c->argc, 2);
        r->type = HF_SR_INTEGER;
        r->integer = at >= 0;
        if (at >= 0)
            m->k[at].used = false;
        return;
    }
    assert_true(arg_is(c, 0, "SET"));
    bool nx = false, xx = false;
    int64_t px = -1;
    for (int i = 3; i < c->argc; i++) {
        if (arg_is(c, i, "NX"))
            nx = true;
        else if (arg_is(c, i, "XX"))
            xx = true;
        else if (arg_is(c, i, "PX") && i + 1 < c->argc) {
            /* arguments are counted bytes, not C strings */
            char num[32];
            i++;
            snprintf(num, sizeof(num), "%.*s", (int)c->argvlen[i], c->argv[i]);
            px = strtoll(num, NULL, 10);
        } else
            fail_msg("unexpected SET argument");
    }
    assert_true(px > 0); /* every key the protocol writes expires */
    if ((nx && at >= 0) || (xx && at < 0)) {
        r->type = HF_SR_NIL;
        return;
    }
    if (at < 0)
        for (at = 0; at < MODEL_KEYS && m->k[at].used && m->k[at].expires > m->now; at++)
            ;
    assert_true(at < MODEL_KEYS);
    snprintf(m->k[at].key, sizeof(m->k[at].key), "%.*s", (int)c->argvlen[1], c->argv[1]);
    snprintf(m->k[at].val, sizeof(m->k[at].val), "%.*s", (int)c->argvlen[2], c->argv[2]);
    m->k[at].expires = m->now + px;
    m->k[at].used = true;
    r->type = HF_SR_STATUS;
    r->str = "OK";
    r->len = 2;
}

/* One agent's claim, as dedup_redis.c runs it: SET NX, and GET when the
 * key exists. */
static enum hf_claim_result claim(struct model *m, const char *source, const char *key, int64_t window)
{
    char k[512];
    size_t kl = hf_claim_key(k, sizeof(k), source, key);
    assert_true(kl > 0);
    struct hf_store_cmd c;
    struct hf_store_reply r;
    hf_claim_cmd(&c, k, kl, hf_claim_ttl_ms(window), false);
    exec(m, &c, &r);
    int s = hf_claim_on_set(&r);
    if (s == 1)
        return HF_CLAIM_NEW;
    assert_int_equal(s, 0);
    hf_claim_ask_cmd(&c, k, kl);
    exec(m, &c, &r);
    return hf_claim_on_ask(&r);
}

static void settle(struct model *m, const char *source, const char *key, int64_t window, bool accepted)
{
    char k[512];
    size_t kl = hf_claim_key(k, sizeof(k), source, key);
    struct hf_store_cmd c;
    struct hf_store_reply r;
    if (accepted)
        hf_claim_accepted_cmd(&c, k, kl, window);
    else
        hf_claim_release_cmd(&c, k, kl);
    exec(m, &c, &r);
}

#define HOUR 3600000

static void test_two_agents_one_event(void **state)
{
    (void)state;
    struct model m = {.now = 1000};
    assert_int_equal(claim(&m, "omega", "dec_1:decision.blocked", HOUR), HF_CLAIM_NEW); /* agent A */
    assert_int_equal(claim(&m, "omega", "dec_1:decision.blocked", HOUR), HF_CLAIM_IN_FLIGHT); /* B, meanwhile */
    settle(&m, "omega", "dec_1:decision.blocked", HOUR, true); /* A journaled it */
    assert_int_equal(claim(&m, "omega", "dec_1:decision.blocked", HOUR), HF_CLAIM_DUPLICATE); /* B's retry */
    m.now += HOUR - 1;
    assert_int_equal(claim(&m, "omega", "dec_1:decision.blocked", HOUR), HF_CLAIM_DUPLICATE);
    m.now += 2; /* the window is over */
    assert_int_equal(claim(&m, "omega", "dec_1:decision.blocked", HOUR), HF_CLAIM_NEW);
    /* another source's key of the same name is another event */
    assert_int_equal(claim(&m, "sentinelayer", "dec_1:decision.blocked", HOUR), HF_CLAIM_NEW);
}

static void test_crash_between_claim_and_append(void **state)
{
    (void)state;
    struct model m = {.now = 5000};
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW); /* A claims, then dies: no settle */
    m.now += HF_CLAIM_TTL_MS - 1;
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_IN_FLIGHT); /* 503: retry */
    m.now += 1;
    /* the claim is gone after seconds: never a duplicate of an event nobody has */
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW);
}

static void test_failed_accept_releases(void **state)
{
    (void)state;
    struct model m = {.now = 0};
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW);
    settle(&m, "omega", "k", HOUR, false); /* a full queue: 503, DEL */
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW); /* at once, not after the claim's ttl */
}

static void test_accepted_after_the_claim_expired(void **state)
{
    (void)state;
    /* a journal slower than the claim's ttl: "accepted" is a plain SET, so
     * it is recorded although the claim is gone (with XX it would not be,
     * and every later retry would be accepted again) */
    struct model m = {.now = 0};
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW);
    m.now += HF_CLAIM_TTL_MS + 5;
    settle(&m, "omega", "k", HOUR, true);
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_DUPLICATE);
}

static void test_memory_mode_claims_accepted(void **state)
{
    (void)state;
    struct model m = {.now = 0};
    char k[64];
    size_t kl = hf_claim_key(k, sizeof(k), "omega", "k");
    struct hf_store_cmd c;
    struct hf_store_reply r;
    hf_claim_cmd(&c, k, kl, HOUR, true); /* one command: claimed and accepted */
    exec(&m, &c, &r);
    assert_int_equal(hf_claim_on_set(&r), 1);
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_DUPLICATE); /* at once, for the window */
    m.now += HOUR - 1;
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_DUPLICATE);
    /* a refused accept (full queue) deletes it like a claim */
    hf_claim_cmd(&c, k, kl, HOUR, true);
    m.now += 2;
    exec(&m, &c, &r);
    assert_int_equal(hf_claim_on_set(&r), 1);
    settle(&m, "omega", "k", HOUR, false);
    assert_int_equal(claim(&m, "omega", "k", HOUR), HF_CLAIM_NEW);
}

static void test_short_window(void **state)
{
    (void)state;
    assert_int_equal(hf_claim_ttl_ms(HOUR), HF_CLAIM_TTL_MS);
    assert_int_equal(hf_claim_ttl_ms(2000), 2000);
    struct model m = {.now = 0};
    assert_int_equal(claim(&m, "omega", "k", 2000), HF_CLAIM_NEW);
    m.now += 2000;
    assert_int_equal(claim(&m, "omega", "k", 2000), HF_CLAIM_NEW);
}

static void test_replies(void **state)
{
    (void)state;
    struct hf_store_reply ok = {.type = HF_SR_STATUS, .str = "OK", .len = 2};
    struct hf_store_reply nil = {.type = HF_SR_NIL};
    struct hf_store_reply err = {.type = HF_SR_ERROR, .str = "NOAUTH Authentication required.", .len = 30};
    struct hf_store_reply readonly = {
        .type = HF_SR_ERROR, .str = "READONLY You can't write against a read only replica.", .len = 53};
    struct hf_store_reply one = {.type = HF_SR_STRING, .str = "1", .len = 1};
    struct hf_store_reply zero = {.type = HF_SR_STRING, .str = "0", .len = 1};
    struct hf_store_reply other = {.type = HF_SR_STRING, .str = "x", .len = 1};
    struct hf_store_reply num = {.type = HF_SR_INTEGER, .integer = 1};
    assert_int_equal(hf_claim_on_set(&ok), 1);
    assert_int_equal(hf_claim_on_set(&nil), 0);
    assert_int_equal(hf_claim_on_set(NULL), -1); /* no reply: lost, timed out */
    assert_int_equal(hf_claim_on_set(&err), -1);
    assert_int_equal(hf_claim_on_set(&readonly), -1);
    assert_int_equal(hf_claim_on_ask(&one), HF_CLAIM_DUPLICATE);
    assert_int_equal(hf_claim_on_ask(&zero), HF_CLAIM_IN_FLIGHT);
    assert_int_equal(hf_claim_on_ask(&nil), HF_CLAIM_IN_FLIGHT); /* released or expired since the SET */
    assert_int_equal(hf_claim_on_ask(&other), HF_CLAIM_DUPLICATE);
    assert_int_equal(hf_claim_on_ask(NULL), HF_CLAIM_UNAVAILABLE);
    assert_int_equal(hf_claim_on_ask(&err), HF_CLAIM_UNAVAILABLE);
    assert_int_equal(hf_claim_on_ask(&num), HF_CLAIM_UNAVAILABLE);
}

static void test_commands(void **state)
{
    (void)state;
    char k[64];
    size_t kl = hf_claim_key(k, sizeof(k), "omega", "dec_1:decision.blocked");
    assert_string_equal(k, "hookfwd:dedup:omega:dec_1:decision.blocked");
    assert_int_equal(kl, strlen(k));
    assert_int_equal(hf_claim_key(k, 20, "omega", "dec_1:decision.blocked"), 0);
    struct hf_store_cmd c;
    hf_claim_cmd(&c, k, kl, 10000, false);
    const char *want[] = {"SET", k, "0", "NX", "PX", "10000"};
    assert_int_equal(c.argc, 6);
    for (int i = 0; i < 6; i++)
        assert_memory_equal(c.argv[i], want[i], c.argvlen[i]);
    hf_claim_cmd(&c, k, kl, 3600000, true); /* memory mode: claimed accepted */
    const char *want1[] = {"SET", k, "1", "NX", "PX", "3600000"};
    for (int i = 0; i < 6; i++)
        assert_memory_equal(c.argv[i], want1[i], c.argvlen[i]);
    hf_claim_accepted_cmd(&c, k, kl, 86400000);
    const char *want2[] = {"SET", k, "1", "PX", "86400000"};
    assert_int_equal(c.argc, 5);
    for (int i = 0; i < 5; i++)
        assert_memory_equal(c.argv[i], want2[i], c.argvlen[i]);
    hf_claim_release_cmd(&c, k, kl);
    assert_int_equal(c.argc, 2);
    assert_memory_equal(c.argv[0], "DEL", 3);

    /* the wire form: an array of bulk strings */
    char wire[256];
    hf_claim_cmd(&c, k, kl, 10000, false);
    size_t n = hf_store_cmd_resp(&c, wire, sizeof(wire));
    const char *want_wire = "*6\r\n$3\r\nSET\r\n$42\r\nhookfwd:dedup:omega:dec_1:decision.blocked\r\n"
                            "$1\r\n0\r\n$2\r\nNX\r\n$2\r\nPX\r\n$5\r\n10000\r\n";
    assert_int_equal(n, strlen(want_wire));
    assert_memory_equal(wire, want_wire, n);
    assert_int_equal(hf_store_cmd_resp(&c, wire, n - 1), 0); /* does not fit: nothing */
    assert_int_equal(hf_store_cmd_resp(&c, wire, 3), 0);
    char bin[] = "a\r\nb"; /* binary-safe: lengths, not delimiters */
    hf_claim_release_cmd(&c, bin, 4);
    n = hf_store_cmd_resp(&c, wire, sizeof(wire));
    assert_int_equal(n, strlen("*2\r\n$3\r\nDEL\r\n$4\r\na\r\nb\r\n"));
    assert_memory_equal(wire, "*2\r\n$3\r\nDEL\r\n$4\r\na\r\nb\r\n", n);
}

/* ---- redis:// URLs ---- */

static void test_url(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *host;
        int port, db;
        const char *user;
        const char *why; /* a fragment of the refusal */
    } cases[] = {
        {"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, 0, "", NULL},
        {"redis://redis.internal", "redis.internal", 6379, 0, "", NULL},
        {"redis://redis.internal/", "redis.internal", 6379, 0, "", NULL},
        {"REDIS://h:7000/15", "h", 7000, 15, "", NULL},
        {"redis://hookfwd@h:6380/2", "h", 6380, 2, "hookfwd", NULL},
        {"redis://[::1]:6379/1", "::1", 6379, 1, "", NULL},
        {"redis://[::1]", "::1", 6379, 0, "", NULL},
        {"rediss://h:6380", NULL, 0, 0, NULL, "stunnel"},
        {"redis://user:secret@h", NULL, 0, 0, NULL, "redis.password"},
        {"redis://:secret@h", NULL, 0, 0, NULL, "redis.password"},
        {"redis://h:0", NULL, 0, 0, NULL, "port"},
        {"redis://h:65536", NULL, 0, 0, NULL, "port"},
        {"redis://h:63x9", NULL, 0, 0, NULL, "port"},
        {"redis://h/db1", NULL, 0, 0, NULL, "database number"},
        {"redis://h/1/2", NULL, 0, 0, NULL, "database number"},
        {"redis://h?db=1", NULL, 0, 0, NULL, "no query"},
        {"redis://", NULL, 0, 0, NULL, "no host"},
        {"redis://:6379", NULL, 0, 0, NULL, "no host"},
        {"redis://h h", NULL, 0, 0, NULL, "host may hold"},
        {"redis://[::1", NULL, 0, 0, NULL, "brackets"},
        {"redis://[nothost]:1", NULL, 0, 0, NULL, "not an IPv6"},
        {"http://h:6379", NULL, 0, 0, NULL, "must start with redis://"},
        {"unix:///run/redis.sock", NULL, 0, 0, NULL, "must start with redis://"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hf_redis_url u;
        char why[512] = "";
        int rc = hf_redis_url_parse(cases[i].url, &u, why, sizeof(why));
        if (cases[i].host) {
            if (rc != 0)
                fail_msg("%s: refused: %s", cases[i].url, why);
            assert_string_equal(u.host, cases[i].host);
            assert_int_equal(u.port, cases[i].port);
            assert_int_equal(u.db, cases[i].db);
            assert_string_equal(u.user, cases[i].user);
        } else {
            if (rc != -1)
                fail_msg("%s: accepted", cases[i].url);
            if (!strstr(why, cases[i].why))
                fail_msg("%s: '%s' does not say '%s'", cases[i].url, why, cases[i].why);
        }
    }
}

/* ---- the config around it ---- */

static struct hf_config *load(const char *dedup, struct hf_cerr *err)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "sources:\n"
             "  - name: omega\n"
             "    path: /webhooks/omega\n"
             "    profile: omegaengine\n"
             "    signature: {scheme: hmac-sha256, header: X-S, secrets: [\"abc\"]}\n"
             "    dedup: %s\n"
             "sinks:\n"
             "  - {name: out, type: stdout}\n",
             dedup);
    char *path = tu_temp_file(text);
    struct hf_config *c = hf_config_load(path, err);
    unlink(path);
    free(path);
    return c;
}

static void test_config(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    setenv("HF_TEST_REDIS_PW", "pw-from-env", 1);
    struct hf_config *c = load("{window: 1h, store: redis, redis: {url: \"redis://10.0.0.5:6380/4\", password: "
                               "\"${HF_TEST_REDIS_PW}\", timeout: 20ms, on_unavailable: reject}}",
                               &err);
    if (!c)
        fail_msg("%s", err.msg);
    const struct hf_redis_conf *rc = c->sources[0].dedup_redis;
    assert_non_null(rc);
    assert_string_equal(rc->url.host, "10.0.0.5");
    assert_int_equal(rc->url.port, 6380);
    assert_int_equal(rc->url.db, 4);
    assert_int_equal(rc->password_len, strlen("pw-from-env"));
    assert_memory_equal(rc->password, "pw-from-env", rc->password_len);
    assert_int_equal(rc->timeout_ms, 20);
    assert_int_equal(rc->on_unavailable, HF_STORE_FALLBACK_REJECT);
    hf_config_free(c);

    c = load("{store: redis, redis: {url: \"redis://h\"}}", &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(c->sources[0].dedup_redis->timeout_ms, 50);
    assert_int_equal(c->sources[0].dedup_redis->on_unavailable, HF_STORE_FALLBACK_LOCAL);
    assert_null(c->sources[0].dedup_redis->password);
    hf_config_free(c);

    c = load("{window: 1h}", &err);
    assert_non_null(c);
    assert_null(c->sources[0].dedup_redis);
    hf_config_free(c);

    static const struct {
        const char *dedup, *why;
    } bad[] = {
        {"{store: redis}", ":6:"},
        {"{store: redis}", "dedup.redis is needed"},
        {"{redis: {url: \"redis://h\"}}", "dedup.store is local"},
        {"{store: redis, redis: {url: \"rediss://h\"}}", ":6:40: rediss://"},
        {"{store: redis, redis: {url: \"redis://h\", timeout: 0ms}}", "timeout"},
        {"{store: redis, redis: {url: \"redis://h\", on_unavailable: ignore}}", "on_unavailable"},
        {"{store: memcached, redis: {url: \"redis://h\"}}", "store"},
        {"{store: redis, redis: {url: \"redis://h\", passwd: x}}", "passwd"},
        {"{store: redis, redis: {timeout: 1s}}", "url"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        c = load(bad[i].dedup, &err);
        if (c)
            fail_msg("accepted: %s", bad[i].dedup);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("%s: '%s' does not say '%s'", bad[i].dedup, err.msg, bad[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_agents_one_event),
        cmocka_unit_test(test_crash_between_claim_and_append),
        cmocka_unit_test(test_failed_accept_releases),
        cmocka_unit_test(test_accepted_after_the_claim_expired),
        cmocka_unit_test(test_memory_mode_claims_accepted),
        cmocka_unit_test(test_short_window),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
