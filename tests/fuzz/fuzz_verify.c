/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: signature parsing and verification (agent/verify.c).
 *
 * Input: one flags byte, then the signature header value, webhook-id and
 * webhook-timestamp separated by NUL bytes, then the body (the rest).
 * flags & 3 picks the source: omega (header), sentinelayer (header), other
 * (Standard Webhooks), or omega without a header (embedded member).
 *
 * Checked on every input: hf_decode_sig and hf_find_embedded stay in
 * bounds; whatever hf_verify accepts is really signed (independent OpenSSL
 * oracle, fuzz_common.h). With flags & 4 the harness signs the body itself
 * and then requires acceptance, and rejection once any one byte changes. */
#include "fuzz_common.h"
#include "verify.h"

#include <stdint.h>
#include <strings.h>

static struct hf_config *cfg;

struct hdrs {
    const char *sig_name;
    const char *sig, *id, *ts;
};

static const char *get_hdr(void *ctx, const char *name)
{
    struct hdrs *h = ctx;
    if (h->sig_name && !strcasecmp(name, h->sig_name))
        return h->sig;
    if (!strcasecmp(name, "webhook-id"))
        return h->id;
    if (!strcasecmp(name, "webhook-timestamp"))
        return h->ts;
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg = fuzz_default_config();
    return 0;
}

/* Takes the next NUL-terminated field (copied), or the rest. */
static char *next_field(const uint8_t **p, size_t *left)
{
    const uint8_t *z = memchr(*p, 0, *left);
    size_t n = z ? (size_t)(z - *p) : *left;
    char *s = hf_strndup((const char *)*p, n);
    *p += z ? n + 1 : n;
    *left -= z ? n + 1 : n;
    return s;
}

static void check_primitives(const char *sig, const char *body, size_t len)
{
    unsigned char out[32];
    (void)hf_decode_sig(sig, strlen(sig), out);
    size_t off, cl, vl;
    const char *v;
    if (hf_find_embedded(body, len, "signature", &off, &cl, &v, &vl) == 0) {
        if (off > len || cl > len - off || v < body || vl > len || v + vl > body + len)
            abort();
    }
}

static void expect(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_verify: %s\n", what);
        abort();
    }
}

static void verify_and_check(const struct hf_source *src, const char *body, size_t len, struct hdrs *h,
                             struct hf_verify_result *vr)
{
    hf_verify(src, body, len, get_hdr, h, FUZZ_NOW_MS, vr);
    if (vr->status == HF_VERIFY_OK) {
        expect(fuzz_oracle_signed(src, body, len, get_hdr, h), "accepted a body the oracle says is not signed");
        expect(vr->cut_len == 0 || (vr->cut_off <= len && vr->cut_len <= len - vr->cut_off), "cut out of range");
        expect(vr->key_index >= 0 && (size_t)vr->key_index < src->nsecrets, "key index out of range");
    } else {
        expect(vr->why != NULL, "a rejection without a reason");
    }
}

static void encode_sig(const unsigned char mac[32], unsigned how, char *out, size_t outlen)
{
    char hex[65], b64[64];
    hf_hex(mac, 32, hex);
    hf_b64_encode(mac, 32, b64);
    switch (how & 3) {
    case 0: snprintf(out, outlen, "sha256=%s", hex); break;
    case 1:
        for (int i = 0; i < 64; i++)
            hex[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
        snprintf(out, outlen, "%s", hex);
        break;
    case 2: snprintf(out, outlen, "%s", b64); break;
    default:
        /* base64url without padding */
        for (char *c = b64; *c; c++)
            *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
        b64[43] = '\0';
        snprintf(out, outlen, "%s", b64);
    }
}

static bool ts_in_window(const char *ts, int64_t tol_ms)
{
    char *end;
    long long t = strtoll(ts, &end, 10);
    if (!*ts || *end)
        return false;
    long long now_s = FUZZ_NOW_MS / 1000;
    return t >= now_s - tol_ms / 1000 && t <= now_s + tol_ms / 1000;
}

/* Signs body as src expects, requires OK, then one flipped byte must fail. */
static void signed_round_trip(const struct hf_source *src, unsigned flags, const char *body, size_t len, struct hdrs *h,
                              uint8_t pick)
{
    size_t k = (flags >> 5) % src->nsecrets;
    unsigned char mac[32];
    char sig[160];
    struct hf_verify_result vr;
    char *signed_body = NULL;
    size_t slen = len;
    if (src->scheme == HF_SIG_STANDARD_WEBHOOKS) {
        const void *parts[] = {h->id, ".", h->ts, ".", body};
        size_t lens[] = {strlen(h->id), 1, strlen(h->ts), 1, len};
        expect(oracle_hmac(&src->secrets[k], parts, lens, 5, mac) == 0, "hmac");
        char enc[80];
        encode_sig(mac, 2, enc, sizeof(enc));
        /* the fuzzer's own entries stay around ours */
        snprintf(sig, sizeof(sig), "%.40s v1,%s v2,x", h->sig, enc);
        h->sig = sig;
        verify_and_check(src, body, len, h, &vr);
        if (ts_in_window(h->ts, src->tolerance_ms))
            expect(vr.status == HF_VERIFY_OK, "a correctly signed Standard Webhooks message was rejected");
        else
            expect(vr.status != HF_VERIFY_OK, "a stale Standard Webhooks message was accepted");
    } else if (h->sig_name) {
        const void *parts[] = {body};
        size_t lens[] = {len};
        expect(oracle_hmac(&src->secrets[k], parts, lens, 1, mac) == 0, "hmac");
        encode_sig(mac, flags >> 3, sig, sizeof(sig));
        h->sig = sig;
        verify_and_check(src, body, len, h, &vr);
        expect(vr.status == HF_VERIFY_OK, "a correctly signed body was rejected");
        expect((size_t)vr.key_index == k, "verified with the wrong key");
    } else {
        /* embedded: insert ,"signature":"..." before the closing brace */
        size_t end = len;
        while (end && strchr(" \t\r\n", body[end - 1]))
            end--;
        if (!end || body[end - 1] != '}')
            return;
        const void *parts[] = {body};
        size_t lens[] = {len};
        expect(oracle_hmac(&src->secrets[k], parts, lens, 1, mac) == 0, "hmac");
        char enc[80];
        encode_sig(mac, flags >> 3, enc, sizeof(enc));
        char member[120];
        int ml = snprintf(member, sizeof(member), ",\"signature\":\"%s\"", enc);
        slen = len + (size_t)ml;
        signed_body = malloc(slen);
        memcpy(signed_body, body, end - 1);
        memcpy(signed_body + end - 1, member, (size_t)ml);
        memcpy(signed_body + end - 1 + ml, body + end - 1, len - (end - 1));
        size_t off, cl, vl;
        const char *v;
        bool ours = hf_find_embedded(signed_body, slen, "signature", &off, &cl, &v, &vl) == 0 && off == end - 1 &&
                    cl == (size_t)ml;
        verify_and_check(src, signed_body, slen, h, &vr);
        if (ours)
            expect(vr.status == HF_VERIFY_OK, "a correctly embedded signature was rejected");
        body = signed_body;
    }
    if (vr.status == HF_VERIFY_OK && slen > 0) {
        char *bad = malloc(slen);
        memcpy(bad, body, slen);
        size_t pos = pick % slen;
        bad[pos] ^= (char)(1 + (pick & 0x7f));
        struct hf_verify_result vr2;
        verify_and_check(src, bad, slen, h, &vr2);
        /* an embedded signature may be the changed byte: then it is malformed or wrong, never OK */
        expect(vr2.status != HF_VERIFY_OK, "a body with a changed byte still verified");
        free(bad);
    }
    free(signed_body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    char *sig = next_field(&p, &left);
    char *id = next_field(&p, &left);
    char *ts = next_field(&p, &left);
    /* the body is an exact-size heap copy, so reads past it are caught */
    char *body = malloc(left ? left : 1);
    memcpy(body, p, left);
    size_t len = left;

    static const char *const names[] = {"omega", "sentinelayer", "other", "omega"};
    const struct hf_source *src = fuzz_source(cfg, names[flags & 3]);
    struct hdrs h = {.sig_name = (flags & 3) == 3                          ? NULL
                                 : src->scheme == HF_SIG_STANDARD_WEBHOOKS ? "webhook-signature"
                                                                           : src->header,
                     .sig = sig,
                     .id = id,
                     .ts = ts};
    check_primitives(sig, body, len);
    struct hf_verify_result vr;
    verify_and_check(src, body, len, &h, &vr);
    if (flags & 4)
        signed_round_trip(src, flags, body, len, &h, size > 1 ? data[size - 1] : 0);
    free(body);
    free(sig);
    free(id);
    free(ts);
    return 0;
}
