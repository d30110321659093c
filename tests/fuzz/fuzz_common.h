/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the fuzz targets: the configuration they run on (loaded through
 * the real hf_config_load from a memfd), and an independent signature check
 * (OpenSSL's one-shot HMAC, no code from agent/verify.c) used as the oracle
 * "nothing unsigned is ever accepted". Header-only so each target stays one
 * translation unit plus the core library. */
#ifndef HF_FUZZ_COMMON_H
#define HF_FUZZ_COMMON_H

#define _GNU_SOURCE
#include "config.h"
#include "util.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_UNUSED __attribute__((unused))

/* Fixed clock for the verifier, so Standard Webhooks inputs replay the same
 * way: timestamps near 1700000000 are inside the 5 minute tolerance. */
#define FUZZ_NOW_MS 1700000000000LL

/* The three signature shapes the agent knows: header (omega also embedded),
 * header only, Standard Webhooks. Rules and filters give the flattener's
 * consumers something to chew on. */
static const char fuzz_yaml[] =
    "listen: {address: \"127.0.0.1:0\", max_body: 64KiB, max_header: 4KiB, read_timeout: 1s}\n"
    "sources:\n"
    "  - name: omega\n"
    "    path: /webhooks/omega\n"
    "    profile: omegaengine\n"
    "    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature,\n"
    "                secrets: [\"whsec_your_signing_secret\", \"old-omega-key\"]}\n"
    "  - name: sentinelayer\n"
    "    path: /webhooks/sentinelayer\n"
    "    profile: sentinelayer\n"
    "    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: [\"sl_live_3f9a2c71d04e\"]}\n"
    "    dedup: {window: 1h}\n"
    "  - name: other\n"
    "    path: /webhooks/other\n"
    "    event_field: type\n"
    "    id_field: id\n"
    "    time_field: ts\n"
    "    severity_map: {\"x.*\": high, \"crit\": critical}\n"
    "    signature: {scheme: standard-webhooks, secrets: [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"],\n"
    "                tolerance: 5m}\n"
    "    dedup: {window: 1h, key: data.id}\n"
    "metrics:\n"
    "  - {name: fuzz.value, type: distribution, value: value, tags: [kind=kind, event, n=a.b.c]}\n"
    "  - {name: fuzz.count, type: count, events: [\"*\"], tags: [severity, source]}\n"
    "  - {name: fuzz.gauge, type: gauge, value: data.n, events: [\"x.*\", \"decision.*\"]}\n"
    "sinks:\n"
    "  - name: f1\n"
    "    type: stdout\n"
    "    filter:\n"
    "      events: [\"decision.*\", \"scan.*\", \"!scan.skipped\", \"x.?\"]\n"
    "      severity_at_least: warning\n"
    "      match:\n"
    "        decision.risk_score: {gt: 0.5}\n"
    "        gate_status: {in: [blocked, error]}\n"
    "  - name: f2\n"
    "    type: stdout\n"
    "    filter:\n"
    "      match:\n"
    "        value: {ne: \"3\", le: 1e300}\n"
    "        tags: {not_in: [a, b]}\n"
    "        id: {eq: 7}\n";

/* Writes text to a memfd and loads it with the real hf_config_load. */
static FUZZ_UNUSED struct hf_config *fuzz_load_config(const void *text, size_t len, struct hf_cerr *err)
{
    int fd = memfd_create("hookfwd-fuzz.yaml", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const char *)text + off, len - off);
        if (w <= 0) {
            perror("write memfd");
            abort();
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct hf_config *c = hf_config_load(path, err);
    close(fd);
    return c;
}

static FUZZ_UNUSED struct hf_config *fuzz_default_config(void)
{
    struct hf_cerr err = {0};
    struct hf_config *c = fuzz_load_config(fuzz_yaml, sizeof(fuzz_yaml) - 1, &err);
    if (!c) {
        fprintf(stderr, "fuzz config does not load: %s\n", err.msg);
        abort();
    }
    return c;
}

static FUZZ_UNUSED const struct hf_source *fuzz_source(const struct hf_config *c, const char *name)
{
    for (size_t i = 0; i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, name))
            return &c->sources[i];
    abort();
}

/* ---- the independent oracle ---- */

static int oracle_hmac(const struct hf_secret *k, const void *const *parts, const size_t *lens, size_t n,
                       unsigned char out[32])
{
    /* concatenate, then one-shot HMAC: deliberately nothing like verify.c */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    unsigned char *buf = malloc(total + 1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + off, parts[i], lens[i]);
        off += lens[i];
    }
    unsigned int ol = 0;
    unsigned char *r = HMAC(EVP_sha256(), k->key, (int)k->len, buf, total, out, &ol);
    free(buf);
    return r && ol == 32 ? 0 : -1;
}

static int oracle_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Does `sig` (hex with optional sha256=, or base64) name this MAC? */
static bool oracle_sig_names(const char *sig, size_t n, const unsigned char mac[32])
{
    while (n && (*sig == ' ' || *sig == '\t' || *sig == '\r' || *sig == '\n' || *sig == '\v' || *sig == '\f')) {
        sig++;
        n--;
    }
    while (n && (sig[n - 1] == ' ' || sig[n - 1] == '\t' || sig[n - 1] == '\r' || sig[n - 1] == '\n' ||
                 sig[n - 1] == '\v' || sig[n - 1] == '\f'))
        n--;
    if (n > 7 && !strncasecmp(sig, "sha256=", 7)) {
        sig += 7;
        n -= 7;
    }
    if (n == 64) {
        for (size_t i = 0; i < 32; i++) {
            int hi = oracle_hexval(sig[2 * i]), lo = oracle_hexval(sig[2 * i + 1]);
            if (hi < 0 || lo < 0 || (unsigned char)(hi * 16 + lo) != mac[i])
                return false;
        }
        return true;
    }
    /* base64 in either alphabet, padding optional: what it decodes to must
     * be the MAC (spelling variants still need the MAC to write) */
    while (n && sig[n - 1] == '=')
        n--;
    unsigned char out[33];
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const char *at = sig[i] ? strchr(alpha, sig[i]) : NULL;
        int v = at ? (int)(at - alpha) : sig[i] == '+' || sig[i] == '-' ? 62 : sig[i] == '/' || sig[i] == '_' ? 63 : -1;
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == sizeof(out))
                return false;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o == 32 && !memcmp(out, mac, 32);
}

typedef const char *(*fuzz_header_fn)(void *ctx, const char *name);

/* True when an honest implementation could accept (body, headers) for src:
 * a header signature over the exact bytes, a `"NAME":"sig"` member whose
 * removal (with one adjacent comma) leaves bytes signed by that sig, or a
 * Standard Webhooks v1 entry over id.ts.body. Used only on what the agent
 * accepted, so its cost does not matter. */
static FUZZ_UNUSED bool fuzz_oracle_signed(const struct hf_source *src, const char *body, size_t len,
                                           fuzz_header_fn hdr, void *hctx)
{
    unsigned char mac[32];
    if (src->scheme == HF_SIG_STANDARD_WEBHOOKS) {
        const char *id = hdr(hctx, "webhook-id"), *ts = hdr(hctx, "webhook-timestamp");
        const char *sig = hdr(hctx, "webhook-signature");
        if (!id || !ts || !sig)
            return false;
        const void *parts[] = {id, ".", ts, ".", body};
        size_t lens[] = {strlen(id), 1, strlen(ts), 1, len};
        for (size_t k = 0; k < src->nsecrets; k++) {
            if (oracle_hmac(&src->secrets[k], parts, lens, 5, mac) < 0)
                continue;
            for (const char *p = sig; (p = strstr(p, "v1,")); p += 3) {
                size_t n = strcspn(p + 3, " ");
                if ((p == sig || p[-1] == ' ') && oracle_sig_names(p + 3, n, mac))
                    return true;
            }
        }
        return false;
    }
    const char *h = src->header ? hdr(hctx, src->header) : NULL;
    if (h) {
        const void *parts[] = {body};
        size_t lens[] = {len};
        for (size_t k = 0; k < src->nsecrets; k++)
            if (oracle_hmac(&src->secrets[k], parts, lens, 1, mac) == 0 && oracle_sig_names(h, strlen(h), mac))
                return true;
        return false;
    }
    if (!src->embedded)
        return false;
    /* every "NAME" : "value" occurrence, cut with the comma before it or
     * the comma after it */
    size_t nl = strlen(src->embedded);
    for (size_t i = 0; i + nl + 2 < len; i++) {
        if (body[i] != '"' || memcmp(body + i + 1, src->embedded, nl) || body[i + nl + 1] != '"')
            continue;
        size_t j = i + nl + 2;
        while (j < len && strchr(" \t\r\n", body[j]))
            j++;
        if (j >= len || body[j] != ':')
            continue;
        j++;
        while (j < len && strchr(" \t\r\n", body[j]))
            j++;
        if (j >= len || body[j] != '"')
            continue;
        size_t vs = j + 1, ve = vs;
        while (ve < len && body[ve] != '"')
            ve += body[ve] == '\\' ? 2 : 1;
        if (ve >= len)
            continue;
        size_t end = ve + 1;
        /* the cuts an implementation might make: [comma before .. end),
         * [i .. comma after + whitespace) */
        size_t cuts[2][2];
        int nc = 0;
        size_t b = i;
        while (b > 0 && strchr(" \t\r\n", body[b - 1]))
            b--;
        if (b > 0 && body[b - 1] == ',') {
            cuts[nc][0] = b - 1;
            cuts[nc++][1] = end;
        }
        size_t a = end;
        while (a < len && strchr(" \t\r\n", body[a]))
            a++;
        if (a < len && body[a] == ',') {
            a++;
            while (a < len && strchr(" \t\r\n", body[a]))
                a++;
        }
        cuts[nc][0] = i;
        cuts[nc++][1] = a;
        for (int c = 0; c < nc; c++) {
            const void *parts[] = {body, body + cuts[c][1]};
            size_t lens[] = {cuts[c][0], len - cuts[c][1]};
            for (size_t k = 0; k < src->nsecrets; k++)
                if (oracle_hmac(&src->secrets[k], parts, lens, 2, mac) == 0 &&
                    oracle_sig_names(body + vs, ve - vs, mac))
                    return true;
        }
    }
    return false;
}

#endif
