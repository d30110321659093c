/* The Splunk HEC sink's HTTP layer: a pool of libcurl easy handles on one
 * multi handle (so connections stay alive between batches), the request
 * headers that carry the token, and the loop that drives transfers. */
#include "splunk.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HF_VERSION
#define HF_VERSION "0"
#endif

#define RESPONSE_CAP (64u << 10)

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct splunk_req *req = arg;
    size_t len = size * n;
    /* past the cap the rest is dropped, not refused: refusing would fail a
     * transfer whose status line already told us the outcome */
    if (req->resp.len + len <= RESPONSE_CAP)
        hf_buf_append(&req->resp, p, len);
    return len;
}

static CURL *new_easy(struct splunk_ctx *c, struct splunk_req *req)
{
    const struct splunk_conf *conf = &c->conf;
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* never send the token to another host */
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hookfwd/" HF_VERSION);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, conf->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, conf->verify ? 2L : 0L);
    if (conf->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, conf->ca_file);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)conf->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(conf->timeout_ms < 10000 ? conf->timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    return e;
}

struct splunk_req *hf_splunk_req_get(struct splunk_ctx *c)
{
    struct splunk_req *req = c->idle;
    if (req) {
        c->idle = req->next;
        req->next = NULL;
        return req;
    }
    req = hf_calloc(1, sizeof(*req));
    hf_buf_init(&req->body, HF_SPLUNK_MAX_REQUEST);
    hf_buf_init(&req->wire, HF_SPLUNK_MAX_REQUEST);
    hf_buf_init(&req->resp, RESPONSE_CAP);
    req->easy = new_easy(c, req);
    if (!req->easy) {
        hf_splunk_req_free(req);
        return NULL;
    }
    return req;
}

void hf_splunk_req_free(struct splunk_req *req)
{
    if (!req)
        return;
    if (req->easy)
        curl_easy_cleanup(req->easy);
    hf_buf_free(&req->body);
    hf_buf_free(&req->wire);
    hf_buf_free(&req->resp);
    free(req);
}

void hf_splunk_req_put(struct splunk_ctx *c, struct splunk_req *req)
{
    if (req->active) {
        curl_multi_remove_handle(c->multi, req->easy);
        req->active = false;
    }
    req->job = NULL;
    hf_buf_reset(&req->body);
    hf_buf_reset(&req->wire);
    hf_buf_reset(&req->resp);
    req->next = c->idle;
    c->idle = req;
}

int hf_splunk_req_start(struct splunk_ctx *c, struct splunk_req *req, bool is_ack)
{
    const struct hf_buf *data = !is_ack && c->conf.gzip ? &req->wire : &req->body;
    req->errbuf[0] = '\0';
    hf_buf_reset(&req->resp);
    curl_easy_setopt(req->easy, CURLOPT_URL, is_ack ? c->conf.ack_url : c->conf.event_url);
    curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, is_ack ? c->ack_headers : c->event_headers);
    curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)data->len);
    curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, data->data ? data->data : "");
    if (curl_multi_add_handle(c->multi, req->easy) != CURLM_OK)
        return -1;
    req->active = true;
    return 0;
}

static struct curl_slist *header_list(const struct splunk_conf *conf, bool gzip)
{
    struct hf_buf h;
    hf_buf_init(&h, 4096);
    hf_buf_puts(&h, "Authorization: Splunk ");
    hf_buf_append(&h, conf->token, conf->token_len);
    struct curl_slist *l = curl_slist_append(NULL, h.data);
    OPENSSL_cleanse(h.data, h.len);
    hf_buf_free(&h);
    char ch[80];
    snprintf(ch, sizeof(ch), "X-Splunk-Request-Channel: %s", conf->channel);
    l = curl_slist_append(l, ch);
    l = curl_slist_append(l, "Content-Type: application/json");
    /* no 100-continue round trip before large bodies */
    l = curl_slist_append(l, "Expect:");
    if (gzip)
        l = curl_slist_append(l, "Content-Encoding: gzip");
    return l;
}

int hf_splunk_http_init(struct splunk_ctx *c)
{
    c->multi = curl_multi_init();
    c->event_headers = header_list(&c->conf, c->conf.gzip);
    c->ack_headers = header_list(&c->conf, false);
    if (!c->multi || !c->event_headers || !c->ack_headers)
        return -1;
    /* batches in flight plus the ack query, each on its own kept-alive connection */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 16L);
    return 0;
}

static void wipe_headers(struct curl_slist *l)
{
    for (struct curl_slist *h = l; h; h = h->next)
        OPENSSL_cleanse(h->data, strlen(h->data));
    curl_slist_free_all(l);
}

void hf_splunk_http_free(struct splunk_ctx *c)
{
    while (c->idle) {
        struct splunk_req *r = c->idle;
        c->idle = r->next;
        hf_splunk_req_free(r);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    wipe_headers(c->event_headers);
    wipe_headers(c->ack_headers);
    c->event_headers = c->ack_headers = NULL;
}

void hf_splunk_http_drive(struct splunk_ctx *c, void (*done)(struct splunk_ctx *, struct splunk_req *, CURLcode))
{
    int running, left;
    curl_multi_perform(c->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct splunk_req *req = NULL;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        curl_multi_remove_handle(c->multi, m->easy_handle);
        req->active = false;
        done(c, req, rc);
    }
}

void hf_splunk_http_wait(struct splunk_ctx *c, int timeout_ms)
{
    curl_multi_poll(c->multi, NULL, 0, timeout_ms < 0 ? 0 : timeout_ms, NULL);
}
