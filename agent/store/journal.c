/* SPDX-License-Identifier: Apache-2.0 */
/* Write-ahead journal: segments of length-prefixed, CRC-32C-checked
 * entries, group commit, per-sink positions, replay (what an open finds
 * on disk, torn tails cut: journal_load.c).
 *
 * Each commit writes its entries and, after them, an end mark (HDR_LEN
 * zero bytes) that the next commit writes over: a reader stops there
 * without calling it damage. That lets a delivered segment be recycled
 * (renamed segment.spare, then to the next segment's name) instead of
 * deleted: the next segment is written over blocks the file already has,
 * so its fdatasync writes the data alone. Appending past the end of a
 * file also wrote its inode, synchronously, on every commit (ext4: 60-90
 * us of CPU and 210-290 us per fdatasync of 8 KiB, against 35 and 110-140
 * written over). */
#define _GNU_SOURCE
#include "journal_int.h"
#include "decode.h"
#include "dedup.h"
#include "route.h"
#include "sink.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const unsigned char hf_journal_end_mark[HDR_LEN]; /* zeros */

static void spare_path(const struct hf_journal *j, char *out, size_t n) { snprintf(out, n, "%s/" SPARE, j->dir); }

/* The spare's new name is on disk before any entry written in it is
 * acknowledged: a crash must not leave acknowledged entries in a file
 * the next start takes for the spare. */
static int sync_dir(const struct hf_journal *j)
{
    int dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd >= 0 && fsync(dfd) == 0 ? 0 : -1;
    if (dfd >= 0)
        close(dfd);
    return rc;
}

static int open_active(struct hf_journal *j)
{
    char path[4200], spare[4200];
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    hf_journal_seg_path(j, j->next_seq, path, sizeof(path));
    if (j->spare) {
        j->spare = false;
        spare_path(j, spare, sizeof(spare));
        if (rename(spare, path) == 0) {
            j->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (j->fd >= 0 && sync_dir(j) < 0) {
                close(j->fd);
                j->fd = -1;
            }
            if (j->fd < 0)
                unlink(path);
        }
    }
    if (j->fd < 0)
        j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (j->fd < 0)
        return -1;
    j->segs = hf_realloc(j->segs, (j->nsegs + 1) * sizeof(*j->segs));
    j->segs[j->nsegs++] = (struct segment){.first = j->next_seq, .last = 0, .bytes = 0};
    return 0;
}

struct hf_journal *hf_journal_open(const char *path, int64_t max_size, struct hf_cerr *err)
{
    struct hf_journal *j = hf_calloc(1, sizeof(*j));
    struct hf_buf b;
    hf_buf_init(&b, 4096);
    hf_buf_printf(&b, "%s/journal", path);
    j->dir = b.data;
    j->fd = -1;
    j->dedup_fd = -1;
    hf_buf_init(&j->cbuf, 0);
    hf_buf_init(&j->dbuf, 0);
    hf_buf_init(&j->dpend, 0);
    pthread_mutex_init(&j->dedup_mu, NULL);
    j->max_size = max_size;
    j->next_seq = 1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_mutex_init(&j->trk_mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_cond_init(&j->idle_cv, NULL);
    mkdir(path, 0750);
    if (mkdir(j->dir, 0750) < 0 && errno != EEXIST) {
        snprintf(err->msg, sizeof(err->msg), "storage: cannot create %s: %s", j->dir, strerror(errno));
        hf_journal_close(j);
        return NULL;
    }
    if (hf_journal_load(j, err) < 0) {
        hf_journal_close(j);
        return NULL;
    }
    j->committed = j->next_seq - 1;
    hf_journal_compact_dedup(j, true);
    if (open_active(j) < 0) {
        snprintf(err->msg, sizeof(err->msg), "storage: cannot write in %s: %s", j->dir, strerror(errno));
        hf_journal_close(j);
        return NULL;
    }
    hf_log_info("journal", "%s: %zu segments, %zu entries kept from before, next sequence %llu", j->dir, j->nsegs - 1,
                j->nloaded, (unsigned long long)j->next_seq);
    return j;
}

/* ---- trackers: each sink's acknowledged position ---- */

static struct tracker *tracker_for(struct hf_journal *j, const char *name)
{
    pthread_mutex_lock(&j->trk_mu);
    for (size_t i = 0; i < j->ntrackers; i++)
        if (!strcmp(j->trackers[i]->name, name)) {
            pthread_mutex_unlock(&j->trk_mu);
            return j->trackers[i];
        }
    struct tracker *t = hf_calloc(1, sizeof(*t));
    t->name = hf_strdup(name);
    pthread_mutex_init(&t->mu, NULL);
    char file[600];
    snprintf(file, sizeof(file), "%s.pos", name);
    t->pos = t->written = hf_journal_saved_position(j, file, 0);
    j->trackers = hf_realloc(j->trackers, (j->ntrackers + 1) * sizeof(*j->trackers));
    j->trackers[j->ntrackers++] = t;
    pthread_mutex_unlock(&j->trk_mu);
    return t;
}

static void track(struct tracker *t, uint64_t seq)
{
    pthread_mutex_lock(&t->mu);
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 1024;
        uint64_t *ns = hf_calloc(ncap, sizeof(*ns));
        bool *nb = hf_calloc(ncap, sizeof(*nb));
        for (size_t i = 0; i < t->count; i++) {
            ns[i] = t->seqs[(t->head + i) % t->cap];
            nb[i] = t->settled[(t->head + i) % t->cap];
        }
        free(t->seqs);
        free(t->settled);
        t->seqs = ns;
        t->settled = nb;
        t->cap = ncap;
        t->head = 0;
    }
    t->seqs[(t->head + t->count) % t->cap] = seq;
    t->settled[(t->head + t->count) % t->cap] = false;
    t->count++;
    pthread_mutex_unlock(&t->mu);
}

static void on_settle(struct hf_sink *s, const struct hf_record *r, enum hf_outcome o, void *arg)
{
    (void)s;
    (void)o; /* delivered or dead-lettered: either way the sink is past it */
    struct tracker *t = arg;
    if (r->seq == 0)
        return;
    pthread_mutex_lock(&t->mu);
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->seqs[(t->head + mid) % t->cap] < r->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->count && t->seqs[(t->head + lo) % t->cap] == r->seq)
        t->settled[(t->head + lo) % t->cap] = true;
    pthread_mutex_unlock(&t->mu);
}

/* The highest sequence below which every entry is settled for this sink. */
static uint64_t watermark(struct tracker *t, uint64_t committed)
{
    pthread_mutex_lock(&t->mu);
    while (t->count && t->settled[t->head]) {
        t->pos = t->seqs[t->head];
        t->head = (t->head + 1) % t->cap;
        t->count--;
    }
    uint64_t w = t->count ? t->seqs[t->head] - 1 : committed;
    if (w > t->pos)
        t->pos = w;
    w = t->pos;
    pthread_mutex_unlock(&t->mu);
    return w;
}

/* Appends the pending keys to dedup.log (no fsync: see below). */
static void flush_dedup(struct hf_journal *j)
{
    pthread_mutex_lock(&j->dedup_mu);
    if (j->dpend.len && j->dedup_fd >= 0) {
        if (write(j->dedup_fd, j->dpend.data, j->dpend.len) != (ssize_t)j->dpend.len)
            hf_log_warn("journal", "cannot write dedup state: %s", strerror(errno));
        j->dedup_unsynced = true;
        j->dedup_bytes += j->dpend.len;
        if (j->dedup_bytes > DEDUP_COMPACT_BYTES)
            hf_journal_compact_dedup(j, false);
    }
    hf_buf_reset(&j->dpend);
    if (j->dpend.cap > (1u << 20))
        hf_buf_free(&j->dpend);
    pthread_mutex_unlock(&j->dedup_mu);
}

/* Keeps the delivered segment at path as the spare: an end mark at its
 * start first, on disk before the rename, so its old entries are never
 * read again, whatever name a crash leaves it under. */
static bool make_spare(struct hf_journal *j, const char *path)
{
    char spare[4200];
    spare_path(j, spare, sizeof(spare));
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && pwrite(fd, hf_journal_end_mark, HDR_LEN, 0) == HDR_LEN && fdatasync(fd) == 0;
    if (fd >= 0)
        close(fd);
    j->spare = ok && rename(path, spare) == 0;
    return j->spare;
}

static void persist_positions(struct hf_journal *j)
{
    flush_dedup(j);
    uint64_t low = j->committed;
    pthread_mutex_lock(&j->trk_mu);
    for (size_t i = 0; i < j->ntrackers; i++) {
        struct tracker *t = j->trackers[i];
        uint64_t w = watermark(t, j->committed);
        if (w < low)
            low = w;
        if (w == t->written)
            continue;
        char path[4300], tmp[4400];
        snprintf(path, sizeof(path), "%s/%s.pos", j->dir, t->name);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        /* no fsync: a stale position only means redelivery (at-least-once) */
        if (f && fprintf(f, "%llu\n", (unsigned long long)w) > 0 && fclose(f) == 0 && rename(tmp, path) == 0)
            t->written = w;
        else if (f)
            fclose(f);
    }
    pthread_mutex_unlock(&j->trk_mu);
    /* delete segments every sink is past (never the active one); their
     * entries' keys must be on disk in dedup.log first */
    bool may_delete = true;
    pthread_mutex_lock(&j->dedup_mu);
    for (size_t i = 0; i + 1 < j->nsegs && may_delete; i++)
        if (j->segs[i].last && j->segs[i].last <= low && j->dedup_unsynced && j->dedup_fd >= 0) {
            may_delete = fdatasync(j->dedup_fd) == 0;
            j->dedup_unsynced = !may_delete;
            if (!may_delete)
                hf_log_warn("journal", "cannot sync dedup.log: %s; delivered segments are kept", strerror(errno));
        }
    pthread_mutex_unlock(&j->dedup_mu);
    size_t keep = 0;
    for (size_t i = 0; i < j->nsegs; i++) {
        struct segment *s = &j->segs[i];
        if (may_delete && i + 1 < j->nsegs && s->last && s->last <= low) {
            char path[4200];
            hf_journal_seg_path(j, s->first, path, sizeof(path));
            /* a full segment is kept for reuse, one at most */
            if (j->spare || s->bytes < SEG_MAX || !make_spare(j, path))
                unlink(path);
            atomic_fetch_sub(&j->bytes, s->bytes);
            continue;
        }
        j->segs[keep++] = *s;
    }
    j->nsegs = keep;
}

/* ---- group commit ---- */

static void commit(struct hf_journal *j, struct pending *list)
{
    struct hf_buf *bp = &j->cbuf, *dp = &j->dbuf;
    hf_buf_reset(bp);
    hf_buf_reset(dp);
    uint64_t seq = j->next_seq;
    for (struct pending *p = list; p; p = p->next) {
        unsigned char h[HDR_LEN];
        p->r->seq = seq++;
        put32(h, MAGIC);
        put32(h + 4, (uint32_t)p->r->json_len);
        put64(h + 8, p->r->seq);
        put32(h + 16, hf_journal_entry_crc(p->r->seq, p->r->json, p->r->json_len));
        hf_buf_append(bp, h, HDR_LEN);
        hf_buf_append(bp, p->r->json, p->r->json_len);
        if (p->dedup_line)
            hf_buf_puts(dp, p->dedup_line);
    }
    hf_buf_append(bp, hf_journal_end_mark, HDR_LEN);
    struct segment *s = &j->segs[j->nsegs - 1];
    bool ok = true;
    size_t off = 0;
    while (ok && off < bp->len) {
        ssize_t w = pwrite(j->fd, bp->data + off, bp->len - off, (off_t)(s->bytes + off));
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += w > 0 ? (size_t)w : 0;
    }
    ok = ok && fdatasync(j->fd) == 0;
    if (ok && dp->len) {
        /* the keys of durable entries only; dedup.log gets them with the
         * next position update (every 100 ms), not with a write and an
         * fsync of its own per group commit: until its segment is deleted
         * an entry's key is also in its record (restored at start), and
         * dedup.log is written and synced before any segment is deleted */
        pthread_mutex_lock(&j->dedup_mu);
        hf_buf_append(&j->dpend, dp->data, dp->len);
        pthread_mutex_unlock(&j->dedup_mu);
    }
    if (ok) {
        size_t added = bp->len - HDR_LEN; /* the end mark is written over next time */
        s->last = seq - 1;
        s->bytes += added;
        atomic_fetch_add(&j->bytes, added);
        j->next_seq = seq;
        j->committed = seq - 1;
        atomic_fetch_add(&j->commits, 1);
        if (s->bytes >= SEG_MAX && open_active(j) < 0)
            hf_log_error("journal", "cannot open a new segment: %s", strerror(errno));
    } else {
        hf_log_error("journal", "write to %s failed: %s; the requests get 503", j->dir, strerror(errno));
        /* drop what may be half-written so the next commit starts clean */
        if (ftruncate(j->fd, (off_t)s->bytes) < 0)
            hf_log_error("journal", "cannot truncate the active segment: %s", strerror(errno));
    }
    for (struct pending *p = list, *n; p; p = n) {
        n = p->next;
        atomic_fetch_sub(&j->queued_bytes, p->r->json_len + HDR_LEN);
        if (!ok)
            p->r->seq = 0;
        p->done(p->arg, p->r, ok);
        hf_record_unref(p->r);
        free(p->dedup_line);
        free(p);
    }
    if (bp->cap > (4u << 20)) /* after a burst, do not keep a large buffer */
        hf_buf_free(bp);
}

static void *commit_main(void *arg)
{
    struct hf_journal *j = arg;
    hf_thread_name("journal");
    hf_thread_background();
    int64_t last_persist = 0;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        if (!j->head && !j->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        }
        struct pending *list = j->head;
        j->head = j->tail = NULL;
        bool stop = j->stop;
        j->busy = list != NULL;
        pthread_mutex_unlock(&j->mu);
        if (list)
            commit(j, list);
        pthread_mutex_lock(&j->mu);
        j->busy = false;
        if (!j->head)
            pthread_cond_broadcast(&j->idle_cv);
        pthread_mutex_unlock(&j->mu);
        int64_t now = hf_mono_ms();
        if (now - last_persist >= 100 || stop) {
            persist_positions(j);
            last_persist = now;
        }
        if (stop && !list)
            break;
    }
    return NULL;
}

int hf_journal_start(struct hf_journal *j)
{
    if (pthread_create(&j->thread, NULL, commit_main, j) != 0)
        return -1;
    j->started = true;
    return 0;
}

int hf_journal_append(struct hf_journal *j, struct hf_record *r, const char *dedup_scope, int64_t dedup_expires_ms,
                      hf_journal_done_fn done, void *arg)
{
    uint64_t need = r->json_len + HDR_LEN;
    if ((int64_t)(atomic_load(&j->bytes) + atomic_load(&j->queued_bytes) + need) > j->max_size)
        return -1;
    struct pending *p = hf_calloc(1, sizeof(*p));
    hf_record_ref(r);
    p->r = r;
    p->done = done;
    p->arg = arg;
    if (dedup_scope && r->idempotency_key) {
        /* "<expires ms>\t<scope>\t<key>\n", built without printf: this
         * runs on the ingest thread for every event */
        char num[24], *e = num + sizeof(num);
        char *q = hf_digits_before(e, dedup_expires_ms > 0 ? (uint64_t)dedup_expires_ms : 0);
        size_t nl = (size_t)(e - q), sl = strlen(dedup_scope), kl = strlen(r->idempotency_key);
        char *line = hf_calloc(1, nl + sl + kl + 4);
        memcpy(line, q, nl);
        line[nl] = '\t';
        memcpy(line + nl + 1, dedup_scope, sl);
        line[nl + 1 + sl] = '\t';
        memcpy(line + nl + 2 + sl, r->idempotency_key, kl);
        line[nl + 2 + sl + kl] = '\n';
        p->dedup_line = line;
    }
    atomic_fetch_add(&j->queued_bytes, need);
    pthread_mutex_lock(&j->mu);
    if (j->tail)
        j->tail->next = p;
    else
        j->head = p;
    j->tail = p;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

void hf_journal_wait_idle(struct hf_journal *j)
{
    pthread_mutex_lock(&j->mu);
    while (j->head || j->busy)
        pthread_cond_wait(&j->idle_cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    flush_dedup(j); /* and their keys are in dedup.log */
}

uint64_t hf_journal_bytes(struct hf_journal *j) { return j ? atomic_load(&j->bytes) : 0; }

uint64_t hf_journal_commits(struct hf_journal *j) { return j ? atomic_load(&j->commits) : 0; }

void hf_journal_track_push(struct hf_journal *j, struct hf_sink *s, struct hf_record *r)
{
    if (r->seq)
        track(s->on_settle_arg, r->seq);
    (void)j;
    hf_sink_push(s, r);
}

static void restore_dedup(struct hf_journal *j, const struct hf_journal_view *p)
{
    for (size_t i = 0; i < j->ndedup; i++) {
        char *line = j->dedup_lines[i];
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *nl = t2 ? strchr(t2 + 1, '\n') : NULL;
        if (!nl)
            continue;
        *t1 = *t2 = *nl = '\0';
        hf_dedup_restore(p->dedup, t1 + 1, t2 + 1, strtoll(line, NULL, 10));
    }
}

/* The key of an entry on disk, from the record itself: dedup.log is
 * written after the entries' fsync, so a kill between the two leaves
 * entries (re-queued below) whose keys only their records still hold. */
static void restore_entry_key(const struct hf_journal_view *p, const struct hf_record *r, int64_t now)
{
    if (!r->idempotency_key || !r->source)
        return;
    for (size_t i = 0; i < p->cfg->nsources; i++) {
        const struct hf_source *s = &p->cfg->sources[i];
        if (strcmp(s->name, r->source))
            continue;
        if (s->dedup && r->received_ms + s->dedup_window_ms > now)
            hf_dedup_restore(p->dedup, s->name, r->idempotency_key, r->received_ms + s->dedup_window_ms);
        return;
    }
}

void hf_journal_attach(struct hf_journal *j, const struct hf_journal_view *p, bool replay)
{
    for (size_t i = 0; i < p->nsinks; i++) {
        /* a sink kept across a reload is running and reads these: it
         * already has the same values, so leave them unwritten */
        void *tr = tracker_for(j, p->sinks[i]->name);
        if (p->sinks[i]->on_settle != on_settle || p->sinks[i]->on_settle_arg != tr) {
            p->sinks[i]->on_settle = on_settle;
            p->sinks[i]->on_settle_arg = tr;
        }
    }
    if (!replay)
        return;
    restore_dedup(j, p);
    size_t requeued = 0;
    int64_t now = hf_now_ms();
    for (size_t e = 0; e < j->nloaded; e++) {
        struct hf_record *r = hf_record_decode(p->cfg, j->loaded[e].json, strlen(j->loaded[e].json));
        if (!r) {
            hf_log_warn("journal", "entry %llu is not a readable record; skipped",
                        (unsigned long long)j->loaded[e].seq);
            continue;
        }
        r->seq = j->loaded[e].seq;
        restore_entry_key(p, r, now);
        for (size_t i = 0; i < p->nsinks; i++) {
            struct hf_sink *s = p->sinks[i];
            struct tracker *t = s->on_settle_arg;
            if (r->seq <= t->pos || !hf_route_takes(s->conf, r))
                continue;
            track(t, r->seq);
            hf_sink_push_force(s, r);
            requeued++;
        }
        hf_record_unref(r);
    }
    if (j->nloaded)
        hf_log_info("journal", "re-queued %zu records not yet acknowledged by their sinks", requeued);
    for (size_t e = 0; e < j->nloaded; e++)
        free(j->loaded[e].json);
    free(j->loaded);
    j->loaded = NULL;
    j->nloaded = 0;
}

void hf_journal_detach(struct hf_journal *j, const struct hf_journal_view *p)
{
    (void)p;
    persist_positions(j);
}

void hf_journal_close(struct hf_journal *j)
{
    if (!j)
        return;
    if (j->started) {
        pthread_mutex_lock(&j->mu);
        j->stop = true;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->thread, NULL);
    }
    if (j->fd >= 0)
        close(j->fd);
    flush_dedup(j);
    if (j->dedup_fd >= 0) {
        if (j->dedup_unsynced && fdatasync(j->dedup_fd) < 0)
            hf_log_warn("journal", "cannot sync dedup.log: %s", strerror(errno));
        close(j->dedup_fd);
    }
    hf_buf_free(&j->cbuf);
    hf_buf_free(&j->dbuf);
    hf_buf_free(&j->dpend);
    pthread_mutex_destroy(&j->dedup_mu);
    for (size_t i = 0; i < j->ntrackers; i++) {
        free(j->trackers[i]->name);
        free(j->trackers[i]->seqs);
        free(j->trackers[i]->settled);
        pthread_mutex_destroy(&j->trackers[i]->mu);
        free(j->trackers[i]);
    }
    free(j->trackers);
    for (size_t e = 0; e < j->nloaded; e++)
        free(j->loaded[e].json);
    free(j->loaded);
    for (size_t i = 0; i < j->ndedup; i++)
        free(j->dedup_lines[i]);
    free(j->dedup_lines);
    free(j->segs);
    free(j->dir);
    free(j);
}
