/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests: fixtures, temporary configs. */
#ifndef HF_TESTUTIL_H
#define HF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "pipeline.h"
#include "util.h"
#include "verify.h"

static inline char *tu_read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static inline char *tu_fixture(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, rel);
    char *b = tu_read_file(path, len);
    if (!b)
        fail_msg("cannot read fixture %s", path);
    return b;
}

/* Writes text to a temporary file; returns its malloc'd path. */
static inline char *tu_temp_file(const char *text)
{
    char *path = strdup("/tmp/hookfwd-unit-XXXXXX.yaml");
    int fd = mkstemps(path, 5);
    if (fd < 0)
        fail_msg("mkstemps failed");
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n)
        fail_msg("write failed");
    close(fd);
    return path;
}

/* Loads a config from text; NULL with err filled. */
static inline struct hf_config *tu_config(const char *text, struct hf_cerr *err)
{
    char *path = tu_temp_file(text);
    struct hf_config *c = hf_config_load(path, err);
    unlink(path);
    free(path);
    return c;
}

#define TU_SOURCES                                                                                                     \
    "sources:\n"                                                                                                       \
    "  - name: omega\n"                                                                                                \
    "    path: /webhooks/omega\n"                                                                                      \
    "    profile: omegaengine\n"                                                                                       \
    "    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature,\n"                           \
    "                secrets: [wrong_old_secret, whsec_your_signing_secret]}\n"                                        \
    "  - name: sentinelayer\n"                                                                                         \
    "    path: /webhooks/sentinelayer\n"                                                                               \
    "    profile: sentinelayer\n"                                                                                      \
    "    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: [sl_live_3f9a2c71d04e]}\n"

#define TU_STDOUT_SINK "sinks:\n  - {name: out, type: stdout}\n"

/* A header lookup over a NULL-terminated name/value array. */
static inline const char *tu_header(void *ctx, const char *name)
{
    const char **kv = ctx;
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (!strcasecmp(kv[i], name))
            return kv[i + 1];
    return NULL;
}

static inline const struct hf_source *tu_source(const struct hf_config *c, const char *name)
{
    for (size_t i = 0; i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, name))
            return &c->sources[i];
    fail_msg("no source %s", name);
    return NULL;
}

/* A record built from a fixture by the real pipeline code, as if verified
 * by secret `key_index` and received at `received_ms`. */
static inline struct hf_record *tu_fixture_record(const struct hf_pipeline *p, const char *source, const char *file,
                                                  int key_index, int64_t received_ms)
{
    size_t len;
    char *body = tu_fixture(file, &len);
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = key_index};
    char reason[200] = "";
    struct hf_record *r =
        hf_build_record(p, tu_source(p->cfg, source), body, len, &vr, NULL, received_ms, reason, sizeof(reason));
    free(body);
    if (!r)
        fail_msg("%s: %s", file, reason);
    return r;
}

#endif
