/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the YAML loader and the whole configuration build
 * (agent/cnode.c + agent/config.c, with every plugin's option table and
 * check hook), through the real hf_config_load on a memfd.
 *
 * Checked: a refused file always says FILE:LINE:COL: why; a loaded one is
 * consistent (sources have secrets and paths starting with '/', sinks have a
 * plugin) and frees cleanly. The raw tree loader (hf_cnode_load_string) and
 * its getters run on the same bytes. */
#include "fuzz_common.h"
#include "sink.h"

#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* {file: /dev/stdin} must not wait for a terminal */
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    /* the seeds' ${NAME} references */
    static const char *const env[] = {"OMEGA_SECRET",     "SL_SECRET", "OTHER_SECRET",   "DD_API_KEY",
                                      "SPLUNK_HEC_TOKEN", "HEC_TOKEN", "KAFKA_PASSWORD", NULL};
    for (int i = 0; env[i]; i++)
        setenv(env[i], "fuzz-secret-value", 0);
    hf_log_set_level(HF_LOG_ERROR);
    return 0;
}

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, msg);
    abort();
}

static void check_loaded(const struct hf_config *c)
{
    for (size_t i = 0; i < c->nsources; i++) {
        const struct hf_source *s = &c->sources[i];
        if (!s->name || !s->path || s->path[0] != '/' || s->nsecrets == 0 || !s->event_field)
            fail("loaded source is inconsistent", s->name ? s->name : "?");
        for (size_t k = 0; k < s->nsecrets; k++)
            if (!s->secrets[k].key || s->secrets[k].len == 0)
                fail("empty secret accepted", s->name);
    }
    for (size_t i = 0; i < c->nsinks; i++)
        if (!c->sinks[i].plugin || !c->sinks[i].name || !c->sinks[i].fingerprint)
            fail("loaded sink is inconsistent", c->sinks[i].name ? c->sinks[i].name : "?");
    if (c->max_body < 1 || c->max_header < 1024 || c->read_timeout_ms < 100)
        fail("listen limits out of their ranges", c->listen_address);
}

static void walk(const struct hf_cnode *n, int depth)
{
    if (depth > 40)
        fail("tree deeper than the loader allows", "");
    if (n->kind == HF_CN_SCALAR && !n->value)
        fail("scalar without a value", n->key ? n->key : "");
    for (size_t i = 0; i < n->nchild; i++) {
        if (n->kind == HF_CN_MAP && !n->child[i].key)
            fail("map member without a key", "");
        walk(&n->child[i], depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hf_cerr err = {0};
    struct hf_config *c = fuzz_load_config(data, size, &err);
    if (c) {
        check_loaded(c);
        hf_config_free(c);
    } else {
        if (!strstr(err.msg, "/proc/self/fd/") || !strchr(err.msg, ':'))
            fail("refused without FILE:LINE:COL", err.msg);
        /* every error kept has its own position, and the first is msg */
        if (err.n < 1 || strcmp(err.msg, err.list[0]))
            fail("the first error kept is not the one reported", err.msg);
        for (int i = 0; i < err.n && i < HF_CERR_KEEP; i++)
            if (!strstr(err.list[i], "/proc/self/fd/"))
                fail("an error kept without FILE:LINE:COL", err.list[i]);
    }

    struct hf_cerr err2 = {0};
    struct hf_cnode *root = hf_cnode_load_string("fuzz.yaml", (const char *)data, size, &err2);
    if (root) {
        walk(root, 0);
        static const char *const keys[] = {"listen.address", "listen.max_body", "sources", "sinks", "a.b.c", ""};
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
            (void)hf_cnode_get(root, keys[i]);
        hf_cnode_free(root);
    } else if (strncmp(err2.msg, "fuzz.yaml:", 10)) {
        fail("tree loader refused without a position", err2.msg);
    }
    return 0;
}
