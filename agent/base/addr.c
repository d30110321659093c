/* SPDX-License-Identifier: Apache-2.0 */
/* Addresses as written in the configuration. */
#define _GNU_SOURCE
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "host:port" or "[v6]:port"; the port must be 0..65535. */
int hf_split_hostport(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(rb - addr - 1), addr + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
    }
    snprintf(port, portlen, "%s", colon + 1);
    char *end;
    long p = strtol(port, &end, 10);
    return (*port && !*end && p >= 0 && p <= 65535) ? 0 : -1;
}
