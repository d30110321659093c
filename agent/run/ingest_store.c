/* SPDX-License-Identifier: Apache-2.0 */
/* Shared dedup on the ingest path: an event new to this agent's set asks
 * Redis (dedup_redis.c) and waits, with its sender's answer deferred, for
 * the reply or the timeout; the answer then carries it on against the
 * pipeline in place at that moment (a reload may have come between).
 *
 *   NEW          accept; the claim becomes "accepted" once the event is
 *                routed (memory) or on disk (journal), or is released
 *   DUPLICATE    200 duplicate: another agent (or this one) accepted it
 *   IN_FLIGHT    503 Retry-After 1: another agent is accepting it now; its
 *                retry finds it accepted, or free if that agent failed
 *   UNAVAILABLE  on_unavailable: local accepts on this agent's word alone,
 *                reject answers 503 Retry-After 1 until Redis is back */
#include "ingest_store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct hf_ingest_pending {
    struct hf_record *r; /* owns its source name */
    struct hf_source_stats *st;
    struct hf_redis_claim *claim;
    enum hf_claim_result result;
    int64_t now;
    struct hf_ingest_io io;
    struct hf_ingest_result res;
};

static void answer(struct hf_source_stats *st, struct hf_ingest_result *res, int status, const char *reason)
{
    res->status = status;
    hf_str_join3(res->reason, sizeof(res->reason), reason, NULL, NULL);
    if (status == 503)
        res->retry_after = 1;
    hf_stats_count(st, status);
}

/* Redis cannot tell: the source's on_unavailable decides. Returns true
 * when the event goes on to be accepted. */
static bool fallback(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                     struct hf_store_stats *sst, const struct hf_record *r, struct hf_ingest_result *res)
{
    if (src->dedup_redis && src->dedup_redis->on_unavailable == HF_STORE_FALLBACK_REJECT) {
        hf_dedup_remove(p->dedup, src->name, r->idempotency_key);
        if (sst)
            atomic_fetch_add_explicit(&sst->fallback_reject, 1, memory_order_relaxed);
        answer(st, res, 503, "the shared dedup store (Redis) cannot be reached; retry later");
        return false;
    }
    if (sst)
        atomic_fetch_add_explicit(&sst->fallback_local, 1, memory_order_relaxed);
    return true;
}

static void claim_done(void *arg, struct hf_redis_claim *c, enum hf_claim_result result)
{
    struct hf_ingest_pending *pd = arg;
    pd->claim = c;
    pd->result = result;
    pd->io.resume(pd->io.resume_arg, pd);
}

bool hf_ingest_claim(struct hf_pipeline *p, const struct hf_source *src, struct hf_source_stats *st,
                     struct hf_record *r, int64_t now, struct hf_ingest_result *res, const struct hf_ingest_io *io)
{
    if (!io || !io->base || !io->resume || !io->done)
        return false; /* a caller that cannot wait (tools, benchmarks): this agent's set decides */
    struct hf_store_stats *sst = src->index < HF_MAX_SOURCES ? p->store_stats[src->index] : NULL;
    struct hf_ingest_pending *pd = hf_calloc(1, sizeof(*pd));
    enum hf_claim_result now_res;
    /* without a journal the accept follows at once: claim it accepted */
    struct hf_redis_claim *c = hf_redis_claim(io->base, src->dedup_redis, src->name, r->idempotency_key,
                                              src->dedup_window_ms, p->journal == NULL, sst, claim_done, pd, &now_res);
    if (!c) {
        free(pd);
        fallback(p, src, st, sst, r, res);
        return false;
    }
    hf_record_ref(r);
    pd->r = r;
    pd->st = st;
    pd->now = now;
    pd->io = *io;
    pd->res = *res;
    return true;
}

static const struct hf_source *source_named(const struct hf_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->cfg->nsources; i++)
        if (!strcmp(p->cfg->sources[i].name, name))
            return &p->cfg->sources[i];
    return NULL;
}

bool hf_ingest_resume(struct hf_pipeline *p, struct hf_ingest_pending *pd, struct hf_ingest_result *out,
                      void **done_arg)
{
    struct hf_ingest_result *res = &pd->res;
    const struct hf_source *src = source_named(p, pd->r->source);
    struct hf_store_stats *sst = src && src->index < HF_MAX_SOURCES ? p->store_stats[src->index] : NULL;
    bool accept = false;
    if (!src || !src->dedup) {
        /* a reload took the source (or its dedup) away meanwhile */
        if (src)
            hf_dedup_remove(p->dedup, src->name, pd->r->idempotency_key);
        hf_redis_settle(pd->claim, false);
        answer(pd->st, res, 503, "the configuration changed while this event was checked; retry");
    } else {
        switch (pd->result) {
        case HF_CLAIM_NEW: accept = true; break;
        case HF_CLAIM_DUPLICATE: answer(pd->st, res, 200, "duplicate"); break;
        case HF_CLAIM_IN_FLIGHT:
            hf_dedup_remove(p->dedup, src->name, pd->r->idempotency_key);
            answer(pd->st, res, 503, "another agent is accepting this event; retry later");
            break;
        case HF_CLAIM_UNAVAILABLE: accept = fallback(p, src, pd->st, sst, pd->r, res); break;
        }
        if (!accept)
            hf_redis_settle(pd->claim, false);
    }
    if (accept)
        hf_ingest_accept(p, src, pd->st, pd->r, true, pd->result == HF_CLAIM_NEW ? pd->claim : NULL, pd->now, res,
                         pd->io.done, pd->io.done_arg);
    if (accept && pd->result != HF_CLAIM_NEW)
        hf_redis_settle(pd->claim, false); /* frees the handle: nothing was claimed */
    bool now = res->status != 0;
    if (now)
        *out = *res;
    *done_arg = pd->io.done_arg;
    hf_record_unref(pd->r);
    free(pd);
    return now;
}

/* ---- at start ---- */

struct recent {
    const struct hf_pipeline *p;
    int64_t now;
    struct hf_store_mark *marks;
    size_t n, cap;
};

static void collect_recent(void *arg, const char *scope, const char *key, int64_t expires_ms)
{
    struct recent *rc = arg;
    const struct hf_source *src = source_named(rc->p, scope);
    if (!src || !src->dedup_redis)
        return;
    /* accepted (expiry minus window) no longer ago than a claim lives, and
     * a margin: an "accepted" older than that reached Redis, or the claim
     * has expired and a peer may have the event by now */
    if (expires_ms - src->dedup_window_ms < rc->now - 2 * HF_CLAIM_TTL_MS)
        return;
    if (rc->n == rc->cap) {
        rc->cap = rc->cap ? rc->cap * 2 : 64;
        rc->marks = hf_realloc(rc->marks, rc->cap * sizeof(*rc->marks));
    }
    rc->marks[rc->n++] =
        (struct hf_store_mark){.source = hf_strdup(scope), .key = hf_strdup(key), .expires_ms = expires_ms};
}

void hf_ingest_store_mark_recent(struct hf_pipeline *p)
{
    struct recent rc = {.p = p, .now = hf_now_ms()};
    hf_dedup_foreach_restored(p->dedup, collect_recent, &rc);
    for (size_t i = 0; i < p->cfg->nsources; i++) {
        const struct hf_source *src = &p->cfg->sources[i];
        if (!src->dedup_redis)
            continue;
        struct hf_store_mark *mine = hf_calloc(rc.n + 1, sizeof(*mine));
        size_t n = 0;
        for (size_t k = 0; k < rc.n; k++)
            if (!strcmp(rc.marks[k].source, src->name))
                mine[n++] = rc.marks[k];
        if (n) {
            int w = hf_redis_mark_accepted(src->dedup_redis, mine, n, rc.now);
            if (w < 0)
                hf_log_warn("dedup",
                            "source '%s': Redis did not take the %zu events accepted just before the last "
                            "stop; a retry through another agent within %d s may be accepted twice",
                            src->name, n, HF_CLAIM_TTL_MS / 1000);
            else
                hf_log_info("dedup",
                            "source '%s': %d events accepted just before the last stop marked accepted in "
                            "Redis",
                            src->name, w);
        }
        free(mine);
    }
    for (size_t k = 0; k < rc.n; k++) {
        free((char *)rc.marks[k].source);
        free((char *)rc.marks[k].key);
    }
    free(rc.marks);
}
