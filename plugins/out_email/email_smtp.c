/* SPDX-License-Identifier: Apache-2.0 */
/* The e-mail sink's SMTP transfers on one libcurl multi handle, so the
 * connection (and its TLS session) is kept between messages. The TLS
 * policy is fixed per sink and never flipped on a handle: libcurl reuses a
 * cached plain connection for a handle whose USE_SSL changed. The outcome
 * is decided on the server's reply code (4xx again later, 5xx for good),
 * and the reply line itself is kept for the log and the dead letter. */
#define _GNU_SOURCE
#include "email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CURLOPT_MAIL_RCPT_ALLOWFAILS
#define CURLOPT_MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS /* libcurl < 8.2 spelling */
#endif

static size_t read_msg(char *buf, size_t size, size_t nitems, void *arg)
{
    struct smtp_xfer *x = arg;
    size_t room = size * nitems, left = x->msg.len - x->off;
    size_t n = left < room ? left : room;
    memcpy(buf, x->msg.data + x->off, n);
    x->off += n;
    return n;
}

/* Keeps the server's last error reply ("550 5.1.1 <x@y>: recipient
 * rejected"): libcurl reports only the code. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
    struct smtp_xfer *x = arg;
    (void)h;
    if (type != CURLINFO_HEADER_IN || size < 3 || (data[0] != '4' && data[0] != '5'))
        return 0;
    size_t n = size;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    if (n >= sizeof(x->reply))
        n = sizeof(x->reply) - 1;
    for (size_t i = 0; i < n; i++)
        x->reply[i] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : ' ';
    x->reply[n] = '\0';
    return 0;
}

int smtp_client_init(struct smtp_client *c, const struct email_conf *cf, char *why, size_t whylen)
{
    memset(c, 0, sizeof(*c));
    c->cf = cf;
    if (email_addr_spec(cf->from, true, c->mail_from, sizeof(c->mail_from)) < 0) {
        snprintf(why, whylen, "from: not an e-mail address");
        return -1;
    }
    /* tls.server_name: the URL names that host (SNI, certificate check)
     * and CURLOPT_CONNECT_TO sends the connection where the URL said */
    if (hf_tls_url_for_name(cf->url, cf->tls.server_name, &c->url, &c->connect_to) < 0) {
        snprintf(why, whylen, "cannot apply tls.server_name to the URL");
        return -1;
    }
    c->multi = curl_multi_init();
    if (!c->multi)
        snprintf(why, whylen, "cannot set up libcurl");
    return c->multi ? 0 : -1;
}

void smtp_client_free(struct smtp_client *c)
{
    if (c->multi)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    curl_slist_free_all(c->connect_to);
    c->connect_to = NULL;
    free(c->url);
    c->url = NULL;
}

static CURL *new_easy(struct smtp_client *c, struct smtp_xfer *x)
{
    const struct email_conf *cf = c->cf;
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
    curl_easy_setopt(e, CURLOPT_USE_SSL,
                     cf->starttls == EMAIL_TLS_REQUIRED   ? (long)CURLUSESSL_ALL
                     : cf->starttls == EMAIL_TLS_OPTIONAL ? (long)CURLUSESSL_TRY
                                                          : (long)CURLUSESSL_NONE);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cf->tls.verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cf->tls.verify ? 2L : 0L);
    if (cf->tls.ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, cf->tls.ca_file);
    if (cf->tls.cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, cf->tls.cert);
    if (cf->tls.key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, cf->tls.key);
    if (cf->username) {
        curl_easy_setopt(e, CURLOPT_USERNAME, cf->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cf->password ? cf->password : "");
    }
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, c->mail_from);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    /* one refused recipient must not cost the others their alert */
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cf->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(cf->timeout_ms < 10000 ? cf->timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L); /* feeds on_debug; libcurl prints nothing itself */
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    return e;
}

int smtp_start(struct smtp_client *c, struct smtp_xfer *x)
{
    if (!x->easy && !(x->easy = new_easy(c, x)))
        return -1;
    if (!x->rcpt)
        for (size_t i = 0; i < c->cf->to.n; i++) {
            char rcpt[320];
            if (email_addr_spec(c->cf->to.v[i], true, rcpt, sizeof(rcpt)) == 0)
                x->rcpt = curl_slist_append(x->rcpt, rcpt);
        }
    curl_easy_setopt(x->easy, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->msg.len);
    x->off = 0;
    x->code = 0;
    x->reply[0] = '\0';
    x->errbuf[0] = '\0';
    x->result = CURLE_OK;
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
        return -1;
    x->state = SMTP_RUNNING;
    return 0;
}

void smtp_step(struct smtp_client *c, int timeout_ms)
{
    int running = 0;
    curl_multi_perform(c->multi, &running);
    if (running && timeout_ms > 0) {
        curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(c->multi, &running);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct smtp_xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode rc = m->data.result;
        curl_multi_remove_handle(c->multi, m->easy_handle);
        if (!x)
            continue;
        x->result = rc;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->code);
        x->state = SMTP_DONE;
    }
}

void smtp_abort(struct smtp_client *c, struct smtp_xfer *x)
{
    if (x->state == SMTP_RUNNING)
        curl_multi_remove_handle(c->multi, x->easy);
    x->state = SMTP_IDLE;
}

void smtp_xfer_reset(struct smtp_xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->rcpt);
    hf_buf_free(&x->msg);
    memset(x, 0, sizeof(*x));
}

enum hf_outcome smtp_outcome(const struct smtp_xfer *x, char *reason, size_t reasonlen)
{
    if (x->result == CURLE_OK) {
        reason[0] = '\0';
        return HF_OUT_DELIVERED;
    }
    long code = x->code;
    const char *what = x->reply[0] ? x->reply : x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
    if (code >= 500 && code < 600) {
        snprintf(reason, reasonlen, "SMTP server refused the message: %s", what);
        return HF_OUT_REJECTED;
    }
    if (code >= 400 && code < 500)
        snprintf(reason, reasonlen, "SMTP server deferred the message: %s", what);
    else if (x->result == CURLE_USE_SSL_FAILED)
        snprintf(reason, reasonlen, "the server offers no STARTTLS (starttls: required): %s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    else
        snprintf(reason, reasonlen, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    return HF_OUT_RETRY;
}
