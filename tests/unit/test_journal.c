/* SPDX-License-Identifier: Apache-2.0 */
/* The write-ahead journal (store/journal.c), each test in a directory of
 * its own: the on-disk entry format and its end mark, group commit, a
 * torn tail cut at open, zeros read as the end, per-sink positions persisted and read
 * back (replay from them), segments deleted once every sink is past them,
 * dedup.log compacted at open and while running, and storage.max_size. */
#define _GNU_SOURCE
#include "tu_runtime.h"
#include "dedup.h"
#include "journal.h"

#include <fcntl.h>
#include <pthread.h>

#define HDR_LEN 20 /* magic, length, sequence, CRC-32C */
#define SEG_MAX (16u << 20) /* a segment is closed past this size */

struct jt {
    char *dir; /* storage.path; the journal is <dir>/journal */
    char jdir[512];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ndone, nfailed;
    int nunreserved; /* a sink had no room: must stay 0 */
    uint64_t seq[64]; /* by event index, from the done callback */
    bool block_first; /* the first done callback waits for `release` */
    bool in_first, release;
    struct hf_sink *sinks[2]; /* pushed into once durable, when set */
    size_t nsinks;
    struct hf_journal *j;
};

static int setup(void **state)
{
    struct jt *t = calloc(1, sizeof(*t));
    t->dir = tu_temp_dir();
    snprintf(t->jdir, sizeof(t->jdir), "%s/journal", t->dir);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct jt *t = *state;
    tu_rm_rf(t->dir);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
    return 0;
}

static int event_index(const struct hf_record *r) { return (int)strtol(r->event_id + 4, NULL, 10); /* "evt-N" */ }

/* The journal thread's callback: the entry is durable (or not). */
static void on_done(void *arg, struct hf_record *r, bool ok)
{
    struct jt *t = arg;
    pthread_mutex_lock(&t->mu);
    if (t->block_first && !t->in_first) {
        t->in_first = true;
        pthread_cond_broadcast(&t->cv);
        while (!t->release)
            pthread_cond_wait(&t->cv, &t->mu);
    }
    int i = event_index(r);
    if (i >= 0 && i < 64)
        t->seq[i] = r->seq;
    t->ndone++;
    t->nfailed += !ok;
    pthread_mutex_unlock(&t->mu);
    for (size_t k = 0; ok && k < t->nsinks; k++) {
        /* as the pipeline does: a reserved slot, then the tracked push
         * (no cmocka assert here: this is the journal's thread) */
        if (hf_sink_reserve(t->sinks[k]) < 0) {
            pthread_mutex_lock(&t->mu);
            t->nunreserved++;
            pthread_mutex_unlock(&t->mu);
            continue;
        }
        hf_journal_track_push(t->j, t->sinks[k], r);
    }
}

static struct hf_journal *jopen(struct jt *t, int64_t max_size)
{
    struct hf_cerr err = {0};
    struct hf_journal *j = hf_journal_open(t->dir, max_size, &err);
    if (!j)
        fail_msg("%s", err.msg);
    t->j = j;
    return j;
}

static void append(struct jt *t, int i, size_t blob)
{
    struct hf_record *r = tu_record(i, blob);
    assert_int_equal(hf_journal_append(t->j, r, "omega", hf_now_ms() + 3600000, on_done, t), 0);
    hf_record_unref(r);
}

static int done_count(struct jt *t)
{
    pthread_mutex_lock(&t->mu);
    int n = t->ndone;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static void seg_path(struct jt *t, uint64_t first, char *out, size_t n)
{
    snprintf(out, n, "%s/%020llu.seg", t->jdir, (unsigned long long)first);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Removes the journal: the next open starts a new one. */
static void wipe(struct jt *t)
{
    tu_rm_rf(strdup(t->jdir));
    memset(t->seq, 0, sizeof(t->seq));
}

/* Writes entries 1..n through a started journal and closes it; returns
 * the byte offset where each entry ends (ends[i] for entry i + 1). */
static void write_entries(struct jt *t, int n, long long *ends)
{
    jopen(t, 1 << 30);
    assert_int_equal(hf_journal_start(t->j), 0);
    for (int i = 0; i < n; i++) {
        struct hf_record *r = tu_record(i, 0);
        ends[i] = (i ? ends[i - 1] : 0) + HDR_LEN + (long long)r->json_len;
        assert_int_equal(hf_journal_append(t->j, r, "omega", hf_now_ms() + 3600000, on_done, t), 0);
        hf_record_unref(r);
    }
    hf_journal_wait_idle(t->j);
    hf_journal_close(t->j);
    t->j = NULL;
}

/* The sequence the next append gets, through a started journal. */
static uint64_t next_seq(struct jt *t)
{
    assert_int_equal(hf_journal_start(t->j), 0);
    t->seq[63] = 0;
    append(t, 63, 0);
    hf_journal_wait_idle(t->j);
    return t->seq[63];
}

/* ---- format, append, reopen ---- */

static void test_append_format(void **state)
{
    struct jt *t = *state;
    /* CRC-32C check value (RFC 3720 B.4 / the usual "123456789") */
    assert_int_equal(hf_crc32c(0, "123456789", 9), 0xE3069283u);
    /* every length and split (the 8-byte steps and their tails) agrees
     * with a bytewise reference */
    unsigned char buf[67];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(buf); n++) {
        uint32_t ref = 0xffffffffu;
        for (size_t i = 0; i < n; i++) {
            ref ^= buf[i];
            for (int k = 0; k < 8; k++)
                ref = ref & 1 ? (ref >> 1) ^ 0x82f63b78u : ref >> 1;
        }
        ref = ~ref;
        assert_int_equal(hf_crc32c(0, buf, n), ref);
        for (size_t cut = 0; cut <= n; cut += 5)
            assert_int_equal(hf_crc32c(hf_crc32c(0, buf, cut), buf + cut, n - cut), ref);
    }

    jopen(t, 1 << 30);
    assert_int_equal(hf_journal_start(t->j), 0);
    struct hf_record *recs[3];
    for (int i = 0; i < 3; i++) {
        recs[i] = tu_record(i, 0);
        assert_int_equal(hf_journal_append(t->j, recs[i], "omega", hf_now_ms() + 3600000, on_done, t), 0);
    }
    hf_journal_wait_idle(t->j);
    assert_int_equal(t->ndone, 3);
    assert_int_equal(t->nfailed, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(t->seq[i], (uint64_t)i + 1);

    /* the segment is exactly the three entries, in order, and the end
     * mark (the next commit writes over it) */
    char path[600];
    seg_path(t, 1, path, sizeof(path));
    size_t len;
    unsigned char *seg = (unsigned char *)tu_read_file(path, &len);
    assert_non_null(seg);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(len - off >= HDR_LEN);
        assert_memory_equal(seg + off, "HFJ1", 4);
        assert_int_equal(le32(seg + off + 4), recs[i]->json_len);
        assert_int_equal(le32(seg + off + 8), (uint32_t)i + 1);
        assert_int_equal(le32(seg + off + 12), 0);
        unsigned char s8[8] = {(unsigned char)(i + 1)};
        uint32_t crc = hf_crc32c(hf_crc32c(0, s8, 8), recs[i]->json, recs[i]->json_len);
        assert_int_equal(le32(seg + off + 16), crc);
        assert_memory_equal(seg + off + HDR_LEN, recs[i]->json, recs[i]->json_len);
        off += HDR_LEN + recs[i]->json_len;
    }
    static const unsigned char zeros[HDR_LEN];
    assert_int_equal(off + HDR_LEN, len);
    assert_memory_equal(seg + off, zeros, HDR_LEN);
    assert_int_equal(hf_journal_bytes(t->j), off);
    free(seg);
    hf_journal_close(t->j);

    /* reopened: the entries are kept, sequences go on */
    jopen(t, 1 << 30);
    assert_int_equal(hf_journal_bytes(t->j), off);
    assert_int_equal(next_seq(t), 4);
    hf_journal_close(t->j);
    for (int i = 0; i < 3; i++)
        hf_record_unref(recs[i]);
}

/* ---- group commit ---- */

static void test_group_commit(void **state)
{
    struct jt *t = *state;
    jopen(t, 1 << 30);
    /* ten appends queued before the commit thread runs: one commit */
    for (int i = 0; i < 10; i++)
        append(t, i, 0);
    assert_int_equal(hf_journal_commits(t->j), 0);
    assert_int_equal(hf_journal_start(t->j), 0);
    hf_journal_wait_idle(t->j);
    assert_int_equal(t->ndone, 10);
    assert_int_equal(hf_journal_commits(t->j), 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(t->seq[i], (uint64_t)i + 1);

    /* while a commit is in progress (held in its done callback), twenty
     * more arrive: they share the next one */
    pthread_mutex_lock(&t->mu);
    t->block_first = true;
    t->in_first = false;
    pthread_mutex_unlock(&t->mu);
    append(t, 10, 0);
    pthread_mutex_lock(&t->mu);
    while (!t->in_first)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    for (int i = 11; i < 31; i++)
        append(t, i, 0);
    pthread_mutex_lock(&t->mu);
    t->release = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    hf_journal_wait_idle(t->j);
    assert_int_equal(t->ndone, 31);
    assert_int_equal(t->nfailed, 0);
    assert_int_equal(hf_journal_commits(t->j), 3);
    for (int i = 10; i < 31; i++)
        assert_int_equal(t->seq[i], (uint64_t)i + 1);
    hf_journal_close(t->j);
}

/* ---- damage at the tail ---- */

static void test_torn_tail(void **state)
{
    struct jt *t = *state;
    long long ends[4];
    write_entries(t, 4, ends);
    char path[600];
    seg_path(t, 1, path, sizeof(path));
    assert_int_equal(tu_file_size(path), ends[3] + HDR_LEN); /* and the end mark */

    /* power lost in the middle of the last entry's payload */
    assert_int_equal(truncate(path, ends[3] - 5), 0);
    jopen(t, 1 << 30);
    assert_int_equal(tu_file_size(path), ends[2]);
    assert_int_equal(hf_journal_bytes(t->j), ends[2]);
    assert_int_equal(next_seq(t), 4);
    hf_journal_close(t->j);

    /* ... and in the middle of a header */
    wipe(t);
    write_entries(t, 4, ends);
    assert_int_equal(truncate(path, ends[2] + 7), 0);
    jopen(t, 1 << 30);
    assert_int_equal(tu_file_size(path), ends[2]);
    assert_int_equal(next_seq(t), 4);
    hf_journal_close(t->j);
}

/* Zeros where an entry would start are the end as written (the end mark;
 * a recycled segment's old entries may follow it): the entries before
 * them are kept and the file is left as it is. A crash that left the
 * last commit's blocks unwritten (zeros) reads the same way: that commit
 * was never acknowledged. */
static void test_zero_filled_block(void **state)
{
    struct jt *t = *state;
    long long ends[3];
    write_entries(t, 3, ends);
    char path[600];
    seg_path(t, 1, path, sizeof(path));

    /* the file grew to the next 4 KiB block but the last entry's data
     * never reached the disk: zeros from its first byte on */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    long long end = (ends[2] / 4096 + 1) * 4096;
    char *zeros = calloc(1, (size_t)(end - ends[1]));
    assert_int_equal(pwrite(fd, zeros, (size_t)(end - ends[1]), ends[1]), end - ends[1]);
    close(fd);
    free(zeros);
    assert_int_equal(tu_file_size(path), end);

    jopen(t, 1 << 30);
    assert_int_equal(tu_file_size(path), end);
    assert_int_equal(hf_journal_bytes(t->j), ends[1]);
    assert_int_equal(next_seq(t), 3);
    hf_journal_close(t->j);

    /* an intact entry past the end mark (a recycled segment's past) is
     * not read: the end mark is where the segment ends */
    wipe(t);
    write_entries(t, 3, ends);
    fd = open(path, O_WRONLY);
    unsigned char mark[HDR_LEN] = {0};
    assert_int_equal(pwrite(fd, mark, HDR_LEN, ends[0]), HDR_LEN);
    close(fd);
    jopen(t, 1 << 30);
    assert_int_equal(hf_journal_bytes(t->j), ends[0]);
    assert_int_equal(tu_file_size(path), ends[2] + HDR_LEN); /* not cut: no damage */
    assert_int_equal(next_seq(t), 2);
    hf_journal_close(t->j);

    /* a flipped bit in a payload is damage too (the CRC says so) */
    wipe(t);
    write_entries(t, 3, ends);
    fd = open(path, O_RDWR);
    char c;
    assert_int_equal(pread(fd, &c, 1, ends[0] + HDR_LEN + 3), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, ends[0] + HDR_LEN + 3), 1);
    close(fd);
    jopen(t, 1 << 30);
    assert_int_equal(tu_file_size(path), ends[0]);
    assert_int_equal(next_seq(t), 2);
    hf_journal_close(t->j);

    /* a segment that is all zeros keeps nothing and is removed */
    jopen(t, 1 << 30);
    uint64_t kept = hf_journal_bytes(t->j);
    hf_journal_close(t->j);
    char zpath[600];
    seg_path(t, 1000, zpath, sizeof(zpath));
    fd = open(zpath, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    zeros = calloc(1, 4096);
    assert_int_equal(write(fd, zeros, 4096), 4096);
    close(fd);
    free(zeros);
    jopen(t, 1 << 30);
    assert_false(tu_exists(zpath));
    assert_int_equal(hf_journal_bytes(t->j), kept);
    hf_journal_close(t->j);
}

/* Every segment delivered and deleted, only the sinks' positions left:
 * numbering goes on above them, or a new entry at or below a saved
 * position would be taken as delivered at the next start. */
static void test_numbering_above_positions(void **state)
{
    struct jt *t = *state;
    jopen(t, 1 << 30);
    hf_journal_close(t->j);
    char path[600];
    snprintf(path, sizeof(path), "%s/a.pos", t->jdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "7\n");
    fclose(f);
    snprintf(path, sizeof(path), "%s/b.pos", t->jdir);
    f = fopen(path, "w");
    fprintf(f, "3\n");
    fclose(f);
    jopen(t, 1 << 30);
    assert_int_equal(next_seq(t), 8);
    hf_journal_close(t->j);
}

/* ---- positions and segments, with sinks run by a test plugin ---- */

/* Each sink delivers what it is sent while its gate is open, and asks for
 * a retry (20 ms later) while it is closed. */
struct gate {
    pthread_mutex_t mu;
    bool open;
    int n;
    uint64_t seqs[256];
    int events[256];
};
static struct gate gates[2] = {{.mu = PTHREAD_MUTEX_INITIALIZER}, {.mu = PTHREAD_MUTEX_INITIALIZER}};

static struct gate *gate_of(struct hf_sink *s) { return &gates[hf_sink_name(s)[0] - 'a']; }

static void gate_send(struct hf_sink *s, struct hf_batch *b)
{
    struct gate *g = gate_of(s);
    pthread_mutex_lock(&g->mu);
    bool open = g->open;
    for (size_t i = 0; open && i < b->n; i++)
        if (g->n < 256) {
            g->seqs[g->n] = b->recs[i]->seq;
            g->events[g->n++] = event_index(b->recs[i]);
        }
    pthread_mutex_unlock(&g->mu);
    hf_batch_done(b, open ? HF_OUT_DELIVERED : HF_OUT_RETRY, open ? 0 : 20, open ? NULL : "gate closed");
}

static const struct hf_sink_plugin gate_plugin = {.name = "gate", .send = gate_send};

static void gate_set(int i, bool open)
{
    pthread_mutex_lock(&gates[i].mu);
    gates[i].open = open;
    pthread_mutex_unlock(&gates[i].mu);
}

static void gate_reset(void)
{
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&gates[i].mu);
        gates[i].open = true;
        gates[i].n = 0;
        pthread_mutex_unlock(&gates[i].mu);
    }
}

static int gate_count(int i)
{
    pthread_mutex_lock(&gates[i].mu);
    int n = gates[i].n;
    pthread_mutex_unlock(&gates[i].mu);
    return n;
}

#define TWO_SINKS                                                                                                      \
    TU_SOURCES "sinks:\n"                                                                                              \
               "  - {name: a, type: stdout, takes: records, batch: {flush_interval: 1ms},\n"                           \
               "     retry: {initial: 10ms, max: 20ms}}\n"                                                             \
               "  - {name: b, type: stdout, takes: records, batch: {flush_interval: 1ms},\n"                           \
               "     retry: {initial: 10ms, max: 20ms}}\n"

struct rig {
    size_t replayed[2]; /* queued by the attach, before the sinks start */
    struct hf_config *cfg;
    struct tu_sink *ts[2];
    struct hf_sink *sinks[2];
    struct hf_dedup *dedup;
};

/* Opens the journal, builds sinks a and b, attaches them (replaying what
 * they had not acknowledged), starts everything. */
static void rig_up(struct jt *t, struct rig *g)
{
    struct hf_cerr err = {0};
    g->cfg = tu_config(TWO_SINKS, &err);
    if (!g->cfg)
        fail_msg("%s", err.msg);
    for (int i = 0; i < 2; i++) {
        g->ts[i] = tu_sink_new(g->cfg, i ? "b" : "a", &gate_plugin, t->dir);
        g->sinks[i] = g->ts[i]->sink;
    }
    g->dedup = hf_dedup_new(1000);
    jopen(t, 1 << 30);
    struct hf_journal_view v = {.sinks = g->sinks, .nsinks = 2, .dedup = g->dedup, .cfg = g->cfg};
    hf_journal_attach(t->j, &v, true);
    for (int i = 0; i < 2; i++)
        g->replayed[i] = hf_sink_queue_len(g->sinks[i]);
    t->sinks[0] = g->sinks[0];
    t->sinks[1] = g->sinks[1];
    t->nsinks = 2;
    assert_int_equal(hf_journal_start(t->j), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(hf_sink_start(g->sinks[i]), 0);
}

static void rig_down(struct jt *t, struct rig *g)
{
    hf_journal_wait_idle(t->j);
    for (int i = 0; i < 2; i++)
        hf_sink_stop(g->sinks[i], 0); /* a closed gate's records stay unacknowledged */
    hf_journal_close(t->j); /* persists the final positions */
    t->j = NULL;
    t->nsinks = 0;
    for (int i = 0; i < 2; i++)
        tu_sink_free(g->ts[i], 0);
    hf_dedup_free(g->dedup);
    hf_config_free(g->cfg);
}

static long long read_pos(struct jt *t, const char *sink)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s.pos", t->jdir, sink);
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void test_positions(void **state)
{
    struct jt *t = *state;
    struct rig g;
    gate_reset();
    rig_up(t, &g);
    for (int i = 1; i <= 3; i++)
        append(t, i, 0);
    /* both sinks deliver 1-3 and their positions reach 3 */
    assert_true(TU_POLL(read_pos(t, "a") == 3 && read_pos(t, "b") == 3, 10000));

    /* b stops acknowledging: a moves on to 5, b stays at 3 */
    gate_set(1, false);
    append(t, 4, 0);
    append(t, 5, 0);
    assert_true(TU_POLL(read_pos(t, "a") == 5, 10000));
    assert_int_equal(gate_count(0), 5);
    assert_int_equal(gate_count(1), 3);
    assert_int_equal(read_pos(t, "b"), 3);
    rig_down(t, &g);
    assert_int_equal(read_pos(t, "a"), 5);
    assert_int_equal(read_pos(t, "b"), 3);

    /* restarted: the positions are read back, and only b is sent 4 and 5
     * again, with their journal sequences */
    gate_reset();
    rig_up(t, &g);
    assert_int_equal(g.replayed[0], 0);
    assert_int_equal(g.replayed[1], 2);
    assert_true(TU_POLL(gate_count(1) == 2, 10000));
    assert_int_equal(gates[1].events[0], 4);
    assert_int_equal(gates[1].events[1], 5);
    assert_int_equal(gates[1].seqs[0], 4);
    assert_int_equal(gates[1].seqs[1], 5);
    assert_true(TU_POLL(read_pos(t, "b") == 5, 10000));
    assert_int_equal(gate_count(0), 0);
    /* the dedup keys came back too */
    assert_int_equal(hf_dedup_check_insert(g.dedup, "omega", "key-4", 60000, hf_now_ms()), 1);
    assert_int_equal(hf_dedup_check_insert(g.dedup, "omega", "key-9", 60000, hf_now_ms()), 0);
    rig_down(t, &g);
    assert_int_equal(t->nunreserved, 0);
}

/* A segment goes once every sink is past its last entry, and not before;
 * the active segment stays. */
static void test_segment_deletion(void **state)
{
    struct jt *t = *state;
    struct rig g;
    gate_reset();
    rig_up(t, &g);
    gate_set(1, false);
    /* 17 entries of 1 MiB, one commit each: the first segment is closed
     * after the 16th */
    const size_t blob = 1u << 20;
    for (int i = 1; i <= 17; i++) {
        append(t, i, blob);
        hf_journal_wait_idle(t->j);
    }
    char first[600], second[600];
    seg_path(t, 1, first, sizeof(first));
    seg_path(t, 17, second, sizeof(second));
    assert_true(tu_exists(first));
    assert_true(tu_exists(second));
    uint64_t before = hf_journal_bytes(t->j);
    assert_true(before > SEG_MAX);

    /* a is past the first segment, b is not: it stays */
    assert_true(TU_POLL(read_pos(t, "a") == 17, 20000));
    assert_true(tu_exists(first));
    assert_int_equal(hf_journal_bytes(t->j), before);

    /* b catches up: the first segment goes (kept as the spare), the
     * active one stays */
    gate_set(1, true);
    assert_true(TU_POLL(!tu_exists(first), 20000));
    assert_true(tu_exists(second));
    char spare[600];
    snprintf(spare, sizeof(spare), "%s/segment.spare", t->jdir);
    assert_true(tu_exists(spare));
    /* its old entries are behind an end mark, on disk before the rename */
    size_t slen;
    char *head = tu_read_file(spare, &slen);
    static const char zeros[HDR_LEN];
    assert_true(slen >= SEG_MAX);
    assert_memory_equal(head, zeros, HDR_LEN);
    free(head);
    /* (the count drops just after the rename; the file has the end mark) */
    if (!TU_POLL((long long)hf_journal_bytes(t->j) + HDR_LEN == tu_file_size(second), 10000))
        fail_msg("journal bytes %llu, the active segment has %lld", (unsigned long long)hf_journal_bytes(t->j),
                 tu_file_size(second));
    assert_true(TU_POLL(read_pos(t, "b") == 17, 10000));
    assert_true(tu_exists(second));

    /* the third segment is the spare, written over: the spare is gone
     * and, once the second segment is delivered, that one is the spare */
    for (int i = 18; i <= 33; i++) {
        append(t, i, blob);
        hf_journal_wait_idle(t->j);
    }
    char third[600];
    seg_path(t, 33, third, sizeof(third));
    assert_true(tu_exists(third));
    assert_true(TU_POLL(!tu_exists(second), 20000));
    assert_true(tu_exists(spare));
    rig_down(t, &g);
    /* reopened: the third segment holds one entry; the first segment's
     * entries past its end mark are never read again */
    jopen(t, 1 << 30);
    uint64_t kept = hf_journal_bytes(t->j);
    if (kept < blob || kept > blob + 4096)
        fail_msg("%llu bytes kept at open, not the one entry of the third segment", (unsigned long long)kept);
    hf_journal_close(t->j);
    t->j = NULL;
}

/* ---- dedup.log ---- */

/* At open, dedup.log keeps the newest unexpired lines the dedup set can
 * hold (HF_DEDUP_MAX_KEYS), in order; a torn last line is dropped; the
 * kept keys are restored on attach. */
static void test_dedup_log_compaction_at_open(void **state)
{
    struct jt *t = *state;
    assert_int_equal(mkdir(t->jdir, 0750), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/dedup.log", t->jdir);
    FILE *f = fopen(path, "w");
    long long now = hf_now_ms(), live = now + 3600000, dead = now - 1000;
    const int extra = 500, n = HF_DEDUP_MAX_KEYS + extra;
    for (int i = 0; i < n; i++) {
        if (i % 1000 == 0)
            fprintf(f, "%lld\tomega\texpired-%d\n", dead, i);
        fprintf(f, "%lld\tomega\tk%d\n", live, i);
    }
    fprintf(f, "%lld\tomega\ttorn", live);
    fclose(f);

    jopen(t, 1 << 30);
    size_t len;
    char *text = tu_read_file(path, &len);
    int lines = 0, i = extra;
    char want[64];
    for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++, i++) {
        int wl = snprintf(want, sizeof(want), "%lld\tomega\tk%d", live, i);
        if (nl - p != wl || memcmp(p, want, (size_t)wl))
            fail_msg("line %d of the compacted dedup.log is '%.*s', expected '%s'", lines + 1, (int)(nl - p), p, want);
    }
    assert_int_equal(lines, HF_DEDUP_MAX_KEYS);
    assert_int_equal(text[len - 1], '\n');
    free(text);

    struct hf_dedup *d = hf_dedup_new(HF_DEDUP_MAX_KEYS);
    struct hf_journal_view v = {.sinks = NULL, .nsinks = 0, .dedup = d, .cfg = NULL};
    hf_journal_attach(t->j, &v, true);
    assert_int_equal(hf_dedup_size(d), HF_DEDUP_MAX_KEYS);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k500", 60000, now), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k131571", 60000, now), 1);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "k499", 60000, now), 0);
    assert_int_equal(hf_dedup_check_insert(d, "omega", "expired-1000", 60000, now), 0);
    hf_journal_close(t->j);
    hf_dedup_free(d);
}

/* While running, dedup.log is compacted once it has grown past 32 MiB:
 * here by 560 lines of 60 KiB keys that have expired, then one that has
 * not. */
static void test_dedup_log_compaction_running(void **state)
{
    struct jt *t = *state;
    jopen(t, 1 << 30);
    const size_t klen = 60 * 1024;
    char *key = malloc(klen + 1);
    memset(key, 'k', klen);
    key[klen] = '\0';
    for (int i = 0; i < 561; i++) {
        struct hf_record *r = tu_record(i % 64, 0);
        snprintf(key, 16, "%05d", i);
        key[5] = 'k';
        r->idempotency_key = hf_rec_strdup(r, key); /* the line, not the entry, is big */
        bool last = i == 560;
        assert_int_equal(
            hf_journal_append(t->j, r, "omega", last ? hf_now_ms() + 3600000 : hf_now_ms() - 1, on_done, t), 0);
        hf_record_unref(r);
    }
    assert_int_equal(hf_journal_start(t->j), 0);
    hf_journal_wait_idle(t->j);
    assert_int_equal(t->ndone, 561);
    char path[600];
    snprintf(path, sizeof(path), "%s/dedup.log", t->jdir);
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    /* only the unexpired line is left */
    assert_true(len < klen + 64);
    assert_non_null(strstr(text, "\tomega\t00560k"));
    assert_int_equal(text[len - 1], '\n');
    free(text);
    free(key);
    hf_journal_close(t->j);
}

/* ---- storage.max_size ---- */

static void test_max_size(void **state)
{
    struct jt *t = *state;
    jopen(t, 4096);
    int accepted = 0;
    for (int i = 0; i < 64; i++) {
        struct hf_record *r = tu_record(i, 0);
        int rc = hf_journal_append(t->j, r, NULL, 0, on_done, t);
        hf_record_unref(r);
        if (rc < 0)
            break;
        accepted++;
    }
    /* queued bytes count before they are written */
    assert_true(accepted > 0 && accepted < 64);
    assert_int_equal(hf_journal_start(t->j), 0);
    hf_journal_wait_idle(t->j);
    assert_int_equal(done_count(t), accepted);
    assert_true(hf_journal_bytes(t->j) <= 4096);
    struct hf_record *r = tu_record(0, 0);
    assert_int_equal(hf_journal_append(t->j, r, NULL, 0, on_done, t), -1);
    hf_record_unref(r);
    hf_journal_close(t->j);
}

int main(void)
{
    hf_log_set_level(HF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_filled_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbering_above_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_log_compaction_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_log_compaction_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
