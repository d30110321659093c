/* SPDX-License-Identifier: Apache-2.0 */
/* Parse + flatten: a verified body, parsed by yyjson (strict RFC 8259,
 * UTF-8 validated) with a per-thread allocator pool, walked once into a
 * sealed record: dotted snake_case keys, typed scalars, numbers with their
 * exact text, metadata, idempotency key and metric points. */
#ifndef HF_FLATTEN_H
#define HF_FLATTEN_H

#include "config.h"
#include "record.h"
#include "verify.h"

#include <stddef.h>
#include <stdint.h>

#define HF_MAX_DEPTH 64 /* nested objects and arrays, the root included */
#define HF_MAX_FIELDS 4096

/* Builds the record for src from body (the embedded signature, if vr says
 * where, cut out first). rules (may be NULL) are the user's metric rules,
 * added to the profile's; with points false no metric point is built (no
 * sink takes them: they would only be carried and freed). NULL with reason
 * set when the body is not valid JSON, nests deeper than HF_MAX_DEPTH,
 * repeats a key, lacks the event type, or has more than HF_MAX_FIELDS
 * fields. */
struct hf_record *hf_flatten_event(const struct hf_source *src, const struct hf_metric_rule *rules, size_t nrules,
                                   bool points, const char *body, size_t len, const struct hf_verify_result *vr,
                                   const char *webhook_id, int64_t received_ms, char *reason, size_t reasonlen);

struct yyjson_val;
/* A scalar of a document read with YYJSON_READ_NUMBER_AS_RAW into v, its
 * strings copied into r's arena (numbers: the exact text and its value). */
void hf_json_scalar(struct hf_record *r, struct yyjson_val *o, struct hf_value *v);

/* Frees this thread's parse buffers (before the thread exits). */
void hf_flatten_thread_cleanup(void);

#endif
