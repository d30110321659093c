/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the unit tests of the runtime (journal, sinks, HTTP):
 * a temporary directory per test, polling with a deadline, records made
 * by hand, and sinks built from a YAML configuration but run by a plugin
 * the test defines. */
#ifndef HF_TU_RUNTIME_H
#define HF_TU_RUNTIME_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"
#include "sink.h"

#include <ftw.h>
#include <sys/stat.h>
#include <time.h>

/* ---- temporary directories ---- */

static inline char *tu_temp_dir(void)
{
    char *dir = strdup("/tmp/hookfwd-unit-XXXXXX");
    if (!mkdtemp(dir))
        fail_msg("mkdtemp failed");
    return dir;
}

static inline int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tu_rm_rf(char *dir)
{
    if (dir)
        nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline bool tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static inline long long tu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- waiting for a condition, never for a fixed time ---- */

static inline void tu_nap(void)
{
    struct timespec ts = {0, 2 * 1000000L};
    nanosleep(&ts, NULL);
}

/* Evaluates cond until it holds or ms have passed; true if it held. */
#define TU_POLL(cond, ms)                                                                                              \
    ({                                                                                                                 \
        int64_t tu_deadline_ = hf_mono_ms() + (ms);                                                                    \
        bool tu_ok_;                                                                                                   \
        while (!(tu_ok_ = (cond)) && hf_mono_ms() < tu_deadline_)                                                      \
            tu_nap();                                                                                                  \
        tu_ok_;                                                                                                        \
    })

/* ---- records ---- */

/* A sealed record of source omega, event "test.event", event id evt-<i>,
 * idempotency key key-<i>; with a string field of blob_len bytes when
 * blob_len > 0. */
static inline struct hf_record *tu_record(int i, size_t blob_len)
{
    struct hf_record *r = hf_record_new();
    char id[32];
    r->source = hf_rec_strdup(r, "omega");
    r->event_type = hf_rec_strdup(r, "test.event");
    snprintf(id, sizeof(id), "evt-%d", i);
    r->event_id = hf_rec_strdup(r, id);
    snprintf(id, sizeof(id), "key-%d", i);
    r->idempotency_key = hf_rec_strdup(r, id);
    r->received_ms = r->event_ms = hf_now_ms();
    if (blob_len) {
        struct hf_field *f = hf_rec_alloc(r, sizeof(*f));
        char *blob = hf_rec_alloc(r, blob_len + 1);
        memset(blob, 'x', blob_len);
        blob[blob_len] = '\0';
        f->key = "blob";
        f->v = (struct hf_value){.type = HF_V_STRING, .s = blob, .len = blob_len};
        r->fields = f;
        r->nfields = 1;
    }
    hf_record_seal(r);
    return r;
}

/* ---- sinks run by a test plugin ---- */

/* A sink configured by the sink named `name` in cfg, run by `plugin`
 * instead of the type the YAML names. The copied sink conf lives in the
 * returned holder, which must outlive the sink. */
struct tu_sink {
    struct hf_sink_conf conf;
    struct hf_sink *sink;
};

static inline struct tu_sink *tu_sink_new(struct hf_config *cfg, const char *name, const struct hf_sink_plugin *plugin,
                                          const char *storage_path)
{
    struct tu_sink *t = calloc(1, sizeof(*t));
    for (size_t i = 0; i < cfg->nsinks; i++)
        if (!strcmp(cfg->sinks[i].name, name))
            t->conf = cfg->sinks[i];
    if (!t->conf.name)
        fail_msg("no sink %s", name);
    t->conf.plugin = plugin;
    struct hf_cerr err = {0};
    t->sink = hf_sink_new(&t->conf, cfg->file, storage_path, &err);
    if (!t->sink)
        fail_msg("sink %s: %s", name, err.msg);
    return t;
}

static inline void tu_sink_free(struct tu_sink *t, int drain_ms)
{
    if (!t)
        return;
    hf_sink_stop(t->sink, drain_ms);
    hf_sink_free(t->sink);
    free(t);
}

#endif
