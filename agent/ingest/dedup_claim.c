/* SPDX-License-Identifier: Apache-2.0 */
/* The shared dedup protocol: commands and the meaning of their replies
 * (the comment in dedup_claim.h has the whole exchange). */
#include "dedup_claim.h"
#include "util.h"

#include <string.h>

size_t hf_claim_key(char *buf, size_t cap, const char *source, const char *key)
{
    size_t pl = sizeof(HF_CLAIM_KEY_PREFIX) - 1, sl = strlen(source), kl = strlen(key);
    if (pl + sl + 1 + kl + 1 > cap)
        return 0;
    memcpy(buf, HF_CLAIM_KEY_PREFIX, pl);
    memcpy(buf + pl, source, sl);
    buf[pl + sl] = ':';
    memcpy(buf + pl + sl + 1, key, kl);
    buf[pl + sl + 1 + kl] = '\0';
    return pl + sl + 1 + kl;
}

int64_t hf_claim_ttl_ms(int64_t window_ms) { return window_ms < HF_CLAIM_TTL_MS ? window_ms : HF_CLAIM_TTL_MS; }

static void arg(struct hf_store_cmd *cmd, const char *s, size_t len)
{
    cmd->argv[cmd->argc] = s;
    cmd->argvlen[cmd->argc] = len;
    cmd->argc++;
}

static void arg_str(struct hf_store_cmd *cmd, const char *s) { arg(cmd, s, strlen(s)); }

static void arg_num(struct hf_store_cmd *cmd, int64_t v)
{
    char *end = cmd->num + sizeof(cmd->num);
    char *p = hf_digits_before(end, (uint64_t)(v > 0 ? v : 1));
    arg(cmd, p, (size_t)(end - p));
}

void hf_claim_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen, int64_t ttl_ms, bool accepted)
{
    cmd->argc = 0;
    arg_str(cmd, "SET");
    arg(cmd, key, klen);
    arg_str(cmd, accepted ? "1" : "0");
    arg_str(cmd, "NX");
    arg_str(cmd, "PX");
    arg_num(cmd, ttl_ms);
}

void hf_claim_ask_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen)
{
    cmd->argc = 0;
    arg_str(cmd, "GET");
    arg(cmd, key, klen);
}

void hf_claim_accepted_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen, int64_t window_ms)
{
    cmd->argc = 0;
    arg_str(cmd, "SET");
    arg(cmd, key, klen);
    arg_str(cmd, "1");
    arg_str(cmd, "PX");
    arg_num(cmd, window_ms);
}

void hf_claim_release_cmd(struct hf_store_cmd *cmd, const char *key, size_t klen)
{
    cmd->argc = 0;
    arg_str(cmd, "DEL");
    arg(cmd, key, klen);
}

static char *put_len(char *p, char *end, char kind, size_t n)
{
    char tmp[24], *t = hf_digits_before(tmp + sizeof(tmp), n);
    size_t tl = (size_t)(tmp + sizeof(tmp) - t);
    if ((size_t)(end - p) < tl + 3)
        return NULL;
    *p++ = kind;
    memcpy(p, t, tl);
    p += tl;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

size_t hf_store_cmd_resp(const struct hf_store_cmd *cmd, char *buf, size_t cap)
{
    char *p = buf, *end = buf + cap;
    p = put_len(p, end, '*', (size_t)cmd->argc);
    for (int i = 0; p && i < cmd->argc; i++) {
        p = put_len(p, end, '$', cmd->argvlen[i]);
        if (!p || (size_t)(end - p) < cmd->argvlen[i] + 2)
            return 0;
        memcpy(p, cmd->argv[i], cmd->argvlen[i]);
        p += cmd->argvlen[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    return p ? (size_t)(p - buf) : 0;
}

int hf_claim_on_set(const struct hf_store_reply *r)
{
    if (!r)
        return -1;
    if (r->type == HF_SR_STATUS && r->len == 2 && !memcmp(r->str, "OK", 2))
        return 1;
    if (r->type == HF_SR_NIL)
        return 0;
    return -1;
}

enum hf_claim_result hf_claim_on_ask(const struct hf_store_reply *r)
{
    if (!r || r->type == HF_SR_ERROR || r->type == HF_SR_OTHER || r->type == HF_SR_STATUS || r->type == HF_SR_INTEGER)
        return HF_CLAIM_UNAVAILABLE;
    /* gone since the SET: released after a failed accept, or the claim
     * expired; a retry will take it */
    if (r->type == HF_SR_NIL)
        return HF_CLAIM_IN_FLIGHT;
    if (r->len == 1 && r->str[0] == '0')
        return HF_CLAIM_IN_FLIGHT;
    /* "1", or a value hookfwd did not write: someone means it to be there */
    return HF_CLAIM_DUPLICATE;
}
