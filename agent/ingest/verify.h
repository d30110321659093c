/* SPDX-License-Identifier: Apache-2.0 */
/* Signature verification over the exact bytes received, before parsing. */
#ifndef HF_VERIFY_H
#define HF_VERIFY_H

#include "config.h"

enum hf_verify_status { HF_VERIFY_OK, HF_VERIFY_MISSING, HF_VERIFY_BAD, HF_VERIFY_STALE, HF_VERIFY_MALFORMED };

/* Returns a header's value (NUL-terminated) or NULL; names are case-insensitive. */
typedef const char *(*hf_header_fn)(void *ctx, const char *name);

struct hf_verify_result {
    enum hf_verify_status status;
    int key_index; /* which secret verified */
    size_t cut_off; /* embedded signature: byte range removed before parsing */
    size_t cut_len;
    unsigned char mac[32];
    const char *why; /* for the 401 body */
};

void hf_verify(const struct hf_source *src, const char *body, size_t len, hf_header_fn hdr, void *hctx, int64_t now_ms,
               struct hf_verify_result *out);

/* HMAC-SHA256 of the concatenation of parts with secret sec (per-thread
 * cached contexts). */
int hf_hmac_sha256(const struct hf_secret *sec, const void *const *parts, const size_t *lens, size_t nparts,
                   unsigned char out[32]);

/* Finds a top-level string member `name` in JSON text without parsing it;
 * sets the byte range to cut (the member and one comma) and the value. */
int hf_find_embedded(const char *body, size_t len, const char *name, size_t *cut_off, size_t *cut_len, const char **val,
                     size_t *val_len);

/* Decodes "sha256=<hex>", "<hex>" or base64 into 32 bytes. */
int hf_decode_sig(const char *s, size_t n, unsigned char out[32]);

/* Thread exit hook for the per-thread MAC cache. */
void hf_verify_thread_cleanup(void);

#endif
