/* SPDX-License-Identifier: Apache-2.0 */
/* Request framing for the HTTP server: llhttp (the parser Node.js ships),
 * strict, every leniency off, plus the RFC 9112 checks llhttp leaves to
 * its caller (Host on HTTP/1.1, Transfer-Encoding on HTTP/1.0, codings
 * other than chunked, the version, empty chunk extension names and
 * values) and the absolute-form target. Bytes go in as they arrive, in
 * pieces of any size; the header block is copied into one buffer capped
 * at max_header, the body into one capped at max_body. No hand-written
 * request-line, header or chunked parsing here. */
#ifndef HF_HTTP_FRAME_H
#define HF_HTTP_FRAME_H

#include "http.h"
#include "util.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_frame_event {
    HF_FRAME_MORE, /* every byte given was taken; feed more */
    HF_FRAME_BEGIN, /* a request's first byte: start its deadline */
    HF_FRAME_HEAD, /* the header block is in: req is filled, body not yet read */
    HF_FRAME_DONE, /* the whole request is in: req->body is set */
    HF_FRAME_ERROR, /* answer status (reason) and close the connection */
};

struct hf_frame {
    llhttp_t parser;
    llhttp_settings_t settings;
    struct hf_http_req *req; /* the request being filled (borrowed) */
    int64_t max_header, max_body;
    char *hdr; /* request target, names and values, each NUL-terminated */
    size_t hdr_len, hdr_cap;
    uint32_t name_off[HF_HTTP_MAX_HEADERS], value_off[HF_HTTP_MAX_HEADERS];
    size_t nfields;
    uint32_t url_off;
    int span; /* which text the last data callback appended to */
    int64_t head_bytes; /* header block (or trailer section) bytes so far */
    bool in_head, in_trailers;
    size_t ext_len; /* bytes of the chunk extension name or value being read */
    bool head_method; /* the request being read is a HEAD: its answer has no body */
    int pause; /* where llhttp stopped: a request's start, head or end */
    struct hf_buf body;
    int status; /* with HF_FRAME_ERROR */
    const char *reason;
};

void hf_frame_init(struct hf_frame *f, int64_t max_header, int64_t max_body);
void hf_frame_free(struct hf_frame *f);
/* Takes bytes of data until an event; *used is how many it took (all of
 * them with HF_FRAME_MORE). After HF_FRAME_ERROR the connection is done. */
enum hf_frame_event hf_frame_feed(struct hf_frame *f, struct hf_http_req *req, const char *data, size_t len,
                                  size_t *used);
/* Between requests: drops a large body buffer so an idle connection holds
 * only a small one. */
void hf_frame_trim(struct hf_frame *f);

#endif
