/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client of hookfwd's HTTP sinks (Splunk HEC, Datadog, and the
 * webhook-style sinks): libcurl multi, driven from the sink's worker
 * thread, several requests in flight on kept-alive connections.
 *
 * What every request gets, so no sink has to remember it:
 *   - http and https only, for the URL and for any redirect
 *     (CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR); redirects are
 *     not followed (a 3xx is an answer like any other), so a token never
 *     travels to a host the configuration did not name;
 *   - the sink's `timeout` for the whole request, connecting included
 *     (connecting alone: the smaller of it and 10 s);
 *   - the `tls:` options (tls_conf.h): verify, ca_file, cert, key, and
 *     server_name (the URL's host is replaced by it for SNI, verification
 *     and Host:, and the connection still goes to the URL's host);
 *   - a proxy from the environment as libcurl reads it: http_proxy (lower
 *     case only), https_proxy / HTTPS_PROXY, all_proxy / ALL_PROXY,
 *     no_proxy / NO_PROXY;
 *   - no "Expect: 100-continue" round trip, User-Agent hookfwd/VERSION,
 *     TCP keep-alive probes, no signals;
 *   - Retry-After read as delta-seconds or as an HTTP-date, and
 *     X-RateLimit-Reset (seconds), both turned into a delay in ms.
 *
 * Life of a request:
 *
 *     struct hf_http_request rq = {.url = url, .headers = hdrs, .body = buf.data,
 *                                  .body_len = buf.len, .done = on_answer, .arg = job};
 *     if (hf_http_client_send(http, &rq, why, sizeof(why)) < 0) ... (done will not be called)
 *     ...
 *     poll(): hf_http_client_perform(http); hf_http_client_wait(http, timeout_ms); hf_http_client_perform(http);
 *     on_answer(job, &result) runs inside hf_http_client_perform, exactly once per
 *     started request; it may start new requests.
 *
 * Nothing here is thread-safe: one client belongs to one sink and is used
 * from that sink's worker thread only (or, for test-sink and replay, from
 * the thread that owns the sink while the worker is not running). */
#ifndef HF_HTTP_CLIENT_H
#define HF_HTTP_CLIENT_H

#include "option.h"
#include "tls_conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- client --------------------------------------------------------- */

struct hf_http_client;

struct hf_http_client_opts {
    int64_t timeout_ms; /* whole request, connecting included; required, > 0 */
    int64_t connect_timeout_ms; /* 0: the smaller of timeout_ms and 10 s */
    const struct hf_tls_conf *tls; /* borrowed for the client's life; NULL: verify against the system store */
    int max_inflight; /* transfers at once; more wait in order (0: 4) */
    size_t max_response; /* answer body bytes kept per request, the rest dropped (0: 64 KiB) */
};

/* NULL when libcurl cannot be set up (why filled). */
struct hf_http_client *hf_http_client_new(const struct hf_http_client_opts *opts, char *why, size_t whylen);
/* Drops every request still waiting or in flight WITHOUT calling its done
 * (the owner frees what it passed as arg), closes the connections. NULL
 * is fine. */
void hf_http_client_free(struct hf_http_client *h);

/* ---- headers ---------------------------------------------------------- */

/* A header list, shared by any number of requests; its memory is wiped on
 * free, so it may carry a token. Always holds "Expect:" (no 100-continue). */
struct hf_http_headers;

struct hf_http_headers *hf_http_headers_new(void);
/* Appends "name: value" (value_len bytes, need not be NUL-terminated).
 * -1 when the name is empty or the value holds a control character
 * (CR/LF would let a value add headers of its own): nothing appended. */
int hf_http_headers_add(struct hf_http_headers *hl, const char *name, const char *value, size_t value_len);
void hf_http_headers_free(struct hf_http_headers *hl);

/* ---- requests --------------------------------------------------------- */

/* What a finished request came back with. Valid during the done callback
 * only: copy what must outlive it. */
struct hf_http_result {
    long status; /* HTTP status; 0 when no answer came (transport error) */
    const char *error; /* why there is no answer (libcurl's words); "" with a status */
    const char *body; /* answer body, NUL-terminated, at most max_response bytes */
    size_t body_len;
    bool body_truncated; /* the answer was longer than max_response */
    int64_t retry_after_ms; /* Retry-After as a delay (capped at 24 h); -1 absent or unreadable */
    int64_t ratelimit_reset_ms; /* X-RateLimit-Reset in seconds, as a delay; -1 absent */
    int64_t elapsed_ms; /* from the start of the transfer */
};

typedef void (*hf_http_done_fn)(void *arg, const struct hf_http_result *res);

struct hf_http_request {
    const char *method; /* NULL or "POST"; "PUT", "PATCH", "GET", "DELETE" */
    const char *url; /* copied; http:// or https:// */
    const struct hf_http_headers *headers; /* borrowed until done; NULL: none */
    const void *body; /* borrowed until done (not for GET) */
    size_t body_len;
    hf_http_done_fn done; /* required */
    void *arg; /* given back to done */
};

/* Queues a request; it is sent at once when fewer than max_inflight are
 * running, else when one finishes. 0, or -1 (why filled, done will NOT be
 * called) when the request cannot be set up. */
int hf_http_client_send(struct hf_http_client *h, const struct hf_http_request *rq, char *why, size_t whylen);

/* Moves transfers along without blocking and calls done for each request
 * that finished. Returns how many finished. */
int hf_http_client_perform(struct hf_http_client *h);
/* Blocks up to timeout_ms (0: not at all) until a transfer has something
 * to do; hf_http_client_perform then does it. */
void hf_http_client_wait(struct hf_http_client *h, int timeout_ms);
/* Requests started whose done has not been called yet (waiting included). */
int hf_http_client_pending(const struct hf_http_client *h);

/* ---- helpers ---------------------------------------------------------- */

/* 408, 429 and 5xx: the server may take the same request later. */
bool hf_http_status_retryable(long status);

/* A Retry-After value (RFC 9110 10.2.3): delta-seconds ("120") or an
 * HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"), as a delay in ms from `now`;
 * a date in the past is 0; delays are capped at 24 h. -1 when unreadable. */
int64_t hf_http_parse_retry_after(const char *value, time_t now);

/* `hookfwd check` of a URL option with curl_url: it parses, its scheme is
 * one of `schemes` ("http|https"), it has a host, and it carries no user
 * name or password (a secret in a URL ends up in logs and proxies; each
 * sink has an option for its token). A NULL url (option unset) passes.
 * 0, or -1 through hf_check_fail. */
int hf_check_url(const struct hf_check *ck, const char *option, const char *url, const char *schemes);

#endif
