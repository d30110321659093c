/* SPDX-License-Identifier: Apache-2.0 */
/* The Splunk HEC sink's internal interface, shared by its files and its unit
 * tests: the configuration read at init, the wire encoder and the reading of
 * HEC replies. Nothing here is used outside plugins/out_splunk/ and tests. */
#ifndef HF_OUT_SPLUNK_H
#define HF_OUT_SPLUNK_H

#include "http_client.h"
#include "plugin.h"

#include <stdbool.h>
#include <stdint.h>

/* HEC's default request cap (limits.conf max_content_length, 800 MiB): an
 * encoded request never grows past it. */
#define HF_SPLUNK_MAX_REQUEST (800u << 20)

struct splunk_job;
struct splunk_req;

/* The options as the core binds them (hf_splunk_options); owned by the
 * core. */
struct splunk_options {
    char *url;
    char *token; /* secret */
    char *index, *metrics_index, *sourcetype, *host, *channel;
    bool gzip, ack;
    int64_t ack_timeout_ms, timeout_ms;
    struct hf_tls_conf tls;
};

/* What the sink works with, derived from the options at init; strings are
 * owned and freed at destroy. */
struct splunk_conf {
    char *event_url; /* <url>/services/collector/event */
    char *ack_url; /* <url>/services/collector/ack */
    char *token; /* secret: wiped on destroy, never logged */
    size_t token_len;
    char *index; /* NULL: the token's default index */
    char *metrics_index; /* NULL: same as index */
    char *sourcetype; /* NULL: hookfwd:<source> per record */
    char *host;
    char channel[37];
    bool gzip, ack, verify;
    int64_t timeout_ms, ack_timeout_ms;
};

struct splunk_ctx {
    struct hf_sink *sink;
    struct splunk_conf conf;
    struct hf_http_client *http;
    struct hf_http_headers *event_headers; /* carry the token: wiped on destroy */
    struct hf_http_headers *ack_headers;
    struct splunk_req *idle; /* finished requests, kept for their buffers */
    struct hf_splunk_zip *zip; /* gzip on: the compressor every request reuses */
    struct splunk_job *jobs; /* batches this sink holds */
    struct splunk_req *ack_req; /* the ack query in flight, if any */
    int64_t ack_poll_due_ms; /* earliest pending ack poll */
    size_t max_request_bytes; /* learned from 413 answers; 0 = no limit */
    int64_t max_request_set_ms;
    int64_t auth_log_mono_ms; /* last token-error log line */
    int64_t config_log_mono_ms; /* last configuration-error log line */
    bool warned_no_ack_id;
    int completed; /* batches finished in this poll round */
};

/* ---- encoder (splunk_encode.c): pure, no I/O ---- */

/* Appends the HEC objects of record r (one event, and/or one metric event
 * per point, as the sink takes) to out, one per line. Returns how many
 * objects were written. */
size_t hf_splunk_encode_record(const struct splunk_conf *conf, enum hf_takes takes, const struct hf_record *r,
                               struct hf_buf *out);
/* How many objects hf_splunk_encode_record writes for r. */
size_t hf_splunk_count_objects(enum hf_takes takes, const struct hf_record *r);
/* Gzips in into out (replacing its contents). 0 or -1. */
int hf_splunk_gzip(const char *in, size_t len, struct hf_buf *out);
/* A gzip compressor kept for the sink's life: each request resets it
 * (deflateReset writes the same bytes as a fresh one) rather than
 * allocating and freeing its ~270 KB of tables per batch. Under glibc's
 * default trim threshold (hf_mem_tune steps aside when GLIBC_TUNABLES sets
 * malloc options) that free went back to the kernel (madvise, a TLB flush)
 * and the next batch faulted it in again: 1-2 us of CPU per event. */
struct hf_splunk_zip;
struct hf_splunk_zip *hf_splunk_zip_new(void); /* NULL: out of memory */
void hf_splunk_zip_free(struct hf_splunk_zip *zip);
/* As hf_splunk_gzip, byte for byte, with zip's compressor. */
int hf_splunk_gzip_with(struct hf_splunk_zip *zip, const char *in, size_t len, struct hf_buf *out);
/* A random version-4 UUID, lowercase, 36 characters plus NUL. */
void hf_splunk_uuid(char out[37]);
bool hf_splunk_is_uuid(const char *s);

/* ---- HEC replies (splunk_reply.c) ---- */

struct hf_splunk_reply {
    long status; /* HTTP status, 0 when the request failed below HTTP */
    int code; /* HEC "code", -1 when absent */
    long invalid_event; /* "invalid-event-number", -1 when absent */
    int64_t ack_id; /* "ackId", -1 when absent */
    char text[160]; /* HEC "text", or the start of a non-JSON body */
};

enum hf_splunk_class {
    HF_SPLUNK_OK, /* accepted (codes 0, 24, 25 ...) */
    HF_SPLUNK_RETRY, /* busy, 5xx, 429, 408, transport: back off and resend */
    HF_SPLUNK_AUTH, /* 401/403: keep the records, retry slowly, tell the operator */
    HF_SPLUNK_CONFIG, /* index, channel, URL ...: the same, it needs the operator */
    HF_SPLUNK_POISON, /* one event is bad: find it, dead-letter it, send the rest */
    HF_SPLUNK_TOO_LARGE, /* 413: split */
};

void hf_splunk_parse_reply(long status, const char *body, size_t len, struct hf_splunk_reply *out);
enum hf_splunk_class hf_splunk_classify(const struct hf_splunk_reply *r);
/* Reads {"acks":{"0":true,...}}: calls fn for each id answered true. -1 on a
 * malformed answer. */
int hf_splunk_parse_acks(const char *body, size_t len, void (*fn)(void *arg, int64_t id), void *arg);

/* ---- HTTP (splunk_http.c) ---- */

/* One HEC request: the batch window (or the ack query) and its gzipped
 * form, kept in an idle pool between requests so the buffers are reused.
 * The transfer itself is the shared client's (http_client.h). */
struct splunk_req {
    struct splunk_ctx *ctx;
    struct hf_buf body; /* the JSON objects (or the ack query) */
    struct hf_buf wire; /* body gzipped, when gzip is on */
    struct splunk_job *job; /* NULL: the ack query */
    struct splunk_req *next;
};

int hf_splunk_http_init(struct splunk_ctx *c, const struct splunk_options *o, char *why, size_t whylen);
void hf_splunk_http_free(struct splunk_ctx *c);
struct splunk_req *hf_splunk_req_get(struct splunk_ctx *c);
void hf_splunk_req_put(struct splunk_ctx *c, struct splunk_req *req);
void hf_splunk_req_free(struct splunk_req *req);
/* Starts a POST of req->wire (gzip on, events) or req->body; the answer
 * comes to done(req, result) from hf_splunk_http_drive. */
int hf_splunk_req_start(struct splunk_ctx *c, struct splunk_req *req, bool is_ack, hf_http_done_fn done);
/* Runs transfers; calls done for each finished request (still owned by
 * the caller). */
void hf_splunk_http_drive(struct splunk_ctx *c);
void hf_splunk_http_wait(struct splunk_ctx *c, int timeout_ms);

/* ---- configuration (splunk_conf.c) ---- */

extern const struct hf_option hf_splunk_options[];
/* `hookfwd check`: URL, token, channel, TLS files. */
int hf_splunk_check(const void *conf, const struct hf_check *ck);
/* Derives struct splunk_conf from the checked options. */
int hf_splunk_conf_read(struct hf_sink *s, struct splunk_conf *conf, struct hf_cerr *err);
void hf_splunk_conf_free(struct splunk_conf *conf);

#endif
