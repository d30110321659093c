/* SPDX-License-Identifier: Apache-2.0 */
/* Builds struct hf_config from the validated YAML tree. */
#define _GNU_SOURCE
#include "config.h"
#include "profile.h"
#include "redis_conf.h"
#include "sink.h"
#include "tls_conf.h"
#include "util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hf_option tls_listen_opts[] = {
    {.name = "cert", .type = HF_OPT_STR, .required = true, .help = "PEM certificate chain"},
    {.name = "key", .type = HF_OPT_STR, .required = true, .help = "PEM private key"},
    {0}};

static const struct hf_option listen_opts[] = {
    {.name = "address", .type = HF_OPT_STR, .def = "127.0.0.1:8080"},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_listen_opts},
    {.name = "max_body", .type = HF_OPT_SIZE, .def = "1MiB", .min = 1, .max = 1LL << 30},
    {.name = "max_header", .type = HF_OPT_SIZE, .def = "16KiB", .min = 1024, .max = 1 << 20},
    {.name = "max_connections", .type = HF_OPT_INT, .def = "4096", .min = 1, .max = 1000000},
    {.name = "read_timeout", .type = HF_OPT_DURATION, .def = "10s", .min = 100, .max = 3600000},
    {.name = "threads", .type = HF_OPT_INT, .def = "auto", .enums = "auto", .min = 1, .max = 64},
    {0}};

static const struct hf_option admin_opts[] = {{.name = "address", .type = HF_OPT_STR, .def = "127.0.0.1:9180"}, {0}};

static const struct hf_option storage_opts[] = {
    {.name = "mode", .type = HF_OPT_ENUM, .enums = "memory|disk", .def = "memory"},
    {.name = "path", .type = HF_OPT_STR, .def = "/var/lib/hookfwd"},
    {.name = "max_size", .type = HF_OPT_SIZE, .def = "1GiB", .min = 1 << 20},
    {0}};

static const struct hf_option signature_opts[] = {
    {.name = "scheme", .type = HF_OPT_ENUM, .enums = "hmac-sha256|standard-webhooks", .def = "hmac-sha256"},
    {.name = "header", .type = HF_OPT_STR},
    {.name = "embedded", .type = HF_OPT_STR},
    {.name = "secrets", .type = HF_OPT_SECRETLIST, .required = true},
    {.name = "tolerance", .type = HF_OPT_DURATION, .def = "5m", .min = 1000, .max = 86400000},
    {0}};

static const struct hf_option dedup_opts[] = {
    {.name = "window", .type = HF_OPT_DURATION, .def = "24h", .min = 1000, .max = 30LL * 86400000},
    {.name = "key", .type = HF_OPT_STR},
    {.name = "enabled", .type = HF_OPT_BOOL, .def = "true"},
    {.name = "store",
     .type = HF_OPT_ENUM,
     .enums = "local|redis",
     .def = "local",
     .help = "local: this agent's own set; redis: one set shared by several agents"},
    {.name = "redis", .type = HF_OPT_OBJ, .sub = hf_redis_opts},
    {0}};

static const struct hf_option source_opts[] = {
    {.name = "name", .type = HF_OPT_STR, .required = true},
    {.name = "path", .type = HF_OPT_STR, .required = true},
    {.name = "profile", .type = HF_OPT_ENUM, .enums = "omegaengine|sentinelayer"},
    {.name = "event_field", .type = HF_OPT_STR},
    {.name = "id_field", .type = HF_OPT_STR},
    {.name = "time_field", .type = HF_OPT_STR},
    {.name = "signature", .type = HF_OPT_OBJ, .sub = signature_opts, .required = true},
    {.name = "dedup", .type = HF_OPT_OBJ, .sub = dedup_opts},
    {.name = "severity_map", .type = HF_OPT_STRMAP},
    {0}};

static const struct hf_option metric_opts[] = {
    {.name = "name", .type = HF_OPT_STR, .required = true},
    {.name = "type", .type = HF_OPT_ENUM, .enums = "count|gauge|distribution", .required = true},
    {.name = "value", .type = HF_OPT_STR},
    {.name = "events", .type = HF_OPT_STRLIST},
    {.name = "tags", .type = HF_OPT_STRLIST},
    {.name = "source", .type = HF_OPT_STR},
    {0}};

const struct hf_option hf_filter_options[] = {
    {.name = "events", .type = HF_OPT_STRLIST},
    {.name = "severity_at_least", .type = HF_OPT_ENUM, .enums = "info|warning|high|critical"},
    {.name = "match", .type = HF_OPT_ANY},
    {0}};

static const struct hf_option batch_opts[] = {
    {.name = "max_events", .type = HF_OPT_INT, .def = "500", .min = 1, .max = 100000},
    {.name = "max_bytes", .type = HF_OPT_SIZE, .def = "1MiB", .min = 1024, .max = 256LL << 20},
    {.name = "flush_interval", .type = HF_OPT_DURATION, .def = "1s", .min = 1, .max = 3600000},
    {0}};

static const struct hf_option retry_opts[] = {
    {.name = "initial", .type = HF_OPT_DURATION, .def = "500ms", .min = 1, .max = 3600000},
    {.name = "max", .type = HF_OPT_DURATION, .def = "60s", .min = 1, .max = 86400000},
    {.name = "give_up_after", .type = HF_OPT_DURATION, .def = "24h", .min = 0, .max = 30LL * 86400000},
    {0}};

static const struct hf_option queue_opts[] = {
    {.name = "max_events", .type = HF_OPT_INT, .def = "20000", .min = 1, .max = 10000000}, {0}};

static const struct hf_option sink_common_opts[] = {
    {.name = "name", .type = HF_OPT_STR, .required = true},
    {.name = "type", .type = HF_OPT_STR, .required = true},
    {.name = "takes", .type = HF_OPT_ENUM, .enums = "records|metrics|both"},
    {.name = "filter", .type = HF_OPT_OBJ, .sub = hf_filter_options},
    {.name = "batch", .type = HF_OPT_OBJ, .sub = batch_opts},
    {.name = "retry", .type = HF_OPT_OBJ, .sub = retry_opts},
    {.name = "queue", .type = HF_OPT_OBJ, .sub = queue_opts},
    {0}};

static const struct hf_option top_opts[] = {
    {.name = "listen", .type = HF_OPT_OBJ, .sub = listen_opts},
    {.name = "admin", .type = HF_OPT_OBJ, .sub = admin_opts},
    {.name = "storage", .type = HF_OPT_OBJ, .sub = storage_opts},
    {.name = "sources", .type = HF_OPT_OBJLIST, .sub = source_opts, .required = true},
    {.name = "metrics", .type = HF_OPT_OBJLIST, .sub = metric_opts},
    /* each sink is validated against the common options plus its plugin's */
    {.name = "sinks", .type = HF_OPT_ANY, .required = true},
    {0}};

static atomic_ullong secret_ids;

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **strlist(const struct hf_cnode *n, size_t *count)
{
    *count = 0;
    if (!n || n->kind != HF_CN_SEQ)
        return NULL;
    char **v = hf_calloc(n->nchild, sizeof(char *));
    for (size_t i = 0; i < n->nchild; i++)
        v[i] = hf_strdup(n->child[i].value);
    *count = n->nchild;
    return v;
}

static char *dupopt(const struct hf_cnode *map, const struct hf_option *t, const char *k)
{
    return hf_strdup(hf_conf_str(map, t, k));
}

/* A secret for Standard Webhooks: "whsec_" + base64 of the key bytes. */
static int decode_whsec(const char *file, const struct hf_cnode *n, struct hf_secret *sec, struct hf_cerr *err)
{
    const char *p = (const char *)sec->key;
    size_t len = sec->len;
    if (len > 6 && !strncmp(p, "whsec_", 6)) {
        p += 6;
        len -= 6;
    }
    unsigned char *raw = hf_calloc(1, len + 1);
    int rl = hf_b64_decode(p, len, raw, len + 1);
    if (rl <= 0) {
        free(raw);
        hf_cerr_at(err, file, n->line, n->col,
                   "a standard-webhooks secret must be whsec_ followed by base64 (the value is not shown)");
        return -1;
    }
    explicit_bzero(sec->key, sec->len);
    free(sec->key);
    sec->key = raw;
    sec->len = (size_t)rl;
    return 0;
}

/* dedup.store: redis needs dedup.redis, and dedup.redis means nothing
 * without it: both are errors rather than a silently local dedup. */
static int build_dedup_store(struct hf_config *c, const struct hf_cnode *dd, struct hf_source *s, struct hf_cerr *err)
{
    const struct hf_cnode *rn = dd ? hf_cnode_get(dd, "redis") : NULL;
    bool redis = dd && !strcmp(hf_conf_str(dd, dedup_opts, "store"), "redis");
    if (redis && !rn) {
        const struct hf_cnode *st = hf_cnode_get(dd, "store");
        hf_cerr_at(err, c->file, st->line, st->col,
                   "source '%s': dedup.store is redis, so dedup.redis is needed: {url: \"redis://host:6379/0\"}",
                   s->name);
        return -1;
    }
    if (!redis && rn) {
        hf_cerr_at(err, c->file, rn->key_line, rn->key_col,
                   "source '%s': dedup.redis is set but dedup.store is local: add store: redis", s->name);
        return -1;
    }
    if (!redis)
        return 0;
    s->dedup_redis = hf_redis_conf_build(c->file, rn, err);
    return s->dedup_redis ? 0 : -1;
}

/* Options of the other scheme would be ignored: refused instead, so a
 * signature set up for one scheme is not half-read as the other. */
static int check_scheme_options(struct hf_config *c, const struct hf_cnode *sig, const struct hf_source *s,
                                struct hf_cerr *err)
{
    static const struct {
        const char *option;
        enum hf_sig_scheme belongs;
    } only[] = {
        {"header", HF_SIG_HMAC_SHA256}, {"embedded", HF_SIG_HMAC_SHA256}, {"tolerance", HF_SIG_STANDARD_WEBHOOKS}};
    for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
        const struct hf_cnode *o = hf_cnode_get(sig, only[i].option);
        if (!o || s->scheme == only[i].belongs)
            continue;
        bool sw = only[i].belongs == HF_SIG_STANDARD_WEBHOOKS;
        hf_cerr_at(err, c->file, o->key_line, o->key_col,
                   "source '%s': signature.%s applies to scheme %s, not %s (remove it or set scheme: %s)", s->name,
                   only[i].option, sw ? "standard-webhooks" : "hmac-sha256", sw ? "hmac-sha256" : "standard-webhooks",
                   sw ? "standard-webhooks" : "hmac-sha256");
        return -1;
    }
    return 0;
}

static int build_source(struct hf_config *c, const struct hf_cnode *n, struct hf_source *s, struct hf_cerr *err)
{
    s->name = dupopt(n, source_opts, "name");
    s->path = dupopt(n, source_opts, "path");
    const struct hf_cnode *pn = hf_cnode_get(n, "path");
    if (s->path[0] != '/') {
        hf_cerr_at(err, c->file, pn->line, pn->col, "source '%s': path must start with '/'", s->name);
        return -1;
    }
    const char *prof = hf_conf_str(n, source_opts, "profile");
    if (prof)
        s->profile = hf_profile_find(prof);
    s->event_field =
        hf_strdup(hf_conf_str(n, source_opts, "event_field") ?: (s->profile ? s->profile->event_field : "type"));
    s->id_field = hf_strdup(hf_conf_str(n, source_opts, "id_field") ?: (s->profile ? NULL : "id"));
    s->time_field = hf_strdup(hf_conf_str(n, source_opts, "time_field") ?: "timestamp");

    const struct hf_cnode *sig = hf_cnode_get(n, "signature");
    const char *scheme = hf_conf_str(sig, signature_opts, "scheme");
    s->scheme = !strcmp(scheme, "standard-webhooks") ? HF_SIG_STANDARD_WEBHOOKS : HF_SIG_HMAC_SHA256;
    s->header = dupopt(sig, signature_opts, "header");
    s->embedded = dupopt(sig, signature_opts, "embedded");
    s->tolerance_ms = hf_conf_num(sig, signature_opts, "tolerance");
    if (check_scheme_options(c, sig, s, err) < 0)
        return -1;
    if (s->scheme == HF_SIG_HMAC_SHA256 && !s->header && !s->embedded) {
        hf_cerr_at(err, c->file, sig->line, sig->col,
                   "source '%s': hmac-sha256 needs 'header' (e.g. X-Signature) or 'embedded' (a JSON member)", s->name);
        return -1;
    }
    const struct hf_cnode *secs = hf_cnode_get(sig, "secrets");
    if (secs->nchild == 0) {
        hf_cerr_at(err, c->file, secs->line, secs->col, "source '%s': at least one secret is needed", s->name);
        return -1;
    }
    s->secrets = hf_calloc(secs->nchild, sizeof(*s->secrets));
    for (size_t i = 0; i < secs->nchild; i++) {
        char *v;
        size_t vl;
        if (hf_conf_secret(c->file, &secs->child[i], &v, &vl, err) < 0)
            return -1;
        s->secrets[i].key = (unsigned char *)v;
        s->secrets[i].len = vl;
        s->secrets[i].id = atomic_fetch_add(&secret_ids, 1) + 1;
        s->nsecrets++;
        if (s->scheme == HF_SIG_STANDARD_WEBHOOKS && decode_whsec(c->file, &secs->child[i], &s->secrets[i], err) < 0)
            return -1;
    }

    const struct hf_cnode *dd = hf_cnode_get(n, "dedup");
    /* profiles know their idempotency key, and Standard Webhooks has
     * webhook-id: dedup is on by default for both (replay protection) */
    s->dedup =
        dd ? hf_conf_bool(dd, dedup_opts, "enabled") : (s->profile != NULL || s->scheme == HF_SIG_STANDARD_WEBHOOKS);
    s->dedup_window_ms = hf_conf_num(dd, dedup_opts, "window");
    s->dedup_key = dupopt(dd, dedup_opts, "key");
    if (build_dedup_store(c, dd, s, err) < 0)
        return -1;

    const struct hf_cnode *sm = hf_cnode_get(n, "severity_map");
    if (sm) {
        s->sevmap = hf_calloc(sm->nchild, sizeof(*s->sevmap));
        for (size_t i = 0; i < sm->nchild; i++) {
            if (hf_severity_parse(sm->child[i].value, &s->sevmap[i].sev) < 0) {
                hf_cerr_at(err, c->file, sm->child[i].line, sm->child[i].col,
                           "source '%s': severity '%s' is not valid (valid: info, warning, high, critical)", s->name,
                           hf_cnode_shown(&sm->child[i]));
                return -1;
            }
            s->sevmap[i].event_glob = hf_strdup(sm->child[i].key);
            s->nsevmap++;
        }
    }
    return 0;
}

static int build_rule(struct hf_config *c, const struct hf_cnode *n, struct hf_metric_rule *r, struct hf_cerr *err)
{
    r->name = dupopt(n, metric_opts, "name");
    const char *t = hf_conf_str(n, metric_opts, "type");
    r->type = !strcmp(t, "count") ? HF_MT_COUNT : !strcmp(t, "gauge") ? HF_MT_GAUGE : HF_MT_DIST;
    r->value = dupopt(n, metric_opts, "value");
    if (r->type != HF_MT_COUNT && (!r->value || !r->value[0])) {
        const struct hf_cnode *at = hf_cnode_get(n, "value");
        at = at ? at : hf_cnode_get(n, "type");
        hf_cerr_at(err, c->file, at->line, at->col,
                   "metric '%s': a %s needs 'value' (a field, e.g. value: decision.risk_score); only a count may omit "
                   "it",
                   r->name, t);
        return -1;
    }
    r->only_source = dupopt(n, metric_opts, "source");
    r->events = strlist(hf_cnode_get(n, "events"), &r->nevents);
    const struct hf_cnode *tags = hf_cnode_get(n, "tags");
    if (tags) {
        r->tags = hf_calloc(tags->nchild, sizeof(*r->tags));
        for (size_t i = 0; i < tags->nchild; i++) {
            const char *v = tags->child[i].value;
            const char *eq = strchr(v, '=');
            if (!v[0] || eq == v || (eq && !eq[1])) {
                hf_cerr_at(err, c->file, tags->child[i].line, tags->child[i].col,
                           "metric '%s': '%s' is not a valid tag (valid: FIELD, or NAME=FIELD such as "
                           "outcome=decision.outcome)",
                           r->name, hf_cnode_shown(&tags->child[i]));
                return -1;
            }
            r->tags[i].name = eq ? hf_strndup(v, (size_t)(eq - v)) : hf_strdup(v);
            r->tags[i].field = hf_strdup(eq ? eq + 1 : v);
            r->ntags++;
        }
    }
    return 0;
}

static const char *const op_names[] = {"gt", "ge", "lt", "le", "eq", "ne", "in", "not_in"};

static int build_match(const char *file, const struct hf_cnode *m, struct hf_filter *f, struct hf_cerr *err)
{
    if (m->kind != HF_CN_MAP) {
        hf_cerr_at(err, file, m->line, m->col, "filter.match must map field names to {op: value}");
        return -1;
    }
    size_t total = 0;
    for (size_t i = 0; i < m->nchild; i++)
        total += m->child[i].nchild;
    f->matches = hf_calloc(total ? total : 1, sizeof(*f->matches));
    for (size_t i = 0; i < m->nchild; i++) {
        const struct hf_cnode *fc = &m->child[i];
        if (fc->kind != HF_CN_MAP || fc->nchild == 0) {
            hf_cerr_at(err, file, fc->line, fc->col, "filter.match.%s must be a map such as {gt: 0.8} or {in: [a, b]}",
                       fc->key);
            return -1;
        }
        for (size_t j = 0; j < fc->nchild; j++) {
            const struct hf_cnode *oc = &fc->child[j];
            struct hf_match *mt = &f->matches[f->nmatches];
            int op = -1;
            for (int k = 0; k < 8; k++)
                if (!strcmp(oc->key, op_names[k]))
                    op = k;
            if (op < 0) {
                hf_cerr_at(err, file, oc->key_line, oc->key_col,
                           "unknown comparison '%s' (valid: gt, ge, lt, le, eq, ne, in, not_in)", oc->key);
                return -1;
            }
            mt->field = hf_strdup(fc->key);
            mt->op = (enum hf_match_op)op;
            f->nmatches++;
            if (op == HF_OP_IN || op == HF_OP_NOT_IN) {
                if (oc->kind != HF_CN_SEQ) {
                    hf_cerr_at(err, file, oc->line, oc->col, "'%s' takes a list, e.g. [blocked, error]", oc->key);
                    return -1;
                }
                mt->set = strlist(oc, &mt->nset);
                continue;
            }
            if (oc->kind != HF_CN_SCALAR) {
                hf_cerr_at(err, file, oc->line, oc->col, "'%s' takes a single value", oc->key);
                return -1;
            }
            char *end;
            mt->num = strtod(oc->value, &end);
            mt->numeric = !oc->quoted && *oc->value && !*end;
            if (!mt->numeric && op <= HF_OP_LE) {
                hf_cerr_at(err, file, oc->line, oc->col, "'%s' compares numbers; '%s' is not a number", oc->key,
                           hf_cnode_shown(oc));
                return -1;
            }
            mt->str = hf_strdup(oc->value);
        }
    }
    return 0;
}

int hf_filter_build(const char *file, const struct hf_cnode *fl, struct hf_filter *f, struct hf_cerr *err)
{
    f->events = strlist(hf_cnode_get(fl, "events"), &f->nevents);
    const char *sev = hf_conf_str(fl, hf_filter_options, "severity_at_least");
    if (sev) {
        f->has_sev = true;
        hf_severity_parse(sev, &f->sev_at_least);
    }
    const struct hf_cnode *m = hf_cnode_get(fl, "match");
    return m ? build_match(file, m, f, err) : 0;
}

static char *fingerprint(const struct hf_cnode *n)
{
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_puts(&b, "");
    struct {
        const struct hf_cnode *n;
        size_t i;
    } stack[40];
    int sp = 0;
    stack[0].n = n;
    stack[0].i = 0;
    /* iterative walk, so a deep tree cannot overflow the C stack */
    while (sp >= 0) {
        const struct hf_cnode *cur = stack[sp].n;
        if (stack[sp].i == 0) {
            if (cur->key)
                hf_buf_printf(&b, "%s=", cur->key);
            if (cur->kind == HF_CN_SCALAR)
                hf_buf_printf(&b, "%s;", cur->value);
            else
                hf_buf_putc(&b, cur->kind == HF_CN_MAP ? '{' : '[');
        }
        if (cur->kind != HF_CN_SCALAR && stack[sp].i < cur->nchild && sp < 39) {
            const struct hf_cnode *ch = &cur->child[stack[sp].i++];
            sp++;
            stack[sp].n = ch;
            stack[sp].i = 0;
            continue;
        }
        if (cur->kind != HF_CN_SCALAR)
            hf_buf_putc(&b, cur->kind == HF_CN_MAP ? '}' : ']');
        sp--;
    }
    return b.data;
}

/* A sink entry's shape: a name, a type this build has, and the common
 * options plus the plugin's own. Returns its plugin, or NULL with every
 * error kept. */
static const struct hf_sink_plugin *sink_shape(const struct hf_config *c, const struct hf_cnode *n, struct hf_cerr *err)
{
    const struct hf_cnode *tn = hf_cnode_get(n, "type");
    const struct hf_cnode *nn = hf_cnode_get(n, "name");
    if (n->kind != HF_CN_MAP || !tn || !nn || tn->kind != HF_CN_SCALAR || nn->kind != HF_CN_SCALAR) {
        hf_cerr_at(err, c->file, n->line, n->col,
                   "each sink needs a name and a type (e.g. {name: siem, type: splunk_hec, ...})");
        hf_cerr_keep(err);
        return NULL;
    }
    const struct hf_sink_plugin *plugin = hf_plugin_find(tn->value);
    if (!plugin) {
        char names[256] = "";
        size_t off = 0;
        for (int i = 0; hf_plugins[i] && off < sizeof(names); i++)
            off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "", hf_plugins[i]->name);
        hf_cerr_at(err, c->file, tn->line, tn->col, "sink '%s': unknown type '%s' (available in this build: %s)",
                   nn->value, hf_cnode_shown(tn), names);
        hf_cerr_keep(err);
        return NULL;
    }
    size_t nc = 0, np = 0;
    while (sink_common_opts[nc].name)
        nc++;
    while (plugin->options && plugin->options[np].name)
        np++;
    struct hf_option *merged = hf_calloc(nc + np + 1, sizeof(*merged));
    memcpy(merged, sink_common_opts, nc * sizeof(*merged));
    if (np)
        memcpy(merged + nc, plugin->options, np * sizeof(*merged));
    char what[200];
    snprintf(what, sizeof(what), "sink '%s' (%s)", nn->value, plugin->name);
    int rc = hf_cnode_validate(c->file, n, merged, what, err);
    free(merged);
    return rc < 0 ? NULL : plugin;
}

/* Every sink entry's shape, past the first with errors. */
static int sinks_shape(const struct hf_config *c, struct hf_cerr *err)
{
    const struct hf_cnode *sinks = c->root ? hf_cnode_get(c->root, "sinks") : NULL;
    int rc = 0;
    for (size_t i = 0; sinks && sinks->kind == HF_CN_SEQ && i < sinks->nchild; i++)
        if (!sink_shape(c, &sinks->child[i], err))
            rc = -1;
    return rc;
}

static int build_sink(struct hf_config *c, const struct hf_cnode *n, struct hf_sink_conf *s, struct hf_cerr *err)
{
    s->cfg = c;
    /* its shape (a name, a known type, valid options) passed sinks_shape */
    s->name = hf_strdup(hf_cnode_get(n, "name")->value);
    s->plugin = hf_plugin_find(hf_cnode_get(n, "type")->value);
    char what[200];
    snprintf(what, sizeof(what), "sink '%s' (%s)", s->name, s->plugin->name);
    s->node = n;
    const char *takes = hf_conf_str(n, sink_common_opts, "takes");
    s->takes = !takes                      ? s->plugin->default_takes
               : !strcmp(takes, "records") ? HF_TAKES_RECORDS
               : !strcmp(takes, "metrics") ? HF_TAKES_METRICS
                                           : HF_TAKES_BOTH;
    const struct hf_cnode *fl = hf_cnode_get(n, "filter");
    if (fl && hf_filter_build(c->file, fl, &s->filter, err) < 0)
        return -1;
    const struct hf_cnode *b = hf_cnode_get(n, "batch");
    s->batch_max_events = hf_conf_num(b, batch_opts, "max_events");
    s->batch_max_bytes = hf_conf_num(b, batch_opts, "max_bytes");
    s->flush_ms = hf_conf_num(b, batch_opts, "flush_interval");
    const struct hf_cnode *r = hf_cnode_get(n, "retry");
    s->retry_initial_ms = hf_conf_num(r, retry_opts, "initial");
    s->retry_max_ms = hf_conf_num(r, retry_opts, "max");
    s->give_up_ms = hf_conf_num(r, retry_opts, "give_up_after");
    if (s->retry_max_ms < s->retry_initial_ms)
        s->retry_max_ms = s->retry_initial_ms;
    s->queue_max_events = hf_conf_num(hf_cnode_get(n, "queue"), queue_opts, "max_events");
    s->fingerprint = fingerprint(n);
    if (s->plugin->conf_size) {
        s->plugin_conf = hf_calloc(1, s->plugin->conf_size);
        if (hf_opt_bind(c->file, n, s->plugin->options, s->plugin_conf, err) < 0)
            return -1;
        const struct hf_check ck = {.file = c->file, .node = n, .what = what, .err = err, .takes = s->takes};
        if (s->plugin->check && s->plugin->check(s->plugin_conf, &ck) < 0)
            return -1;
    }
    return 0;
}

/* Keeps the error just reported in err's list; returns -1 for the caller. */
static int keep_error(struct hf_cerr *err)
{
    hf_cerr_keep(err);
    return -1;
}

static int check_address(struct hf_config *c, const struct hf_cnode *map, const char *key, struct hf_cerr *err)
{
    const struct hf_cnode *n = hf_cnode_get(map, key);
    char h[256], p[16];
    if (n && hf_split_hostport(n->value, h, sizeof(h), p, sizeof(p)) < 0) {
        hf_cerr_at(err, c->file, n->line, n->col, "'%s' must be host:port, e.g. 127.0.0.1:8080 or [::]:8443",
                   hf_cnode_shown(n));
        return -1;
    }
    return 0;
}

/* listen:, admin: and storage:; each error kept, past the first. */
static int build_server(struct hf_config *c, struct hf_cerr *err)
{
    int rc = 0;
    const struct hf_cnode *l = hf_cnode_get(c->root, "listen");
    if (check_address(c, l, "address", err) < 0)
        rc = keep_error(err);
    c->listen_address = dupopt(l, listen_opts, "address");
    const struct hf_check ck = {.file = c->file, .node = l, .what = "listen", .err = err};
    if (l &&
        hf_check_tls_server(&ck, hf_conf_str(l, listen_opts, "tls.cert"), hf_conf_str(l, listen_opts, "tls.key")) < 0)
        rc = keep_error(err);
    c->tls_cert = hf_strdup(hf_conf_str(l, listen_opts, "tls.cert"));
    c->tls_key = hf_strdup(hf_conf_str(l, listen_opts, "tls.key"));
    c->max_body = hf_conf_num(l, listen_opts, "max_body");
    c->max_header = hf_conf_num(l, listen_opts, "max_header");
    c->max_connections = hf_conf_num(l, listen_opts, "max_connections");
    c->read_timeout_ms = hf_conf_num(l, listen_opts, "read_timeout");
    const char *th = hf_conf_str(l, listen_opts, "threads");
    c->threads = strcmp(th, "auto") ? (int)strtol(th, NULL, 10) : 0;

    const struct hf_cnode *a = hf_cnode_get(c->root, "admin");
    if (a) {
        if (check_address(c, a, "address", err) < 0)
            rc = keep_error(err);
        c->admin_address = dupopt(a, admin_opts, "address");
    }
    const struct hf_cnode *st = hf_cnode_get(c->root, "storage");
    c->storage_mode = !strcmp(hf_conf_str(st, storage_opts, "mode"), "disk") ? HF_STORAGE_DISK : HF_STORAGE_MEMORY;
    c->storage_path = dupopt(st, storage_opts, "path");
    c->storage_max_size = hf_conf_num(st, storage_opts, "max_size");
    return rc;
}

/* Each source and metric rule; a source or rule stops at its first error,
 * and the next one is still checked. */
static int build_sources(struct hf_config *c, struct hf_cerr *err)
{
    int rc = 0;
    const struct hf_cnode *srcs = hf_cnode_get(c->root, "sources");
    c->sources = hf_calloc(srcs->nchild, sizeof(*c->sources));
    for (size_t i = 0; i < srcs->nchild; i++) {
        struct hf_source *s = &c->sources[i];
        c->nsources++;
        s->index = (int)i;
        if (build_source(c, &srcs->child[i], s, err) < 0) {
            rc = keep_error(err);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const struct hf_cnode *pn = hf_cnode_get(&srcs->child[i], "path");
            if (!strcmp(c->sources[j].name, s->name) || !strcmp(c->sources[j].path, s->path)) {
                hf_cerr_at(err, c->file, pn->line, pn->col, "source '%s' repeats the name or path of source '%s'",
                           s->name, c->sources[j].name);
                rc = keep_error(err);
                break;
            }
        }
    }
    const struct hf_cnode *rules = hf_cnode_get(c->root, "metrics");
    if (rules) {
        c->rules = hf_calloc(rules->nchild, sizeof(*c->rules));
        for (size_t i = 0; i < rules->nchild; i++) {
            c->nrules++;
            if (build_rule(c, &rules->child[i], &c->rules[i], err) < 0)
                rc = keep_error(err);
        }
    }
    return rc;
}

/* Each sink; one stops at its first error, the next is still checked. */
static int build_sinks(struct hf_config *c, struct hf_cerr *err)
{
    int rc = 0;
    const struct hf_cnode *sinks = hf_cnode_get(c->root, "sinks");
    if (sinks->kind != HF_CN_SEQ) {
        hf_cerr_at(err, c->file, sinks->line, sinks->col, "'sinks' must be a list of sinks");
        return keep_error(err);
    }
    c->sinks = hf_calloc(sinks->nchild, sizeof(*c->sinks));
    for (size_t i = 0; i < sinks->nchild; i++) {
        c->nsinks++;
        if (build_sink(c, &sinks->child[i], &c->sinks[i], err) < 0) {
            rc = keep_error(err);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->sinks[j].name, c->sinks[i].name)) {
                const struct hf_cnode *nn = hf_cnode_get(&sinks->child[i], "name");
                hf_cerr_at(err, c->file, nn->line, nn->col, "sink name '%s' is used twice", c->sinks[i].name);
                rc = keep_error(err);
                break;
            }
    }
    return rc;
}

struct hf_config *hf_config_load(const char *path, struct hf_cerr *err)
{
    struct hf_config *c = hf_calloc(1, sizeof(*c));
    atomic_init(&c->refs, 1);
    c->file = hf_strdup(path);
    err->n = 0; /* a caller may pass one err to several loads */
    err->msg[0] = '\0';
    c->root = hf_cnode_load(path, err);
    /* the file's shape first, every error of it: the top, then each sink
     * (its plugin's options); the checks that need a sound shape after */
    bool shape = c->root && hf_cnode_validate(path, c->root, top_opts, "configuration", err) == 0;
    shape = c->root && sinks_shape(c, err) == 0 && shape;
    bool built = shape;
    if (shape) {
        /* every section, even past one with errors: each keeps its own */
        built = build_server(c, err) == 0;
        built = build_sources(c, err) == 0 && built;
        built = build_sinks(c, err) == 0 && built;
    }
    if (!built) {
        /* the file's name stays; what follows quotes no expanded text */
        if (err->n == 0)
            hf_cerr_keep(err); /* the loader's one error (the YAML itself) */
        for (int i = 0; i < err->n && i < HF_CERR_KEEP; i++) {
            char *m = err->list[i];
            size_t skip = strncmp(m, path, strlen(path)) ? 0 : strlen(path);
            hf_cnode_scrub(c->root, false, m + skip, sizeof(err->list[i]) - skip);
        }
        memcpy(err->msg, err->list[0], sizeof(err->msg));
        hf_config_free(c);
        return NULL;
    }
    return c;
}

void hf_filter_free(struct hf_filter *f)
{
    free_strv(f->events, f->nevents);
    for (size_t i = 0; i < f->nmatches; i++) {
        free(f->matches[i].field);
        free(f->matches[i].str);
        free_strv(f->matches[i].set, f->matches[i].nset);
    }
    free(f->matches);
}

void hf_config_ref(struct hf_config *c) { atomic_fetch_add(&c->refs, 1); }

void hf_config_free(struct hf_config *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; i < c->nsources; i++) {
        struct hf_source *s = &c->sources[i];
        free(s->name);
        free(s->path);
        free(s->event_field);
        free(s->id_field);
        free(s->time_field);
        free(s->header);
        free(s->embedded);
        free(s->dedup_key);
        hf_redis_conf_free(s->dedup_redis);
        for (size_t j = 0; j < s->nsecrets; j++) {
            explicit_bzero(s->secrets[j].key, s->secrets[j].len);
            free(s->secrets[j].key);
        }
        free(s->secrets);
        for (size_t j = 0; j < s->nsevmap; j++)
            free(s->sevmap[j].event_glob);
        free(s->sevmap);
    }
    free(c->sources);
    for (size_t i = 0; i < c->nrules; i++) {
        struct hf_metric_rule *r = &c->rules[i];
        free(r->name);
        free(r->value);
        free(r->only_source);
        free_strv(r->events, r->nevents);
        for (size_t j = 0; j < r->ntags; j++) {
            free(r->tags[j].name);
            free(r->tags[j].field);
        }
        free(r->tags);
    }
    free(c->rules);
    for (size_t i = 0; i < c->nsinks; i++) {
        free(c->sinks[i].name);
        free(c->sinks[i].fingerprint);
        if (c->sinks[i].plugin_conf) {
            hf_opt_unbind(c->sinks[i].plugin->options, c->sinks[i].plugin_conf);
            free(c->sinks[i].plugin_conf);
        }
        hf_filter_free(&c->sinks[i].filter);
    }
    free(c->sinks);
    free(c->listen_address);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->admin_address);
    free(c->storage_path);
    hf_cnode_free(c->root);
    free(c->file);
    free(c);
}
