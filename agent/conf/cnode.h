/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration tree: YAML parsed into nodes that remember their
 * file:line:col, validated against typed option tables. */
#ifndef HF_CNODE_H
#define HF_CNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "option.h"

#include <stdio.h>

enum hf_cnode_kind { HF_CN_SCALAR, HF_CN_MAP, HF_CN_SEQ };

struct hf_cnode {
    enum hf_cnode_kind kind;
    char *key; /* key in the parent map, NULL otherwise */
    char *value; /* scalar value after ${ENV} expansion */
    char *written; /* the scalar as written when ${ENV} changed it, else NULL:
                    * what messages quote, since the expansion may be a secret */
    bool quoted; /* scalar was quoted in YAML (so "123" is a string) */
    int line, col; /* 1-based position of the value (or key for maps) */
    int key_line, key_col;
    struct hf_cnode *child; /* children, in document order */
    size_t nchild;
};

/* Parses a YAML file into a tree; ${NAME} is replaced from the environment
 * except the per-event names (${source}, ${event_type}, ${severity}). */
struct hf_cnode *hf_cnode_load(const char *path, struct hf_cerr *err);
struct hf_cnode *hf_cnode_load_string(const char *name, const char *text, size_t len, struct hf_cerr *err);
void hf_cnode_free(struct hf_cnode *n);

/* Validates map `n` against `table`, recursively. `what` names the
 * section for messages ("sink 'siem'"). Returns 0 or -1 with err set to
 * "FILE:LINE:COL: message". */
int hf_cnode_validate(const char *file, const struct hf_cnode *n, const struct hf_option *table, const char *what,
                      struct hf_cerr *err);

/* What a message may quote of scalar n: its text as written when it came
 * from ${ENV} (the expanded text may be a secret), else its value. */
const char *hf_cnode_shown(const struct hf_cnode *n);
/* Rewrites msg (of capacity cap) so that it quotes no expanded text of
 * the scalars under n: a '...' quote of an expansion or of a piece of one,
 * and the expansion itself, become the text as written ("${NAME}"). With
 * at_fault (n is the value a message is about), a value read from
 * {file: PATH} is shown as that, as its text is never known here. */
void hf_cnode_scrub(const struct hf_cnode *n, bool at_fault, char *msg, size_t cap);

/* Dotted lookup ("tls.verify") in a map; NULL when absent. */
const struct hf_cnode *hf_cnode_get(const struct hf_cnode *map, const char *dotted);
/* Typed getters that fall back to the table's default. The table must be
 * the one `map` was validated against. */
const char *hf_conf_str(const struct hf_cnode *map, const struct hf_option *table, const char *dotted);
bool hf_conf_bool(const struct hf_cnode *map, const struct hf_option *table, const char *dotted);
int64_t hf_conf_int(const struct hf_cnode *map, const struct hf_option *table, const char *dotted);
double hf_conf_double(const struct hf_cnode *map, const struct hf_option *table, const char *dotted);
/* SIZE in bytes, DURATION in ms. */
int64_t hf_conf_num(const struct hf_cnode *map, const struct hf_option *table, const char *dotted);
/* Reads a SECRET node (a scalar or {file: PATH}) into a malloc'd buffer;
 * caller wipes and frees it. */
int hf_conf_secret(const char *file, const struct hf_cnode *n, char **out, size_t *outlen, struct hf_cerr *err);

void hf_cerr_at(struct hf_cerr *err, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Keeps err->msg as one of the errors found. */
void hf_cerr_keep(struct hf_cerr *err);
/* Writes every error kept (or msg when none was), one per line, and how
 * many more there were. */
void hf_cerr_print(FILE *f, const struct hf_cerr *err);

bool hf_parse_bool(const char *s, bool *out);

/* The keys of a filter (config.c), for HF_OPT_FILTER options. */
extern const struct hf_option hf_filter_options[];

#endif
