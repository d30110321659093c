/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets (SO_REUSEPORT for the ingest threads), status texts,
 * JSON error bodies and header lookup for the HTTP server. */
#define _GNU_SOURCE
#include "http_listen.h"
#include "util.h"
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *hf_http_status_text(int s)
{
    switch (s) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void hf_http_error(struct hf_http_resp *resp, int status, const char *reason)
{
    resp->status = status;
    hf_buf_reset(&resp->body);
    hf_buf_puts(&resp->body, "{\"status\":\"error\",\"error\":");
    hf_buf_json_str(&resp->body, reason, strlen(reason));
    hf_buf_putc(&resp->body, '}');
}

const char *hf_http_header(const struct hf_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

int hf_http_bind(const char *address, char *err, size_t errlen, int *port_out)
{
    char host[256], port[16];
    if (hf_split_hostport(address, host, sizeof(host), port, sizeof(port)) < 0) {
        snprintf(err, errlen, "listen address '%s' is not host:port", address);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "cannot resolve %s: %s", address, gai_strerror(rc));
        return -1;
    }
    /* SO_REUSEPORT lets our threads share the port, and would let a second
     * agent share it silently too: probe without it first */
    int probe = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (probe >= 0) {
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        int rc_probe = bind(probe, ai->ai_addr, ai->ai_addrlen);
        int probe_errno = errno;
        close(probe);
        if (rc_probe < 0 && probe_errno == EADDRINUSE) {
            snprintf(err, errlen, "cannot listen on %s: %s (is another hookfwd running?)", address,
                     strerror(probe_errno));
            freeaddrinfo(ai);
            return -1;
        }
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(ai);
    return fd;
}

int hf_http_bind_same(const struct sockaddr_storage *ss, socklen_t sl)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 4096) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}
