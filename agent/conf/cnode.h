/* The configuration tree: YAML parsed into nodes that remember their
 * file:line:col, validated against typed option tables. */
#ifndef HF_CNODE_H
#define HF_CNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_cnode_kind { HF_CN_SCALAR, HF_CN_MAP, HF_CN_SEQ };

struct hf_cnode {
    enum hf_cnode_kind kind;
    char *key;      /* key in the parent map, NULL otherwise */
    char *value;    /* scalar value after ${ENV} expansion */
    bool quoted;    /* scalar was quoted in YAML (so "123" is a string) */
    int line, col;  /* 1-based position of the value (or key for maps) */
    int key_line, key_col;
    struct hf_cnode *child; /* children, in document order */
    size_t nchild;
};

enum hf_opt_type {
    HF_OPT_STR,
    HF_OPT_SECRET,    /* string or {file: PATH}; never printed */
    HF_OPT_BOOL,
    HF_OPT_INT,
    HF_OPT_DOUBLE,
    HF_OPT_SIZE,      /* 1MiB */
    HF_OPT_DURATION,  /* 500ms */
    HF_OPT_ENUM,      /* one of .enums, "a|b|c" */
    HF_OPT_STRLIST,   /* list of strings */
    HF_OPT_SECRETLIST,
    HF_OPT_OBJ,       /* nested map validated against .sub */
    HF_OPT_OBJLIST,   /* list of maps validated against .sub */
    HF_OPT_STRMAP,    /* free-form map of scalars (e.g. librdkafka properties) */
    HF_OPT_ANY,       /* validated by the code that reads it */
};

/* One entry of a typed option table; tables end with {0}. */
struct hf_option {
    const char *name;
    enum hf_opt_type type;
    const char *def;              /* default as text, NULL for none */
    int64_t min, max;             /* bounds for INT/SIZE/DURATION (max 0 = none) */
    const char *enums;            /* "a|b|c" for ENUM (INT accepts "auto" when enums is "auto") */
    const struct hf_option *sub;  /* OBJ / OBJLIST */
    bool required;
    const char *help;
};

struct hf_cerr {
    char msg[512];
};

/* Parses a YAML file into a tree; ${NAME} is replaced from the environment
 * except the per-event names (${source}, ${event_type}, ${severity}). */
struct hf_cnode *hf_cnode_load(const char *path, struct hf_cerr *err);
struct hf_cnode *hf_cnode_load_string(const char *name, const char *text, size_t len, struct hf_cerr *err);
void hf_cnode_free(struct hf_cnode *n);

/* Validates map `n` against `table`, recursively. `what` names the
 * section for messages ("sink 'siem'"). Returns 0 or -1 with err set to
 * "FILE:LINE:COL: message". */
int hf_cnode_validate(const char *file, const struct hf_cnode *n, const struct hf_option *table,
                      const char *what, struct hf_cerr *err);

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

bool hf_parse_bool(const char *s, bool *out);

#endif
