/* SPDX-License-Identifier: Apache-2.0 */
/* Option tables bound into config structs, and check failures placed at
 * the option they are about. */
#define _GNU_SOURCE
#include "option.h"
#include "cnode.h"
#include "config.h"
#include "template.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int enum_index(const char *enums, const char *v)
{
    size_t vl = strlen(v);
    int i = 0;
    for (const char *p = enums; p && *p; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vl && !memcmp(p, v, n))
            return i;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

const char *hf_opt_enum_text(const char *enums, int i, char *out, size_t outlen)
{
    const char *p = i >= 0 ? enums : NULL;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '|');
        p = p ? p + 1 : NULL;
    }
    size_t n = p ? strcspn(p, "|") : 0;
    snprintf(out, outlen, "%.*s", (int)n, p ? p : "");
    return out;
}

static int bind_list(const char *file, const struct hf_cnode *n, bool secret, struct hf_strlist *out,
                     struct hf_cerr *err)
{
    out->n = 0;
    out->v = NULL;
    if (!n)
        return 0;
    out->v = hf_calloc(n->nchild ? n->nchild : 1, sizeof(char *));
    for (size_t i = 0; i < n->nchild; i++) {
        const struct hf_cnode *c = &n->child[i];
        if (secret) {
            size_t len;
            if (hf_conf_secret(file, c, &out->v[out->n], &len, err) < 0)
                return -1;
        } else {
            out->v[out->n] = hf_strdup(c->value ? c->value : "");
        }
        out->n++;
    }
    return 0;
}

/* Compiles a template option once, at load; a bad name is reported at
 * the option's value. */
static int bind_template(const char *file, const struct hf_cnode *map, const struct hf_cnode *n,
                         const struct hf_option *t, const char *text, struct hf_template **dst, struct hf_cerr *err)
{
    *dst = NULL;
    if (!text)
        return 0;
    char why[400];
    size_t off = 0;
    *dst = hf_template_compile(text, &off, why, sizeof(why));
    if (*dst)
        return 0;
    const struct hf_cnode *at = n ? n : map;
    hf_cerr_at(err, file, at ? at->line : 0, at ? at->col : 0, "'%s'%s: %s (at character %zu of the template)", t->name,
               n ? "" : " (default)", why, off + 1);
    return -1;
}

/* Each value of a TEMPLATEMAP compiled, errors at the value. */
static int bind_template_map(const char *file, const struct hf_cnode *n, struct hf_template_map *dst,
                             struct hf_cerr *err)
{
    dst->v = NULL;
    dst->n = 0;
    if (!n || n->kind != HF_CN_MAP)
        return 0;
    dst->v = hf_calloc(n->nchild ? n->nchild : 1, sizeof(*dst->v));
    for (size_t i = 0; i < n->nchild; i++) {
        const struct hf_cnode *c = &n->child[i];
        char why[400];
        size_t off = 0;
        struct hf_template *t = hf_template_compile(c->value ? c->value : "", &off, why, sizeof(why));
        if (!t) {
            hf_cerr_at(err, file, c->line, c->col, "'%s.%s': %s (at character %zu of the template)", n->key, c->key,
                       why, off + 1);
            return -1;
        }
        dst->v[dst->n].name = hf_strdup(c->key);
        dst->v[dst->n++].tmpl = t;
    }
    return 0;
}

/* Scalars: numbers, flags and enums parsed from their text (validated
 * before, so parsing cannot fail here). */
static void bind_scalar(const struct hf_option *t, const char *text, char *dst)
{
    switch (t->type) {
    case HF_OPT_ENUM: *(int *)dst = text ? enum_index(t->enums, text) : -1; break;
    case HF_OPT_BOOL: {
        bool b = false;
        if (text)
            hf_parse_bool(text, &b);
        *(bool *)dst = b;
        break;
    }
    case HF_OPT_INT:
        *(int64_t *)dst = text ? strtoll(text, NULL, 10) : 0; /* "auto" reads as 0 */
        break;
    case HF_OPT_SIZE:
    case HF_OPT_DURATION: {
        int64_t v = 0;
        if (text)
            (t->type == HF_OPT_SIZE ? hf_parse_size : hf_parse_duration)(text, &v);
        *(int64_t *)dst = v;
        break;
    }
    case HF_OPT_DOUBLE: *(double *)dst = text ? strtod(text, NULL) : 0; break;
    default: break;
    }
}

/* One bound option: n is its node (NULL when absent), text its scalar
 * value or default. */
static int bind_one(const char *file, const struct hf_cnode *map, const struct hf_option *t, const struct hf_cnode *n,
                    const char *text, char *dst, struct hf_cerr *err)
{
    switch (t->type) {
    case HF_OPT_STR: *(char **)dst = text ? hf_strdup(text) : NULL; return 0;
    case HF_OPT_TEMPLATE: return bind_template(file, map, n, t, text, (struct hf_template **)dst, err);
    case HF_OPT_SECRET:
        if (n) {
            size_t len;
            return hf_conf_secret(file, n, (char **)dst, &len, err);
        }
        *(char **)dst = text ? hf_strdup(text) : NULL;
        return 0;
    case HF_OPT_STRLIST:
    case HF_OPT_SECRETLIST: return bind_list(file, n, t->type == HF_OPT_SECRETLIST, (struct hf_strlist *)dst, err);
    case HF_OPT_FILTER: {
        *(struct hf_filter **)dst = NULL;
        if (!n)
            return 0;
        struct hf_filter *f = hf_calloc(1, sizeof(*f));
        *(struct hf_filter **)dst = f;
        return hf_filter_build(file, n, f, err);
    }
    case HF_OPT_TEMPLATEMAP: return bind_template_map(file, n, (struct hf_template_map *)dst, err);
    case HF_OPT_OBJ:
    case HF_OPT_OBJLIST:
    case HF_OPT_STRMAP:
    case HF_OPT_ANY: *(const struct hf_cnode **)dst = n; return 0;
    default: bind_scalar(t, text, dst); return 0;
    }
}

int hf_opt_bind(const char *file, const struct hf_cnode *map, const struct hf_option *t, void *conf,
                struct hf_cerr *err)
{
    for (; t->name; t++) {
        const struct hf_cnode *n = map ? hf_cnode_get(map, t->name) : NULL;
        if ((t->type == HF_OPT_OBJ || t->type == HF_OPT_FILTER) && t->sub) {
            if (hf_opt_bind(file, n, t->sub, conf, err) < 0)
                return -1;
        }
        if (!t->bound)
            continue;
        const char *text = n ? (n->kind == HF_CN_SCALAR ? n->value : NULL) : t->def;
        if (bind_one(file, map, t, n, text, (char *)conf + t->off, err) < 0)
            return -1;
    }
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void hf_opt_unbind(const struct hf_option *t, void *conf)
{
    for (; t && t->name; t++) {
        if ((t->type == HF_OPT_OBJ || t->type == HF_OPT_FILTER) && t->sub)
            hf_opt_unbind(t->sub, conf);
        if (!t->bound)
            continue;
        char *dst = (char *)conf + t->off;
        switch (t->type) {
        case HF_OPT_STR:
        case HF_OPT_SECRET:
            wipe_free(*(char **)dst);
            *(char **)dst = NULL;
            break;
        case HF_OPT_TEMPLATE:
            hf_template_free(*(struct hf_template **)dst);
            *(struct hf_template **)dst = NULL;
            break;
        case HF_OPT_FILTER:
            if (*(struct hf_filter **)dst) {
                hf_filter_free(*(struct hf_filter **)dst);
                free(*(struct hf_filter **)dst);
            }
            *(struct hf_filter **)dst = NULL;
            break;
        case HF_OPT_TEMPLATEMAP: {
            struct hf_template_map *m = (struct hf_template_map *)dst;
            for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].name);
                hf_template_free(m->v[i].tmpl);
            }
            free(m->v);
            m->v = NULL;
            m->n = 0;
            break;
        }
        case HF_OPT_STRLIST:
        case HF_OPT_SECRETLIST: {
            struct hf_strlist *l = (struct hf_strlist *)dst;
            for (size_t i = 0; i < l->n; i++)
                wipe_free(l->v[i]);
            free(l->v);
            l->v = NULL;
            l->n = 0;
            break;
        }
        default: break;
        }
    }
}

int hf_check_fail(const struct hf_check *ck, const char *option, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const struct hf_cnode *n = ck->node && option ? hf_cnode_get(ck->node, option) : NULL;
    /* a plugin quotes its bound copy of a value, which may be a secret */
    hf_cnode_scrub(n ? n : ck->node, n != NULL, msg, sizeof(msg));
    if (!n)
        n = ck->node;
    hf_cerr_at(ck->err, ck->file, n ? n->line : 0, n ? n->col : 0, "%s: %s%s%s", ck->what, option ? option : "",
               option ? ": " : "", msg);
    return -1;
}

int hf_check_fail_at(const struct hf_check *ck, const struct hf_cnode *at, bool at_key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hf_cnode_scrub(at ? at : ck->node, at && at != ck->node, msg, sizeof(msg));
    if (!at)
        at = ck->node;
    int line = !at ? 0 : at_key && at->key ? at->key_line : at->line;
    int col = !at ? 0 : at_key && at->key ? at->key_col : at->col;
    hf_cerr_at(ck->err, ck->file, line, col, "%s: %s", ck->what, msg);
    return -1;
}

const char *hf_node_text(const struct hf_cnode *n) { return n && n->kind == HF_CN_SCALAR ? n->value : NULL; }
bool hf_node_is_list(const struct hf_cnode *n) { return n && n->kind == HF_CN_SEQ; }
size_t hf_node_count(const struct hf_cnode *n) { return n && n->kind != HF_CN_SCALAR ? n->nchild : 0; }
const struct hf_cnode *hf_node_child(const struct hf_cnode *n, size_t i)
{
    return i < hf_node_count(n) ? &n->child[i] : NULL;
}
const char *hf_node_key(const struct hf_cnode *n) { return n ? n->key : NULL; }
