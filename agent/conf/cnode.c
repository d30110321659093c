/* SPDX-License-Identifier: Apache-2.0 */
/* YAML to a position-aware tree, ${ENV} expansion, and validation against
 * typed option tables. */
#define _GNU_SOURCE
#include "cnode.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void hf_cerr_at(struct hf_cerr *err, const char *file, int line, int col, const char *fmt, ...)
{
    int off = snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: ", file, line, col);
    if (off < 0 || (size_t)off >= sizeof(err->msg))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + off, sizeof(err->msg) - (size_t)off, fmt, ap);
    va_end(ap);
}

void hf_cerr_keep(struct hf_cerr *err)
{
    if (err->n < HF_CERR_KEEP)
        memcpy(err->list[err->n], err->msg, sizeof(err->msg));
    err->n++;
}

void hf_cerr_print(FILE *f, const struct hf_cerr *err)
{
    if (err->n == 0) {
        fprintf(f, "%s\n", err->msg);
        return;
    }
    for (int i = 0; i < err->n && i < HF_CERR_KEEP; i++)
        fprintf(f, "%s\n", err->list[i]);
    if (err->n > HF_CERR_KEEP)
        fprintf(f, "(and %d more errors after these)\n", err->n - HF_CERR_KEEP);
}

bool hf_parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = false;
        return true;
    }
    return false;
}

static const char *per_event_names[] = {"source",          "event_type", "severity", "event_id",
                                        "idempotency_key", "timestamp",  NULL};

/* True for a name a template fills per event (template.h): left in place
 * here, compiled by the option that takes it. */
static bool is_per_event(const char *name)
{
    if (!strncmp(name, "data.", 5))
        return true; /* a malformed one is the template compiler's to report */
    size_t n = strcspn(name, ":");
    for (int i = 0; per_event_names[i]; i++)
        if (strlen(per_event_names[i]) == n && !strncmp(name, per_event_names[i], n))
            return true;
    return false;
}

/* Replaces ${NAME} from the environment; *expanded says whether a name
 * was. Returns NULL with err on an unset name. */
static char *expand_env(const char *file, const char *s, int line, int col, bool *expanded, struct hf_cerr *err)
{
    *expanded = false;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "");
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            if (!end) {
                hf_cerr_at(err, file, line, col, "unterminated ${ in value");
                hf_buf_free(&b);
                return NULL;
            }
            char name[512];
            size_t nl = (size_t)(end - p - 2);
            if (nl == 0 || nl >= sizeof(name)) {
                hf_cerr_at(err, file, line, col, "bad variable name in ${...}");
                hf_buf_free(&b);
                return NULL;
            }
            memcpy(name, p + 2, nl);
            name[nl] = '\0';
            if (is_per_event(name)) {
                hf_buf_append(&b, p, (size_t)(end - p + 1));
            } else {
                const char *v = getenv(name);
                if (!v) {
                    hf_cerr_at(err, file, line, col,
                               "environment variable %s is not set (nor a per-event name such as "
                               "${event_type} or ${data.KEY})",
                               name);
                    hf_buf_free(&b);
                    return NULL;
                }
                hf_buf_puts(&b, v);
                *expanded = true;
            }
            p = end + 1;
        } else {
            hf_buf_putc(&b, *p++);
        }
    }
    return b.data;
}

static int convert(const char *file, yaml_document_t *doc, yaml_node_t *yn, struct hf_cnode *out, int depth,
                   struct hf_cerr *err)
{
    out->line = (int)yn->start_mark.line + 1;
    out->col = (int)yn->start_mark.column + 1;
    if (depth > 32) {
        hf_cerr_at(err, file, out->line, out->col, "configuration nested too deeply");
        return -1;
    }
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        out->kind = HF_CN_SCALAR;
        out->quoted = yn->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      yn->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        {
            const char *raw = (const char *)yn->data.scalar.value;
            bool expanded;
            out->value = expand_env(file, raw, out->line, out->col, &expanded, err);
            if (out->value && expanded)
                out->written = hf_strdup(raw);
            return out->value ? 0 : -1;
        }
    case YAML_SEQUENCE_NODE: {
        out->kind = HF_CN_SEQ;
        size_t n = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
        out->child = hf_calloc(n, sizeof(*out->child));
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *c = yaml_document_get_node(doc, yn->data.sequence.items.start[i]);
            out->nchild++;
            if (!c || convert(file, doc, c, &out->child[i], depth + 1, err) < 0)
                return -1;
        }
        return 0;
    }
    case YAML_MAPPING_NODE: {
        out->kind = HF_CN_MAP;
        size_t n = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
        out->child = hf_calloc(n, sizeof(*out->child));
        for (size_t i = 0; i < n; i++) {
            yaml_node_pair_t *pr = &yn->data.mapping.pairs.start[i];
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            yaml_node_t *v = yaml_document_get_node(doc, pr->value);
            struct hf_cnode *c = &out->child[i];
            out->nchild++;
            if (!k || !v)
                return -1;
            c->key_line = (int)k->start_mark.line + 1;
            c->key_col = (int)k->start_mark.column + 1;
            if (k->type != YAML_SCALAR_NODE) {
                hf_cerr_at(err, file, c->key_line, c->key_col, "map keys must be plain strings");
                return -1;
            }
            c->key = hf_strdup((const char *)k->data.scalar.value);
            for (size_t j = 0; j < i; j++) {
                if (!strcmp(out->child[j].key, c->key)) {
                    hf_cerr_at(err, file, c->key_line, c->key_col, "duplicate key '%s' (first at line %d)", c->key,
                               out->child[j].key_line);
                    return -1;
                }
            }
            if (convert(file, doc, v, c, depth + 1, err) < 0)
                return -1;
        }
        return 0;
    }
    default: hf_cerr_at(err, file, out->line, out->col, "empty YAML document"); return -1;
    }
}

static void cnode_clear(struct hf_cnode *n)
{
    for (size_t i = 0; i < n->nchild; i++)
        cnode_clear(&n->child[i]);
    free(n->child);
    free(n->key);
    free(n->written);
    if (n->value) {
        /* values may hold secrets read from the environment */
        explicit_bzero(n->value, strlen(n->value));
        free(n->value);
    }
}

void hf_cnode_free(struct hf_cnode *n)
{
    if (!n)
        return;
    cnode_clear(n);
    free(n);
}

static struct hf_cnode *load_parser(const char *name, yaml_parser_t *parser, struct hf_cerr *err)
{
    yaml_document_t doc;
    struct hf_cnode *root = NULL;
    if (!yaml_parser_load(parser, &doc)) {
        hf_cerr_at(err, name, (int)parser->problem_mark.line + 1, (int)parser->problem_mark.column + 1,
                   "YAML syntax error: %s%s%s", parser->problem ? parser->problem : "unknown",
                   parser->context ? " " : "", parser->context ? parser->context : "");
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        hf_cerr_at(err, name, 1, 1, "the file is empty; expected a map with listen, sources and sinks");
        goto done;
    }
    root = hf_calloc(1, sizeof(*root));
    if (convert(name, &doc, top, root, 0, err) < 0) {
        hf_cnode_free(root);
        root = NULL;
        goto done;
    }
    if (root->kind != HF_CN_MAP) {
        hf_cerr_at(err, name, root->line, root->col, "the top level must be a map");
        hf_cnode_free(root);
        root = NULL;
    }
done:
    yaml_document_delete(&doc);
    return root;
}

struct hf_cnode *hf_cnode_load_string(const char *name, const char *text, size_t len, struct hf_cerr *err)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct hf_cnode *r = load_parser(name, &parser, err);
    yaml_parser_delete(&parser);
    return r;
}

struct hf_cnode *hf_cnode_load(const char *path, struct hf_cerr *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof(err->msg), "%s:0:0: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    struct hf_cnode *r = load_parser(path, &parser, err);
    yaml_parser_delete(&parser);
    fclose(f);
    return r;
}

static const struct hf_option *find_opt(const struct hf_option *table, const char *name, size_t n)
{
    for (const struct hf_option *o = table; o && o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n))
            return o;
    return NULL;
}

static void valid_keys(const struct hf_option *table, char *out, size_t outlen)
{
    size_t off = 0;
    out[0] = '\0';
    for (const struct hf_option *o = table; o && o->name && off < outlen; o++) {
        int w = snprintf(out + off, outlen - off, "%s%s", off ? ", " : "", o->name);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

static bool enum_has(const char *enums, const char *v)
{
    size_t vl = strlen(v);
    for (const char *p = enums; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && !strncmp(p, v, l))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static const char *kind_name(enum hf_cnode_kind k)
{
    return k == HF_CN_MAP ? "a map" : k == HF_CN_SEQ ? "a list" : "a scalar";
}

static int validate_value(const char *file, const struct hf_cnode *v, const struct hf_option *o, const char *what,
                          struct hf_cerr *err);

/* A bound in the option's own units, as a user writes it. */
static const char *bound_text(const struct hf_option *o, int64_t v, char *out, size_t outlen)
{
    if (o->type == HF_OPT_SIZE)
        return hf_format_size(v, out, outlen);
    if (o->type == HF_OPT_DURATION)
        return hf_format_duration(v, out, outlen);
    snprintf(out, outlen, "%lld", (long long)v);
    return out;
}

/* "100ms..1h", or "at least 1MiB" when there is no maximum (max 0). */
static const char *range_text(const struct hf_option *o, char *out, size_t outlen)
{
    char lo[32], hi[32];
    bound_text(o, o->min, lo, sizeof(lo));
    if (!o->max)
        snprintf(out, outlen, "at least %s", lo);
    else
        snprintf(out, outlen, "%s..%s", lo, bound_text(o, o->max, hi, sizeof(hi)));
    return out;
}

static int validate_scalar(const char *file, const struct hf_cnode *v, const struct hf_option *o, const char *what,
                           struct hf_cerr *err)
{
    if (v->kind != HF_CN_SCALAR) {
        hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a single value, not %s", what, o->name,
                   kind_name(v->kind));
        return -1;
    }
    const char *s = v->value;
    int64_t n = 0;
    bool b;
    char *end;
    switch (o->type) {
    case HF_OPT_BOOL:
        if (!hf_parse_bool(s, &b)) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be true or false", what, o->name);
            return -1;
        }
        return 0;
    case HF_OPT_INT:
        if (o->enums && enum_has(o->enums, s))
            return 0;
        errno = 0;
        n = strtoll(s, &end, 10);
        if (!*s || *end || errno) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be an integer%s%s", what, o->name,
                       o->enums ? " or " : "", o->enums ? o->enums : "");
            return -1;
        }
        break;
    case HF_OPT_DOUBLE:
        errno = 0;
        (void)strtod(s, &end);
        if (!*s || *end || errno) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a number", what, o->name);
            return -1;
        }
        return 0;
    case HF_OPT_SIZE:
        if (hf_parse_size(s, &n) < 0) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a size such as 512KiB, 1MiB or 1GiB", what,
                       o->name);
            return -1;
        }
        break;
    case HF_OPT_DURATION:
        if (hf_parse_duration(s, &n) < 0) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a duration such as 500ms, 10s, 5m or 24h", what,
                       o->name);
            return -1;
        }
        break;
    case HF_OPT_ENUM:
        if (!enum_has(o->enums, s)) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' is not a valid %s (valid: %s)", what, hf_cnode_shown(v),
                       o->name, o->enums);
            return -1;
        }
        return 0;
    default: return 0;
    }
    if (n < o->min || (o->max && n > o->max)) {
        char range[80];
        hf_cerr_at(err, file, v->line, v->col, "%s: '%s' is out of range (%s)", what, o->name,
                   range_text(o, range, sizeof(range)));
        return -1;
    }
    return 0;
}

static int validate_value(const char *file, const struct hf_cnode *v, const struct hf_option *o, const char *what,
                          struct hf_cerr *err)
{
    switch (o->type) {
    case HF_OPT_STR:
    case HF_OPT_TEMPLATE:
        if (v->kind != HF_CN_SCALAR) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a string, not %s", what, o->name,
                       kind_name(v->kind));
            return -1;
        }
        return 0;
    case HF_OPT_SECRET:
        if (v->kind == HF_CN_MAP) {
            static const struct hf_option file_only[] = {{.name = "file", .type = HF_OPT_STR, .required = true}, {0}};
            return hf_cnode_validate(file, v, file_only, what, err);
        }
        if (v->kind != HF_CN_SCALAR) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a string or {file: PATH}", what, o->name);
            return -1;
        }
        return 0;
    case HF_OPT_STRLIST:
    case HF_OPT_SECRETLIST:
        if (v->kind != HF_CN_SEQ) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a list", what, o->name);
            return -1;
        }
        for (size_t i = 0; i < v->nchild; i++) {
            struct hf_option item = *o;
            item.type = o->type == HF_OPT_STRLIST ? HF_OPT_STR : HF_OPT_SECRET;
            if (validate_value(file, &v->child[i], &item, what, err) < 0)
                return -1;
        }
        return 0;
    case HF_OPT_OBJ:
        if (v->kind != HF_CN_MAP) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a map", what, o->name);
            return -1;
        }
        return hf_cnode_validate(file, v, o->sub, what, err);
    case HF_OPT_FILTER: {
        if (v->kind != HF_CN_MAP) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a map (events, severity_at_least, match%s)", what,
                       o->name, o->sub ? ", ..." : "");
            return -1;
        }
        size_t nf = 0, ns = 0;
        while (hf_filter_options[nf].name)
            nf++;
        while (o->sub && o->sub[ns].name)
            ns++;
        struct hf_option *merged = hf_calloc(nf + ns + 1, sizeof(*merged));
        memcpy(merged, hf_filter_options, nf * sizeof(*merged));
        if (ns)
            memcpy(merged + nf, o->sub, ns * sizeof(*merged));
        int rc = hf_cnode_validate(file, v, merged, what, err);
        free(merged);
        return rc;
    }
    case HF_OPT_OBJLIST:
        if (v->kind != HF_CN_SEQ) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a list of maps", what, o->name);
            return -1;
        }
        /* every entry is checked, past one with errors (each keeps its own;
         * the map holding this list sets msg to its first) */
        int rc = 0;
        for (size_t i = 0; i < v->nchild; i++) {
            if (v->child[i].kind != HF_CN_MAP) {
                hf_cerr_at(err, file, v->child[i].line, v->child[i].col, "%s: each entry of '%s' must be a map", what,
                           o->name);
                hf_cerr_keep(err);
                rc = -1;
            } else if (hf_cnode_validate(file, &v->child[i], o->sub, what, err) < 0) {
                rc = -1;
            }
        }
        return rc;
    case HF_OPT_STRMAP:
    case HF_OPT_TEMPLATEMAP:
        if (v->kind != HF_CN_MAP) {
            hf_cerr_at(err, file, v->line, v->col, "%s: '%s' must be a map of names to values", what, o->name);
            return -1;
        }
        for (size_t i = 0; i < v->nchild; i++)
            if (v->child[i].kind != HF_CN_SCALAR) {
                hf_cerr_at(err, file, v->child[i].line, v->child[i].col, "%s: '%s.%s' must be a single value", what,
                           o->name, v->child[i].key);
                return -1;
            }
        return 0;
    case HF_OPT_ANY: return 0;
    default: return validate_scalar(file, v, o, what, err);
    }
}

int hf_cnode_validate(const char *file, const struct hf_cnode *n, const struct hf_option *table, const char *what,
                      struct hf_cerr *err)
{
    if (n->kind != HF_CN_MAP) {
        hf_cerr_at(err, file, n->line, n->col, "%s: expected a map", what);
        return -1;
    }
    /* on past an error: each key's own error is kept (one per key; a map
     * below keeps its own), and msg ends as this map's first */
    int before = err->n;
    for (size_t i = 0; i < n->nchild; i++) {
        const struct hf_cnode *c = &n->child[i];
        const struct hf_option *o = find_opt(table, c->key, strlen(c->key));
        int kept = err->n;
        if (!o) {
            char keys[400];
            valid_keys(table, keys, sizeof(keys));
            hf_cerr_at(err, file, c->key_line, c->key_col, "%s: unknown key '%s' (valid: %s)", what, c->key, keys);
            hf_cerr_keep(err);
        } else if (validate_value(file, c, o, what, err) < 0 && err->n == kept) {
            hf_cerr_keep(err);
        }
    }
    for (const struct hf_option *o = table; o && o->name; o++) {
        if (o->required && !hf_cnode_get(n, o->name)) {
            hf_cerr_at(err, file, n->line, n->col, "%s: missing required key '%s'", what, o->name);
            hf_cerr_keep(err);
        }
    }
    if (err->n == before)
        return 0;
    if (before < HF_CERR_KEEP)
        memcpy(err->msg, err->list[before], sizeof(err->msg));
    return -1;
}

const struct hf_cnode *hf_cnode_get(const struct hf_cnode *map, const char *dotted)
{
    const struct hf_cnode *cur = map;
    const char *p = dotted;
    while (cur && *p) {
        if (cur->kind != HF_CN_MAP)
            return NULL;
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        const struct hf_cnode *next = NULL;
        for (size_t i = 0; i < cur->nchild; i++)
            if (strlen(cur->child[i].key) == l && !strncmp(cur->child[i].key, p, l)) {
                next = &cur->child[i];
                break;
            }
        cur = next;
        p = dot ? dot + 1 : p + l;
    }
    return cur;
}

static const struct hf_option *find_dotted_opt(const struct hf_option *table, const char *dotted)
{
    const char *p = dotted;
    const struct hf_option *o = NULL;
    while (table && *p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        o = find_opt(table, p, l);
        if (!o)
            return NULL;
        table = o->sub;
        p = dot ? dot + 1 : p + l;
    }
    return o;
}

const char *hf_conf_str(const struct hf_cnode *map, const struct hf_option *table, const char *dotted)
{
    const struct hf_cnode *n = map ? hf_cnode_get(map, dotted) : NULL;
    if (n && n->kind == HF_CN_SCALAR)
        return n->value;
    const struct hf_option *o = find_dotted_opt(table, dotted);
    return o ? o->def : NULL;
}

bool hf_conf_bool(const struct hf_cnode *map, const struct hf_option *table, const char *dotted)
{
    const char *s = hf_conf_str(map, table, dotted);
    bool b = false;
    return s && hf_parse_bool(s, &b) && b;
}

int64_t hf_conf_int(const struct hf_cnode *map, const struct hf_option *table, const char *dotted)
{
    const char *s = hf_conf_str(map, table, dotted);
    return s ? strtoll(s, NULL, 10) : 0;
}

double hf_conf_double(const struct hf_cnode *map, const struct hf_option *table, const char *dotted)
{
    const char *s = hf_conf_str(map, table, dotted);
    return s ? strtod(s, NULL) : 0;
}

int64_t hf_conf_num(const struct hf_cnode *map, const struct hf_option *table, const char *dotted)
{
    const char *s = hf_conf_str(map, table, dotted);
    const struct hf_option *o = find_dotted_opt(table, dotted);
    int64_t v = 0;
    if (!s || !o)
        return 0;
    if (o->type == HF_OPT_SIZE)
        hf_parse_size(s, &v);
    else if (o->type == HF_OPT_DURATION)
        hf_parse_duration(s, &v);
    else
        v = strtoll(s, NULL, 10);
    return v;
}

int hf_conf_secret(const char *file, const struct hf_cnode *n, char **out, size_t *outlen, struct hf_cerr *err)
{
    if (n->kind == HF_CN_SCALAR) {
        if (!n->value[0]) {
            hf_cerr_at(err, file, n->line, n->col, "secret is empty");
            return -1;
        }
        *outlen = strlen(n->value);
        *out = hf_strndup(n->value, *outlen);
        return 0;
    }
    const struct hf_cnode *f = hf_cnode_get(n, "file");
    FILE *fp = f ? fopen(f->value, "rb") : NULL;
    if (!fp) {
        hf_cerr_at(err, file, n->line, n->col, "cannot read secret file %s: %s", f ? hf_cnode_shown(f) : "?",
                   strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len == 0) {
        hf_cerr_at(err, file, n->line, n->col, "secret file %s is empty", hf_cnode_shown(f));
        return -1;
    }
    *out = hf_strndup(buf, len);
    *outlen = len;
    explicit_bzero(buf, sizeof(buf));
    return 0;
}

const char *hf_cnode_shown(const struct hf_cnode *n)
{
    if (!n)
        return "";
    return n->written ? n->written : n->value ? n->value : "";
}

/* Replaces msg[at, at+len) with `with`, as far as cap allows; returns
 * the index just past the replacement. */
static size_t splice(char *msg, size_t cap, size_t at, size_t len, const char *with)
{
    size_t tail = strlen(msg + at + len), wl = strlen(with);
    if (at + wl + tail + 1 > cap)
        wl = at + tail + 1 < cap ? cap - at - tail - 1 : 0;
    if (at + wl + tail + 1 > cap)
        tail = cap - at - wl - 1;
    memmove(msg + at + wl, msg + at + len, tail);
    memcpy(msg + at, with, wl);
    msg[at + wl + tail] = '\0';
    return at + wl;
}

/* Shorter quotes of a piece of an expansion ('ftp' of a URL) say little
 * of it; the whole of an expansion is replaced when long enough not to
 * match by chance (a line number, a count). */
#define SCRUB_MIN_PIECE 3
#define SCRUB_MIN_WHOLE 6

/* Each '...' quote in msg of value (whole, or a piece of it) becomes
 * `with`; every quote does when value is NULL. */
static void scrub_quotes(char *msg, size_t cap, const char *value, const char *with)
{
    for (size_t i = 0; msg[i];) {
        char *open = strchr(msg + i, '\'');
        char *close = open ? strchr(open + 1, '\'') : NULL;
        if (!close)
            return;
        size_t at = (size_t)(open - msg) + 1, len = (size_t)(close - open) - 1;
        bool hide;
        if (!value) {
            hide = true; /* a value from a file: any quote of it */
        } else {
            char *piece = hf_strndup(open + 1, len);
            hide = len > 0 && (!strcmp(piece, value) || (len >= SCRUB_MIN_PIECE && strstr(value, piece)));
            free(piece);
        }
        i = hide ? splice(msg, cap, at, len, with) + 1 : at + len + 1;
        if (i >= cap || i > strlen(msg))
            return;
    }
}

static void scrub_one(const struct hf_cnode *n, bool at_fault, char *msg, size_t cap)
{
    if (n->kind == HF_CN_SCALAR && n->written) {
        scrub_quotes(msg, cap, n->value, n->written);
        size_t vl = strlen(n->value);
        if (vl < SCRUB_MIN_WHOLE)
            return;
        char *p = strstr(msg, n->value);
        while (p) {
            size_t next = splice(msg, cap, (size_t)(p - msg), vl, n->written);
            p = strstr(msg + next, n->value);
        }
        return;
    }
    const struct hf_cnode *f = n->kind == HF_CN_MAP ? hf_cnode_get(n, "file") : NULL;
    if (at_fault && f && f->kind == HF_CN_SCALAR) {
        char with[300];
        snprintf(with, sizeof(with), "{file: %s}", hf_cnode_shown(f));
        scrub_quotes(msg, cap, NULL, with);
    }
    for (size_t i = 0; i < n->nchild; i++)
        scrub_one(&n->child[i], at_fault, msg, cap);
}

void hf_cnode_scrub(const struct hf_cnode *n, bool at_fault, char *msg, size_t cap)
{
    if (n && msg && cap)
        scrub_one(n, at_fault, msg, cap);
}
