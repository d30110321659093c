/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP sinks' client on libcurl multi: a pool of configured easy
 * handles on one multi handle (which keeps the connections alive), a
 * queue in front of max_inflight transfers, and the answer headers a sink
 * needs to back off (Retry-After, X-RateLimit-Reset). */
#define _GNU_SOURCE
#include "http_client.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef HF_VERSION
#define HF_VERSION "0"
#endif

#define DEFAULT_INFLIGHT 4
#define DEFAULT_RESPONSE (64u << 10)
#define CONNECT_TIMEOUT_MAX_MS 10000
#define DELAY_CAP_S 86400

enum http_method { M_POST, M_GET, M_OTHER };

struct hf_http_headers {
    struct curl_slist *list;
};

struct http_req {
    struct hf_http_client *h;
    CURL *easy;
    struct hf_buf resp;
    bool truncated;
    char errbuf[CURL_ERROR_SIZE];
    char *url; /* as sent (server_name in place of the host) */
    struct curl_slist *connect_to; /* server_name: where the connection really goes */
    enum http_method method;
    char custom[16];
    const struct hf_http_headers *headers;
    const void *body;
    size_t body_len;
    hf_http_done_fn done;
    void *arg;
    int64_t retry_after_ms, reset_ms;
    int64_t started_ms;
    struct http_req *next;
};

struct hf_http_client {
    CURLM *multi;
    struct hf_http_client_opts o;
    struct http_req *idle; /* finished, easy handle kept for reuse */
    struct http_req *waiting, **wait_tail; /* started, not yet handed to libcurl (FIFO) */
    struct http_req *running;
    int nwaiting, nrunning;
};

/* ---- headers ------------------------------------------------------------ */

struct hf_http_headers *hf_http_headers_new(void)
{
    struct hf_http_headers *hl = hf_calloc(1, sizeof(*hl));
    /* no 100-continue round trip before a body */
    hl->list = curl_slist_append(NULL, "Expect:");
    if (!hl->list) {
        free(hl);
        return NULL;
    }
    return hl;
}

int hf_http_headers_add(struct hf_http_headers *hl, const char *name, const char *value, size_t value_len)
{
    if (!name || !name[0] || strpbrk(name, ": \t\r\n"))
        return -1;
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -1;
    }
    struct hf_buf line;
    hf_buf_init(&line, 0);
    hf_buf_puts(&line, name);
    /* "Name:" alone would tell libcurl to drop the header: "Name;" sends it empty */
    if (value_len == 0) {
        hf_buf_putc(&line, ';');
    } else {
        hf_buf_puts(&line, ": ");
        hf_buf_append(&line, value, value_len);
    }
    struct curl_slist *l = curl_slist_append(hl->list, line.data);
    explicit_bzero(line.data, line.len);
    hf_buf_free(&line);
    if (!l)
        return -1;
    hl->list = l;
    return 0;
}

void hf_http_headers_free(struct hf_http_headers *hl)
{
    if (!hl)
        return;
    for (struct curl_slist *p = hl->list; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(hl->list);
    free(hl);
}

/* ---- answer headers ------------------------------------------------------- */

bool hf_http_status_retryable(long status) { return status == 408 || status == 429 || status >= 500; }

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int64_t delay_seconds(const char *s)
{
    if (!all_digits(s) || strlen(s) > 12)
        return -1;
    long long v = strtoll(s, NULL, 10);
    return (v > DELAY_CAP_S ? DELAY_CAP_S : v) * 1000;
}

int64_t hf_http_parse_retry_after(const char *value, time_t now)
{
    char v[128];
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && strchr(" \t\r\n", value[n - 1]))
        n--;
    if (n == 0 || n >= sizeof(v))
        return -1;
    memcpy(v, value, n);
    v[n] = '\0';
    if (v[0] >= '0' && v[0] <= '9' && all_digits(v))
        return delay_seconds(v);
    /* an HTTP-date; libcurl's parser reads IMF-fixdate and the two
     * obsolete forms RFC 9110 still asks recipients to accept */
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    int64_t d = (int64_t)t - (int64_t)now;
    if (d < 0)
        d = 0;
    return (d > DELAY_CAP_S ? DELAY_CAP_S : d) * 1000;
}

/* The value of header `name` if line is that header, else NULL; copied
 * into out. */
static const char *header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return NULL;
    size_t vl = len - nl - 1;
    if (vl >= outlen)
        vl = outlen - 1;
    memcpy(out, line + nl + 1, vl);
    out[vl] = '\0';
    return out;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    struct http_req *r = arg;
    size_t len = size * n;
    char v[128];
    /* a new status line (after a 100, or a proxy's CONNECT answer): what
     * counts is the final answer's headers */
    if (len > 5 && !strncmp(line, "HTTP/", 5)) {
        r->retry_after_ms = r->reset_ms = -1;
    } else if (header_value(line, len, "Retry-After", v, sizeof(v))) {
        r->retry_after_ms = hf_http_parse_retry_after(v, time(NULL));
    } else if (header_value(line, len, "X-RateLimit-Reset", v, sizeof(v))) {
        char *s = v, *e = v + strlen(v);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && strchr(" \t\r\n", e[-1]))
            *--e = '\0';
        r->reset_ms = delay_seconds(s);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct http_req *r = arg;
    size_t len = size * n;
    /* past the cap the rest is dropped, not refused: refusing would fail a
     * transfer whose status line already told the outcome */
    size_t room = r->resp.limit - r->resp.len;
    if (len > room) {
        r->truncated = true;
        hf_buf_append(&r->resp, p, room);
    } else {
        hf_buf_append(&r->resp, p, len);
    }
    return len;
}

/* ---- requests -------------------------------------------------------------- */

static void req_free(struct http_req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->connect_to);
    free(r->url);
    hf_buf_free(&r->resp);
    free(r);
}

/* An easy handle with everything that is the same for each request. */
static CURL *new_easy(struct hf_http_client *h, struct http_req *r, char *why, size_t whylen)
{
    const struct hf_http_client_opts *o = &h->o;
    const struct hf_tls_conf *tls = o->tls;
    bool verify = !tls || tls->verify;
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(why, whylen, "cannot create a libcurl handle");
        return NULL;
    }
    /* the protocol limits are what keeps a URL from reading local files or
     * a redirect from reaching other services: refuse to run without them */
    if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
        snprintf(why, whylen, "this libcurl cannot limit transfers to http and https (7.85 or later needed)");
        curl_easy_cleanup(e);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* never send a token to another host */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hookfwd/" HF_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (tls && tls->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca_file);
    if (tls && tls->cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert);
    if (tls && tls->key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    return e;
}

static struct http_req *req_get(struct hf_http_client *h, char *why, size_t whylen)
{
    struct http_req *r = h->idle;
    if (r) {
        h->idle = r->next;
        r->next = NULL;
        return r;
    }
    r = hf_calloc(1, sizeof(*r));
    r->h = h;
    hf_buf_init(&r->resp, h->o.max_response);
    r->easy = new_easy(h, r, why, whylen);
    if (!r->easy) {
        req_free(r);
        return NULL;
    }
    return r;
}

static void req_put(struct hf_http_client *h, struct http_req *r)
{
    hf_buf_reset(&r->resp);
    curl_slist_free_all(r->connect_to);
    r->connect_to = NULL;
    free(r->url);
    r->url = NULL;
    r->done = NULL;
    r->arg = NULL;
    r->headers = NULL;
    r->body = NULL;
    r->next = h->idle;
    h->idle = r;
}

/* With tls.server_name the URL names that host (SNI, certificate check,
 * Host:) and CURLOPT_CONNECT_TO sends the connection to the configured
 * one. */
static int set_url(struct hf_http_client *h, struct http_req *r, const char *url, char *why, size_t whylen)
{
    if (hf_tls_url_for_name(url, h->o.tls ? h->o.tls->server_name : NULL, &r->url, &r->connect_to) == 0)
        return 0;
    snprintf(why, whylen, "cannot apply tls.server_name to the URL");
    return -1;
}

/* Per-request options, then the transfer is handed to libcurl. */
static int req_launch(struct hf_http_client *h, struct http_req *r)
{
    CURL *e = r->easy;
    r->errbuf[0] = '\0';
    r->truncated = false;
    r->retry_after_ms = r->reset_ms = -1;
    hf_buf_reset(&r->resp);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, r->connect_to);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers ? r->headers->list : NULL);
    if (r->method == M_GET) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method == M_OTHER ? r->custom : NULL);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        return -1;
    r->started_ms = hf_mono_ms();
    r->next = h->running;
    h->running = r;
    h->nrunning++;
    return 0;
}

static void unlink_running(struct hf_http_client *h, struct http_req *r)
{
    for (struct http_req **p = &h->running; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            r->next = NULL;
            h->nrunning--;
            return;
        }
}

/* Hands waiting requests to libcurl while there is room. One libcurl
 * refuses is finished at once as a transport error. */
static void launch_waiting(struct hf_http_client *h, struct http_req **failed)
{
    while (h->waiting && h->nrunning < h->o.max_inflight) {
        struct http_req *r = h->waiting;
        h->waiting = r->next;
        if (!h->waiting)
            h->wait_tail = &h->waiting;
        h->nwaiting--;
        r->next = NULL;
        if (req_launch(h, r) < 0) {
            snprintf(r->errbuf, sizeof(r->errbuf), "libcurl refused the transfer");
            r->next = *failed;
            *failed = r;
        }
    }
}

int hf_http_client_send(struct hf_http_client *h, const struct hf_http_request *rq, char *why, size_t whylen)
{
    if (!rq->url || !rq->done) {
        snprintf(why, whylen, "a request needs a URL and a done callback");
        return -1;
    }
    const char *m = rq->method ? rq->method : "POST";
    if (strlen(m) >= sizeof(((struct http_req *)0)->custom) || strpbrk(m, " \t\r\n")) {
        snprintf(why, whylen, "not an HTTP method: '%.40s'", m);
        return -1;
    }
    struct http_req *r = req_get(h, why, whylen);
    if (!r)
        return -1;
    if (set_url(h, r, rq->url, why, whylen) < 0) {
        req_put(h, r);
        return -1;
    }
    r->method = !strcmp(m, "POST") ? M_POST : !strcmp(m, "GET") ? M_GET : M_OTHER;
    snprintf(r->custom, sizeof(r->custom), "%s", m);
    r->headers = rq->headers;
    r->body = rq->body;
    r->body_len = rq->body_len;
    r->done = rq->done;
    r->arg = rq->arg;
    r->next = NULL;
    *h->wait_tail = r;
    h->wait_tail = &r->next;
    h->nwaiting++;
    struct http_req *failed = NULL;
    launch_waiting(h, &failed);
    if (failed) {
        /* only this request can have failed here: the others were running */
        snprintf(why, whylen, "%s", failed->errbuf);
        req_put(h, failed);
        return -1;
    }
    return 0;
}

/* ---- driving ------------------------------------------------------------- */

static void finish(struct hf_http_client *h, struct http_req *r, CURLcode rc, bool launched)
{
    struct hf_http_result res = {.error = "", .retry_after_ms = -1, .ratelimit_reset_ms = -1};
    if (launched && rc == CURLE_OK) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
        res.retry_after_ms = r->retry_after_ms;
        res.ratelimit_reset_ms = r->reset_ms;
    } else {
        res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
    }
    res.body = r->resp.data ? r->resp.data : "";
    res.body_len = r->resp.len;
    res.body_truncated = r->truncated;
    res.elapsed_ms = launched ? hf_mono_ms() - r->started_ms : 0;
    r->done(r->arg, &res);
    req_put(h, r);
}

int hf_http_client_perform(struct hf_http_client *h)
{
    int running, left, finished = 0;
    curl_multi_perform(h->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct http_req *r = NULL;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(h->multi, m->easy_handle);
        unlink_running(h, r);
        /* the freed slot goes to the next waiting request before done
         * runs, so requests done starts queue behind those */
        struct http_req *failed = NULL;
        launch_waiting(h, &failed);
        finish(h, r, rc, true);
        finished++;
        while (failed) {
            struct http_req *f = failed;
            failed = f->next;
            finish(h, f, CURLE_FAILED_INIT, false);
            finished++;
        }
    }
    if (finished)
        curl_multi_perform(h->multi, &running); /* start what was added */
    return finished;
}

void hf_http_client_wait(struct hf_http_client *h, int timeout_ms)
{
    curl_multi_poll(h->multi, NULL, 0, timeout_ms < 0 ? 0 : timeout_ms, NULL);
}

int hf_http_client_pending(const struct hf_http_client *h) { return h->nrunning + h->nwaiting; }

/* ---- client ---------------------------------------------------------------- */

struct hf_http_client *hf_http_client_new(const struct hf_http_client_opts *opts, char *why, size_t whylen)
{
    if (opts->timeout_ms <= 0) {
        snprintf(why, whylen, "the HTTP client needs a timeout");
        return NULL;
    }
    struct hf_http_client *h = hf_calloc(1, sizeof(*h));
    h->o = *opts;
    if (h->o.connect_timeout_ms <= 0)
        h->o.connect_timeout_ms = h->o.timeout_ms < CONNECT_TIMEOUT_MAX_MS ? h->o.timeout_ms : CONNECT_TIMEOUT_MAX_MS;
    if (h->o.max_inflight <= 0)
        h->o.max_inflight = DEFAULT_INFLIGHT;
    if (h->o.max_response == 0)
        h->o.max_response = DEFAULT_RESPONSE;
    h->wait_tail = &h->waiting;
    h->multi = curl_multi_init();
    if (!h->multi) {
        snprintf(why, whylen, "cannot create a libcurl multi handle");
        free(h);
        return NULL;
    }
    /* one kept-alive connection per transfer that may run at once */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)(h->o.max_inflight + 1));
    /* the options every request gets are set up front: a refusal shows now */
    struct http_req *probe = req_get(h, why, whylen);
    if (!probe) {
        hf_http_client_free(h);
        return NULL;
    }
    req_put(h, probe);
    return h;
}

void hf_http_client_free(struct hf_http_client *h)
{
    if (!h)
        return;
    while (h->running) {
        struct http_req *r = h->running;
        h->running = r->next;
        curl_multi_remove_handle(h->multi, r->easy);
        req_free(r);
    }
    for (struct http_req *r = h->waiting, *n; r; r = n) {
        n = r->next;
        req_free(r);
    }
    for (struct http_req *r = h->idle, *n; r; r = n) {
        n = r->next;
        req_free(r);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi);
    free(h);
}

/* ---- configuration checks ------------------------------------------------- */

static bool scheme_listed(const char *schemes, const char *scheme)
{
    size_t sl = strlen(scheme);
    for (const char *p = schemes; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == sl && !strncasecmp(p, scheme, n))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* As written, "scheme://" and a host before the path: libcurl reads
 * "http:///x" and "http:/x" as host "x", which is then never reached. */
static bool written_with_host(const char *url)
{
    const char *p = strchr(url, ':');
    if (!p || strncmp(p, "://", 3))
        return false;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth);
    if (at) {
        auth -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    return auth > 0 && p[0] != ':';
}

int hf_check_url(const struct hf_check *ck, const char *option, const char *url, const char *schemes)
{
    if (!url)
        return 0;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
    int rc = -1;
    /* "http|https" reads "http or https" in messages */
    char listed[80];
    size_t ln = 0;
    for (const char *p = schemes; *p && ln + 5 < sizeof(listed); p++) {
        if (*p != '|') {
            listed[ln++] = *p;
            continue;
        }
        const char *last = strchr(p + 1, '|') ? ", " : " or ";
        memcpy(listed + ln, last, strlen(last));
        ln += strlen(last);
    }
    listed[ln] = '\0';
    if (!u)
        rc = hf_check_fail(ck, option, "cannot be parsed (out of memory)");
    else if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        rc = hf_check_fail(ck, option, "not a URL (expected e.g. https://host:port/path)");
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme_listed(schemes, scheme))
        rc = hf_check_fail(ck, option, "the scheme must be %s, not '%s'", listed, scheme ? scheme : "");
    else if (!written_with_host(url) || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0])
        rc = hf_check_fail(ck, option, "has no host (expected %s://host[:port]/path)", scheme);
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
        /* the message must not quote the URL: it holds the secret */
        rc = hf_check_fail(ck, option,
                           "must not hold a user name or password (they would show in logs); "
                           "put credentials in the sink's token or key option");
    else
        rc = 0;
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    if (password) {
        explicit_bzero(password, strlen(password));
        curl_free(password);
    }
    curl_url_cleanup(u);
    return rc;
}
