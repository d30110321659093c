/* SPDX-License-Identifier: Apache-2.0 */
/* The journal's insides, shared by journal.c (appends, group commit,
 * positions, replay) and journal_load.c (what an open finds on disk). */
#ifndef HF_JOURNAL_INT_H
#define HF_JOURNAL_INT_H

#include "journal.h"
#include "dedup.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MAGIC 0x314a4648u /* "HFJ1" */
#define HDR_LEN 20
#define SEG_MAX (16u << 20)
#define MAX_ENTRY (64u << 20)
#define SPARE "segment.spare" /* a delivered segment kept for reuse */

/* HDR_LEN zero bytes: where a segment ends as written (see journal.c) */
extern const unsigned char hf_journal_end_mark[HDR_LEN];

struct pending {
    struct pending *next;
    struct hf_record *r;
    char *dedup_line;
    hf_journal_done_fn done;
    void *arg;
};

struct segment {
    uint64_t first, last;
    uint64_t bytes;
};

struct tracker {
    char *name;
    pthread_mutex_t mu;
    uint64_t *seqs; /* in push order, increasing */
    bool *settled;
    size_t head, count, cap;
    uint64_t pos; /* persisted watermark */
    uint64_t written; /* what the pos file says */
};

struct loaded {
    uint64_t seq;
    char *json;
    size_t len;
};

struct hf_journal {
    char *dir;
    int64_t max_size;
    int fd; /* active segment */
    bool spare; /* SPARE is in the directory */
    int dedup_fd;
    bool dedup_unsynced; /* dedup.log lines written since its last fsync */
    pthread_mutex_t dedup_mu; /* dpend, and dedup.log's writes */
    struct hf_buf dpend; /* keys of durable entries not yet in dedup.log */
    struct hf_buf cbuf, dbuf; /* the commit thread's entry and dedup-line buffers */
    size_t dedup_bytes; /* dedup.log's size since the last compaction */
    struct segment *segs;
    size_t nsegs;
    uint64_t next_seq, committed;
    atomic_ullong bytes;
    atomic_ullong queued_bytes;
    atomic_ullong commits;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle_cv;
    struct pending *head, *tail;
    bool busy, stop, started;
    pthread_t thread;
    struct tracker **trackers;
    size_t ntrackers;
    pthread_mutex_t trk_mu;
    struct loaded *loaded; /* entries found at open, for the first attach */
    size_t nloaded;
    char **dedup_lines; /* unexpired keys found at open */
    size_t ndedup;
};

/* Compaction keeps the newest lines the dedup set can hold. */
#define DEDUP_KEEP HF_DEDUP_MAX_KEYS
#define DEDUP_COMPACT_BYTES (32u << 20)

static inline void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* CRC-32C of an entry: its sequence (8 bytes, little-endian), then its payload. */
uint32_t hf_journal_entry_crc(uint64_t seq, const void *payload, size_t len);
void hf_journal_seg_path(const struct hf_journal *j, uint64_t first, char *out, size_t n);
/* The larger of max and the position saved in the file NAME. */
uint64_t hf_journal_saved_position(const struct hf_journal *j, const char *name, uint64_t max);
/* Reads the segments and the sinks' positions found in j->dir (entries
 * kept in j->loaded, torn tails cut). 0, or -1 with err set. */
int hf_journal_load(struct hf_journal *j, struct hf_cerr *err);
/* Rewrites dedup.log with its newest unexpired lines (at start, and when it
 * has grown past DEDUP_COMPACT_BYTES). With `restore`, the kept lines are
 * also remembered for hf_journal_attach. */
void hf_journal_compact_dedup(struct hf_journal *j, bool restore);

#endif
