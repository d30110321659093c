/* SPDX-License-Identifier: Apache-2.0 */
/* The shared `tls:` options: their check, and the OpenSSL client context
 * they describe. */
#define _GNU_SOURCE
#include "tls_conf.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hf_check_file(const struct hf_check *ck, const char *option, const char *path, const char *what)
{
    struct stat st;
    if (!path)
        return 0;
    if (!path[0])
        return hf_check_fail(ck, option, "cannot be read (%s: the path is empty)", what);
    if (stat(path, &st) < 0 || access(path, R_OK) < 0)
        return hf_check_fail(ck, option, "cannot be read (%s %s: %s)", what, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return hf_check_fail(ck, option, "cannot be read (%s %s: not a regular file)", what, path);
    return 0;
}

void hf_tls_reason(char *why, size_t whylen, const char *what)
{
    unsigned long e = ERR_get_error();
    char msg[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, msg, sizeof(msg));
    ERR_clear_error();
    snprintf(why, whylen, "%s: %s", what, msg);
}

SSL_CTX *hf_tls_client_ctx(const struct hf_tls_conf *tc, const char **bad_opt, char *why, size_t whylen)
{
    char what[400];
    *bad_opt = "tls";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        hf_tls_reason(why, whylen, "cannot create the TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, tc->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (tc->ca_file ? SSL_CTX_load_verify_locations(ctx, tc->ca_file, NULL) != 1
                    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(what, sizeof(what), "cannot load the CA certificates from %s",
                 tc->ca_file ? tc->ca_file : "the system store");
        *bad_opt = "tls.ca_file";
        hf_tls_reason(why, whylen, what);
        goto fail;
    }
    if (!tc->cert != !tc->key) {
        snprintf(why, whylen, "tls.cert and tls.key go together (mutual TLS)");
        *bad_opt = tc->cert ? "tls.cert" : "tls.key";
        goto fail;
    }
    if (tc->cert) {
        snprintf(what, sizeof(what), "cannot use the client certificate %s with the key %s", tc->cert, tc->key);
        *bad_opt = "tls.cert";
        if (SSL_CTX_use_certificate_chain_file(ctx, tc->cert) != 1)
            goto fail_ssl;
        *bad_opt = "tls.key";
        if (SSL_CTX_use_PrivateKey_file(ctx, tc->key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
            goto fail_ssl;
    }
    return ctx;
fail_ssl:
    hf_tls_reason(why, whylen, what);
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* A DNS name or an IP literal: letters, digits, '-', '.', ':' (IPv6), no
 * spaces or URL syntax. */
static bool plausible_host(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && !strchr("-.:_", c))
            return false;
    }
    return true;
}

int hf_check_tls(const struct hf_check *ck, const struct hf_tls_conf *tc)
{
    if (!tc->cert != !tc->key)
        return hf_check_fail(ck, tc->cert ? "tls.cert" : "tls.key", "tls.cert and tls.key go together (mutual TLS)");
    if (hf_check_file(ck, "tls.ca_file", tc->ca_file, "CA certificates") < 0 ||
        hf_check_file(ck, "tls.cert", tc->cert, "client certificate") < 0 ||
        hf_check_file(ck, "tls.key", tc->key, "client key") < 0)
        return -1;
    if (tc->server_name && !plausible_host(tc->server_name))
        return hf_check_fail(ck, "tls.server_name", "'%s' is not a host name", tc->server_name);
    const char *bad_opt;
    char why[600];
    SSL_CTX *ctx = hf_tls_client_ctx(tc, &bad_opt, why, sizeof(why));
    if (!ctx)
        return hf_check_fail(ck, bad_opt, "%s", why);
    SSL_CTX_free(ctx);
    return 0;
}

int hf_check_tls_server(const struct hf_check *ck, const char *cert, const char *key)
{
    if (!cert && !key)
        return 0;
    if (!cert != !key)
        return hf_check_fail(ck, cert ? "tls.cert" : "tls.key", "tls.cert and tls.key go together");
    if (hf_check_file(ck, "tls.cert", cert, "certificate") < 0 || hf_check_file(ck, "tls.key", key, "private key") < 0)
        return -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *bad_opt = "tls.cert";
    char what[400], why[600];
    int rc = -1;
    snprintf(what, sizeof(what), "cannot use the certificate %s with the key %s", cert, key);
    if (!ctx) {
        hf_tls_reason(why, sizeof(why), "cannot create the TLS context");
    } else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        hf_tls_reason(why, sizeof(why), what);
    } else {
        bad_opt = "tls.key";
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
            hf_tls_reason(why, sizeof(why), what);
        else
            rc = 0;
    }
    SSL_CTX_free(ctx);
    return rc < 0 ? hf_check_fail(ck, bad_opt, "%s", why) : 0;
}

int hf_tls_url_for_name(const char *url, const char *server_name, char **url_out, struct curl_slist **connect_to)
{
    *url_out = NULL;
    *connect_to = NULL;
    if (!server_name) {
        *url_out = hf_strdup(url);
        return 0;
    }
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_HOST, server_name, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        char map[600];
        snprintf(map, sizeof(map), "%s:%s:%s:%s", server_name, port, host, port);
        *connect_to = curl_slist_append(NULL, map);
        if (*connect_to)
            *url_out = hf_strdup(out);
    }
    curl_free(host);
    curl_free(port);
    curl_free(out);
    curl_url_cleanup(u);
    return *url_out ? 0 : -1;
}
