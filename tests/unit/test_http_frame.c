/* SPDX-License-Identifier: Apache-2.0 */
/* Request framing (net/http_frame.c): llhttp in strict mode plus hookfwd's
 * own RFC 9112 checks, fed whole and one byte at a time (every callback
 * split), each malformed shape of INTERFACE.md refused with its status,
 * and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http_frame.h"

#include <stdio.h>
#include <string.h>

struct outcome {
    int heads, dones, begins;
    int status; /* 0 unless HF_FRAME_ERROR */
    char path[64], host[64], sig[80];
    int64_t content_length;
    bool keepalive;
    char body[256];
    size_t body_len;
};

/* Feeds raw in pieces of `step` bytes (0: all at once) as the connection
 * layer does, until an error or the input is used up. */
static void run(const char *raw, size_t len, size_t step, int64_t max_header, int64_t max_body, struct outcome *o)
{
    struct hf_frame f;
    struct hf_http_req req;
    memset(o, 0, sizeof(*o));
    memset(&req, 0, sizeof(req));
    hf_frame_init(&f, max_header, max_body);
    size_t off = 0;
    for (int guard = 0; guard < 100000; guard++) {
        size_t n = len - off;
        if (step && n > step)
            n = step;
        bool paused = llhttp_get_errno(&f.parser) == HPE_PAUSED;
        if (n == 0 && !paused)
            break;
        size_t used = 0;
        enum hf_frame_event ev = hf_frame_feed(&f, &req, raw + off, n, &used);
        off += used;
        if (ev == HF_FRAME_ERROR) {
            o->status = f.status;
            break;
        }
        if (ev == HF_FRAME_BEGIN)
            o->begins++;
        if (ev == HF_FRAME_HEAD) {
            o->heads++;
            snprintf(o->path, sizeof(o->path), "%s", req.path);
            const char *h = hf_http_header(&req, "host");
            snprintf(o->host, sizeof(o->host), "%s", h ? h : "");
            h = hf_http_header(&req, "x-sig");
            snprintf(o->sig, sizeof(o->sig), "%s", h ? h : "");
            o->content_length = req.content_length;
            o->keepalive = req.keepalive;
        }
        if (ev == HF_FRAME_DONE) {
            o->dones++;
            o->body_len = req.body_len < sizeof(o->body) ? req.body_len : sizeof(o->body) - 1;
            memcpy(o->body, req.body, o->body_len);
        }
    }
    hf_frame_free(&f);
}

#define HEAD "POST /webhooks/omega?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Sig: sha256=abc\r\n"

static void good_requests_whole_and_byte_by_byte(void **state)
{
    (void)state;
    const char *reqs[] = {
        HEAD "Content-Length: 7\r\n\r\n{\"a\":1}",
        HEAD "Transfer-Encoding: chunked\r\n\r\n3;ext=\"q\"\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nX-Trailer: t\r\n\r\n",
        HEAD "Transfer-Encoding:   chunked  \r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
        /* extensions without a value, an empty quoted-string value (valid), several */
        HEAD "Transfer-Encoding: chunked\r\n\r\n7;a;b=\"\";c=d\r\n{\"a\":1}\r\n0;z\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(*reqs); i++)
        for (size_t step = 0; step <= 1; step++) {
            struct outcome o;
            run(reqs[i], strlen(reqs[i]), step, 4096, 4096, &o);
            assert_int_equal(o.status, 0);
            assert_int_equal(o.begins, 1);
            assert_int_equal(o.heads, 1);
            assert_int_equal(o.dones, 1);
            assert_string_equal(o.path, "/webhooks/omega");
            assert_string_equal(o.host, "example.test");
            assert_string_equal(o.sig, "sha256=abc");
            assert_true(o.keepalive);
            assert_int_equal(o.body_len, 7);
            assert_memory_equal(o.body, "{\"a\":1}", 7);
        }
}

static void pipelined_requests_and_empty_lines(void **state)
{
    (void)state;
    const char *raw = HEAD "Content-Length: 2\r\n\r\n{}"
                           "\r\n" HEAD "Content-Length: 0\r\n\r\n"
                           "POST /p HTTP/1.0\r\nContent-Length: 1\r\n\r\n1";
    for (size_t step = 0; step <= 1; step++) {
        struct outcome o;
        run(raw, strlen(raw), step, 4096, 4096, &o);
        assert_int_equal(o.status, 0);
        assert_int_equal(o.dones, 3);
        assert_false(o.keepalive); /* HTTP/1.0 without keep-alive */
        assert_string_equal(o.path, "/p");
        assert_string_equal(o.host, "");
    }
}

/* An upgrade request is answered, then the connection closes (llhttp
 * reads nothing after it): no second, malformed-framing answer. */
static void upgrade_closes(void **state)
{
    (void)state;
    const char *raw = HEAD "Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n{}PRI * HTTP/2.0\r\n";
    struct outcome o;
    run(raw, strlen(raw), 0, 4096, 4096, &o);
    assert_int_equal(o.dones, 1);
    assert_false(o.keepalive);
}

/* INTERFACE.md, "Ingest responses": every malformed shape is refused. */
static void strict_framing(void **state)
{
    (void)state;
    static const struct {
        const char *name, *raw;
        int status, alt;
    } cases[] = {
        {"Content-Length +N", HEAD "Content-Length: +2\r\n\r\n{}", 400, 0},
        {"Content-Length not digits", HEAD "Content-Length: 2 2\r\n\r\n{}", 400, 0},
        {"Content-Length hex", HEAD "Content-Length: 0x2\r\n\r\n{}", 400, 0},
        {"two different Content-Length", HEAD "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, 0},
        {"TE with CL", HEAD "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"TE twice", HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400,
         0},
        {"TE chunked, chunked", HEAD "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"TE chunked not last", HEAD "Transfer-Encoding: chunked, identity\r\n\r\n{}", 400, 0},
        {"TE gzip only", HEAD "Transfer-Encoding: gzip\r\n\r\n{}", 400, 501},
        {"TE gzip, chunked", HEAD "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 501, 400},
        {"TE on HTTP/1.0", "POST /w HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"bare CR line ending", HEAD "X-A: 1\rX-B: 2\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"bare LF line ending", "POST /w HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}", 400, 0},
        {"bare LF in the header block", HEAD "X-A: 1\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"bare LF blank line", HEAD "Content-Length: 2\r\n\n{}", 400, 0},
        {"obs-fold", HEAD "X-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"chunk size 0x", HEAD "Transfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"chunk size blank", HEAD "Transfer-Encoding: chunked\r\n\r\n2 \r\n{}\r\n0\r\n\r\n", 400, 0},
        {"chunk size negative", HEAD "Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"chunk size overflow", HEAD "Transfer-Encoding: chunked\r\n\r\n10000000000000002\r\n{}\r\n0\r\n\r\n", 400,
         413},
        {"chunk extension with an empty name", HEAD "Transfer-Encoding: chunked\r\n\r\n2;=\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"chunk extension with an empty value", HEAD "Transfer-Encoding: chunked\r\n\r\n2;foo=\r\n{}\r\n0\r\n\r\n", 400,
         0},
        {"chunk extension, empty name with a value", HEAD "Transfer-Encoding: chunked\r\n\r\n2;=v\r\n{}\r\n0\r\n\r\n",
         400, 0},
        {"chunk extension, empty name between ;;", HEAD "Transfer-Encoding: chunked\r\n\r\n2;a=b;;c\r\n{}\r\n0\r\n\r\n",
         400, 0},
        {"last chunk extension with an empty value", HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0;a=\r\n\r\n",
         400, 0},
        {"chunk extension without a name", HEAD "Transfer-Encoding: chunked\r\n\r\n2;\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"chunk extension, unterminated quote", HEAD "Transfer-Encoding: chunked\r\n\r\n2;a=\"b\r\n{}\r\n0\r\n\r\n",
         400, 0},
        {"bare CR in chunk extension", HEAD "Transfer-Encoding: chunked\r\n\r\n2;a=b\rc\r\n{}\r\n0\r\n\r\n", 400, 0},
        {"bare LF in chunked body", HEAD "Transfer-Encoding: chunked\r\n\r\n2\n{}\n0\n\n", 400, 0},
        {"chunk data without CRLF", HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n{}x0\r\n\r\n", 400, 0},
        {"malformed trailer", HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nx\n\r\n", 400, 0},
        {"trailer without colon", HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nx\r\n\r\n", 400, 0},
        {"HTTP/1.1 without Host", "POST /w HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"two Host headers", HEAD "Host: b\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"HTTP/1.2", "POST /w HTTP/1.2\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 505, 400},
        {"HTTP/2.0", "POST /w HTTP/2.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 505, 400},
        {"HTTP/0.9", "POST /w HTTP/0.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 505, 400},
        {"absolute-form, other scheme", "POST ftp://x/w HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"absolute-form, no host", "POST http:///w HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"absolute-form, userinfo", "POST http://u@x/w HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"absolute-form without Host", "POST http://x/w HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"asterisk-form", "POST * HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"authority-form", "POST x:80 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
        {"garbage request line", "GARBAGE\r\n\r\n", 400, 0},
        {"space before colon", HEAD "Content-Length : 2\r\n\r\n{}", 400, 0},
        {"NUL in a header value", HEAD "X-A: a\0b\r\nContent-Length: 2\r\n\r\n{}", 400, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        for (size_t step = 0; step <= 1; step++) {
            /* the NUL case needs its real length */
            size_t len = strlen(cases[i].raw);
            if (strstr(cases[i].name, "NUL"))
                len += 1 + strlen(cases[i].raw + len + 1);
            struct outcome o;
            run(cases[i].raw, len, step, 4096, 4096, &o);
            if (o.status != cases[i].status && (!cases[i].alt || o.status != cases[i].alt))
                fail_msg("%s (step %zu): status %d, %d requests complete", cases[i].name, step, o.status, o.dones);
            assert_int_equal(o.dones, 0);
        }
}

/* RFC 9112 3.2.2: a server accepts the absolute-form and routes on its
 * path; Host is still required, and not compared with the authority. */
static void absolute_form(void **state)
{
    (void)state;
    static const struct {
        const char *target, *path;
    } cases[] = {
        {"http://x/w", "/w"}, {"http://x/w?x=1", "/w"}, {"https://other.example:8443/a/b?c=/d", "/a/b"},
        {"HTTP://x", "/"},    {"http://x?q=1", "/"},    {"http://[::1]:8080/w", "/w"},
        {"/w", "/w"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        for (size_t step = 0; step <= 1; step++) {
            char raw[256];
            int n = snprintf(raw, sizeof(raw), "POST %s HTTP/1.1\r\nHost: example.test\r\nContent-Length: 2\r\n\r\n{}",
                             cases[i].target);
            struct outcome o;
            run(raw, (size_t)n, step, 4096, 4096, &o);
            if (o.status || o.dones != 1 || strcmp(o.path, cases[i].path))
                fail_msg("%s (step %zu): status %d, path '%s'", cases[i].target, step, o.status, o.path);
            assert_string_equal(o.host, "example.test");
        }
}

static void limits(void **state)
{
    (void)state;
    struct outcome o;
    char raw[9000];
    /* a header block over max_header: 431, whether it arrives at once or not */
    int n = snprintf(raw, sizeof(raw), HEAD "X-Big: %0*d\r\nContent-Length: 2\r\n\r\n{}", 5000, 0);
    for (size_t step = 0; step <= 1; step++) {
        run(raw, (size_t)n, step, 4096, 4096, &o);
        assert_int_equal(o.status, 431);
        assert_int_equal(o.heads, 0);
    }
    /* just under it: accepted */
    n = snprintf(raw, sizeof(raw), HEAD "X-Big: %0*d\r\nContent-Length: 2\r\n\r\n{}", 3900, 0);
    run(raw, (size_t)n, 0, 4096, 4096, &o);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.dones, 1);
    /* 101 headers: 431 */
    size_t len = (size_t)snprintf(raw, sizeof(raw), "%s", HEAD);
    for (int i = 0; i < HF_HTTP_MAX_HEADERS; i++)
        len += (size_t)snprintf(raw + len, sizeof(raw) - len, "X-%d: v\r\n", i);
    len += (size_t)snprintf(raw + len, sizeof(raw) - len, "\r\n");
    run(raw, len, 0, 8192, 4096, &o);
    assert_int_equal(o.status, 431);
    /* a chunked body over max_body: 413, by the chunk size or by the bytes */
    const char *big = HEAD "Transfer-Encoding: chunked\r\n\r\n2000\r\n";
    run(big, strlen(big), 0, 4096, 4096, &o);
    assert_int_equal(o.status, 413);
    len = (size_t)snprintf(raw, sizeof(raw), "%s", HEAD "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(raw + len, sizeof(raw) - len, "10\r\n0123456789abcdef\r\n");
    run(raw, len, 0, 4096, 4096, &o);
    assert_int_equal(o.status, 413);
    /* a trailer section over max_header: 431 */
    len = (size_t)snprintf(raw, sizeof(raw), "%s", HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n");
    for (int i = 0; i < 400; i++)
        len += (size_t)snprintf(raw + len, sizeof(raw) - len, "X-T%d: vvvvvvvvvv\r\n", i);
    run(raw, len, 1, 4096, 4096, &o);
    assert_int_equal(o.status, 431);
    /* a Content-Length body is counted by the connection layer, not as header bytes */
    n = snprintf(raw, sizeof(raw), HEAD "Content-Length: 6000\r\n\r\n%0*d", 6000, 0);
    run(raw, (size_t)n, 0, 4096, 8192, &o);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.dones, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_requests_whole_and_byte_by_byte),
        cmocka_unit_test(pipelined_requests_and_empty_lines),
        cmocka_unit_test(upgrade_closes),
        cmocka_unit_test(strict_framing),
        cmocka_unit_test(absolute_form),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
