/* SPDX-License-Identifier: Apache-2.0 */
/* HMAC-SHA256 verification: header (hex/base64, optional sha256=), a member
 * embedded in the JSON body, and Standard Webhooks. Compares in constant
 * time after a length check; each secret's HMAC pads are cached per thread. */
#define _GNU_SOURCE
#include "verify.h"
#include "util.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init/Update/Final: see struct pads */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAC_CACHE 32

/* HMAC-SHA256 with the key's two pad blocks absorbed once per thread and
 * secret: a MAC is then two SHA-256 states copied by value, the message
 * hashed and one 32-byte block for the outer hash. OpenSSL's EVP_MAC costs
 * a provider lookup, locks and a cleanse per message, as much as hashing a
 * 400-byte body; the SHA256_* functions (deprecated in OpenSSL 3, kept for
 * such uses) run the same SHA-NI/AVX code without them. */
struct pads {
    SHA256_CTX inner, outer; /* after (key ^ ipad) and (key ^ opad) */
};

struct mac_cache {
    uint64_t id[MAC_CACHE];
    struct pads pads[MAC_CACHE];
    unsigned next;
};

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;

static void cache_free(void *p)
{
    if (p)
        OPENSSL_cleanse(p, sizeof(struct mac_cache)); /* the pads stand for the keys */
    free(p);
}

static void cache_init_once(void) { pthread_key_create(&cache_key, cache_free); }

void hf_verify_thread_cleanup(void)
{
    pthread_once(&cache_once, cache_init_once);
    cache_free(pthread_getspecific(cache_key));
    pthread_setspecific(cache_key, NULL);
}

static void pads_init(struct pads *pd, const unsigned char *key, size_t len)
{
    unsigned char k[SHA256_CBLOCK] = {0}, block[SHA256_CBLOCK];
    if (len > SHA256_CBLOCK)
        SHA256(key, len, k); /* RFC 2104: a key longer than a block is hashed first */
    else if (len)
        memcpy(k, key, len);
    for (int i = 0; i < SHA256_CBLOCK; i++)
        block[i] = k[i] ^ 0x36;
    SHA256_Init(&pd->inner);
    SHA256_Update(&pd->inner, block, sizeof(block));
    for (int i = 0; i < SHA256_CBLOCK; i++)
        block[i] = k[i] ^ 0x5c;
    SHA256_Init(&pd->outer);
    SHA256_Update(&pd->outer, block, sizeof(block));
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(block, sizeof(block));
}

static const struct pads *pads_for(const struct hf_secret *sec)
{
    pthread_once(&cache_once, cache_init_once);
    struct mac_cache *c = pthread_getspecific(cache_key);
    if (!c) {
        c = hf_calloc(1, sizeof(*c));
        pthread_setspecific(cache_key, c);
    }
    for (int i = 0; i < MAC_CACHE; i++)
        if (c->id[i] == sec->id && sec->id)
            return &c->pads[i];
    unsigned slot = c->next++ % MAC_CACHE;
    pads_init(&c->pads[slot], sec->key, sec->len);
    c->id[slot] = sec->id;
    return &c->pads[slot];
}

int hf_hmac_sha256(const struct hf_secret *sec, const void *const *parts, const size_t *lens, size_t nparts,
                   unsigned char out[32])
{
    const struct pads *pd = pads_for(sec);
    SHA256_CTX h = pd->inner;
    for (size_t i = 0; i < nparts; i++)
        if (lens[i])
            SHA256_Update(&h, parts[i], lens[i]);
    unsigned char inner[SHA256_DIGEST_LENGTH];
    SHA256_Final(inner, &h);
    h = pd->outer;
    SHA256_Update(&h, inner, sizeof(inner));
    SHA256_Final(out, &h);
    return 0;
}

int hf_decode_sig(const char *s, size_t n, unsigned char out[32])
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n > 7 && !strncasecmp(s, "sha256=", 7)) {
        s += 7;
        n -= 7;
    }
    if (n == 64)
        return hf_unhex(s, n, out, 32) == 32 ? 0 : -1;
    if (n == 44 || n == 43)
        return hf_b64_decode(s, n, out, 32) == 32 ? 0 : -1;
    return -1;
}

static size_t skip_ws(const char *b, size_t i, size_t len)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* Returns the index just past the string starting at b[i] == '"', or 0. */
static size_t skip_string(const char *b, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        if (b[i] == '\\')
            i++;
        else if (b[i] == '"')
            return i + 1;
    }
    return 0;
}

int hf_find_embedded(const char *b, size_t len, const char *name, size_t *cut_off, size_t *cut_len, const char **val,
                     size_t *val_len)
{
    size_t nl = strlen(name);
    size_t i = skip_ws(b, 0, len);
    if (i >= len || b[i] != '{')
        return -1;
    int depth = 0;
    size_t prev_comma = 0; /* index of the comma before the current top-level member */
    bool expect_key = true;
    for (; i < len; i++) {
        char c = b[i];
        if (c == '"') {
            size_t end = skip_string(b, i, len);
            if (!end)
                return -1;
            if (depth == 1 && expect_key) {
                size_t after = skip_ws(b, end, len);
                if (end - i - 2 == nl && !memcmp(b + i + 1, name, nl) && after < len && b[after] == ':') {
                    size_t vs = skip_ws(b, after + 1, len);
                    if (vs >= len || b[vs] != '"')
                        return -1;
                    size_t ve = skip_string(b, vs, len);
                    if (!ve)
                        return -1;
                    *val = b + vs + 1;
                    *val_len = ve - vs - 2;
                    if (prev_comma) {
                        *cut_off = prev_comma;
                        *cut_len = ve - prev_comma;
                    } else {
                        /* first member: cut it and the comma after it */
                        size_t k = skip_ws(b, ve, len);
                        if (k < len && b[k] == ',')
                            k = skip_ws(b, k + 1, len);
                        *cut_off = i;
                        *cut_len = k - i;
                    }
                    return 0;
                }
                expect_key = false;
            }
            i = end - 1;
            continue;
        }
        /* only blanks may stand between a comma and the next key: else
         * the cut below would also remove bytes the MAC never covered */
        if (depth == 1 && expect_key && c != ',' && c != ' ' && c != '\t' && c != '\n' && c != '\r')
            expect_key = false;
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0)
                return -1;
        } else if (c == ',' && depth == 1) {
            prev_comma = i;
            expect_key = true;
        }
    }
    return -1;
}

static bool try_secrets(const struct hf_source *src, const void *const *parts, const size_t *lens, size_t np,
                        const unsigned char *want, struct hf_verify_result *out)
{
    unsigned char mac[32];
    for (size_t k = 0; k < src->nsecrets; k++) {
        if (hf_hmac_sha256(&src->secrets[k], parts, lens, np, mac) < 0)
            continue;
        if (CRYPTO_memcmp(mac, want, 32) == 0) {
            out->key_index = (int)k;
            memcpy(out->mac, mac, 32);
            return true;
        }
    }
    return false;
}

static void verify_hmac(const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr, void *hctx,
                        struct hf_verify_result *out)
{
    unsigned char want[32];
    const char *h = src->header ? hdr(hctx, src->header) : NULL;
    if (h) {
        if (hf_decode_sig(h, strlen(h), want) < 0) {
            out->status = HF_VERIFY_MALFORMED;
            out->why = "signature header is not sha256=<64 hex> or base64 of 32 bytes";
            return;
        }
        const void *parts[] = {body};
        size_t lens[] = {len};
        if (try_secrets(src, parts, lens, 1, want, out))
            out->status = HF_VERIFY_OK;
        else {
            out->status = HF_VERIFY_BAD;
            out->why = "signature does not match the body";
        }
        return;
    }
    if (src->embedded) {
        const char *v;
        size_t vl, off, cl;
        if (hf_find_embedded(body, len, src->embedded, &off, &cl, &v, &vl) == 0) {
            if (hf_decode_sig(v, vl, want) < 0) {
                out->status = HF_VERIFY_MALFORMED;
                out->why = "embedded signature is not sha256=<64 hex> or base64 of 32 bytes";
                return;
            }
            const void *parts[] = {body, body + off + cl};
            size_t lens[] = {off, len - off - cl};
            if (try_secrets(src, parts, lens, 2, want, out)) {
                out->status = HF_VERIFY_OK;
                out->cut_off = off;
                out->cut_len = cl;
            } else {
                out->status = HF_VERIFY_BAD;
                out->why = "embedded signature does not match the body";
            }
            return;
        }
    }
    out->status = HF_VERIFY_MISSING;
    out->why = "missing signature";
}

static void verify_standard(const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr, void *hctx,
                            int64_t now_ms, struct hf_verify_result *out)
{
    const char *id = hdr(hctx, "webhook-id");
    const char *ts = hdr(hctx, "webhook-timestamp");
    const char *sig = hdr(hctx, "webhook-signature");
    if (!id || !ts || !sig) {
        out->status = HF_VERIFY_MISSING;
        out->why = "missing webhook-id, webhook-timestamp or webhook-signature";
        return;
    }
    char *end;
    long long t = strtoll(ts, &end, 10);
    if (!*ts || *end) {
        out->status = HF_VERIFY_MALFORMED;
        out->why = "webhook-timestamp is not an integer";
        return;
    }
    /* compare t against the window's ends: now - t overflows for a
     * timestamp near LLONG_MIN (strtoll clamps absurd values there) */
    long long now_s = now_ms / 1000, tol_s = src->tolerance_ms / 1000;
    if (t < now_s - tol_s || t > now_s + tol_s) {
        out->status = HF_VERIFY_STALE;
        out->why = "webhook-timestamp is outside the tolerance window";
        return;
    }
    const void *parts[] = {id, ".", ts, ".", body};
    size_t lens[] = {strlen(id), 1, strlen(ts), 1, len};
    unsigned char mac[8][32];
    size_t nmac = 0;
    for (size_t k = 0; k < src->nsecrets && k < 8; k++)
        if (hf_hmac_sha256(&src->secrets[k], parts, lens, 5, mac[k]) == 0)
            nmac = k + 1;
    /* space-separated "v1,<base64>" entries; other versions are skipped */
    const char *p = sig;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e - p > 3 && !strncmp(p, "v1,", 3)) {
            unsigned char want[32];
            if (hf_b64_decode(p + 3, (size_t)(e - p - 3), want, 32) == 32) {
                for (size_t k = 0; k < nmac; k++)
                    if (CRYPTO_memcmp(mac[k], want, 32) == 0) {
                        out->status = HF_VERIFY_OK;
                        out->key_index = (int)k;
                        memcpy(out->mac, want, 32);
                        return;
                    }
            }
        }
        p = e;
    }
    out->status = HF_VERIFY_BAD;
    out->why = "no webhook-signature entry matches";
}

void hf_verify(const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr, void *hctx, int64_t now_ms,
               struct hf_verify_result *out)
{
    memset(out, 0, sizeof(*out));
    out->key_index = -1;
    if (src->scheme == HF_SIG_STANDARD_WEBHOOKS)
        verify_standard(src, body, len, hdr, hctx, now_ms, out);
    else
        verify_hmac(src, body, len, hdr, hctx, out);
}
