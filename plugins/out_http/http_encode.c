/* SPDX-License-Identifier: Apache-2.0 */
/* Bodies and signatures of the HTTP sink, without a network: what is
 * signed is exactly the bytes sent. */
#define _GNU_SOURCE
#include "http_sink.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

int http_signing_key(int scheme, const char *secret, unsigned char *key, size_t keycap)
{
    if (!secret)
        return -1;
    size_t n = strlen(secret);
    if (scheme == HTTP_SIG_STANDARD) {
        if (n > 6 && !strncmp(secret, "whsec_", 6)) {
            secret += 6;
            n -= 6;
        }
        int kl = hf_b64_decode(secret, n, key, keycap);
        return kl > 0 ? kl : -1;
    }
    if (n == 0 || n > keycap)
        return -1;
    memcpy(key, secret, n);
    return (int)n;
}

void http_body(int format, struct hf_record *const *recs, size_t n, struct hf_buf *out)
{
    if (format == HTTP_FMT_ARRAY)
        hf_buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (format == HTTP_FMT_ARRAY && i)
            hf_buf_putc(out, ',');
        hf_buf_append(out, recs[i]->json, recs[i]->json_len);
        if (format == HTTP_FMT_NDJSON)
            hf_buf_putc(out, '\n');
    }
    if (format == HTTP_FMT_ARRAY)
        hf_buf_putc(out, ']');
}

static uint64_t record_hash(const struct hf_record *r)
{
    if (r->idempotency_key)
        return hf_hash64(r->idempotency_key, strlen(r->idempotency_key));
    if (r->event_id)
        return hf_hash64(r->event_id, strlen(r->event_id));
    return hf_hash64(r->json, r->json_len);
}

void http_message_id(struct hf_record *const *recs, size_t n, char *out, size_t outlen)
{
    if (n == 1 && recs[0]->idempotency_key) {
        snprintf(out, outlen, "%s", recs[0]->idempotency_key);
        return;
    }
    if (n == 1 && recs[0]->event_id) {
        snprintf(out, outlen, "%s:%s", recs[0]->event_id, recs[0]->event_type ? recs[0]->event_type : "");
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ record_hash(recs[i])) * 1099511628211ULL;
    snprintf(out, outlen, "%s_%016llx", n == 1 ? "msg" : "batch", (unsigned long long)h);
}

static void hmac(const unsigned char *key, size_t keylen, const void *const *parts, const size_t *lens, size_t np,
                 unsigned char mac[32])
{
    /* one buffer for the parts: HMAC() is the one-shot form OpenSSL 3
     * keeps undeprecated */
    struct hf_buf b;
    hf_buf_init(&b, 0);
    for (size_t i = 0; i < np; i++)
        hf_buf_append(&b, parts[i], lens[i]);
    unsigned int ml = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)(b.data ? b.data : ""), b.len, mac, &ml);
    hf_buf_free(&b);
}

void http_sign_standard(const unsigned char *key, size_t keylen, const char *id, int64_t ts, const char *body,
                        size_t body_len, char *out, size_t outlen)
{
    char tss[24];
    snprintf(tss, sizeof(tss), "%lld", (long long)ts);
    const void *parts[] = {id, ".", tss, ".", body};
    size_t lens[] = {strlen(id), 1, strlen(tss), 1, body_len};
    unsigned char mac[32];
    char b64[48];
    hmac(key, keylen, parts, lens, 5, mac);
    hf_b64_encode(mac, 32, b64);
    snprintf(out, outlen, "v1,%s", b64);
    OPENSSL_cleanse(mac, sizeof(mac));
}

void http_sign_hmac(const unsigned char *key, size_t keylen, const char *body, size_t body_len, char *out,
                    size_t outlen)
{
    const void *parts[] = {body};
    size_t lens[] = {body_len};
    unsigned char mac[32];
    char hex[65];
    hmac(key, keylen, parts, lens, 1, mac);
    hf_hex(mac, 32, hex);
    snprintf(out, outlen, "sha256=%s", hex);
    OPENSSL_cleanse(mac, sizeof(mac));
}
