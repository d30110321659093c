/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets and the small shared pieces of the HTTP server. */
#ifndef HF_HTTP_LISTEN_H
#define HF_HTTP_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/* Binds and listens on host:port; refuses a port another process holds
 * (SO_REUSEPORT would let it share silently). Returns the fd, the bound
 * port in *port_out, or -1 with err set. */
int hf_http_bind(const char *address, char *err, size_t errlen, int *port_out);
/* One more listener on the same address, for another ingest thread. */
int hf_http_bind_same(const struct sockaddr_storage *ss, socklen_t sl);

#endif
