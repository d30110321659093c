/* SPDX-License-Identifier: Apache-2.0 */
/* The ingest path: verify, parse, flatten, dedup, rules, route. */
#define _GNU_SOURCE
#include "pipeline.h"
#include "dedup_redis.h"
#include "flatten.h"
#include "ingest_store.h"
#include "journal.h"
#include "route.h"
#include "profile.h"
#include "stats.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hf_record *hf_build_record(const struct hf_pipeline *p, const struct hf_source *src, const char *body,
                                  size_t len, const struct hf_verify_result *vr, const char *webhook_id,
                                  int64_t received_ms, char *reason, size_t reasonlen)
{
    return hf_flatten_event(src, p ? p->cfg->rules : NULL, p ? p->cfg->nrules : 0, !p || !p->no_points, body, len, vr,
                            webhook_id, received_ms, reason, reasonlen);
}

/* ---- pipeline ---- */

/* An old sink can serve a new config when nothing about it changed. */
static bool unchanged(const struct hf_pipeline *old, const struct hf_sink *s, const struct hf_config *cfg,
                      const struct hf_sink_conf *sc)
{
    return s && !strcmp(s->name, sc->name) && s->plugin == sc->plugin &&
           !strcmp(s->conf->fingerprint, sc->fingerprint) && !strcmp(old->cfg->storage_path, cfg->storage_path);
}

static struct hf_sink *take_unchanged(struct hf_pipeline *old, const struct hf_config *cfg,
                                      const struct hf_sink_conf *sc)
{
    for (size_t i = 0; old && i < old->nsinks; i++) {
        struct hf_sink *s = old->sinks[i];
        if (unchanged(old, s, cfg, sc)) {
            old->sinks[i] = NULL;
            return s;
        }
    }
    return NULL;
}

struct hf_pipeline *hf_pipeline_new(struct hf_config *cfg, struct hf_pipeline *old, struct hf_cerr *err)
{
    /* the shared dedup store's host is resolved here, on the main thread,
     * never on an ingest thread's loop */
    for (size_t i = 0; i < cfg->nsources; i++)
        if (cfg->sources[i].dedup_redis && hf_redis_conf_resolve(cfg->sources[i].dedup_redis, err) < 0)
            return NULL;
    struct hf_pipeline *p = hf_calloc(1, sizeof(*p));
    atomic_init(&p->refs, 1);
    p->cfg = cfg;
    for (size_t i = 0; i < cfg->nsources && i < HF_MAX_SOURCES; i++) {
        p->stats[i] = hf_stats_for_source(cfg->sources[i].name);
        if (cfg->sources[i].dedup_redis)
            p->store_stats[i] = hf_store_stats_for(cfg->sources[i].name);
    }
    p->sinks = hf_calloc(cfg->nsinks, sizeof(*p->sinks));
    /* build every new sink first, so a failure leaves `old` untouched */
    for (size_t i = 0; i < cfg->nsinks; i++) {
        bool reusable = false;
        for (size_t j = 0; old && j < old->nsinks; j++)
            reusable |= unchanged(old, old->sinks[j], cfg, &cfg->sinks[i]);
        if (reusable)
            continue;
        p->sinks[i] = hf_sink_new(&cfg->sinks[i], cfg->file, cfg->storage_path, err);
        if (!p->sinks[i]) {
            for (size_t k = 0; k < i; k++)
                hf_sink_free(p->sinks[k]);
            free(p->sinks);
            free(p);
            return NULL;
        }
    }
    p->no_points = true;
    for (size_t i = 0; i < cfg->nsinks; i++)
        p->no_points &= (cfg->sinks[i].takes & HF_TAKES_METRICS) == 0;
    for (size_t i = 0; i < cfg->nsinks; i++) {
        if (!p->sinks[i])
            p->sinks[i] = take_unchanged(old, cfg, &cfg->sinks[i]);
        p->nsinks++;
    }
    if (old) {
        p->dedup = old->dedup;
        old->dedup = NULL;
    } else {
        p->dedup = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    }
    return p;
}

int hf_pipeline_start(struct hf_pipeline *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (hf_sink_start(p->sinks[i]) < 0)
            return -1;
    return 0;
}

void hf_pipeline_ref(struct hf_pipeline *p) { atomic_fetch_add(&p->refs, 1); }

size_t hf_pipeline_stop(struct hf_pipeline *p, int deadline_ms)
{
    size_t left = 0;
    if (!p)
        return 0;
    for (size_t i = 0; i < p->nsinks; i++)
        if (p->sinks[i])
            left += hf_sink_stop(p->sinks[i], deadline_ms);
    for (size_t i = 0; i < p->nsinks; i++)
        hf_sink_free(p->sinks[i]);
    free(p->sinks);
    p->sinks = NULL;
    p->nsinks = 0;
    hf_dedup_free(p->dedup);
    p->dedup = NULL;
    return left;
}

void hf_pipeline_unref(struct hf_pipeline *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    hf_pipeline_stop(p, 0);
    hf_config_free(p->cfg);
    free(p);
}

const struct hf_source *hf_pipeline_source(const struct hf_pipeline *p, const char *path, size_t len)
{
    for (size_t i = 0; i < p->cfg->nsources; i++) {
        const char *sp = p->cfg->sources[i].path;
        if (strlen(sp) == len && !memcmp(sp, path, len))
            return &p->cfg->sources[i];
    }
    return NULL;
}

int hf_route_reserve(struct hf_pipeline *p, const struct hf_record *r, struct hf_sink **chosen, size_t *nout)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nsinks && n < HF_MAX_SINKS; i++) {
        struct hf_sink *s = p->sinks[i];
        if (!hf_route_takes(s->conf, r))
            continue;
        if (hf_sink_reserve(s) < 0) {
            for (size_t j = 0; j < n; j++)
                hf_sink_unreserve(chosen[j]);
            return -1;
        }
        chosen[n++] = s;
    }
    *nout = n;
    return 0;
}

int hf_route(struct hf_pipeline *p, struct hf_record *r)
{
    struct hf_sink *chosen[HF_MAX_SINKS];
    size_t n;
    if (hf_route_reserve(p, r, chosen, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        hf_sink_push(chosen[i], r);
    return 0;
}

bool hf_pipeline_ready(struct hf_pipeline *p)
{
    for (size_t i = 0; i < p->nsinks; i++)
        if (hf_sink_full(p->sinks[i]))
            return false;
    return true;
}

static void set_result(struct hf_ingest_result *res, int status, const char *reason)
{
    res->status = status;
    hf_str_join3(res->reason, sizeof(res->reason), reason, NULL, NULL);
}

struct deferred {
    struct hf_pipeline *p;
    const struct hf_source *src;
    struct hf_source_stats *st;
    bool dedup;
    struct hf_redis_claim *claim; /* shared dedup: settled before the answer */
    struct hf_ingest_result res;
    hf_ingest_done_fn done;
    void *arg;
    size_t n;
    struct hf_sink *chosen[]; /* the n sinks reserved, sized to them */
};

static void accepted(struct hf_source_stats *st, struct hf_ingest_result *res)
{
    set_result(res, 202, "accepted");
    hf_stats_count(st, 202);
    if (st)
        atomic_fetch_add_explicit(&st->accepted, 1, memory_order_relaxed);
}

/* Not accepted after all: the key is free again, here and in Redis. */
static void refuse_full(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                        const struct hf_record *r, bool dedup, struct hf_redis_claim *claim,
                        struct hf_ingest_result *res, const char *why)
{
    if (dedup)
        hf_dedup_remove(p->dedup, src->name, r->idempotency_key);
    hf_redis_settle(claim, false);
    set_result(res, 503, why);
    res->retry_after = 1;
    hf_stats_count(st, 503);
}

/* Journal thread: the event is durable (or could not be written). */
static void journal_done(void *arg, struct hf_record *r, bool ok)
{
    struct deferred *d = arg;
    if (ok) {
        for (size_t i = 0; i < d->n; i++)
            hf_journal_track_push(d->p->journal, d->chosen[i], r);
        hf_redis_settle(d->claim, true);
        accepted(d->st, &d->res);
    } else {
        for (size_t i = 0; i < d->n; i++)
            hf_sink_unreserve(d->chosen[i]);
        refuse_full(d->p, d->src, d->st, r, d->dedup, d->claim, &d->res, "storage write failed; retry later");
    }
    d->done(d->arg, &d->res);
    free(d);
}

void hf_ingest_accept(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                      struct hf_record *r, bool dedup, struct hf_redis_claim *claim, int64_t now,
                      struct hf_ingest_result *res, hf_ingest_done_fn done, void *done_arg)
{
    if (!p->journal) {
        if (hf_route(p, r) < 0) {
            refuse_full(p, src, st, r, dedup, claim, res, "a sink queue is full; retry later");
        } else {
            hf_redis_settle(claim, true);
            accepted(st, res);
        }
        return;
    }
    struct hf_sink *chosen[HF_MAX_SINKS];
    size_t n;
    if (hf_route_reserve(p, r, chosen, &n) < 0) {
        refuse_full(p, src, st, r, dedup, claim, res, "a sink queue is full; retry later");
        return;
    }
    /* not zeroed (res alone is 400 bytes): every member is set here */
    struct deferred *d = malloc(sizeof(*d) + n * sizeof(*chosen));
    if (!d)
        d = hf_calloc(1, sizeof(*d) + n * sizeof(*chosen));
    d->p = p;
    d->src = src;
    d->st = st;
    d->dedup = dedup;
    d->claim = claim;
    d->done = done;
    d->arg = done_arg;
    d->res = *res;
    d->n = n;
    memcpy(d->chosen, chosen, n * sizeof(*chosen));
    if (hf_journal_append(p->journal, r, dedup ? src->name : NULL, now + src->dedup_window_ms, journal_done, d) < 0) {
        for (size_t i = 0; i < d->n; i++)
            hf_sink_unreserve(d->chosen[i]);
        refuse_full(p, src, st, r, dedup, claim, res, "storage.max_size is reached; retry later");
        free(d);
    }
    /* else: res->status stays 0, the answer comes through done() */
}

void hf_ingest(struct hf_pipeline *p, const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr,
               void *hctx, struct hf_ingest_result *res, const struct hf_ingest_io *io)
{
    memset(res, 0, sizeof(*res));
    int64_t now = hf_now_ms();
    struct hf_source_stats *st = src->index < HF_MAX_SOURCES ? p->stats[src->index] : NULL;
    struct hf_verify_result vr;
    hf_verify(src, body, len, hdr, hctx, now, &vr);
    if (vr.status != HF_VERIFY_OK) {
        set_result(res, 401, vr.why);
        hf_stats_count(st, 401);
        return;
    }
    if (st && vr.key_index < HF_MAX_KEYS)
        atomic_fetch_add_explicit(&st->key_used[vr.key_index], 1, memory_order_relaxed);
    const char *wid = src->scheme == HF_SIG_STANDARD_WEBHOOKS ? hdr(hctx, "webhook-id") : NULL;
    struct hf_record *r = hf_build_record(p, src, body, len, &vr, wid, now, res->reason, sizeof(res->reason));
    if (!r) {
        res->status = 400;
        hf_stats_count(st, 400);
        return;
    }
    hf_str_join3(res->id, sizeof(res->id), r->event_id ? r->event_id : r->idempotency_key, NULL, NULL);
    if (!res->id[0])
        snprintf(res->id, sizeof(res->id), "%016llx", (unsigned long long)hf_random64());
    bool dedup = src->dedup && r->idempotency_key;
    if (dedup && hf_dedup_check_insert(p->dedup, src->name, r->idempotency_key, src->dedup_window_ms, now)) {
        set_result(res, 200, "duplicate");
        hf_stats_count(st, 200);
        hf_record_unref(r);
        return;
    }
    /* the local set said new: with a shared store, Redis has the last word */
    if (dedup && src->dedup_redis && hf_ingest_claim(p, src, st, r, now, res, io)) {
        hf_record_unref(r);
        return;
    }
    if (res->status == 0)
        hf_ingest_accept(p, src, st, r, dedup, NULL, now, res, io ? io->done : NULL, io ? io->done_arg : NULL);
    hf_record_unref(r);
}

void hf_pipeline_attach_journal(struct hf_pipeline *p, struct hf_journal *j, bool replay)
{
    struct hf_journal_view v = {.sinks = p->sinks, .nsinks = p->nsinks, .dedup = p->dedup, .cfg = p->cfg};
    p->journal = j;
    hf_journal_attach(j, &v, replay);
    if (replay)
        hf_ingest_store_mark_recent(p);
}
