/* SPDX-License-Identifier: Apache-2.0 */
/* What several commands share: loading the config, finding a source or a
 * sink by name, reading a body, the signature headers a source expects. */
#define _GNU_SOURCE
#include "cli.h"
#include "pipeline.h"
#include "util.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hf_config *hf_cli_load(const char *path)
{
    struct hf_cerr err = {0};
    struct hf_config *c = hf_config_load(path, &err);
    if (!c)
        hf_cerr_print(stderr, &err);
    return c;
}

const struct hf_source *hf_cli_source(const struct hf_config *c, const char *name)
{
    for (size_t i = 0; name && i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, name))
            return &c->sources[i];
    fprintf(stderr, "hookfwd: no source named '%s' in %s\n", name ? name : "(none: use --source)", c->file);
    return NULL;
}

char *hf_cli_read_all(FILE *f, size_t *len)
{
    struct hf_buf b;
    hf_buf_init(&b, 64u << 20);
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (hf_buf_append(&b, tmp, n) < 0)
            break;
    *len = b.len;
    if (!b.data)
        b.data = hf_calloc(1, 1);
    return b.data;
}

/* Signature headers for body as "Name: value" lines. */
void hf_cli_signature_headers(const struct hf_source *s, const char *body, size_t len, struct hf_buf *out)
{
    unsigned char mac[32];
    char hex[65], b64[64];
    if (s->scheme == HF_SIG_STANDARD_WEBHOOKS) {
        char id[40], ts[24];
        snprintf(id, sizeof(id), "msg_%016llx", (unsigned long long)hf_random64());
        snprintf(ts, sizeof(ts), "%lld", (long long)(hf_now_ms() / 1000));
        const void *parts[] = {id, ".", ts, ".", body};
        size_t lens[] = {strlen(id), 1, strlen(ts), 1, len};
        hf_hmac_sha256(&s->secrets[0], parts, lens, 5, mac);
        hf_b64_encode(mac, 32, b64);
        hf_buf_printf(out, "webhook-id: %s\nwebhook-timestamp: %s\nwebhook-signature: v1,%s\n", id, ts, b64);
        return;
    }
    const void *parts[] = {body};
    size_t lens[] = {len};
    hf_hmac_sha256(&s->secrets[0], parts, lens, 1, mac);
    hf_hex(mac, 32, hex);
    if (s->header)
        hf_buf_printf(out, "%s: sha256=%s\n", s->header, hex);
    else
        hf_buf_printf(out, "(embed as the last top-level member) \"%s\":\"sha256=%s\"\n", s->embedded, hex);
}

struct hf_sink *hf_cli_open_sink(struct hf_config *c, const char *name)
{
    for (size_t i = 0; name && i < c->nsinks; i++)
        if (!strcmp(c->sinks[i].name, name)) {
            struct hf_cerr err = {0};
            struct hf_sink *s = hf_sink_new(&c->sinks[i], c->file, c->storage_path, &err);
            if (!s)
                fprintf(stderr, "%s\n", err.msg);
            return s;
        }
    fprintf(stderr, "hookfwd: no sink named '%s' in %s\n", name ? name : "(none)", c->file);
    return NULL;
}
