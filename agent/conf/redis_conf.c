/* SPDX-License-Identifier: Apache-2.0 */
/* `dedup.redis`: the URL, the password secret, the timeout and what to do
 * while Redis cannot answer. */
#define _GNU_SOURCE
#include "redis_conf.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct hf_option hf_redis_opts[] = {
    {.name = "url", .type = HF_OPT_STR, .required = true, .help = "redis://[user@]host[:port][/db]"},
    {.name = "password", .type = HF_OPT_SECRET, .help = "AUTH password: ${ENV} or {file: PATH}"},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "50ms",
     .min = 1,
     .max = 60000,
     .help = "a claim not answered by then counts as Redis unavailable"},
    {.name = "on_unavailable", .type = HF_OPT_ENUM, .enums = "local|reject", .def = "local"},
    {0}};

static int fail(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return -1;
}

static bool host_char(char c) { return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_'; }

static bool user_char(char c) { return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_'; }

/* digits only, within [0, max]; -1 otherwise */
static long parse_number(const char *s, size_t len, long max)
{
    if (len == 0 || len > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

int hf_redis_url_parse(const char *url, struct hf_redis_url *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (!strncasecmp(url, "rediss://", 9)) {
        snprintf(why, whylen,
                 "rediss:// (TLS) needs hiredis 1.0 or later built with TLS; this agent is built with hiredis "
                 "%d.%d.%d, which has none: run stunnel next to the agent and point redis.url at its local "
                 "end (redis://127.0.0.1:PORT), or use a Redis on this machine (README, \"Running several "
                 "agents\")",
                 HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
        return -1;
    }
    if (strncasecmp(url, "redis://", 8))
        return fail(why, whylen, "redis.url must start with redis:// (redis://[user@]host[:port][/db])");
    const char *p = url + 8;
    if (strpbrk(p, "?#"))
        return fail(why, whylen, "redis.url takes no query or fragment (redis://[user@]host[:port][/db])");
    const char *slash = strchr(p, '/');
    const char *aend = slash ? slash : p + strlen(p);
    const char *at = memrchr(p, '@', (size_t)(aend - p));
    if (at) {
        const char *u = p;
        size_t ul = (size_t)(at - p);
        if (memchr(u, ':', ul))
            return fail(why, whylen,
                        "redis.url must not carry a password: put it in redis.password, a secret "
                        "(\"${REDIS_PASSWORD}\" or {file: PATH})");
        if (ul >= sizeof(out->user))
            return fail(why, whylen, "redis.url: the user name is too long");
        for (size_t i = 0; i < ul; i++)
            if (!user_char(u[i]))
                return fail(why, whylen, "redis.url: the user name may hold letters, digits, '.', '-' and '_'");
        memcpy(out->user, u, ul);
        p = at + 1;
    }
    const char *hend;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(aend - p));
        if (!close || close == p + 1)
            return fail(why, whylen, "redis.url: an IPv6 address is written in brackets, redis://[::1]:6379");
        size_t hl = (size_t)(close - p - 1);
        if (hl >= sizeof(out->host))
            return fail(why, whylen, "redis.url: the host is too long");
        memcpy(out->host, p + 1, hl);
        unsigned char a6[16];
        if (inet_pton(AF_INET6, out->host, a6) != 1)
            return fail(why, whylen, "redis.url: the address in brackets is not an IPv6 address");
        hend = close + 1;
        if (hend != aend && *hend != ':')
            return fail(why, whylen, "redis.url: unexpected text after the IPv6 address");
    } else {
        hend = memchr(p, ':', (size_t)(aend - p));
        if (!hend)
            hend = aend;
        size_t hl = (size_t)(hend - p);
        if (hl == 0)
            return fail(why, whylen, "redis.url has no host (redis://host[:port][/db])");
        if (hl >= sizeof(out->host))
            return fail(why, whylen, "redis.url: the host is too long");
        for (size_t i = 0; i < hl; i++)
            if (!host_char(p[i]))
                return fail(why, whylen,
                            "redis.url: the host may hold letters, digits, '.', '-' and '_' "
                            "(an IPv6 address goes in brackets)");
        memcpy(out->host, p, hl);
    }
    if (hend < aend) { /* ':' port */
        long port = parse_number(hend + 1, (size_t)(aend - hend - 1), 65535);
        if (port < 1)
            return fail(why, whylen, "redis.url: the port must be a number from 1 to 65535");
        out->port = (int)port;
    }
    if (slash && slash[1]) {
        long db = parse_number(slash + 1, strlen(slash + 1), 2147483647L);
        if (db < 0)
            return fail(why, whylen, "redis.url: the path is the database number (redis://host:6379/0)");
        out->db = (int)db;
    }
    return 0;
}

struct hf_redis_conf *hf_redis_conf_build(const char *file, const struct hf_cnode *n, struct hf_cerr *err)
{
    struct hf_redis_conf *rc = hf_calloc(1, sizeof(*rc));
    const struct hf_cnode *u = hf_cnode_get(n, "url");
    char why[400];
    if (hf_redis_url_parse(u->value, &rc->url, why, sizeof(why)) < 0) {
        hf_cerr_at(err, file, u->line, u->col, "%s", why);
        goto fail;
    }
    const struct hf_cnode *pw = hf_cnode_get(n, "password");
    if (pw && hf_conf_secret(file, pw, &rc->password, &rc->password_len, err) < 0)
        goto fail;
    rc->timeout_ms = hf_conf_num(n, hf_redis_opts, "timeout");
    rc->on_unavailable = strcmp(hf_conf_str(n, hf_redis_opts, "on_unavailable"), "reject") ? HF_STORE_FALLBACK_LOCAL
                                                                                           : HF_STORE_FALLBACK_REJECT;
    return rc;
fail:
    hf_redis_conf_free(rc);
    return NULL;
}

int hf_redis_conf_resolve(struct hf_redis_conf *rc, struct hf_cerr *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(rc->url.host, NULL, &hints, &res);
    if (e != 0 || !res) {
        snprintf(err->msg, sizeof(err->msg), "dedup.redis: cannot resolve %s: %s", rc->url.host,
                 e ? gai_strerror(e) : "no address");
        return -1;
    }
    const void *a = res->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
                                               : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
    if (!inet_ntop(res->ai_family, a, rc->addr, sizeof(rc->addr))) {
        snprintf(err->msg, sizeof(err->msg), "dedup.redis: cannot use the address of %s", rc->url.host);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

void hf_redis_conf_free(struct hf_redis_conf *rc)
{
    if (!rc)
        return;
    if (rc->password) {
        explicit_bzero(rc->password, rc->password_len);
        free(rc->password);
    }
    free(rc);
}
