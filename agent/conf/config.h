/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's configuration: built from the validated YAML tree into the
 * structures the pipeline runs on. A config is built whole, then swapped in
 * (SIGHUP), never edited in place. */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include "cnode.h"
#include "record.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum hf_sig_scheme { HF_SIG_HMAC_SHA256, HF_SIG_STANDARD_WEBHOOKS };

struct hf_secret {
    unsigned char *key;
    size_t len;
    uint64_t id; /* unique per loaded secret: keys the per-thread MAC cache */
};

struct hf_profile; /* built-in flatten profiles, profile.c */
struct hf_redis_conf; /* redis_conf.h */

struct hf_sevmap_entry {
    char *event_glob;
    enum hf_severity sev;
};

struct hf_source {
    char *name;
    char *path;
    const struct hf_profile *profile;
    char *event_field; /* generic sources */
    char *id_field;
    char *time_field;
    enum hf_sig_scheme scheme;
    char *header; /* hmac-sha256 header name */
    char *embedded; /* top-level JSON member carrying the signature */
    struct hf_secret *secrets;
    size_t nsecrets;
    int64_t tolerance_ms;
    bool dedup;
    int64_t dedup_window_ms;
    char *dedup_key; /* field overriding the profile's key */
    struct hf_redis_conf *dedup_redis; /* dedup.store: redis; NULL: this agent's own set */
    struct hf_sevmap_entry *sevmap;
    size_t nsevmap;
    int index; /* position in the config, for self-metrics */
};

struct hf_metric_tag {
    char *name; /* tag key */
    char *field; /* record field (or pseudo-field) giving the value */
};

struct hf_metric_rule {
    char *name;
    enum hf_metric_type type;
    char *value; /* field; NULL: 1 */
    char *each_member; /* expand: one point per member of this object prefix */
    char *member_tag; /* tag that carries the member name */
    char **events; /* globs, NULL = all */
    size_t nevents;
    char *only_source; /* profile rules apply to their profile's sources */
    struct hf_metric_tag *tags;
    size_t ntags;
};

enum hf_match_op { HF_OP_GT, HF_OP_GE, HF_OP_LT, HF_OP_LE, HF_OP_EQ, HF_OP_NE, HF_OP_IN, HF_OP_NOT_IN };

struct hf_match {
    char *field;
    enum hf_match_op op;
    bool numeric;
    double num;
    char *str;
    char **set;
    size_t nset;
};

struct hf_filter {
    char **events; /* globs; "!glob" excludes */
    size_t nevents;
    bool has_sev;
    enum hf_severity sev_at_least;
    struct hf_match *matches;
    size_t nmatches;
};

/* Builds f from a validated filter map; 0, or -1 with err at the bad value. */
int hf_filter_build(const char *file, const struct hf_cnode *map, struct hf_filter *f, struct hf_cerr *err);
void hf_filter_free(struct hf_filter *f);

struct hf_sink_plugin;

struct hf_config;

struct hf_sink_conf {
    struct hf_config *cfg; /* the config this belongs to (sinks hold a reference) */
    char *name;
    const struct hf_sink_plugin *plugin;
    enum hf_takes takes;
    struct hf_filter filter;
    int64_t batch_max_events;
    int64_t batch_max_bytes;
    int64_t flush_ms;
    int64_t retry_initial_ms, retry_max_ms, give_up_ms;
    int64_t queue_max_events;
    const struct hf_cnode *node; /* the sink's YAML, for plugin options */
    void *plugin_conf; /* the plugin's config struct, bound from its options */
    char *fingerprint; /* canonical text of the options, for reload */
};

enum hf_storage_mode { HF_STORAGE_MEMORY, HF_STORAGE_DISK };

struct hf_config {
    atomic_int refs; /* the pipeline and each sink built from it */
    char *file;
    struct hf_cnode *root;
    char *listen_address;
    char *tls_cert, *tls_key;
    int64_t max_body, max_header, max_connections, read_timeout_ms;
    int threads;
    char *admin_address; /* NULL: no admin listener */
    enum hf_storage_mode storage_mode;
    char *storage_path;
    int64_t storage_max_size;
    struct hf_source *sources;
    size_t nsources;
    struct hf_metric_rule *rules;
    size_t nrules;
    struct hf_sink_conf *sinks;
    size_t nsinks;
};

/* Loads and validates FILE; NULL with err->msg "FILE:LINE:COL: ...". */
struct hf_config *hf_config_load(const char *path, struct hf_cerr *err);
/* Drops a reference; the config is freed with the last one. */
void hf_config_free(struct hf_config *c);
void hf_config_ref(struct hf_config *c);

#endif
