/* SPDX-License-Identifier: Apache-2.0 */
/* The shared dedup protocol, apart from any connection: which commands a
 * claim sends and what their replies mean (dedup_redis.c sends them over
 * hiredis; the unit test runs them against a model of Redis).
 *
 * A key hookfwd:dedup:<source>:<idempotency key> holds "0" while an agent
 * is accepting the event (the claim) and "1" once it has accepted it:
 *
 *   claim    SET key 0 NX PX <claim ttl>  OK: ours. nil: someone has it,
 *            then GET key                 "1": a duplicate; "0" or gone:
 *                                         another agent is accepting it now
 *   accepted SET key 1 PX <window>        (not XX: a claim that outlived its
 *                                         ttl still records the acceptance)
 *   refused  DEL key                      a retry may take it at once
 *
 * The claim is short (HF_CLAIM_TTL_MS) so that an agent that dies between
 * the claim and its journal append (or whose "accepted" never reached
 * Redis) holds the event for seconds, not for the whole window: a retry is
 * answered 503 meanwhile, never "duplicate" for an event nobody has.
 *
 * Without a journal (storage.mode: memory) the accept follows the claim at
 * once and a crash loses the event whatever Redis says, so the claim is
 * the accepted key itself, SET key 1 NX PX <window>: one command per event
 * instead of two, and DEL only when the accept fails. */
#ifndef HF_DEDUP_CLAIM_H
#define HF_DEDUP_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HF_CLAIM_TTL_MS 10000
#define HF_CLAIM_KEY_PREFIX "hookfwd:dedup:"

enum hf_claim_result {
    HF_CLAIM_NEW, /* ours: accept the event, then settle */
    HF_CLAIM_DUPLICATE, /* accepted before (by any agent) within the window */
    HF_CLAIM_IN_FLIGHT, /* another agent holds the claim: answer 503, retry */
    HF_CLAIM_UNAVAILABLE, /* no usable answer: on_unavailable decides */
};
#define HF_CLAIM_RESULTS 4

/* What came back for one command; a NULL reply pointer means none came
 * (connection lost, timed out). */
enum hf_store_reply_type {
    HF_SR_NIL,
    HF_SR_STATUS,
    HF_SR_STRING,
    HF_SR_INTEGER,
    HF_SR_ERROR,
    HF_SR_OTHER,
};

struct hf_store_reply {
    enum hf_store_reply_type type;
    const char *str; /* STATUS, STRING, ERROR */
    size_t len;
    long long integer;
};

/* A command as argv, with room for the key and the numbers. */
#define HF_STORE_CMD_ARGS 6
struct hf_store_cmd {
    int argc;
    const char *argv[HF_STORE_CMD_ARGS];
    size_t argvlen[HF_STORE_CMD_ARGS];
    char num[24];
};

/* Writes the Redis key for (source, key) into buf; returns its length, or
 * 0 when it does not fit. */
size_t hf_claim_key(char *buf, size_t cap, const char *source, const char *key);

/* The claim's time to live: HF_CLAIM_TTL_MS, or the window when shorter. */
int64_t hf_claim_ttl_ms(int64_t window_ms);

/* The commands; key must outlive cmd. hf_claim_cmd with accepted = true
 * claims and accepts in one (SET key 1 NX PX <window>), for an agent
 * whose accept is immediate (storage.mode: memory: nothing to crash
 * between them that would not lose the event anyway). */
void hf_claim_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen, int64_t ttl_ms, bool accepted);
void hf_claim_ask_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen);
void hf_claim_accepted_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen, int64_t window_ms);
void hf_claim_release_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen);

/* The command in Redis's protocol (RESP: an array of bulk strings) into
 * buf; returns its length, 0 when it does not fit. */
size_t hf_store_cmd_resp(const struct hf_store_cmd *cmd, char *buf, size_t cap);

/* The SET NX reply: 1 the claim is ours, 0 the key exists (ask with GET),
 * -1 no usable reply. */
int hf_claim_on_set(const struct hf_store_reply *r);
/* The GET reply after a refused SET NX. */
enum hf_claim_result hf_claim_on_ask(const struct hf_store_reply *r);

#endif
