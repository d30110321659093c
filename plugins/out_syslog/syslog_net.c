/* SPDX-License-Identifier: Apache-2.0 */
/* Sockets and TLS for the syslog sink: see syslog_net.h. */
#define _GNU_SOURCE
#include "syslog_net.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void hf_syslog_net_init(struct hf_syslog_net *n)
{
    memset(n, 0, sizeof(*n));
    n->fd = -1;
    n->timeout_ms = 10000;
}

/* ---- address -------------------------------------------------------- */

static int parse_hostport(struct hf_syslog_net *n, const char *hp, const char *defport, char *why, size_t whylen)
{
    const char *host = hp, *colon;
    size_t hostlen;
    if (*hp == '[') {
        const char *end = strchr(hp, ']');
        if (!end) {
            snprintf(why, whylen, "'%s': missing ']' after an IPv6 address", n->address);
            return -1;
        }
        host = hp + 1;
        hostlen = (size_t)(end - host);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon) {
            snprintf(why, whylen, "'%s': expected ':port' after ']'", n->address);
            return -1;
        }
    } else {
        colon = strrchr(hp, ':');
        hostlen = colon ? (size_t)(colon - hp) : strlen(hp);
    }
    const char *port = colon ? colon + 1 : defport;
    char *end = NULL;
    long pv = strtol(port, &end, 10);
    if (hostlen == 0 || !*port || *end || pv < 1 || pv > 65535) {
        snprintf(why, whylen, "'%s': expected host:port with a port from 1 to 65535", n->address);
        return -1;
    }
    n->host = hf_strndup(host, hostlen);
    n->port = hf_strdup(port);
    return 0;
}

int hf_syslog_net_parse(struct hf_syslog_net *n, const char *address, char *why, size_t whylen)
{
    static const struct {
        const char *scheme;
        enum hf_syslog_kind kind;
        const char *port;
    } schemes[] = {{"udp://", HF_SYSLOG_UDP, "514"},
                   {"tcp://", HF_SYSLOG_TCP, "514"},
                   {"tls://", HF_SYSLOG_TLS, "6514"},
                   {"unix://", HF_SYSLOG_UNIX, NULL}};
    snprintf(n->address, sizeof(n->address), "%s", address);
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t sl = strlen(schemes[i].scheme);
        if (strncmp(address, schemes[i].scheme, sl))
            continue;
        n->kind = schemes[i].kind;
        n->stream = n->kind == HF_SYSLOG_TCP || n->kind == HF_SYSLOG_TLS;
        if (n->kind != HF_SYSLOG_UNIX)
            return parse_hostport(n, address + sl, schemes[i].port, why, whylen);
        const char *path = address + sl;
        if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(why, whylen, "'%s': expected unix:// and an absolute socket path under 108 bytes", address);
            return -1;
        }
        n->path = hf_strdup(path);
        return 0;
    }
    snprintf(why, whylen, "'%s': the address must start with udp://, tcp://, tls:// or unix://", address);
    return -1;
}

/* ---- TLS context ---------------------------------------------------- */

int hf_syslog_net_tls_init(struct hf_syslog_net *n, const struct hf_tls_conf *tc, const char **bad_opt, char *why,
                           size_t whylen)
{
    /* RFC 5425 as updated by RFC 9662: TLS 1.2 at least (as every
     * hf_tls_client_ctx is) */
    SSL_CTX *ctx = hf_tls_client_ctx(tc, bad_opt, why, whylen);
    if (!ctx)
        return -1;
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    n->server_name = hf_strdup(tc->server_name ? tc->server_name : n->host);
    n->verify = tc->verify;
    n->ssl_ctx = ctx;
    return 0;
}

/* ---- connect -------------------------------------------------------- */

/* Waits for events on the socket until deadline (monotonic ms): 1 ready,
 * 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - hf_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_one(const struct addrinfo *ai, int64_t deadline, char *why, size_t whylen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            socklen_t sl = sizeof(err);
            int w = wait_fd(fd, POLLOUT, deadline);
            if (w <= 0)
                err = w == 0 ? ETIMEDOUT : errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                err = errno;
        }
    }
    if (err) {
        snprintf(why, whylen, "connect: %s", strerror(err));
        close(fd);
        return -1;
    }
    if (ai->ai_socktype == SOCK_STREAM) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    return fd;
}

static int open_inet(struct hf_syslog_net *n, int64_t deadline, char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = n->kind == HF_SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(n->host, n->port, &hints, &res);
    if (gai) {
        snprintf(why, whylen, "cannot resolve %s: %s", n->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline, why, whylen);
    freeaddrinfo(res);
    return fd;
}

/* unix: datagram first (syslogd, journald); a stream socket refuses a
 * datagram connect with EPROTOTYPE, and then gets a stream. */
static int open_unix(struct hf_syslog_net *n, char *why, size_t whylen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, n->path, strlen(n->path) + 1);
    int types[] = {SOCK_DGRAM, SOCK_STREAM};
    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(why, whylen, "socket: %s", strerror(errno));
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            n->stream = types[i] == SOCK_STREAM;
            return fd;
        }
        int err = errno;
        close(fd);
        if (err != EPROTOTYPE) {
            snprintf(why, whylen, "connect %s: %s", n->path, strerror(err));
            return -1;
        }
    }
    snprintf(why, whylen, "connect %s: %s", n->path, strerror(EPROTOTYPE));
    return -1;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int tls_handshake(struct hf_syslog_net *n, int64_t deadline, char *why, size_t whylen)
{
    n->ssl = SSL_new(n->ssl_ctx);
    if (!n->ssl || SSL_set_fd(n->ssl, n->fd) != 1) {
        hf_tls_reason(why, whylen, "TLS setup");
        return -1;
    }
    if (is_ip_literal(n->server_name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n->ssl), n->server_name);
    } else {
        SSL_set_tlsext_host_name(n->ssl, n->server_name);
        SSL_set1_host(n->ssl, n->server_name);
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(n->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(n->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(n->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0) {
                snprintf(why, whylen, "TLS handshake timed out");
                return -1;
            }
            continue;
        }
        long vr = SSL_get_verify_result(n->ssl);
        if (vr != X509_V_OK) {
            snprintf(why, whylen, "TLS: the certificate of %s does not verify: %s", n->server_name,
                     X509_verify_cert_error_string(vr));
            ERR_clear_error();
        } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            snprintf(why, whylen, "TLS handshake: %s", r == 0 ? "connection closed by the peer" : strerror(errno));
        } else {
            hf_tls_reason(why, whylen, "TLS handshake");
        }
        return -1;
    }
}

int hf_syslog_net_open(struct hf_syslog_net *n, char *why, size_t whylen)
{
    /* OpenSSL writes with write(2): a reset peer must not kill the process
     * with SIGPIPE. Blocked for this (the sink's) thread only. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);

    hf_syslog_net_close(n);
    int64_t deadline = hf_mono_ms() + n->timeout_ms;
    n->fd = n->kind == HF_SYSLOG_UNIX ? open_unix(n, why, whylen) : open_inet(n, deadline, why, whylen);
    if (n->fd < 0)
        return -1;
    n->written = 0;
    if (n->kind == HF_SYSLOG_TLS && tls_handshake(n, deadline, why, whylen) < 0) {
        hf_syslog_net_close(n);
        return -1;
    }
    return 0;
}

void hf_syslog_net_close(struct hf_syslog_net *n)
{
    if (n->ssl) {
        SSL_shutdown(n->ssl); /* close_notify, best effort: the socket is non-blocking */
        SSL_free(n->ssl);
        n->ssl = NULL;
        ERR_clear_error();
    }
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->written = 0;
    if (n->kind == HF_SYSLOG_UNIX)
        n->stream = false;
}

void hf_syslog_net_free(struct hf_syslog_net *n)
{
    hf_syslog_net_close(n);
    SSL_CTX_free(n->ssl_ctx);
    free(n->host);
    free(n->port);
    free(n->path);
    free(n->server_name);
    memset(n, 0, sizeof(*n));
    n->fd = -1;
}

/* ---- I/O ------------------------------------------------------------ */

/* One write attempt: bytes written, 0 to wait for `*ev`, -1 on error. */
static ssize_t write_some(struct hf_syslog_net *n, const char *p, size_t len, short *ev, char *why, size_t whylen)
{
    if (!n->ssl) {
        ssize_t w = send(n->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w >= 0) {
            n->written += (uint64_t)w;
            return w;
        }
        if (errno == EAGAIN || errno == EINTR) {
            *ev = POLLOUT;
            return 0;
        }
        snprintf(why, whylen, "write to %s: %s", n->address, strerror(errno));
        return -1;
    }
    ERR_clear_error();
    int w = SSL_write(n->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
    if (w > 0)
        return w;
    int e = SSL_get_error(n->ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        *ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        snprintf(why, whylen, "TLS write to %s: %s", n->address, errno ? strerror(errno) : "connection closed");
    else
        hf_tls_reason(why, whylen, "TLS write");
    return -1;
}

int hf_syslog_net_write(struct hf_syslog_net *n, const char *data, size_t len, char *why, size_t whylen)
{
    size_t off = 0;
    while (off < len) {
        short ev = 0;
        ssize_t w = write_some(n, data + off, len - off, &ev, why, whylen);
        if (w < 0)
            return -1;
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        int r = wait_fd(n->fd, ev, hf_mono_ms() + n->timeout_ms);
        if (r <= 0) {
            snprintf(why, whylen, "write to %s: %s", n->address,
                     r == 0 ? "the collector stopped reading (timeout)" : strerror(errno));
            return -1;
        }
    }
    return 0;
}

int hf_syslog_net_send_dgram(struct hf_syslog_net *n, const char *data, size_t len, char *why, size_t whylen)
{
    for (;;) {
        if (send(n->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
            return HF_SYSLOG_NET_OK;
        int err = errno;
        if (err == EINTR)
            continue;
        if (err == EAGAIN || err == ENOBUFS) {
            /* a full local daemon's queue: wait for room, as syslog(3) does */
            if (wait_fd(n->fd, POLLOUT, hf_mono_ms() + n->timeout_ms) > 0)
                continue;
            err = ETIMEDOUT;
        }
        snprintf(why, whylen, "send to %s: %s", n->address, strerror(err));
        return err == EMSGSIZE ? HF_SYSLOG_NET_TOO_BIG : HF_SYSLOG_NET_ERROR;
    }
}

uint64_t hf_syslog_net_written(const struct hf_syslog_net *n)
{
    if (n->ssl)
        return BIO_number_written(SSL_get_wbio(n->ssl));
    return n->written;
}

uint64_t hf_syslog_net_acked(const struct hf_syslog_net *n)
{
    if (n->fd < 0)
        return 0;
    int outq = 0;
    uint64_t w = hf_syslog_net_written(n);
    if (ioctl(n->fd, SIOCOUTQ, &outq) < 0)
        return 0; /* unknown: never confirm on a guess */
    return (uint64_t)outq > w ? 0 : w - (uint64_t)outq;
}

static int check_plain(struct hf_syslog_net *n, char *why, size_t whylen)
{
    char tmp[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t r = recv(n->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (r > 0)
            continue; /* a syslog collector has nothing to say; drop it */
        if (r == 0) {
            snprintf(why, whylen, "the collector closed the connection");
            return HF_SYSLOG_NET_CLOSED;
        }
        if (errno == EAGAIN || errno == EINTR)
            return HF_SYSLOG_NET_OK;
        snprintf(why, whylen, "%s", strerror(errno));
        return HF_SYSLOG_NET_ERROR;
    }
    return HF_SYSLOG_NET_OK;
}

static int check_tls(struct hf_syslog_net *n, char *why, size_t whylen)
{
    char tmp[4096];
    for (int i = 0; i < 16; i++) {
        ERR_clear_error();
        int r = SSL_read(n->ssl, tmp, sizeof(tmp));
        if (r > 0)
            continue;
        int e = SSL_get_error(n->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return HF_SYSLOG_NET_OK;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && r == 0 && ERR_peek_error() == 0)) {
            snprintf(why, whylen, "the collector closed the connection");
            return HF_SYSLOG_NET_CLOSED;
        }
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            snprintf(why, whylen, "%s", strerror(errno));
        else
            hf_tls_reason(why, whylen, "TLS");
        return HF_SYSLOG_NET_ERROR;
    }
    return HF_SYSLOG_NET_OK;
}

int hf_syslog_net_check(struct hf_syslog_net *n, char *why, size_t whylen)
{
    if (n->fd < 0) {
        snprintf(why, whylen, "not connected");
        return HF_SYSLOG_NET_ERROR;
    }
    if (!n->stream)
        return HF_SYSLOG_NET_OK;
    return n->ssl ? check_tls(n, why, whylen) : check_plain(n, why, whylen);
}

void hf_syslog_net_wait(struct hf_syslog_net *n, int timeout_ms)
{
    if (n->fd < 0 || timeout_ms <= 0)
        return;
    struct pollfd p = {.fd = n->fd, .events = POLLIN};
    poll(&p, 1, timeout_ms);
}
