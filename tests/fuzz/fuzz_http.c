/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: raw request bytes through the real HTTP server (agent/net/:
 * the connection layer and its limits around llhttp, Content-Length,
 * chunked bodies, Expect, keep-alive and pipelining) into the real ingest
 * path (hf_ingest: verify, then parse and flatten).
 *
 * The server runs in-process on 127.0.0.1 with two worker threads, as the
 * agent runs it; each input is written to one fresh connection, the write
 * side is shut, and the answers are read until the server closes. The
 * request handlers are those of agent/agent.c (path, method, max_body
 * first; then hf_ingest) over a pipeline without sinks.
 *
 * Checked: every answer is a well-formed HTTP/1.1 response; anything the
 * ingest path accepts (2xx) is really signed (independent oracle,
 * fuzz_common.h); the server closes every connection once the client is
 * done; bodies handed to the handler respect max_body. */
#include "fuzz_common.h"
#include "dedup.h"
#include "http.h"
#include "pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_MAX_BODY (64 * 1024)
#define LIMIT_MAX_HEADER 4096
#define CLOSE_DEADLINE_MS 3000

static struct hf_pipeline *pipeline;
static struct hf_http_server *server;
static int port;
static bool verbose; /* FUZZ_HTTP_VERBOSE=1: one line per request */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *get_header(void *ctx, const char *name) { return hf_http_header(ctx, name); }

static int on_headers(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    struct hf_pipeline *p = arg;
    const struct hf_source *src = hf_pipeline_source(p, req->path, strlen(req->path));
    if (!src) {
        hf_http_error(resp, 404, "no source is configured for this path");
        return 404;
    }
    if (strcmp(req->method, "POST")) {
        hf_http_error(resp, 405, "only POST is accepted");
        return 405;
    }
    if (req->content_length > p->cfg->max_body) {
        hf_http_error(resp, 413, "request body is larger than max_body");
        return 413;
    }
    return 0;
}

static void on_request(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    struct hf_pipeline *p = arg;
    if (req->body_len > LIMIT_MAX_BODY || req->nheaders > HF_HTTP_MAX_HEADERS) {
        fprintf(stderr, "fuzz_http: request past the limits reached the handler\n");
        abort();
    }
    const struct hf_source *src = hf_pipeline_source(p, req->path, strlen(req->path));
    if (!src) {
        hf_http_error(resp, 404, "no source is configured for this path");
        return;
    }
    struct hf_ingest_result res;
    hf_ingest(p, src, req->body, req->body_len, get_header, req, &res, NULL);
    if (res.status >= 200 && res.status < 300 && !fuzz_oracle_signed(src, req->body, req->body_len, get_header, req)) {
        fprintf(stderr, "fuzz_http: %d for a body that is not signed (source %s)\n", res.status, src->name);
        abort();
    }
    if (verbose)
        fprintf(stderr, "fuzz_http: %s %s -> %d %s\n", req->method, req->path, res.status, res.reason);
    resp->status = res.status;
    hf_buf_printf(&resp->body, "{\"status\":%d}", res.status);
}

static const struct hf_http_ops ops = {.on_headers = on_headers, .on_request = on_request};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    verbose = getenv("FUZZ_HTTP_VERBOSE") != NULL;
    evthread_use_pthreads();
    hf_log_set_level(HF_LOG_ERROR);
    struct hf_config *cfg = fuzz_default_config();
    pipeline = hf_calloc(1, sizeof(*pipeline));
    pipeline->cfg = cfg;
    pipeline->dedup = hf_dedup_new(4096);
    for (size_t i = 0; i < cfg->nsources; i++)
        pipeline->stats[i] = hf_stats_for_source(cfg->sources[i].name);
    struct hf_http_limits lim = {.max_body = LIMIT_MAX_BODY,
                                 .max_header = LIMIT_MAX_HEADER,
                                 .max_connections = 64,
                                 .read_timeout_ms = 1000,
                                 .max_requests_per_conn = 16};
    char err[256];
    server = hf_http_new("127.0.0.1:0", 2, &lim, NULL, NULL, &ops, pipeline, err, sizeof(err));
    if (!server || hf_http_start(server) < 0) {
        fprintf(stderr, "fuzz_http: cannot start the server: %s\n", err);
        abort();
    }
    port = hf_http_port(server);
    return 0;
}

/* Well-formed answers, one after another; the last may be cut short only
 * by the connection ending. Returns false on a malformed one. */
static bool answers_well_formed(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (len - i < 12)
            return true;
        if (memcmp(buf + i, "HTTP/1.1 ", 9) || buf[i + 9] < '1' || buf[i + 9] > '5')
            return false;
        const char *end = memmem(buf + i, len - i, "\r\n\r\n", 4);
        if (!end)
            return true;
        size_t head_end = (size_t)(end - buf) + 4;
        int status = (buf[i + 9] - '0') * 100 + (buf[i + 10] - '0') * 10 + (buf[i + 11] - '0');
        if (status == 100) {
            i = head_end;
            continue;
        }
        const char *cl = memmem(buf + i, head_end - i, "Content-Length: ", 16);
        if (!cl)
            return false;
        size_t body = strtoul(cl + 16, NULL, 10);
        i = head_end + body;
    }
    return true;
}

static void fail(const char *what, const uint8_t *data, size_t size, const char *got, size_t gotlen)
{
    fprintf(stderr, "fuzz_http: %s\n--- sent %zu bytes, got %zu bytes:\n%.*s\n", what, size, gotlen,
            (int)(gotlen > 4000 ? 4000 : gotlen), got);
    (void)data;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
        perror("fuzz_http: connect");
        abort();
    }
    /* write and read at once: the server stops reading while its answers
     * pile up unread */
    size_t sent = 0, got = 0, cap = 65536;
    char *in = malloc(cap);
    bool wr_shut = false, eof = false;
    int64_t deadline = hf_mono_ms() + CLOSE_DEADLINE_MS;
    while (!eof) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (wr_shut ? 0 : POLLOUT)};
        int64_t left = deadline - hf_mono_ms();
        if (left <= 0)
            fail("the server kept the connection open after the client finished", data, size, in, got);
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        if (!wr_shut && (pfd.revents & POLLOUT)) {
            if (sent < size) {
                ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
                if (w > 0)
                    sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN)
                    sent = size; /* the server closed on us: fine, read what it said */
            }
            if (sent == size) {
                shutdown(fd, SHUT_WR);
                wr_shut = true;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (got == cap)
                in = realloc(in, cap *= 2);
            ssize_t r = recv(fd, in + got, cap - got, 0);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || errno != EAGAIN)
                eof = true;
        }
    }
    if (!answers_well_formed(in, got))
        fail("malformed answer", data, size, in, got);
    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* no TIME_WAIT pile-up */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    free(in);
    return 0;
}
