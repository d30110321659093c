/* The Splunk HEC sink's options: the typed table the core validates, and
 * reading it into struct splunk_conf with the checks a type cannot express
 * (URL shape, GUID channel, a token that fits in a header). */
#define _GNU_SOURCE
#include "splunk.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct hf_option tls_options[] = {
    {.name = "verify", .type = HF_OPT_BOOL, .def = "true", .help = "check the server's certificate and name"},
    {.name = "ca_file", .type = HF_OPT_STR, .help = "PEM bundle to trust instead of the system CAs"},
    {0}};

const struct hf_option hf_splunk_options[] = {
    {.name = "url", .type = HF_OPT_STR, .required = true, .help = "HEC base URL, e.g. https://splunk:8088"},
    {.name = "token", .type = HF_OPT_SECRET, .required = true, .help = "HEC token (a GUID)"},
    {.name = "index", .type = HF_OPT_STR, .help = "index; default: the token's default index"},
    {.name = "metrics_index", .type = HF_OPT_STR, .help = "metrics index for metric events; default: index"},
    {.name = "sourcetype", .type = HF_OPT_STR, .help = "default: hookfwd:<source>"},
    {.name = "host", .type = HF_OPT_STR, .help = "event host; default: this machine's hostname"},
    {.name = "gzip", .type = HF_OPT_BOOL, .def = "true", .help = "Content-Encoding: gzip"},
    {.name = "channel", .type = HF_OPT_STR, .help = "X-Splunk-Request-Channel GUID; default: random"},
    {.name = "ack", .type = HF_OPT_BOOL, .def = "false", .help = "wait for indexer acknowledgement"},
    {.name = "ack_timeout", .type = HF_OPT_DURATION, .def = "60s", .min = 100, .max = 3600000,
     .help = "resend a batch whose ack has not come within this time"},
    {.name = "timeout", .type = HF_OPT_DURATION, .def = "30s", .min = 100, .max = 600000,
     .help = "per request, connecting included"},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_options},
    {0}};

static char *opt_dup(struct hf_sink *s, const char *name)
{
    const char *v = hf_sink_opt_str(s, name);
    return v && v[0] ? hf_strdup(v) : NULL;
}

static void conf_error(struct hf_sink *s, const char *opt, struct hf_cerr *err, const char *msg)
{
    const struct hf_cnode *n = hf_sink_opt_node(s, opt);
    hf_cerr_at(err, s->config_file, n ? n->line : 0, n ? n->col : 0, "sink '%s': %s: %s", s->name, opt, msg);
}

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

/* Checks and splits the url option; warns when the token would cross a
 * network in clear text. */
static int read_url(struct hf_sink *s, struct splunk_conf *c, struct hf_cerr *err)
{
    const char *url = hf_sink_opt_str(s, "url");
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL, *user = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        conf_error(s, "url", err, "not a URL (expected e.g. https://splunk.example.com:8088)");
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "https") && strcmp(scheme, "http")))
        conf_error(s, "url", err, "the scheme must be https or http");
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK)
        conf_error(s, "url", err, "must have no user, password or query string (the token goes in token:)");
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
             curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        conf_error(s, "url", err, "has no host");
    else {
        strip_endpoint(path);
        c->event_url = endpoint(u, path, "/services/collector/event");
        c->ack_url = endpoint(u, path, "/services/collector/ack");
        rc = c->event_url && c->ack_url ? 0 : -1;
        if (rc < 0)
            conf_error(s, "url", err, "cannot build the HEC endpoint from it");
        else if (!strcmp(scheme, "http") && !is_loopback(host))
            hf_log(HF_LOG_WARN, "sink", "[sink:splunk_hec:%s] url is plain http to %s: the HEC token and the "
                   "events cross the network unencrypted; use https", s->name, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

static int read_token(struct hf_sink *s, struct splunk_conf *c, struct hf_cerr *err)
{
    if (hf_conf_secret(s->config_file, hf_sink_opt_node(s, "token"), &c->token, &c->token_len, err) < 0)
        return -1;
    for (size_t i = 0; i < c->token_len; i++)
        if ((unsigned char)c->token[i] <= 0x20 || (unsigned char)c->token[i] >= 0x7f) {
            /* the message must not quote the token */
            conf_error(s, "token", err, "contains spaces or characters that cannot go in an HTTP header");
            return -1;
        }
    return 0;
}

static int read_channel(struct hf_sink *s, struct splunk_conf *c, struct hf_cerr *err)
{
    const char *ch = hf_sink_opt_str(s, "channel");
    if (!ch || !ch[0]) {
        hf_splunk_uuid(c->channel);
        return 0;
    }
    if (!hf_splunk_is_uuid(ch)) {
        conf_error(s, "channel", err, "must be a GUID like 5a6b7c8d-1e2f-4a3b-9c8d-7e6f5a4b3c2d");
        return -1;
    }
    snprintf(c->channel, sizeof(c->channel), "%s", ch);
    return 0;
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
    memset(c, 0, sizeof(*c));
    if (read_url(s, c, err) < 0 || read_token(s, c, err) < 0 || read_channel(s, c, err) < 0)
        return -1;
    c->index = opt_dup(s, "index");
    c->metrics_index = opt_dup(s, "metrics_index");
    c->sourcetype = opt_dup(s, "sourcetype");
    c->host = opt_dup(s, "host");
    if (!c->host)
        c->host = machine_hostname();
    c->gzip = hf_sink_opt_bool(s, "gzip");
    c->ack = hf_sink_opt_bool(s, "ack");
    c->verify = hf_sink_opt_bool(s, "tls.verify");
    c->ca_file = opt_dup(s, "tls.ca_file");
    c->timeout_ms = hf_sink_opt_num(s, "timeout");
    c->ack_timeout_ms = hf_sink_opt_num(s, "ack_timeout");
    if (c->ca_file && access(c->ca_file, R_OK) < 0) {
        conf_error(s, "tls.ca_file", err, "cannot be read");
        return -1;
    }
    if (!c->verify)
        hf_log(HF_LOG_WARN, "sink", "[sink:splunk_hec:%s] tls.verify is false: the HEC server's certificate is "
               "NOT checked, so anyone on the path can pose as Splunk and read the token and every event; "
               "use tls.ca_file for a private CA instead", s->name);
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
    free(c->ca_file);
    memset(c, 0, sizeof(*c));
}
