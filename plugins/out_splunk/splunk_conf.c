/* SPDX-License-Identifier: Apache-2.0 */
/* The Splunk HEC sink's options: the typed table the core validates and
 * binds into struct splunk_options, the checks a type cannot express (URL
 * shape, GUID channel, a token that fits in a header, TLS files), and the
 * struct splunk_conf derived from them at init. */
#define _GNU_SOURCE
#include "splunk.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT(m) HF_OPT_AT(struct splunk_options, m)

static const struct hf_option tls_options[] = {HF_TLS_OPTIONS(struct splunk_options, tls), {0}};

const struct hf_option hf_splunk_options[] = {
    {.name = "url", .type = HF_OPT_STR, .required = true, .help = "HEC base URL, e.g. https://splunk:8088", OPT(url)},
    {.name = "token", .type = HF_OPT_SECRET, .required = true, .help = "HEC token (a GUID)", OPT(token)},
    {.name = "index", .type = HF_OPT_STR, .help = "index; default: the token's default index", OPT(index)},
    {.name = "metrics_index",
     .type = HF_OPT_STR,
     .help = "metrics index for metric events; default: index",
     OPT(metrics_index)},
    {.name = "sourcetype", .type = HF_OPT_STR, .help = "default: hookfwd:<source>", OPT(sourcetype)},
    {.name = "host", .type = HF_OPT_STR, .help = "event host; default: this machine's hostname", OPT(host)},
    {.name = "gzip", .type = HF_OPT_BOOL, .def = "true", .help = "Content-Encoding: gzip", OPT(gzip)},
    {.name = "channel", .type = HF_OPT_STR, .help = "X-Splunk-Request-Channel GUID; default: random", OPT(channel)},
    {.name = "ack", .type = HF_OPT_BOOL, .def = "false", .help = "wait for indexer acknowledgement", OPT(ack)},
    {.name = "ack_timeout",
     .type = HF_OPT_DURATION,
     .def = "60s",
     .min = 100,
     .max = 3600000,
     .help = "resend a batch whose ack has not come within this time",
     OPT(ack_timeout_ms)},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "30s",
     .min = 100,
     .max = 600000,
     .help = "per request, connecting included",
     OPT(timeout_ms)},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_options},
    {0}};

static char *dup_set(const char *v) { return v && v[0] ? hf_strdup(v) : NULL; }

/* ---- check ---- */

static int check_url(const struct hf_check *ck, const char *url)
{
    if (hf_check_url(ck, "url", url, "https|http") < 0)
        return -1;
    CURLU *u = curl_url();
    char *query = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = hf_check_fail(ck, "url", "not a URL (expected e.g. https://splunk.example.com:8088)");
    else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK)
        rc = hf_check_fail(ck, "url", "must have no query string (the token goes in token:)");
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

int hf_splunk_check(const void *conf, const struct hf_check *ck)
{
    const struct splunk_options *o = conf;
    if (check_url(ck, o->url) < 0)
        return -1;
    for (const char *p = o->token; p && *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            /* the message must not quote the token */
            return hf_check_fail(ck, "token", "contains spaces or characters that cannot go in an HTTP header");
    if (o->token && !o->token[0])
        return hf_check_fail(ck, "token", "is empty");
    if (o->channel && o->channel[0] && !hf_splunk_is_uuid(o->channel))
        return hf_check_fail(ck, "channel", "must be a GUID like 5a6b7c8d-1e2f-4a3b-9c8d-7e6f5a4b3c2d");
    return hf_check_tls(ck, &o->tls);
}

/* ---- the derived configuration ---- */

/* The base path without the HEC endpoint, when the user pasted the whole
 * endpoint URL: .../services/collector[/event] */
static void strip_endpoint(char *path)
{
    static const char *const ends[] = {"/services/collector/event", "/services/collector", NULL};
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        path[--n] = '\0';
    for (int i = 0; ends[i]; i++) {
        size_t e = strlen(ends[i]);
        if (n >= e && !strcmp(path + n - e, ends[i])) {
            path[n - e] = '\0';
            return;
        }
    }
}

static char *endpoint(CURLU *u, const char *base, const char *suffix)
{
    char path[2048], *out = NULL;
    snprintf(path, sizeof(path), "%s%s", base, suffix);
    if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
        return NULL;
    char *copy = hf_strdup(out);
    curl_free(out);
    return copy;
}

static bool is_loopback(const char *host)
{
    return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]");
}

/* The event and ack endpoints from the (checked) url option; warns when
 * the token would cross a network in clear text. */
static int read_url(struct hf_sink *s, const char *url, struct splunk_conf *c, struct hf_cerr *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *path = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        strip_endpoint(path);
        c->event_url = endpoint(u, path, "/services/collector/event");
        c->ack_url = endpoint(u, path, "/services/collector/ack");
        rc = c->event_url && c->ack_url ? 0 : -1;
    }
    if (rc < 0)
        snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': url: cannot build the HEC endpoint from it",
                 hf_sink_config_file(s), hf_sink_name(s));
    else if (!strcmp(scheme, "http") && !is_loopback(host))
        hf_sink_log(s, HF_LOG_WARN,
                    "url is plain http to %s: the HEC token and the events cross the network "
                    "unencrypted; use https",
                    host);
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static char *machine_hostname(void)
{
    char h[256];
    if (gethostname(h, sizeof(h)) < 0 || !h[0])
        return hf_strdup("localhost");
    h[sizeof(h) - 1] = '\0';
    return hf_strdup(h);
}

int hf_splunk_conf_read(struct hf_sink *s, struct splunk_conf *c, struct hf_cerr *err)
{
    const struct splunk_options *o = hf_sink_conf(s);
    memset(c, 0, sizeof(*c));
    if (read_url(s, o->url, c, err) < 0)
        return -1;
    c->token_len = strlen(o->token);
    c->token = hf_strndup(o->token, c->token_len);
    if (o->channel && o->channel[0])
        snprintf(c->channel, sizeof(c->channel), "%s", o->channel);
    else
        hf_splunk_uuid(c->channel);
    c->index = dup_set(o->index);
    c->metrics_index = dup_set(o->metrics_index);
    c->sourcetype = dup_set(o->sourcetype);
    c->host = dup_set(o->host);
    if (!c->host)
        c->host = machine_hostname();
    c->gzip = o->gzip;
    c->ack = o->ack;
    c->verify = o->tls.verify;
    c->timeout_ms = o->timeout_ms;
    c->ack_timeout_ms = o->ack_timeout_ms;
    if (!c->verify)
        hf_sink_log(s, HF_LOG_WARN,
                    "tls.verify is false: the HEC server's certificate is NOT checked, so anyone on "
                    "the path can pose as Splunk and read the token and every event; use tls.ca_file for a "
                    "private CA instead");
    return 0;
}

void hf_splunk_conf_free(struct splunk_conf *c)
{
    if (c->token) {
        OPENSSL_cleanse(c->token, c->token_len);
        free(c->token);
    }
    free(c->event_url);
    free(c->ack_url);
    free(c->index);
    free(c->metrics_index);
    free(c->sourcetype);
    free(c->host);
    memset(c, 0, sizeof(*c));
}
