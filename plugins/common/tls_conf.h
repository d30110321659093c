/* SPDX-License-Identifier: Apache-2.0 */
/* The one `tls:` option table of hookfwd's client sinks (Splunk HEC,
 * Datadog, syslog over TLS, and the HTTP sinks), what `hookfwd check`
 * verifies of it, and the OpenSSL client context it describes.
 *
 * A plugin puts a struct hf_tls_conf in its config struct and lists the
 * entries in its own sub-table, bound to that member:
 *
 *     struct my_conf { char *url; struct hf_tls_conf tls; };
 *     static const struct hf_option my_tls[] = {HF_TLS_OPTIONS(struct my_conf, tls), {0}};
 *     static const struct hf_option my_options[] = {
 *         {.name = "url", ...},
 *         {.name = "tls", .type = HF_OPT_OBJ, .sub = my_tls},
 *         {0}};
 *
 * and calls hf_check_tls(ck, &conf->tls) from its check hook. The entries
 * are spelt once, here, so every sink accepts the same keys. */
#ifndef HF_TLS_CONF_H
#define HF_TLS_CONF_H

#include "option.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* Filled by the core from the `tls:` map; strings are owned by the core
 * (freed with the sink's configuration), NULL when unset. */
struct hf_tls_conf {
    bool verify; /* check the peer's certificate chain and name (default true) */
    char *ca_file; /* PEM bundle to trust instead of the system store */
    char *cert; /* client certificate chain (PEM), mutual TLS; needs key */
    char *key; /* client private key (PEM); needs cert */
    char *server_name; /* name to verify and send as SNI instead of the URL's or address's host */
};

/* The five entries of a `tls:` sub-table, bound into `member` (a struct
 * hf_tls_conf) of the plugin's config struct `owner`. */
#define HF_TLS_OPTIONS(owner, member)                                                                                  \
    {.name = "verify",                                                                                                 \
     .type = HF_OPT_BOOL,                                                                                              \
     .def = "true",                                                                                                    \
     .help = "check the server's certificate and name",                                                                \
     HF_OPT_AT(owner, member.verify)},                                                                                 \
        {.name = "ca_file",                                                                                            \
         .type = HF_OPT_STR,                                                                                           \
         .help = "CA certificates (PEM) to trust instead of the system store",                                         \
         HF_OPT_AT(owner, member.ca_file)},                                                                            \
        {.name = "cert",                                                                                               \
         .type = HF_OPT_STR,                                                                                           \
         .help = "client certificate chain (PEM) for mutual TLS",                                                      \
         HF_OPT_AT(owner, member.cert)},                                                                               \
        {.name = "key",                                                                                                \
         .type = HF_OPT_STR,                                                                                           \
         .help = "client private key (PEM) for mutual TLS",                                                            \
         HF_OPT_AT(owner, member.key)},                                                                                \
    {                                                                                                                  \
        .name = "server_name", .type = HF_OPT_STR,                                                                     \
        .help = "name to verify and send as SNI; default: the host the sink connects to",                              \
        HF_OPT_AT(owner, member.server_name)                                                                           \
    }

/* `hookfwd check` of a bound `tls:` map (reported as tls.ca_file, ...):
 * each file a readable regular file that OpenSSL loads (PEM), cert and key
 * given together and matching, server_name a plausible host name. Reads
 * the files, touches no network. 0, or -1 through hf_check_fail. */
int hf_check_tls(const struct hf_check *ck, const struct hf_tls_conf *tc);

/* `hookfwd check` of the listener's `listen.tls` {cert, key} (the
 * configuration build calls it, as it serves with them): both given or
 * neither, each a readable regular file, and a chain and key OpenSSL loads
 * as a matching pair. Both NULL passes. 0, or -1 through hf_check_fail. */
int hf_check_tls_server(const struct hf_check *ck, const char *cert, const char *key);

/* Reports `option` unless path names a regular file this process can
 * read; `what` says what the file is for ("CA certificates"). A NULL path
 * (option unset) passes. 0 or -1. */
int hf_check_file(const struct hf_check *ck, const char *option, const char *path, const char *what);

/* A TLS client context (TLS 1.2 at least) as tc describes it: the CA
 * store, peer verification on or off, the client certificate and key.
 * Files are read now. NULL on error, with *bad_opt naming the option at
 * fault ("tls.ca_file", "tls.cert", "tls.key") and why filled. The caller
 * frees it with SSL_CTX_free. The name to verify is set per connection
 * (SSL_set1_host), not here. */
SSL_CTX *hf_tls_client_ctx(const struct hf_tls_conf *tc, const char **bad_opt, char *why, size_t whylen);

/* "what: OpenSSL's reason" into why, from the thread's OpenSSL error
 * queue, which it then clears. */
void hf_tls_reason(char *why, size_t whylen, const char *what);

/* With tls.server_name set, the URL libcurl is given names that host (SNI,
 * certificate check, Host:) and *connect_to (for CURLOPT_CONNECT_TO) sends
 * the connection where url said. Without it, *url_out is a copy of url and
 * *connect_to NULL. 0, or -1 when url cannot be rewritten. The caller
 * frees *url_out and curl_slist_free_all()s *connect_to. */
struct curl_slist;
int hf_tls_url_for_name(const char *url, const char *server_name, char **url_out, struct curl_slist **connect_to);

#endif
