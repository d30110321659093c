/* SPDX-License-Identifier: Apache-2.0 */
/* A source's shared dedup store (`dedup: {store: redis, redis: {...}}`):
 * the URL parsed and checked where `hookfwd check` can point at it, the
 * password read from its secret, and the host resolved when a running
 * agent builds the configuration (never by `check`). */
#ifndef HF_REDIS_CONF_H
#define HF_REDIS_CONF_H

#include "cnode.h"

#include <stdbool.h>
#include <stdint.h>

enum hf_store_unavailable {
    HF_STORE_FALLBACK_LOCAL, /* keep deduplicating in this agent's own set */
    HF_STORE_FALLBACK_REJECT, /* 503 with Retry-After until Redis answers */
};

/* A parsed redis:// URL. */
struct hf_redis_url {
    char host[256]; /* a name, an IPv4 address, or an IPv6 address without brackets */
    int port; /* 6379 when the URL has none */
    int db; /* the path's number; 0 when the URL has none */
    char user[128]; /* ACL user (Redis 6+), empty for the default user */
};

struct hf_redis_conf {
    struct hf_redis_url url;
    char *password; /* owned, wiped on free; NULL: no AUTH */
    size_t password_len;
    int64_t timeout_ms; /* a claim not answered by then counts as Redis unavailable */
    enum hf_store_unavailable on_unavailable;
    char addr[64]; /* numeric address, filled by hf_redis_conf_resolve */
};

/* Parses "redis://[user@]host[:port][/db]". Refuses a password in the URL
 * (it belongs in the `password` secret), rediss:// (hiredis without TLS),
 * query strings and anything it does not understand, with a message in
 * `why` that says what to write instead. Returns 0 or -1. */
int hf_redis_url_parse(const char *url, struct hf_redis_url *out, char *why, size_t whylen);

/* The option table of `dedup.redis`, for the dedup table in config.c. */
extern const struct hf_option hf_redis_opts[];

/* Builds from a validated `redis` map; errors at file:line:col. */
struct hf_redis_conf *hf_redis_conf_build(const char *file, const struct hf_cnode *n, struct hf_cerr *err);
/* Resolves url.host into addr (blocking getaddrinfo: the main thread, when
 * an agent builds a configuration). Returns 0 or -1 with err set. */
int hf_redis_conf_resolve(struct hf_redis_conf *rc, struct hf_cerr *err);
void hf_redis_conf_free(struct hf_redis_conf *rc);

#endif
