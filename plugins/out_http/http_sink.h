/* SPDX-License-Identifier: Apache-2.0 */
/* The generic HTTP sink: records to any endpoint, one per request (json)
 * or a batch per request (ndjson, array), with the user's headers and,
 * optionally, a signature the receiver can check: Standard Webhooks
 * (webhook-id is the record's idempotency key, so a receiver drops
 * repeats) or a plain HMAC-SHA256 header like the one hookfwd's sources
 * verify. Options and check in http_conf.c, bodies and signatures (pure)
 * in http_encode.c, the plugin in http_sink.c. */
#ifndef HF_OUT_HTTP_SINK_H
#define HF_OUT_HTTP_SINK_H

#include "plugin.h"
#include "tls_conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method { HTTP_POST, HTTP_PUT };
enum http_format { HTTP_FMT_JSON, HTTP_FMT_NDJSON, HTTP_FMT_ARRAY };
enum http_scheme { HTTP_SIG_NONE = -1, HTTP_SIG_STANDARD = 0, HTTP_SIG_HMAC = 1 };

struct http_conf {
    char *url;
    int method; /* enum http_method */
    struct hf_template_map headers;
    int format; /* enum http_format */
    struct {
        int scheme; /* enum http_scheme; -1 when there is no signature */
        char *secret;
        char *header;
    } signature;
    int64_t timeout_ms;
    struct hf_tls_conf tls;
};

extern const struct hf_option http_options[];
int http_check(const void *conf, const struct hf_check *ck);

/* The HMAC key of a signature secret: a Standard Webhooks secret is
 * "whsec_" + base64 of the key, an hmac-sha256 secret is the key itself.
 * Returns the key length, -1 when the secret is not of that form. */
int http_signing_key(int scheme, const char *secret, unsigned char *key, size_t keycap);

/* The body of one request: records[0..n) as JSON (n must be 1), NDJSON or
 * a JSON array. */
void http_body(int format, struct hf_record *const *recs, size_t n, struct hf_buf *out);

/* webhook-id for records[0..n): the idempotency key of a single record
 * (else its event id, else a hash of it); for a batch, a hash over the
 * records' keys, the same on every retry of the same batch. */
void http_message_id(struct hf_record *const *recs, size_t n, char *out, size_t outlen);

/* Standard Webhooks: "v1,<base64 HMAC-SHA256(key, id.ts.body)>". */
void http_sign_standard(const unsigned char *key, size_t keylen, const char *id, int64_t ts, const char *body,
                        size_t body_len, char *out, size_t outlen);
/* hmac-sha256: "sha256=<hex HMAC-SHA256(key, body)>". */
void http_sign_hmac(const unsigned char *key, size_t keylen, const char *body, size_t body_len, char *out,
                    size_t outlen);

#endif
