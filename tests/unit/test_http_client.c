/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP sinks' shared client (plugins/common/http_client.c) against a
 * small HTTP/1.1 server in this process: connections kept alive, several
 * requests in flight and the queue behind max_inflight, the timeout,
 * Retry-After in both forms, X-RateLimit-Reset, no redirects, http and
 * https only, a proxy from the environment, tls.server_name, the answer
 * cap; and the URL check. */
#define _GNU_SOURCE
#include "testutil.h"

#include "cnode.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

/* ---- the server --------------------------------------------------------- */

static struct {
    int fd, port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int conns; /* connections accepted */
    int holding, max_holding; /* requests to /hold waiting, most at once */
    int release; /* /hold answers once this many wait */
    char last_target[512];
    char last_headers[4096];
    char last_method[16];
    size_t last_body_len;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void reply(int fd, const char *status, const char *extra, const char *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s\r\n", status, len, extra);
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0 || (len && send(fd, body, len, MSG_NOSIGNAL) < 0))
        return;
}

static void handle(int fd, const char *method, const char *target, const char *headers)
{
    /* a proxied request names the whole URL */
    const char *path = target;
    if (strstr(target, "://"))
        path = strchr(strstr(target, "://") + 3, '/');
    if (!path)
        path = "/";
    if (!strcmp(path, "/ok")) {
        reply(fd, "200 OK", "", "ok", 2);
    } else if (!strcmp(path, "/retry-seconds")) {
        reply(fd, "503 Service Unavailable", "Retry-After: 7\r\n", "busy", 4);
    } else if (!strcmp(path, "/retry-date")) {
        char date[64], extra[128];
        time_t t = time(NULL) + 120;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", date);
        reply(fd, "429 Too Many Requests", extra, "", 0);
    } else if (!strcmp(path, "/ratelimit")) {
        reply(fd, "429 Too Many Requests", "X-RateLimit-Reset: 5\r\n", "", 0);
    } else if (!strcmp(path, "/redirect")) {
        char extra[128];
        snprintf(extra, sizeof(extra), "Location: http://127.0.0.1:%d/ok\r\n", srv.port);
        reply(fd, "302 Found", extra, "", 0);
    } else if (!strcmp(path, "/big")) {
        static char big[10000];
        memset(big, 'x', sizeof(big));
        reply(fd, "200 OK", "", big, sizeof(big));
    } else if (!strcmp(path, "/echo")) {
        reply(fd, "200 OK", "", headers, strlen(headers));
    } else if (!strcmp(path, "/hold")) {
        pthread_mutex_lock(&srv.mu);
        srv.holding++;
        if (srv.holding > srv.max_holding)
            srv.max_holding = srv.holding;
        pthread_cond_broadcast(&srv.cv);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1; /* alone for a second: the client is not sending more at once */
        while (srv.holding < srv.release && pthread_cond_timedwait(&srv.cv, &srv.mu, &until) == 0)
            ;
        srv.holding--;
        pthread_mutex_unlock(&srv.mu);
        reply(fd, "200 OK", "", "held", 4);
    } else if (!strcmp(path, "/slow")) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 5000); /* until the client gives up and closes */
    } else {
        reply(fd, "404 Not Found", "", "", 0);
    }
    (void)method;
}

static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    size_t len = 0;
    for (;;) {
        char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (!end) {
            ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
            continue;
        }
        *end = '\0';
        size_t head_len = (size_t)(end - buf) + 4;
        char method[16] = "", target[512] = "";
        sscanf(buf, "%15s %511s", method, target);
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        while (len < head_len + body) {
            ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
            if (r <= 0)
                goto out;
            len += (size_t)r;
        }
        pthread_mutex_lock(&srv.mu);
        snprintf(srv.last_method, sizeof(srv.last_method), "%s", method);
        snprintf(srv.last_target, sizeof(srv.last_target), "%s", target);
        snprintf(srv.last_headers, sizeof(srv.last_headers), "%.4000s", buf);
        srv.last_body_len = body;
        pthread_mutex_unlock(&srv.mu);
        char headers[4096];
        snprintf(headers, sizeof(headers), "%.4000s", buf);
        handle(fd, method, target, headers);
        memmove(buf, buf + head_len + body, len - head_len - body);
        len -= head_len + body;
    }
out:
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL;
        pthread_mutex_lock(&srv.mu);
        srv.conns++;
        pthread_mutex_unlock(&srv.mu);
        pthread_t t;
        pthread_create(&t, NULL, conn_main, (void *)(intptr_t)c);
        pthread_detach(t);
    }
}

static int server_conns(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.conns;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static int setup(void **state)
{
    (void)state;
    /* the environment of the test run must not route these requests */
    const char *proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv.fd, 64) < 0 ||
        getsockname(srv.fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    srv.port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, accept_main, NULL);
    pthread_detach(t);
    return 0;
}

/* ---- the client side ------------------------------------------------------ */

struct answer {
    bool done;
    long status;
    char error[256];
    char body[4096];
    size_t body_len;
    bool truncated;
    int64_t retry_after_ms, reset_ms, elapsed_ms;
    int order;
};

static int finished_count;

static void on_done(void *arg, const struct hf_http_result *res)
{
    struct answer *a = arg;
    assert_false(a->done); /* exactly once */
    a->done = true;
    a->status = res->status;
    snprintf(a->error, sizeof(a->error), "%s", res->error);
    a->body_len = res->body_len;
    snprintf(a->body, sizeof(a->body), "%s", res->body);
    a->truncated = res->body_truncated;
    a->retry_after_ms = res->retry_after_ms;
    a->reset_ms = res->ratelimit_reset_ms;
    a->elapsed_ms = res->elapsed_ms;
    a->order = ++finished_count;
}

/* Drives the client until nothing is pending; fails past 10 s. */
static void run(struct hf_http_client *h)
{
    int64_t deadline = hf_mono_ms() + 10000;
    while (hf_http_client_pending(h) > 0) {
        if (hf_mono_ms() > deadline)
            fail_msg("requests still pending after 10 s");
        hf_http_client_perform(h);
        hf_http_client_wait(h, 50);
    }
    hf_http_client_perform(h);
}

static struct hf_http_client *client(int64_t timeout_ms, int max_inflight, const struct hf_tls_conf *tls)
{
    char why[200] = "";
    struct hf_http_client_opts o = {
        .timeout_ms = timeout_ms, .max_inflight = max_inflight, .tls = tls, .max_response = 1000};
    struct hf_http_client *h = hf_http_client_new(&o, why, sizeof(why));
    if (!h)
        fail_msg("%s", why);
    return h;
}

static void start(struct hf_http_client *h, const char *method, const char *path, const struct hf_http_headers *hdrs,
                  const char *body, struct answer *a)
{
    char url[256], why[200];
    snprintf(url, sizeof(url), "%s", path);
    if (!strstr(path, "://"))
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
    memset(a, 0, sizeof(*a));
    struct hf_http_request rq = {.method = method,
                                 .url = url,
                                 .headers = hdrs,
                                 .body = body,
                                 .body_len = body ? strlen(body) : 0,
                                 .done = on_done,
                                 .arg = a};
    if (hf_http_client_send(h, &rq, why, sizeof(why)) < 0)
        fail_msg("start %s: %s", url, why);
}

static void test_keep_alive(void **state)
{
    (void)state;
    struct hf_http_client *h = client(5000, 4, NULL);
    struct answer a;
    int before = server_conns();
    for (int i = 0; i < 5; i++) {
        start(h, NULL, "/ok", NULL, "{\"n\":1}", &a);
        run(h);
        assert_true(a.done);
        assert_int_equal(a.status, 200);
        assert_string_equal(a.body, "ok");
        assert_string_equal(a.error, "");
        assert_int_equal(a.retry_after_ms, -1);
    }
    /* five requests one after another: one connection */
    assert_int_equal(server_conns() - before, 1);
    assert_string_equal(srv.last_method, "POST");
    assert_int_equal(srv.last_body_len, 7);
    hf_http_client_free(h);
}

static void test_in_flight_and_queue(void **state)
{
    (void)state;
    struct answer a[4];
    /* three at once: the server sees all three waiting together */
    struct hf_http_client *h = client(5000, 3, NULL);
    srv.max_holding = 0;
    srv.release = 3;
    for (int i = 0; i < 3; i++)
        start(h, NULL, "/hold", NULL, "x", &a[i]);
    run(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(a[i].status, 200);
    assert_int_equal(srv.max_holding, 3);
    hf_http_client_free(h);
    /* max_inflight 1: four requests wait their turn, one at a time, in order */
    h = client(5000, 1, NULL);
    srv.max_holding = 0;
    srv.release = 2;
    finished_count = 0;
    for (int i = 0; i < 4; i++)
        start(h, NULL, "/hold", NULL, "x", &a[i]);
    assert_int_equal(hf_http_client_pending(h), 4);
    run(h);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a[i].status, 200);
        assert_int_equal(a[i].order, i + 1);
    }
    assert_int_equal(srv.max_holding, 1);
    hf_http_client_free(h);
}

static void test_timeout(void **state)
{
    (void)state;
    struct hf_http_client *h = client(300, 0, NULL);
    struct answer a;
    start(h, NULL, "/slow", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 0);
    assert_non_null(strcasestr(a.error, "timed out"));
    assert_true(a.elapsed_ms >= 250 && a.elapsed_ms < 3000);
    hf_http_client_free(h);
}

static void test_retry_after(void **state)
{
    (void)state;
    struct hf_http_client *h = client(5000, 0, NULL);
    struct answer a;
    start(h, NULL, "/retry-seconds", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 503);
    assert_int_equal(a.retry_after_ms, 7000);
    assert_string_equal(a.body, "busy");
    start(h, NULL, "/retry-date", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 429);
    assert_true(a.retry_after_ms >= 118000 && a.retry_after_ms <= 120000);
    start(h, NULL, "/ratelimit", NULL, "x", &a);
    run(h);
    assert_int_equal(a.reset_ms, 5000);
    assert_int_equal(a.retry_after_ms, -1);
    /* the next answer on the same handle does not inherit them */
    start(h, NULL, "/ok", NULL, "x", &a);
    run(h);
    assert_int_equal(a.retry_after_ms, -1);
    assert_int_equal(a.reset_ms, -1);
    hf_http_client_free(h);

    time_t now = 1445412450; /* Wed, 21 Oct 2015 07:27:30 GMT */
    assert_int_equal(hf_http_parse_retry_after("120", now), 120000);
    assert_int_equal(hf_http_parse_retry_after(" 5 \r\n", now), 5000);
    assert_int_equal(hf_http_parse_retry_after("0", now), 0);
    assert_int_equal(hf_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), 30000);
    assert_int_equal(hf_http_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now), 30000); /* RFC 850 */
    assert_int_equal(hf_http_parse_retry_after("Wed Oct 21 07:28:00 2015", now), 30000); /* asctime */
    assert_int_equal(hf_http_parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now), 0); /* past */
    assert_int_equal(hf_http_parse_retry_after("99999999", now), 86400000); /* capped */
    assert_int_equal(hf_http_parse_retry_after("soon", now), -1);
    assert_int_equal(hf_http_parse_retry_after("-5", now), -1);
    assert_int_equal(hf_http_parse_retry_after("", now), -1);
}

static void test_no_redirects_http_only(void **state)
{
    (void)state;
    struct hf_http_client *h = client(5000, 0, NULL);
    struct answer a;
    start(h, NULL, "/redirect", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 302); /* an answer, not followed */
    assert_string_equal(srv.last_target, "/redirect");
    const char *refused[] = {"file:///etc/passwd", "ftp://127.0.0.1:21/x", "gopher://127.0.0.1/x",
                             "dict://127.0.0.1:2628/x"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        start(h, NULL, refused[i], NULL, "x", &a);
        run(h);
        assert_true(a.done);
        assert_int_equal(a.status, 0);
        assert_int_equal(a.body_len, 0);
        assert_non_null(strcasestr(a.error, "protocol"));
    }
    hf_http_client_free(h);
}

static void test_methods_headers_cap(void **state)
{
    (void)state;
    struct hf_http_client *h = client(5000, 0, NULL);
    struct hf_http_headers *hl = hf_http_headers_new();
    assert_int_equal(hf_http_headers_add(hl, "Authorization", "Splunk abc", 10), 0);
    assert_int_equal(hf_http_headers_add(hl, "X-Empty", "", 0), 0);
    assert_int_equal(hf_http_headers_add(hl, "X-Bad", "a\r\nX-Injected: 1", 17), -1);
    assert_int_equal(hf_http_headers_add(hl, "Bad Name", "v", 1), -1);
    assert_int_equal(hf_http_headers_add(hl, "", "v", 1), -1);
    struct answer a;
    start(h, NULL, "/echo", hl, "{}", &a);
    run(h);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "\r\nAuthorization: Splunk abc"));
    assert_non_null(strstr(a.body, "\r\nX-Empty:"));
    assert_null(strcasestr(a.body, "X-Injected"));
    assert_null(strcasestr(a.body, "Expect:"));
    assert_non_null(strstr(a.body, "\r\nUser-Agent: hookfwd/"));
    start(h, "PUT", "/echo", hl, "{}", &a);
    run(h);
    assert_string_equal(srv.last_method, "PUT");
    start(h, "GET", "/echo", NULL, NULL, &a);
    run(h);
    assert_string_equal(srv.last_method, "GET");
    start(h, NULL, "/ok", NULL, "{}", &a); /* back to POST on a reused handle */
    run(h);
    assert_string_equal(srv.last_method, "POST");
    start(h, NULL, "/big", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.body_len, 1000); /* max_response */
    assert_true(a.truncated);
    char why[200];
    struct hf_http_request bad = {.method = "GET X", .url = "http://127.0.0.1/", .done = on_done, .arg = &a};
    assert_int_equal(hf_http_client_send(h, &bad, why, sizeof(why)), -1);
    assert_int_equal(hf_http_client_pending(h), 0);
    hf_http_headers_free(hl);
    hf_http_client_free(h);
}

static void test_proxy_from_environment(void **state)
{
    (void)state;
    char proxy[64];
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", srv.port);
    setenv("http_proxy", proxy, 1);
    struct hf_http_client *h = client(5000, 0, NULL);
    struct answer a;
    start(h, NULL, "http://hec.example.invalid:8088/ok", NULL, "x", &a);
    run(h);
    unsetenv("http_proxy");
    assert_int_equal(a.status, 200);
    /* the proxy got the request in absolute form */
    assert_string_equal(srv.last_target, "http://hec.example.invalid:8088/ok");
    setenv("http_proxy", proxy, 1);
    setenv("no_proxy", "example.invalid", 1);
    start(h, NULL, "http://hec.example.invalid:8088/ok", NULL, "x", &a);
    run(h);
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    assert_int_equal(a.status, 0); /* no proxy for it: the name does not resolve */
    hf_http_client_free(h);
}

static void test_server_name(void **state)
{
    (void)state;
    struct hf_tls_conf tls = {.verify = true, .server_name = "hec.example.test"};
    struct hf_http_client *h = client(5000, 0, &tls);
    struct answer a;
    start(h, NULL, "/echo", NULL, "x", &a);
    run(h);
    assert_int_equal(a.status, 200);
    char want[80];
    snprintf(want, sizeof(want), "\r\nHost: hec.example.test:%d", srv.port);
    assert_non_null(strstr(a.body, want));
    hf_http_client_free(h);
}

/* Runs hf_check_url on `url: <value>` and returns the message. */
static const char *url_check(const char *value, const char *schemes, struct hf_cerr *err)
{
    char yaml[300];
    snprintf(yaml, sizeof(yaml), "name: x\nurl: \"%s\"\n", value);
    memset(err, 0, sizeof(*err));
    struct hf_cnode *root = hf_cnode_load_string("t.yaml", yaml, strlen(yaml), err);
    assert_non_null(root);
    const struct hf_check ck = {.file = "t.yaml", .node = root, .what = "sink 'x' (http)", .err = err};
    int rc = hf_check_url(&ck, "url", hf_cnode_get(root, "url")->value, schemes);
    hf_cnode_free(root);
    assert_true(rc == 0 ? !err->msg[0] : rc == -1 && err->msg[0]);
    return err->msg;
}

static void test_check_url(void **state)
{
    (void)state;
    struct hf_cerr err;
    assert_string_equal(url_check("https://splunk.example.com:8088/x", "https|http", &err), "");
    assert_string_equal(url_check("http://[::1]:8080", "http|https", &err), "");
    assert_non_null(strstr(url_check("ftp://nowhere", "https|http", &err),
                           "t.yaml:2:6: sink 'x' (http): url: the scheme must be https or http, not 'ftp'"));
    assert_non_null(strstr(url_check("file:///etc/passwd", "http|https", &err), "scheme must be http or https"));
    assert_non_null(strstr(url_check("https://", "http|https", &err), "url: "));
    assert_non_null(strstr(url_check("not a url", "http|https", &err), "not a URL"));
    url_check("https://admin:s3cr3t@splunk.example.com", "http|https", &err);
    assert_non_null(strstr(err.msg, "user name or password"));
    assert_null(strstr(err.msg, "s3cr3t"));
    assert_non_null(strstr(url_check("https://user@host", "http|https", &err), "user name"));
    assert_int_equal(hf_check_url(NULL, "url", NULL, "http|https"), 0); /* unset passes */
    assert_true(hf_http_status_retryable(503) && hf_http_status_retryable(429) && hf_http_status_retryable(408));
    assert_false(hf_http_status_retryable(400) || hf_http_status_retryable(413) || hf_http_status_retryable(200));
}

/* hf_check_tls on `tls: <map>`, bound as a plugin would bind it. */
struct tls_only {
    struct hf_tls_conf tls;
};
static const struct hf_option tls_sub[] = {HF_TLS_OPTIONS(struct tls_only, tls), {0}};
static const struct hf_option tls_table[] = {{.name = "tls", .type = HF_OPT_OBJ, .sub = tls_sub}, {0}};

static const char *tls_check(const char *map, struct hf_cerr *err)
{
    char yaml[600];
    snprintf(yaml, sizeof(yaml), "tls: %s\n", map);
    memset(err, 0, sizeof(*err));
    struct hf_cnode *root = hf_cnode_load_string("t.yaml", yaml, strlen(yaml), err);
    assert_non_null(root);
    struct tls_only conf = {0};
    assert_int_equal(hf_opt_bind("t.yaml", root, tls_table, &conf, err), 0);
    const struct hf_check ck = {.file = "t.yaml", .node = root, .what = "sink 'x' (http)", .err = err};
    int rc = hf_check_tls(&ck, &conf.tls);
    hf_opt_unbind(tls_table, &conf);
    hf_cnode_free(root);
    assert_true(rc == 0 ? !err->msg[0] : rc == -1 && err->msg[0]);
    return err->msg;
}

static void test_check_tls(void **state)
{
    (void)state;
    struct hf_cerr err;
    char junk[] = "/tmp/hookfwd-unit-junk-XXXXXX";
    int fd = mkstemp(junk);
    assert_true(fd >= 0 && write(fd, "not a certificate\n", 18) == 18);
    close(fd);
    char map[300];
    assert_string_equal(tls_check("{verify: false}", &err), "");
    assert_non_null(strstr(tls_check("{ca_file: /nonexistent/ca.pem}", &err),
                           "t.yaml:1:16: sink 'x' (http): tls.ca_file: cannot be read (CA certificates "
                           "/nonexistent/ca.pem: No such file or directory)"));
    assert_non_null(strstr(tls_check("{ca_file: /tmp}", &err), "not a regular file"));
    snprintf(map, sizeof(map), "{ca_file: %s}", junk);
    assert_non_null(strstr(tls_check(map, &err), "tls.ca_file: cannot load the CA certificates"));
    snprintf(map, sizeof(map), "{cert: %s}", junk);
    assert_non_null(strstr(tls_check(map, &err), "tls.cert: tls.cert and tls.key go together"));
    snprintf(map, sizeof(map), "{cert: %s, key: %s}", junk, junk);
    assert_non_null(strstr(tls_check(map, &err), "tls.cert: cannot use the client certificate"));
    assert_non_null(strstr(tls_check("{key: /nonexistent/k.pem}", &err), "tls.key: tls.cert and tls.key go together"));
    snprintf(map, sizeof(map), "{cert: %s, key: /nonexistent/k.pem}", junk);
    assert_non_null(strstr(tls_check(map, &err), "tls.key: cannot be read (client key /nonexistent/k.pem"));
    assert_non_null(strstr(tls_check("{server_name: \"a b\"}", &err), "tls.server_name: 'a b' is not a host name"));
    assert_string_equal(tls_check("{server_name: hec.example.com}", &err), "");
    unlink(junk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_in_flight_and_queue),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_no_redirects_http_only),
        cmocka_unit_test(test_methods_headers_cap),
        cmocka_unit_test(test_proxy_from_environment),
        cmocka_unit_test(test_server_name),
        cmocka_unit_test(test_check_url),
        cmocka_unit_test(test_check_tls),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
