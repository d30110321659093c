/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP sink's options and what `hookfwd check` refuses: a URL that is
 * not http(s), a header name that is not a token or that the sink sets
 * itself, a signature without a usable secret. */
#define _GNU_SOURCE
#include "http_client.h"
#include "http_sink.h"

#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

static const struct hf_option signature_options[] = {
    {.name = "scheme",
     .type = HF_OPT_ENUM,
     .enums = "standard-webhooks|hmac-sha256",
     .required = true,
     .help = "standard-webhooks (webhook-id/-timestamp/-signature) or hmac-sha256 (one header)",
     HF_OPT_AT(struct http_conf, signature.scheme)},
    {.name = "secret",
     .type = HF_OPT_SECRET,
     .help = "standard-webhooks: whsec_ + base64; hmac-sha256: the shared secret",
     HF_OPT_AT(struct http_conf, signature.secret)},
    {.name = "header",
     .type = HF_OPT_STR,
     .def = "X-Hookfwd-Signature",
     .help = "hmac-sha256: the header carrying sha256=<hex>",
     HF_OPT_AT(struct http_conf, signature.header)},
    {0}};

static const struct hf_option tls_options[] = {HF_TLS_OPTIONS(struct http_conf, tls), {0}};

const struct hf_option http_options[] = {
    {.name = "url",
     .type = HF_OPT_STR,
     .required = true,
     .help = "the endpoint, http:// or https://",
     HF_OPT_AT(struct http_conf, url)},
    {.name = "method", .type = HF_OPT_ENUM, .enums = "POST|PUT", .def = "POST", HF_OPT_AT(struct http_conf, method)},
    {.name = "headers",
     .type = HF_OPT_TEMPLATEMAP,
     .help = "extra headers; values may use ${data.KEY} and friends",
     HF_OPT_AT(struct http_conf, headers)},
    {.name = "format",
     .type = HF_OPT_ENUM,
     .enums = "json|ndjson|array",
     .def = "json",
     .help = "json: one record per request; ndjson, array: one batch per request",
     HF_OPT_AT(struct http_conf, format)},
    {.name = "signature", .type = HF_OPT_OBJ, .sub = signature_options, .help = "sign each request"},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "15s",
     .min = 100,
     .max = 600000,
     .help = "one request, connecting included",
     HF_OPT_AT(struct http_conf, timeout_ms)},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_options, .help = "certificate checks and client certificate"},
    {0}};

/* RFC 9110 tchar */
static bool header_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

static int check_headers(const struct http_conf *cf, const struct hf_check *ck)
{
    static const char *const framing[] = {"Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", NULL};
    static const char *const signing[] = {"webhook-id", "webhook-timestamp", "webhook-signature", NULL};
    char opt[300];
    for (size_t i = 0; i < cf->headers.n; i++) {
        const char *name = cf->headers.v[i].name;
        snprintf(opt, sizeof(opt), "headers.%s", name);
        if (!header_token(name))
            return hf_check_fail(ck, strchr(name, '.') ? "headers" : opt, "'%s' is not a header name", name);
        for (size_t k = 0; framing[k]; k++)
            if (!strcasecmp(name, framing[k]))
                return hf_check_fail(ck, strchr(name, '.') ? "headers" : opt,
                                     "%s is set by the HTTP client, not by configuration", name);
        for (size_t k = 0; cf->signature.scheme == HTTP_SIG_STANDARD && signing[k]; k++)
            if (!strcasecmp(name, signing[k]))
                return hf_check_fail(ck, strchr(name, '.') ? "headers" : opt, "%s is set by the signature", name);
        if (cf->signature.scheme == HTTP_SIG_HMAC && !strcasecmp(name, cf->signature.header))
            return hf_check_fail(ck, strchr(name, '.') ? "headers" : opt, "%s is set by the signature", name);
    }
    return 0;
}

static int check_signature(const struct http_conf *cf, const struct hf_check *ck)
{
    if (cf->signature.scheme == HTTP_SIG_NONE)
        return 0;
    if (!cf->signature.secret || !cf->signature.secret[0])
        return hf_check_fail(ck, "signature", "a signature needs a secret (signature.secret)");
    unsigned char key[512];
    int kl = http_signing_key(cf->signature.scheme, cf->signature.secret, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    if (kl < 0 && cf->signature.scheme == HTTP_SIG_STANDARD)
        return hf_check_fail(ck, "signature.secret",
                             "a standard-webhooks secret must be whsec_ followed by base64 (the value is not shown)");
    if (kl < 0)
        return hf_check_fail(ck, "signature.secret", "longer than 512 bytes (the value is not shown)");
    if (cf->signature.scheme == HTTP_SIG_HMAC && !header_token(cf->signature.header))
        return hf_check_fail(ck, "signature.header", "'%s' is not a header name", cf->signature.header);
    return 0;
}

int http_check(const void *conf, const struct hf_check *ck)
{
    const struct http_conf *cf = conf;
    if (hf_check_url(ck, "url", cf->url, "http|https") < 0 || hf_check_tls(ck, &cf->tls) < 0 ||
        check_signature(cf, ck) < 0 || check_headers(cf, ck) < 0)
        return -1;
    return 0;
}
