/* SPDX-License-Identifier: Apache-2.0 */
/* Typed option tables: what a configuration section may contain, and where
 * each value goes in its owner's config struct. The core validates a YAML
 * section against its table and fills the struct (hf_opt_bind), so code
 * never looks an option up by a string: a misspelt name in a table is a
 * key users cannot set, not a silent default.
 *
 * C types of bound values:
 *   STR, SECRET                  char *            (NULL when unset, no default)
 *   ENUM                         int               (index in .enums, "a|b|c")
 *   BOOL                         bool
 *   INT, SIZE (bytes),
 *   DURATION (ms)                int64_t
 *   DOUBLE                       double
 *   STRLIST, SECRETLIST          struct hf_strlist
 *   OBJ                          nothing itself: its .sub entries bind
 *                                (offsetof(struct x, tls.verify) and so on)
 *   OBJLIST, STRMAP, ANY         const struct hf_cnode * (read by the owner)
 *   TEMPLATE                     struct hf_template * (template.h), compiled
 *                                at load; NULL when unset, no default
 *   TEMPLATEMAP                  struct hf_template_map: a map of names
 *                                to templates (HTTP headers), compiled at load
 *   FILTER                       struct hf_filter * (match records with
 *                                hf_filter_match, plugin.h); NULL when
 *                                absent; its .sub entries bind as OBJ's */
#ifndef HF_OPTION_H
#define HF_OPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_opt_type {
    HF_OPT_STR,
    HF_OPT_SECRET, /* string or {file: PATH}; never printed */
    HF_OPT_BOOL,
    HF_OPT_INT,
    HF_OPT_DOUBLE,
    HF_OPT_SIZE, /* 1MiB */
    HF_OPT_DURATION, /* 500ms */
    HF_OPT_ENUM, /* one of .enums, "a|b|c" */
    HF_OPT_STRLIST, /* list of strings */
    HF_OPT_SECRETLIST,
    HF_OPT_OBJ, /* nested map validated against .sub */
    HF_OPT_OBJLIST, /* list of maps validated against .sub */
    HF_OPT_STRMAP, /* free-form map of scalars (e.g. librdkafka properties) */
    HF_OPT_ANY, /* validated by the code that reads it */
    HF_OPT_TEMPLATE, /* a string with per-event names (${data.repo}), compiled at load */
    HF_OPT_FILTER, /* a map with a sink filter's keys (events, severity_at_least, match) plus .sub */
    HF_OPT_TEMPLATEMAP, /* a map of names to templates ({X-Repo: "${data.repo}"}) */
};

/* One entry of a typed option table; tables end with {0}. */
struct hf_option {
    const char *name;
    enum hf_opt_type type;
    const char *def; /* default as text, NULL for none */
    int64_t min, max; /* bounds for INT/SIZE/DURATION (max 0 = none) */
    const char *enums; /* "a|b|c" for ENUM (INT accepts "auto" when enums is "auto") */
    const struct hf_option *sub; /* OBJ / OBJLIST */
    bool required;
    const char *help;
    /* Where the value goes in the owner's config struct (HF_OPT_AT);
     * unbound entries are only validated. */
    size_t off;
    bool bound;
};

/* A configuration error: "FILE:LINE:COL: message". Validation of the
 * file's shape goes on past an error, so `check` can name every unknown
 * key, wrong type and bad value at once: those are kept in list (the first
 * HF_CERR_KEEP of n), and msg is the first. */
#define HF_CERR_KEEP 8
struct hf_cerr {
    char msg[512];
    char list[HF_CERR_KEEP][512];
    int n;
};

/* Binds an option to a member of the owner's config struct. */
#define HF_OPT_AT(type, member) .off = offsetof(type, member), .bound = true

struct hf_strlist {
    char **v;
    size_t n;
};

struct hf_template;
/* A TEMPLATEMAP option's entries, in the order written. */
struct hf_template_map {
    struct hf_template_entry {
        char *name;
        struct hf_template *tmpl;
    } * v;
    size_t n;
};

/* Fills the bound members of conf from map (validated against table
 * before), defaults for what is absent; secrets are read ({file: PATH}).
 * 0, or -1 with err set to "FILE:LINE:COL: ...". */
struct hf_cnode;
int hf_opt_bind(const char *file, const struct hf_cnode *map, const struct hf_option *table, void *conf,
                struct hf_cerr *err);
/* Frees what hf_opt_bind allocated in conf (secrets wiped first). */
void hf_opt_unbind(const struct hf_option *table, void *conf);
/* The text of choice i of an ENUM's "a|b|c" (what a bound int stands
 * for) into out; "" when i is out of range. Returns out. */
const char *hf_opt_enum_text(const char *enums, int i, char *out, size_t outlen);

/* What a sink takes from each record. */
enum hf_takes { HF_TAKES_RECORDS = 1, HF_TAKES_METRICS = 2, HF_TAKES_BOTH = 3 };

/* A config check in progress (a plugin's check hook gets one): failures
 * name the option, the core adds FILE:LINE:COL and the section. */
struct hf_check {
    const char *file;
    const struct hf_cnode *node; /* the section's map */
    const char *what; /* "sink 'siem' (splunk_hec)" */
    struct hf_cerr *err;
    enum hf_takes takes; /* a sink's `takes`, default applied (0 outside sinks) */
};
/* Reports option (dotted, e.g. "tls.ca_file") as wrong; returns -1. */
int hf_check_fail(const struct hf_check *ck, const char *option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reports a node inside a bound OBJLIST, STRMAP or ANY value (a map's
 * entry, a list's item) as wrong, at its key's position when at_key;
 * returns -1. */
int hf_check_fail_at(const struct hf_check *ck, const struct hf_cnode *at, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reading what an OBJLIST, STRMAP or ANY option binds (NULL when the key
 * is absent): a scalar has text, a map or a list has children, and a map's
 * children have keys. The nodes live as long as the configuration. */
const char *hf_node_text(const struct hf_cnode *n); /* a scalar's value; NULL for a map or a list */
bool hf_node_is_list(const struct hf_cnode *n);
size_t hf_node_count(const struct hf_cnode *n); /* children of a map or a list */
const struct hf_cnode *hf_node_child(const struct hf_cnode *n, size_t i);
const char *hf_node_key(const struct hf_cnode *n); /* its key in the parent map, NULL in a list */

#endif
