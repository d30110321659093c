/* SPDX-License-Identifier: Apache-2.0 */
/* The syslog sink's sockets: address parsing, connect with a deadline,
 * the OpenSSL client (certificate and host name verified unless told not
 * to), whole-buffer writes on non-blocking streams, datagrams, and the byte
 * counts that tell how much of the stream the peer's TCP acknowledged.
 * Everything runs on the sink's worker thread; nothing here is shared. */
#ifndef HF_SYSLOG_NET_H
#define HF_SYSLOG_NET_H

#include "tls_conf.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_syslog_kind { HF_SYSLOG_UDP, HF_SYSLOG_TCP, HF_SYSLOG_TLS, HF_SYSLOG_UNIX };

/* results of hf_syslog_net_check() and hf_syslog_net_send_dgram() */
enum { HF_SYSLOG_NET_OK = 0, HF_SYSLOG_NET_CLOSED = 1, HF_SYSLOG_NET_ERROR = -1, HF_SYSLOG_NET_TOO_BIG = -2 };

struct hf_syslog_net {
    enum hf_syslog_kind kind;
    char address[300]; /* as configured, for messages */
    char *host, *port; /* inet */
    char *path; /* unix */
    int64_t timeout_ms; /* connect + handshake, and each blocked write */
    SSL_CTX *ssl_ctx;
    char *server_name;
    bool verify;

    /* the current connection */
    int fd; /* -1: none */
    bool stream; /* tcp, tls, unix stream */
    SSL *ssl;
    uint64_t written; /* bytes handed to the kernel (plain sockets) */
    char last_error[300];
};

void hf_syslog_net_init(struct hf_syslog_net *n);
/* udp://host[:514], tcp://host[:514], tls://host[:6514], unix:///path;
 * IPv6 hosts in brackets. */
int hf_syslog_net_parse(struct hf_syslog_net *n, const char *address, char *why, size_t whylen);
/* Builds the client context (hf_tls_client_ctx, plus what a stream of
 * partial writes needs): files are read now, so a bad path fails the
 * configuration instead of every connect. The name verified is
 * tc->server_name, else the address's host. On error *bad_opt names the
 * option at fault ("tls.ca_file", ...). */
int hf_syslog_net_tls_init(struct hf_syslog_net *n, const struct hf_tls_conf *tc, const char **bad_opt, char *why,
                           size_t whylen);

/* Connects (and handshakes) within timeout_ms. */
int hf_syslog_net_open(struct hf_syslog_net *n, char *why, size_t whylen);
/* Sends close_notify when it can, closes the socket. */
void hf_syslog_net_close(struct hf_syslog_net *n);
void hf_syslog_net_free(struct hf_syslog_net *n);

/* Writes all of data to the stream, waiting up to timeout_ms whenever the
 * socket is full. 0, or -1 with why set (the connection is then unusable). */
int hf_syslog_net_write(struct hf_syslog_net *n, const char *data, size_t len, char *why, size_t whylen);
/* One datagram: HF_SYSLOG_NET_OK, _ERROR, or _TOO_BIG (EMSGSIZE). */
int hf_syslog_net_send_dgram(struct hf_syslog_net *n, const char *data, size_t len, char *why, size_t whylen);

/* Bytes of this connection handed to the kernel (TLS: ciphertext). */
uint64_t hf_syslog_net_written(const struct hf_syslog_net *n);
/* Of those, the bytes the peer acknowledged: written minus SIOCOUTQ. On a
 * unix stream socket SIOCOUTQ counts what the peer has not read yet. */
uint64_t hf_syslog_net_acked(const struct hf_syslog_net *n);
/* Reads and drops whatever the peer sent: OK, CLOSED (clean end: FIN or
 * close_notify) or ERROR (reset, TLS failure). */
int hf_syslog_net_check(struct hf_syslog_net *n, char *why, size_t whylen);
/* Waits up to timeout_ms for the peer to send or close. */
void hf_syslog_net_wait(struct hf_syslog_net *n, int timeout_ms);

#endif
