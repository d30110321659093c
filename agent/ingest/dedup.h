/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded, time-windowed set of idempotency keys shared by the ingest
 * threads (striped locks). */
#ifndef HF_DEDUP_H
#define HF_DEDUP_H

/* Keys one agent's dedup set holds at most; dedup.log (the journal's copy
 * of it) is compacted to the same number, since older lines could never be
 * restored. */
#define HF_DEDUP_MAX_KEYS 131072

#include <stddef.h>
#include <stdint.h>

struct hf_dedup;

struct hf_dedup *hf_dedup_new(size_t max_entries);
void hf_dedup_free(struct hf_dedup *d);
/* 1: key seen within its window (a duplicate); 0: inserted now. */
int hf_dedup_check_insert(struct hf_dedup *d, const char *scope, const char *key, int64_t window_ms, int64_t now_ms);
/* Forgets a key (the event it belonged to was not accepted after all). */
void hf_dedup_remove(struct hf_dedup *d, const char *scope, const char *key);
/* Inserts without checking, with an explicit expiry (state restored at
 * start). A restored key keeps its text until hf_dedup_foreach_restored. */
void hf_dedup_restore(struct hf_dedup *d, const char *scope, const char *key, int64_t expires_ms);
size_t hf_dedup_size(struct hf_dedup *d);
/* Calls fn for every restored key still held (in no particular order) and
 * lets go of their text: the set holds keys as fingerprints, and only
 * restored keys keep their text, until this has seen them (once, after
 * start-up). */
void hf_dedup_foreach_restored(struct hf_dedup *d,
                               void (*fn)(void *arg, const char *scope, const char *key, int64_t expires_ms),
                               void *arg);

#endif
