/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records and metric points: what every stage after parsing reads.
 * A record is immutable once built and shared between sink workers through
 * an atomic reference count; its memory is one arena freed with the last
 * reference. */
#ifndef HF_RECORD_H
#define HF_RECORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_severity { HF_SEV_INFO, HF_SEV_WARNING, HF_SEV_HIGH, HF_SEV_CRITICAL, HF_SEV__COUNT };
const char *hf_severity_name(enum hf_severity s);
int hf_severity_parse(const char *s, enum hf_severity *out);

enum hf_vtype { HF_V_NULL, HF_V_BOOL, HF_V_INT, HF_V_DOUBLE, HF_V_STRING, HF_V_ARRAY };

struct hf_value {
    enum hf_vtype type;
    bool b;
    int64_t i;
    double d; /* also set for INT */
    const char *s; /* STRING: the text; INT/DOUBLE: the JSON number text as received */
    size_t len;
    const struct hf_value *items; /* ARRAY of scalars */
    size_t nitems;
};

struct hf_field {
    const char *key; /* dotted snake_case */
    struct hf_value v;
};

enum hf_metric_type { HF_MT_COUNT, HF_MT_GAUGE, HF_MT_DIST };
const char *hf_metric_type_name(enum hf_metric_type t);

struct hf_point {
    const char *name;
    enum hf_metric_type type;
    double value;
    const char **tags; /* "key:value", sorted, includes source:<name> */
    size_t ntags;
};

struct hf_arena_chunk;

struct hf_record {
    atomic_int refs;
    uint64_t seq; /* journal sequence (0 in memory mode) */
    const char *source;
    const char *event_type;
    const char *event_id;
    const char *idempotency_key; /* NULL when the source has none */
    enum hf_severity severity;
    const char *timestamp; /* as sent, or received_at when absent */
    int64_t event_ms; /* parsed timestamp, or received_ms */
    int64_t received_ms;
    int signature_key; /* index in the source's secrets, -1 unsigned */
    const struct hf_field *fields;
    size_t nfields;
    const struct hf_point *points;
    size_t npoints;
    const char *json; /* the record as one JSON object, no newline */
    size_t json_len;
    struct hf_arena_chunk *arena;
};

/* Arena allocation for building a record; everything is freed at once. */
void *hf_rec_alloc(struct hf_record *r, size_t n);
const char *hf_rec_strndup(struct hf_record *r, const char *s, size_t n);
const char *hf_rec_strdup(struct hf_record *r, const char *s);

struct hf_record *hf_record_new(void);
/* The ingest path's records: built in this thread's scratch arena (one
 * record at a time per thread), then hf_record_pack() copies it into one
 * allocation sized to the event and returns that (the scratch is free
 * again); hf_record_drop_scratch() abandons one instead. */
struct hf_record *hf_record_new_scratch(void);
struct hf_record *hf_record_pack(struct hf_record *r);
void hf_record_drop_scratch(struct hf_record *r);
void hf_record_ref(struct hf_record *r);
void hf_record_unref(struct hf_record *r);

/* Looks a field up by dotted key; also answers the pseudo-fields `event`,
 * `event_type`, `source`, `severity`, `event_id`. NULL when absent. */
const struct hf_value *hf_record_get(const struct hf_record *r, const char *key, struct hf_value *scratch);
/* A scalar as text (numbers as received, bools as true/false). */
int hf_value_text(const struct hf_value *v, char *out, size_t outlen);
/* Numeric value, accepting numbers sent as strings ("0.0042"). */
bool hf_value_number(const struct hf_value *v, double *out);

/* Serializes r's metadata and fields into r->json (in the arena). */
void hf_record_seal(struct hf_record *r);

struct hf_buf;
/* One metric point as a JSON object (stdout/file/kafka lines). */
void hf_point_json(struct hf_buf *b, const struct hf_record *r, const struct hf_point *pt);
#endif
