/* SPDX-License-Identifier: Apache-2.0 */
/* llhttp glue: callbacks copy the request target, header names and values
 * into one capped buffer and the body into another; the parser pauses at
 * each request's first byte, at the end of its header block and at its end,
 * so the connection layer can start the deadline, judge the headers before
 * the body is read, and answer before the next pipelined request. */
#include "http_frame.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRIM_ABOVE (64 * 1024)

enum { SPAN_NONE, SPAN_URL, SPAN_NAME, SPAN_VALUE };
enum { PAUSE_NONE, PAUSE_BEGIN, PAUSE_HEAD, PAUSE_DONE };

static struct hf_frame *frame_of(llhttp_t *p) { return p->data; }

static int fail(struct hf_frame *f, int status, const char *reason)
{
    f->status = status;
    f->reason = reason;
    return -1;
}

/* Appends to the header buffer; the cap is max_header plus room for the
 * NULs we add, so a header block within max_header always fits. */
static int hdr_append(struct hf_frame *f, const char *at, size_t n)
{
    size_t limit = (size_t)f->max_header + 2 * HF_HTTP_MAX_HEADERS + 8;
    if (f->hdr_len + n + 1 > limit)
        return fail(f, 431, "request headers are too large");
    if (f->hdr_len + n + 1 > f->hdr_cap) {
        size_t cap = f->hdr_cap ? f->hdr_cap : 1024;
        while (cap < f->hdr_len + n + 1)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        f->hdr = hf_realloc(f->hdr, cap);
        f->hdr_cap = cap;
    }
    memcpy(f->hdr + f->hdr_len, at, n);
    f->hdr_len += n;
    return 0;
}

static int hdr_end(struct hf_frame *f)
{
    f->span = SPAN_NONE;
    return hdr_append(f, "", 1);
}

static int on_message_begin(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    f->hdr_len = 0;
    f->nfields = 0;
    f->span = SPAN_NONE;
    f->head_bytes = 0;
    f->in_head = true;
    f->in_trailers = false;
    f->ext_len = 0;
    f->head_method = false;
    f->status = 0;
    hf_buf_reset(&f->body);
    f->pause = PAUSE_BEGIN;
    return HPE_PAUSED;
}

/* Known from here on, also for an answer to a request refused later on:
 * an answer to HEAD carries no body (RFC 9110 9.3.2). */
static int on_method_complete(llhttp_t *p)
{
    frame_of(p)->head_method = p->method == HTTP_HEAD;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    struct hf_frame *f = frame_of(p);
    if (f->span != SPAN_URL) {
        f->span = SPAN_URL;
        f->url_off = (uint32_t)f->hdr_len;
    }
    return hdr_append(f, at, n);
}

static int on_url_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    if (f->span != SPAN_URL)
        f->url_off = (uint32_t)f->hdr_len; /* empty target: llhttp refuses it, but be safe */
    return hdr_end(f);
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct hf_frame *f = frame_of(p);
    if (f->in_trailers)
        return 0; /* trailer fields are checked by llhttp, counted, and dropped */
    if (f->span != SPAN_NAME) {
        if (f->nfields >= HF_HTTP_MAX_HEADERS)
            return fail(f, 431, "too many request headers");
        f->span = SPAN_NAME;
        f->name_off[f->nfields] = (uint32_t)f->hdr_len;
    }
    return hdr_append(f, at, n);
}

static int on_header_field_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    return f->in_trailers ? 0 : hdr_end(f);
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct hf_frame *f = frame_of(p);
    if (f->in_trailers)
        return 0;
    if (f->span != SPAN_VALUE) {
        f->span = SPAN_VALUE;
        f->value_off[f->nfields] = (uint32_t)f->hdr_len;
    }
    return hdr_append(f, at, n);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    if (f->in_trailers)
        return 0;
    if (f->span != SPAN_VALUE) /* an empty value: no data callback came */
        f->value_off[f->nfields] = (uint32_t)f->hdr_len;
    f->nfields++;
    return hdr_end(f);
}

static int on_headers_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    f->in_head = false;
    f->pause = PAUSE_HEAD;
    return HPE_PAUSED;
}

static int on_chunk_header(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    if (p->content_length == 0) {
        /* the last chunk: a trailer section may follow, limited like headers */
        f->in_trailers = true;
        f->head_bytes = 0;
    } else if ((int64_t)p->content_length > f->max_body - (int64_t)f->body.len) {
        return fail(f, 413, "request body is larger than max_body");
    }
    return 0;
}

/* llhttp checks the characters of a chunk extension but lets an empty
 * name (";=v", ";;") or an empty value (";n=") through; RFC 9112 7.1.1
 * has both non-empty (a token, or for a value a quoted-string, whose
 * quotes llhttp passes on, so "" counts). A piece may come in several
 * data callbacks, some of them empty: their lengths are summed. */
static int on_chunk_extension_data(llhttp_t *p, const char *at, size_t n)
{
    (void)at;
    frame_of(p)->ext_len += n;
    return 0;
}

static int on_chunk_extension_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    if (f->ext_len == 0)
        return fail(f, 400, "malformed chunk extension: an empty name or value");
    f->ext_len = 0;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct hf_frame *f = frame_of(p);
    if ((int64_t)(f->body.len + n) > f->max_body || hf_buf_append(&f->body, at, n) < 0)
        return fail(f, 413, "request body is larger than max_body");
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct hf_frame *f = frame_of(p);
    f->in_trailers = false;
    f->pause = PAUSE_DONE;
    return HPE_PAUSED;
}

void hf_frame_init(struct hf_frame *f, int64_t max_header, int64_t max_body)
{
    memset(f, 0, sizeof(*f));
    f->max_header = max_header;
    f->max_body = max_body;
    hf_buf_init(&f->body, max_body > 0 ? (size_t)max_body : 1);
    llhttp_settings_init(&f->settings);
    f->settings.on_message_begin = on_message_begin;
    f->settings.on_method_complete = on_method_complete;
    f->settings.on_url = on_url;
    f->settings.on_url_complete = on_url_complete;
    f->settings.on_header_field = on_header_field;
    f->settings.on_header_field_complete = on_header_field_complete;
    f->settings.on_header_value = on_header_value;
    f->settings.on_header_value_complete = on_header_value_complete;
    f->settings.on_headers_complete = on_headers_complete;
    f->settings.on_chunk_header = on_chunk_header;
    f->settings.on_chunk_extension_name = on_chunk_extension_data;
    f->settings.on_chunk_extension_name_complete = on_chunk_extension_complete;
    f->settings.on_chunk_extension_value = on_chunk_extension_data;
    f->settings.on_chunk_extension_value_complete = on_chunk_extension_complete;
    f->settings.on_body = on_body;
    f->settings.on_message_complete = on_message_complete;
    /* llhttp_init leaves every leniency off: strict RFC 9112 framing */
    llhttp_init(&f->parser, HTTP_REQUEST, &f->settings);
    f->parser.data = f;
}

void hf_frame_free(struct hf_frame *f)
{
    free(f->hdr);
    f->hdr = NULL;
    f->hdr_cap = f->hdr_len = 0;
    hf_buf_free(&f->body);
}

void hf_frame_trim(struct hf_frame *f)
{
    if (f->body.cap > TRIM_ABOVE) {
        size_t limit = f->body.limit;
        hf_buf_free(&f->body);
        hf_buf_init(&f->body, limit);
    }
    if (f->hdr_cap > TRIM_ABOVE) {
        free(f->hdr);
        f->hdr = NULL;
        f->hdr_cap = 0;
    }
}

/* RFC 9112 3.2.2: a server must accept the absolute-form a client sends
 * to a proxy ("http://host/path"), and route it on its path (the query is
 * already cut off). The authority is not compared with Host: it wins, and
 * hookfwd does not route on either. -1 for anything but http(s) with a
 * host and no userinfo (RFC 9110 4.2.1, 4.2.4). */
static int absolute_form_path(struct hf_http_req *q)
{
    const char *t = q->path;
    size_t scheme = !strncasecmp(t, "http://", 7) ? 7 : !strncasecmp(t, "https://", 8) ? 8 : 0;
    if (!scheme)
        return -1;
    const char *authority = t + scheme, *path = strchr(authority, '/');
    size_t alen = path ? (size_t)(path - authority) : strlen(authority);
    if (alen == 0 || memchr(authority, '@', alen))
        return -1;
    q->path = path ? path : "/"; /* an empty path is "/" (RFC 9110 4.2.3) */
    return 0;
}

/* The checks RFC 9112 asks of a server that llhttp leaves to its caller,
 * then the request as the handlers see it. 0, or a status. */
static int head_ready(struct hf_frame *f, struct hf_http_req *q)
{
    llhttp_t *p = &f->parser;
    if (p->http_major != 1 || (p->http_minor != 0 && p->http_minor != 1))
        return fail(f, 505, "HTTP version not supported"), 505;
    bool http11 = p->http_minor == 1;
    q->method = llhttp_method_name((llhttp_method_t)p->method);
    q->path = f->hdr + f->url_off;
    q->query = NULL;
    q->nheaders = f->nfields;
    q->body = NULL;
    q->body_len = 0;
    q->route = NULL;
    int hosts = 0, te = 0;
    const char *te_value = NULL;
    for (size_t i = 0; i < f->nfields; i++) {
        q->headers[i].name = f->hdr + f->name_off[i];
        q->headers[i].value = f->hdr + f->value_off[i];
        if (!strcasecmp(q->headers[i].name, "host"))
            hosts++;
        else if (!strcasecmp(q->headers[i].name, "transfer-encoding")) {
            te++;
            te_value = q->headers[i].value;
        }
    }
    char *qm = strchr(f->hdr + f->url_off, '?');
    if (qm) {
        *qm = '\0';
        q->query = qm + 1;
    }
    if (q->path[0] != '/' && absolute_form_path(q) < 0)
        return fail(f, 400, "malformed request: the target is not an absolute path or an http(s) URI"), 400;
    if (http11 && hosts != 1)
        return fail(f, 400,
                    hosts ? "malformed request: more than one Host header"
                          : "malformed request: HTTP/1.1 without Host"),
               400;
    if (hosts > 1)
        return fail(f, 400, "malformed request: more than one Host header"), 400;
    if (te && !http11)
        return fail(f, 400, "malformed request: Transfer-Encoding on HTTP/1.0"), 400;
    if (te) {
        /* llhttp has refused chunked twice, chunked not last, and TE with
         * Content-Length; left: a coding before the final chunked */
        size_t vl = strlen(te_value);
        while (vl && (te_value[vl - 1] == ' ' || te_value[vl - 1] == '\t'))
            vl--;
        if (te > 1 || !(p->flags & F_CHUNKED))
            return fail(f, 400, "malformed request: Transfer-Encoding other than chunked"), 400;
        if (vl != 7 || strncasecmp(te_value, "chunked", 7))
            return fail(f, 501, "unsupported transfer-encoding"), 501;
    }
    if (p->flags & F_CHUNKED)
        q->content_length = -1;
    else if (p->flags & F_CONTENT_LENGTH)
        q->content_length = p->content_length > INT64_MAX ? INT64_MAX : (int64_t)p->content_length;
    else
        q->content_length = 0;
    q->keepalive = llhttp_should_keep_alive(p) != 0;
    /* an upgrade (Connection: upgrade with Upgrade, or CONNECT) is not
     * taken: the request is answered and the connection closed, as llhttp
     * reads nothing after such a request */
    if (((p->flags & F_UPGRADE) && (p->flags & F_CONNECTION_UPGRADE)) || p->method == HTTP_CONNECT)
        q->keepalive = false;
    if (q->content_length > 0 && q->content_length <= f->max_body)
        hf_buf_reserve(&f->body, (size_t)q->content_length);
    return 0;
}

static void llhttp_failure(struct hf_frame *f, llhttp_errno_t e)
{
    if (f->status)
        return; /* one of our callbacks refused */
    const llhttp_t *p = &f->parser;
    if (e == HPE_INVALID_VERSION && p->http_major == 1 && p->http_minor > 1)
        fail(f, 505, "HTTP version not supported");
    else if (e == HPE_INVALID_METHOD || e == HPE_INVALID_URL)
        fail(f, 400, "malformed request line");
    else
        fail(f, 400, "malformed HTTP framing");
}

enum hf_frame_event hf_frame_feed(struct hf_frame *f, struct hf_http_req *req, const char *data, size_t len,
                                  size_t *used)
{
    f->req = req;
    if (!data)
        data = "";
    if (llhttp_get_errno(&f->parser) == HPE_PAUSED)
        llhttp_resume(&f->parser);
    /* the header block and a trailer section count against max_header */
    bool counted = f->in_head || f->in_trailers;
    if (counted && (int64_t)len > f->max_header - f->head_bytes + 1)
        len = (size_t)(f->max_header - f->head_bytes + 1); /* never read far past the cap */
    f->pause = PAUSE_NONE;
    llhttp_errno_t e = llhttp_execute(&f->parser, data, len);
    size_t n = e == HPE_OK ? len : (size_t)(llhttp_get_error_pos(&f->parser) - data);
    *used = n;
    if (e != HPE_OK && e != HPE_PAUSED) {
        llhttp_failure(f, e);
        return HF_FRAME_ERROR;
    }
    if (counted) {
        f->head_bytes += (int64_t)n;
        if (f->head_bytes > f->max_header) {
            fail(f, 431,
                 f->in_head || f->pause == PAUSE_HEAD ? "request headers are too large"
                                                      : "request trailers are too large");
            return HF_FRAME_ERROR;
        }
    }
    switch (e == HPE_OK ? PAUSE_NONE : f->pause) {
    case PAUSE_BEGIN: return HF_FRAME_BEGIN;
    case PAUSE_HEAD: return head_ready(f, req) ? HF_FRAME_ERROR : HF_FRAME_HEAD;
    case PAUSE_DONE:
        req->body = f->body.data ? f->body.data : "";
        req->body_len = f->body.len;
        return HF_FRAME_DONE;
    default: return HF_FRAME_MORE;
    }
}
