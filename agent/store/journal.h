/* SPDX-License-Identifier: Apache-2.0 */
/* The write-ahead journal (storage.mode: disk): a verified event is
 * appended and fdatasync'ed before its 202 goes out; concurrent requests
 * share one fsync (group commit). Each sink's acknowledged position is
 * persisted; a segment is deleted once every sink is past it. */
#ifndef HF_JOURNAL_H
#define HF_JOURNAL_H

#include "config.h"
#include "record.h"

#include <stdint.h>

struct hf_journal;
struct hf_sink;
struct hf_dedup;

/* What the journal works on: one running configuration's sinks (whose
 * positions it tracks and into which it re-queues), its dedup set (which it
 * restores) and the configuration (to rebuild records). Passed in by the
 * agent; the journal knows nothing else of the pipeline. */
struct hf_journal_view {
    struct hf_sink *const *sinks;
    size_t nsinks;
    struct hf_dedup *dedup;
    const struct hf_config *cfg;
};

/* Called on the journal thread once the entry is durable (ok = true) or
 * could not be written (ok = false). */
typedef void (*hf_journal_done_fn)(void *arg, struct hf_record *r, bool ok);

/* Opens (creating) <path>/journal, checks every segment, truncates a torn
 * tail. Returns NULL with err set when the directory cannot be used. */
struct hf_journal *hf_journal_open(const char *path, int64_t max_size, struct hf_cerr *err);
/* Starts the commit thread. */
int hf_journal_start(struct hf_journal *j);
/* Queues r (its JSON) for the next group commit. Fails (-1) when the
 * journal is over storage.max_size. */
int hf_journal_append(struct hf_journal *j, struct hf_record *r, const char *dedup_scope, int64_t dedup_expires_ms,
                      hf_journal_done_fn done, void *arg);
/* Attaches a configuration's sinks: tracks their positions (settle callbacks)
 * and, on the first attach, re-queues what each sink had not acknowledged
 * before the last stop. Restores dedup keys. */
void hf_journal_attach(struct hf_journal *j, const struct hf_journal_view *v, bool replay);
/* Detaches (before a pipeline is stopped), persisting positions. */
void hf_journal_detach(struct hf_journal *j, const struct hf_journal_view *v);
/* Pushes a journaled record (r->seq set) into a reserved slot of sink s,
 * tracking it so the sink's position moves only once it is settled. */
void hf_journal_track_push(struct hf_journal *j, struct hf_sink *s, struct hf_record *r);
/* Waits until every queued append has completed and its key (if any) is
 * written to dedup.log. */
void hf_journal_wait_idle(struct hf_journal *j);
uint64_t hf_journal_bytes(struct hf_journal *j);
/* Group commits written so far: one write and one fdatasync each, for
 * every append that was queued when it began. */
uint64_t hf_journal_commits(struct hf_journal *j);
void hf_journal_close(struct hf_journal *j);

/* CRC-32C (Castagnoli), exposed for tests. */
uint32_t hf_crc32c(uint32_t crc, const void *p, size_t n);

#endif
