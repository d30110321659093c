/* SPDX-License-Identifier: Apache-2.0 */
/* Shared dedup over hiredis's asynchronous API on the ingest threads'
 * libevent loops: per thread and Redis one connection (a `struct rconn`),
 * created on the first claim and kept in thread-specific data until the
 * thread ends.
 *
 * A connection is DOWN, CONNECTING or UP. AUTH, SELECT and PING go first
 * and claims are pipelined behind them, so the first claims of a fresh
 * connection wait for one handshake, never for a failed one: a refused
 * connect, an error reply or a reset ends every pending command with no
 * reply. hiredis 0.14 has no command timeout, so the claims waiting on a
 * connection form a list, oldest first, and one timer watches the oldest:
 * past its deadline the connection is dropped (redisAsyncFree answers every
 * pending command with no reply), which is what a stopped Redis needs. A
 * DOWN connection is tried again only on a claim after its backoff, so a
 * Redis nobody uses any more costs nothing. The connections run on the
 * ingest loops through redis_event.c. */
#define _GNU_SOURCE
#include "dedup_redis.h"
#include "redis_event.h"
#include "util.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define MAX_KEY 1024
#define MAX_STATS 64
#define MAX_ENDPOINTS 32

const char *const hf_claim_result_names[HF_CLAIM_RESULTS] = {"new", "duplicate", "in_flight", "unavailable"};

const double hf_store_rtt_bounds[HF_STORE_RTT_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01,   0.025,   0.05,   0.1,   0.25,   1};

/* ---- per-source stats ---- */

static struct hf_store_stats stats[MAX_STATS];
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

struct hf_store_stats *hf_store_stats_for(const char *source)
{
    struct hf_store_stats *st = NULL;
    pthread_mutex_lock(&stats_mu);
    for (int i = 0; i < MAX_STATS && !st; i++) {
        if (!strcmp(stats[i].source, source))
            st = &stats[i];
        else if (!stats[i].source[0]) {
            snprintf(stats[i].source, sizeof(stats[i].source), "%s", source);
            st = &stats[i];
        }
    }
    pthread_mutex_unlock(&stats_mu);
    return st;
}

size_t hf_store_stats_list(struct hf_store_stats **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&stats_mu);
    for (int i = 0; i < MAX_STATS && stats[i].source[0] && n < max; i++)
        out[n++] = &stats[i];
    pthread_mutex_unlock(&stats_mu);
    return n;
}

static void count_claim(struct hf_store_stats *st, enum hf_claim_result res)
{
    if (!st)
        return;
    atomic_fetch_add_explicit(&st->claims[res], 1, memory_order_relaxed);
    if (res == HF_CLAIM_UNAVAILABLE)
        atomic_fetch_add_explicit(&st->errors, 1, memory_order_relaxed);
}

static void count_rtt(struct hf_store_stats *st, int64_t us)
{
    if (!st)
        return;
    double sec = (double)us / 1e6;
    int i = 0;
    while (i < HF_STORE_RTT_BUCKETS && sec > hf_store_rtt_bounds[i])
        i++;
    atomic_fetch_add_explicit(&st->rtt_bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->rtt_sum_us, (unsigned long long)us, memory_order_relaxed);
}

/* ---- outages, logged once per Redis for all threads ---- */

struct endpoint {
    char name[320]; /* host:port/db as configured, for the log */
    char addr[256];
    int port, db;
    atomic_int down;
    _Atomic int64_t since_ms;
};

static struct endpoint endpoints[MAX_ENDPOINTS];
static struct endpoint endpoint_overflow = {.name = "(more Redis servers than tracked)"};
static pthread_mutex_t endpoints_mu = PTHREAD_MUTEX_INITIALIZER;

static struct endpoint *endpoint_for(const struct hf_redis_conf *conf, const char *addr)
{
    struct endpoint *ep = &endpoint_overflow;
    pthread_mutex_lock(&endpoints_mu);
    for (int i = 0; i < MAX_ENDPOINTS; i++) {
        struct endpoint *e = &endpoints[i];
        if (!e->name[0]) {
            snprintf(e->name, sizeof(e->name), "%s:%d/%d", conf->url.host, conf->url.port, conf->url.db);
            snprintf(e->addr, sizeof(e->addr), "%s", addr);
            e->port = conf->url.port;
            e->db = conf->url.db;
            ep = e;
            break;
        }
        if (!strcmp(e->addr, addr) && e->port == conf->url.port && e->db == conf->url.db) {
            ep = e;
            break;
        }
    }
    pthread_mutex_unlock(&endpoints_mu);
    return ep;
}

static void outage_begins(struct endpoint *ep, const char *why)
{
    if (atomic_exchange(&ep->down, 1))
        return;
    atomic_store(&ep->since_ms, hf_mono_ms());
    hf_log_warn("dedup",
                "Redis at %s cannot be used (%s): sources with dedup.store redis follow their "
                "on_unavailable (local or reject) until it answers again",
                ep->name, why);
}

static void outage_ends(struct endpoint *ep)
{
    if (!atomic_exchange(&ep->down, 0))
        return;
    hf_log_info("dedup", "Redis at %s answers again after %.1f s; dedup is shared again", ep->name,
                (double)(hf_mono_ms() - atomic_load(&ep->since_ms)) / 1000.0);
}

/* ---- connections ---- */

enum rc_state { RC_DOWN, RC_CONNECTING, RC_UP };

struct rconn {
    struct rconn *next; /* the thread's list */
    struct event_base *base;
    pthread_t owner;
    char addr[256];
    int port, db;
    char user[128];
    char *password;
    size_t password_len;
    struct endpoint *ep;
    redisAsyncContext *ac; /* NULL while DOWN */
    enum rc_state state;
    int attempts; /* failures since it was last UP */
    int64_t next_try_ms;
    int64_t timeout_ms; /* redis.timeout, from the latest claim */
    int64_t handshake_deadline_us; /* while CONNECTING */
    struct event *timer; /* the handshake's or oldest waiting claim's deadline */
    struct hf_redis_claim *head, *tail; /* claims waiting for a reply, oldest first */
    struct event *mail_ev; /* settles from other threads */
    pthread_mutex_t mail_mu;
    struct hf_redis_claim *mail;
    bool closing; /* the thread is ending: nobody to answer */
};

struct hf_redis_claim {
    struct rconn *rc;
    struct hf_redis_claim *prev, *next; /* rc's waiting list */
    struct hf_redis_claim *mail_next;
    bool waiting;
    bool accepted;
    bool final; /* claimed as accepted already */
    enum hf_claim_result result;
    int64_t sent_us, deadline_us;
    int64_t window_ms;
    struct hf_store_stats *st;
    hf_claim_done_fn done;
    void *arg;
    size_t klen;
    char key[];
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const struct hf_store_reply *convert(const redisReply *r, struct hf_store_reply *out)
{
    if (!r)
        return NULL;
    memset(out, 0, sizeof(*out));
    switch (r->type) {
    case REDIS_REPLY_NIL: out->type = HF_SR_NIL; break;
    case REDIS_REPLY_STATUS: out->type = HF_SR_STATUS; break;
    case REDIS_REPLY_STRING: out->type = HF_SR_STRING; break;
    case REDIS_REPLY_ERROR: out->type = HF_SR_ERROR; break;
    case REDIS_REPLY_INTEGER:
        out->type = HF_SR_INTEGER;
        out->integer = r->integer;
        break;
    default: out->type = HF_SR_OTHER; break;
    }
    if (out->type == HF_SR_STATUS || out->type == HF_SR_STRING || out->type == HF_SR_ERROR) {
        out->str = r->str;
        out->len = r->len;
    }
    return out;
}

static void unlink_waiting(struct hf_redis_claim *c)
{
    struct rconn *rc = c->rc;
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        rc->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        rc->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
}

static void decide(struct hf_redis_claim *c, enum hf_claim_result res)
{
    unlink_waiting(c);
    c->result = res;
    count_claim(c->st, res);
    if (c->rc->closing) {
        free(c); /* the thread is ending with no request left to answer */
        return;
    }
    c->done(c->arg, c, res);
}

/* The connection is gone (hiredis frees it, or we are about to). */
static void rc_lost(struct rconn *rc, const char *why)
{
    rc->ac = NULL;
    rc->state = RC_DOWN;
    int64_t delay = BACKOFF_FIRST_MS << (rc->attempts < 6 ? rc->attempts : 6);
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    delay += (int64_t)(hf_random64() % (uint64_t)(delay / 4 + 1)); /* threads do not retry in step */
    rc->next_try_ms = hf_mono_ms() + delay;
    rc->attempts++;
    if (!rc->closing)
        outage_begins(rc->ep, why);
}

/* Drops the connection: every pending command ends with no reply. */
static void rc_fail(struct rconn *rc, const char *why)
{
    redisAsyncContext *ac = rc->ac;
    if (!ac)
        return;
    rc_lost(rc, why);
    redisAsyncFree(ac); /* deferred by hiredis when called from one of its callbacks */
}

static const char *errstr(const redisAsyncContext *ac, const char *dflt)
{
    return ac && ac->errstr[0] ? ac->errstr : dflt;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rconn *rc = ac->data;
    if (status != REDIS_OK && rc && rc->ac == ac)
        rc_lost(rc, errstr(ac, "cannot connect")); /* hiredis frees it after this */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rconn *rc = ac->data;
    if (!rc || rc->ac != ac)
        return;
    if (rc->state == RC_UP && !rc->head) {
        /* closed while idle (Redis's `timeout` for idle clients, a
         * restart between events): not an outage; the next claim connects
         * again at once and waits for that handshake */
        rc->ac = NULL;
        rc->state = RC_DOWN;
        rc->attempts = 0;
        rc->next_try_ms = 0;
        hf_log_debug("dedup", "Redis at %s closed an idle connection (%s)", rc->ep->name,
                     status == REDIS_OK ? "closed" : errstr(ac, "connection lost"));
        return;
    }
    rc_lost(rc, status == REDIS_OK ? "connection closed" : errstr(ac, "connection lost"));
}

/* A handshake step's reply (AUTH, SELECT, PING, named by what): a lost
 * connection or an error reply ends the connection, with the reason.
 * Returns the connection when the step succeeded, NULL otherwise. */
static struct rconn *handshake_step(redisAsyncContext *ac, const redisReply *r, const char *what)
{
    struct rconn *rc = ac->data;
    if (!rc || rc->ac != ac)
        return NULL;
    if (!r) {
        rc_lost(rc, errstr(ac, "connection lost"));
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char why[256];
        snprintf(why, sizeof(why), "%s answered %.180s", what, r->str);
        rc_fail(rc, why);
        return NULL;
    }
    return rc;
}

static void on_handshake(redisAsyncContext *ac, void *reply, void *priv) { handshake_step(ac, reply, priv); }

/* The PING after the handshake: the connection is up. */
static void on_ready(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    struct rconn *rc = handshake_step(ac, reply, "PING");
    if (!rc)
        return;
    rc->state = RC_UP;
    rc->attempts = 0;
    outage_ends(rc->ep);
}

/* Queues cmd in Redis's protocol (formatted here: hiredis's own formatting
 * builds each argument with a printf-like function). */
static int send_cmd(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, const struct hf_store_cmd *cmd)
{
    char buf[MAX_KEY + 128];
    size_t len = hf_store_cmd_resp(cmd, buf, sizeof(buf));
    if (len == 0)
        return REDIS_ERR;
    return redisAsyncFormattedCommand(ac, fn, priv, buf, len);
}

static void arm(struct rconn *rc, int64_t now_us);

static bool rc_connect(struct rconn *rc)
{
    redisAsyncContext *ac = redisAsyncConnect(rc->addr, rc->port);
    if (!ac) {
        rc_lost(rc, "out of memory");
        return false;
    }
    if (ac->err) {
        rc_lost(rc, ac->errstr);
        redisAsyncFree(ac);
        return false;
    }
    ac->data = rc;
    rc->ac = ac;
    rc->state = RC_CONNECTING;
    hf_redis_event_attach(ac, rc->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (rc->password) {
        const char *argv[3] = {"AUTH", rc->user, rc->password};
        size_t lens[3] = {4, strlen(rc->user), rc->password_len};
        if (rc->user[0])
            redisAsyncCommandArgv(ac, on_handshake, "AUTH", 3, argv, lens);
        else
            redisAsyncCommandArgv(ac, on_handshake, "AUTH", 2, (const char *[]){"AUTH", rc->password},
                                  (size_t[]){4, rc->password_len});
    }
    if (rc->db)
        redisAsyncCommand(ac, on_handshake, "SELECT", "SELECT %d", rc->db);
    redisAsyncCommand(ac, on_ready, NULL, "PING");
    int64_t now = mono_us();
    rc->handshake_deadline_us = now + rc->timeout_ms * 1000;
    arm(rc, now);
    return true;
}

static void arm(struct rconn *rc, int64_t now_us)
{
    int64_t due = INT64_MAX;
    if (rc->state == RC_CONNECTING)
        due = rc->handshake_deadline_us;
    if (rc->head && rc->head->deadline_us < due)
        due = rc->head->deadline_us;
    if (due == INT64_MAX)
        return;
    int64_t left = due - now_us;
    if (left < 0)
        left = 0;
    struct timeval tv = {.tv_sec = left / 1000000, .tv_usec = left % 1000000};
    evtimer_add(rc->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rconn *rc = arg;
    int64_t now = mono_us();
    char why[96];
    if (rc->state == RC_CONNECTING && rc->handshake_deadline_us <= now) {
        snprintf(why, sizeof(why), "no answer to the connection handshake within %lld ms", (long long)rc->timeout_ms);
        rc_fail(rc, why);
        return;
    }
    if (rc->head && rc->head->deadline_us <= now) {
        snprintf(why, sizeof(why), "no answer within %lld ms",
                 (long long)((rc->head->deadline_us - rc->head->sent_us) / 1000));
        rc_fail(rc, why);
        return;
    }
    arm(rc, now);
}

static void settle_now(struct hf_redis_claim *c);

static void on_mail(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rconn *rc = arg;
    pthread_mutex_lock(&rc->mail_mu);
    struct hf_redis_claim *list = rc->mail;
    rc->mail = NULL;
    pthread_mutex_unlock(&rc->mail_mu);
    while (list) {
        struct hf_redis_claim *n = list->mail_next;
        settle_now(list);
        list = n;
    }
}

static pthread_key_t conns_key;
static pthread_once_t conns_once = PTHREAD_ONCE_INIT;

static void rconn_free(struct rconn *rc)
{
    rc->closing = true;
    if (rc->ac) {
        redisAsyncContext *ac = rc->ac;
        rc->ac = NULL;
        /* the last "accepted" marks may still sit in the output buffer */
        if (rc->state == RC_UP)
            redisAsyncHandleWrite(ac);
        redisAsyncFree(ac);
    }
    for (struct hf_redis_claim *c = rc->mail, *n; c; c = n) {
        n = c->mail_next;
        free(c);
    }
    event_free(rc->timer);
    event_free(rc->mail_ev);
    pthread_mutex_destroy(&rc->mail_mu);
    if (rc->password) {
        explicit_bzero(rc->password, rc->password_len);
        free(rc->password);
    }
    free(rc);
}

/* Thread exit: the thread's loop still exists (it is freed after the join). */
static void conns_free(void *list)
{
    for (struct rconn *rc = list, *n; rc; rc = n) {
        n = rc->next;
        rconn_free(rc);
    }
}

static void conns_key_init(void) { pthread_key_create(&conns_key, conns_free); }

static bool same_redis(const struct rconn *rc, struct event_base *base, const struct hf_redis_conf *conf,
                       const char *addr)
{
    return rc->base == base && rc->port == conf->url.port && rc->db == conf->url.db && !strcmp(rc->addr, addr) &&
           !strcmp(rc->user, conf->url.user) && rc->password_len == conf->password_len &&
           (!rc->password || !memcmp(rc->password, conf->password, rc->password_len)) &&
           (rc->password != NULL) == (conf->password != NULL);
}

static struct rconn *conn_for(struct event_base *base, const struct hf_redis_conf *conf)
{
    pthread_once(&conns_once, conns_key_init);
    const char *addr = conf->addr[0] ? conf->addr : conf->url.host;
    struct rconn *head = pthread_getspecific(conns_key);
    for (struct rconn *rc = head; rc; rc = rc->next)
        if (same_redis(rc, base, conf, addr))
            return rc;
    struct rconn *rc = hf_calloc(1, sizeof(*rc));
    rc->base = base;
    rc->owner = pthread_self();
    snprintf(rc->addr, sizeof(rc->addr), "%s", addr);
    rc->port = conf->url.port;
    rc->db = conf->url.db;
    snprintf(rc->user, sizeof(rc->user), "%s", conf->url.user);
    if (conf->password) {
        rc->password = hf_strndup(conf->password, conf->password_len);
        rc->password_len = conf->password_len;
    }
    rc->ep = endpoint_for(conf, addr);
    rc->timer = evtimer_new(base, on_timer, rc);
    rc->mail_ev = event_new(base, -1, 0, on_mail, rc);
    pthread_mutex_init(&rc->mail_mu, NULL);
    rc->next = head;
    pthread_setspecific(conns_key, rc);
    return rc;
}

/* ---- claims ---- */

static void on_ask(redisAsyncContext *ac, void *reply, void *priv)
{
    struct hf_redis_claim *c = priv;
    struct hf_store_reply rr;
    const struct hf_store_reply *r = convert(reply, &rr);
    enum hf_claim_result res = hf_claim_on_ask(r);
    if (!r && c->rc->ac == ac)
        rc_lost(c->rc, errstr(ac, "connection lost"));
    else if (res == HF_CLAIM_UNAVAILABLE && r)
        rc_fail(c->rc, "unexpected reply to GET");
    decide(c, res);
}

static void on_claim(redisAsyncContext *ac, void *reply, void *priv)
{
    struct hf_redis_claim *c = priv;
    struct rconn *rc = c->rc;
    struct hf_store_reply rr;
    const struct hf_store_reply *r = convert(reply, &rr);
    switch (hf_claim_on_set(r)) {
    case 1:
        count_rtt(c->st, mono_us() - c->sent_us);
        decide(c, HF_CLAIM_NEW);
        return;
    case 0: {
        count_rtt(c->st, mono_us() - c->sent_us);
        struct hf_store_cmd cmd;
        hf_claim_ask_cmd(&cmd, c->key, c->klen);
        if (send_cmd(ac, on_ask, c, &cmd) != REDIS_OK)
            decide(c, HF_CLAIM_UNAVAILABLE);
        return; /* still waiting, with its first deadline */
    }
    default:
        if (!r) {
            if (rc->ac == ac)
                rc_lost(rc, errstr(ac, "connection lost"));
        } else {
            char why[256];
            snprintf(why, sizeof(why), "SET answered %.180s", r->type == HF_SR_ERROR ? r->str : "something else");
            rc_fail(rc, why);
        }
        decide(c, HF_CLAIM_UNAVAILABLE);
    }
}

struct hf_redis_claim *hf_redis_claim(struct event_base *base, const struct hf_redis_conf *conf, const char *source,
                                      const char *key, int64_t window_ms, bool final, struct hf_store_stats *st,
                                      hf_claim_done_fn done, void *arg, enum hf_claim_result *now)
{
    *now = HF_CLAIM_UNAVAILABLE;
    char k[MAX_KEY];
    size_t kl = hf_claim_key(k, sizeof(k), source, key);
    struct rconn *rc = conn_for(base, conf);
    rc->timeout_ms = conf->timeout_ms;
    if (!kl || (rc->state == RC_DOWN && (hf_mono_ms() < rc->next_try_ms || !rc_connect(rc))) ||
        (rc->state == RC_CONNECTING && rc->attempts > 0 && atomic_load(&rc->ep->down))) {
        /* known down, or being probed during an outage: claims do not
         * queue behind a handshake that may never be answered (they do on
         * a first connection, and when another thread has seen Redis
         * answer again) */
        count_claim(st, HF_CLAIM_UNAVAILABLE);
        return NULL;
    }
    struct hf_redis_claim *c = hf_calloc(1, sizeof(*c) + kl + 1);
    memcpy(c->key, k, kl + 1);
    c->klen = kl;
    c->rc = rc;
    c->window_ms = window_ms;
    c->final = final;
    c->st = st;
    c->done = done;
    c->arg = arg;
    struct hf_store_cmd cmd;
    hf_claim_cmd(&cmd, c->key, kl, final ? window_ms : hf_claim_ttl_ms(window_ms), final);
    if (send_cmd(rc->ac, on_claim, c, &cmd) != REDIS_OK) {
        free(c);
        rc_fail(rc, "cannot queue a command");
        count_claim(st, HF_CLAIM_UNAVAILABLE);
        return NULL;
    }
    c->sent_us = mono_us();
    c->deadline_us = c->sent_us + conf->timeout_ms * 1000;
    c->waiting = true;
    c->prev = rc->tail;
    if (rc->tail)
        rc->tail->next = c;
    else
        rc->head = c;
    rc->tail = c;
    if (rc->head == c)
        arm(rc, c->sent_us);
    return c;
}

static void on_settled(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    const redisReply *r = reply;
    struct hf_store_stats *st = priv;
    if ((!r || r->type == REDIS_REPLY_ERROR) && st)
        atomic_fetch_add_explicit(&st->errors, 1, memory_order_relaxed);
}

static void settle_now(struct hf_redis_claim *c)
{
    struct rconn *rc = c->rc;
    struct hf_store_cmd cmd;
    if (c->accepted)
        hf_claim_accepted_cmd(&cmd, c->key, c->klen, c->window_ms);
    else
        hf_claim_release_cmd(&cmd, c->key, c->klen);
    if (!rc->ac || rc->closing || send_cmd(rc->ac, on_settled, c->st, &cmd) != REDIS_OK) {
        /* the claim stays until its short ttl runs out */
        if (c->st)
            atomic_fetch_add_explicit(&c->st->errors, 1, memory_order_relaxed);
    }
    free(c);
}

void hf_redis_settle(struct hf_redis_claim *c, bool accepted)
{
    if (!c)
        return;
    if (c->result != HF_CLAIM_NEW || (c->final && accepted)) {
        free(c);
        return;
    }
    c->accepted = accepted;
    struct rconn *rc = c->rc;
    if (pthread_equal(pthread_self(), rc->owner)) {
        settle_now(c);
        return;
    }
    pthread_mutex_lock(&rc->mail_mu);
    c->mail_next = rc->mail;
    rc->mail = c;
    pthread_mutex_unlock(&rc->mail_mu);
    event_active(rc->mail_ev, EV_READ, 0);
}

/* ---- start: marks written synchronously ---- */

int hf_redis_mark_accepted(const struct hf_redis_conf *conf, const struct hf_store_mark *marks, size_t n,
                           int64_t now_ms)
{
    int64_t ms = conf->timeout_ms > 1000 ? conf->timeout_ms : 1000;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    const char *addr = conf->addr[0] ? conf->addr : conf->url.host;
    redisContext *c = redisConnectWithTimeout(addr, conf->url.port, tv);
    int written = -1;
    if (!c || c->err)
        goto out;
    redisSetTimeout(c, tv);
    size_t sent = 0;
    if (conf->password) {
        const char *argv[3] = {"AUTH", conf->url.user, conf->password};
        size_t lens[3] = {4, strlen(conf->url.user), conf->password_len};
        if (conf->url.user[0])
            redisAppendCommandArgv(c, 3, argv, lens);
        else
            redisAppendCommandArgv(c, 2, (const char *[]){"AUTH", conf->password}, (size_t[]){4, conf->password_len});
        sent++;
    }
    if (conf->url.db) {
        redisAppendCommand(c, "SELECT %d", conf->url.db);
        sent++;
    }
    size_t setup = sent;
    for (size_t i = 0; i < n; i++) {
        char k[MAX_KEY];
        size_t kl = hf_claim_key(k, sizeof(k), marks[i].source, marks[i].key);
        if (!kl || marks[i].expires_ms <= now_ms)
            continue;
        struct hf_store_cmd cmd;
        hf_claim_accepted_cmd(&cmd, k, kl, marks[i].expires_ms - now_ms);
        redisAppendCommandArgv(c, cmd.argc, cmd.argv, cmd.argvlen);
        sent++;
    }
    written = 0;
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            written = -1;
            break;
        }
        bool ok = r->type != REDIS_REPLY_ERROR;
        if (i < setup && !ok) {
            hf_log_warn("dedup", "Redis at %s:%d refused the start-up marks: %s", conf->url.host, conf->url.port,
                        r->str);
            freeReplyObject(r);
            written = -1;
            break;
        }
        if (i >= setup && ok)
            written++;
        freeReplyObject(r);
    }
out:
    if (c)
        redisFree(c);
    return written;
}
