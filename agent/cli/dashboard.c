/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd dashboard datadog|splunk|grafana`: prints the shipped dashboards
 * (compiled in from dashboards/) adapted to a configuration, or writes all
 * of a kind's files into a directory. `hookfwd dashboard --metrics` lists
 * the metric names the agent emits, from its rule tables and its health
 * table: the dashboards' tests check every query against that list and
 * against what a running agent sends. */
#define _GNU_SOURCE
#include "cli.h"
#include "cnode.h"
#include "dashboard.h"
#include "dedup_redis.h"
#include "health.h"
#include "hf_dashboards.h"
#include "plugin.h"
#include "profile.h"
#define set_str hf_dash_set_str

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

static const char *const dist_suffixes[] = {"count", "sum", "min", "max", "avg"};

/* ---- the metrics of a configuration --------------------------------------- */

static const struct hf_metric_rule *rule_named(const struct hf_dash *d, const char *name, size_t len)
{
    size_t np;
    const struct hf_profile *profiles = hf_profile_list(&np);
    for (size_t i = 0; i < np; i++)
        for (size_t r = 0; r < profiles[i].nrules; r++)
            if (strlen(profiles[i].rules[r].name) == len && !memcmp(profiles[i].rules[r].name, name, len))
                return &profiles[i].rules[r];
    for (size_t r = 0; d->cfg && r < d->cfg->nrules; r++)
        if (strlen(d->cfg->rules[r].name) == len && !memcmp(d->cfg->rules[r].name, name, len))
            return &d->cfg->rules[r];
    return NULL;
}

enum hf_dash_metric hf_dash_metric_kind(const struct hf_dash *d, const char *name, size_t len, size_t *base_len)
{
    *base_len = len;
    for (int f = 0; f < HF_H_NFAMILIES; f++) {
        const char *dd = hf_health_families[f].dd;
        if (dd && strlen(dd) == len && !memcmp(dd, name, len))
            return HF_DASH_AGENT;
    }
    const struct hf_metric_rule *r = rule_named(d, name, len);
    if (r)
        return r->type == HF_MT_DIST ? HF_DASH_DIST : HF_DASH_RULE;
    const char *dot = memrchr(name, '.', len);
    if (dot) {
        size_t bl = (size_t)(dot - name), sl = len - bl - 1;
        r = rule_named(d, name, bl);
        for (size_t i = 0; r && r->type == HF_MT_DIST && i < sizeof(dist_suffixes) / sizeof(*dist_suffixes); i++)
            if (strlen(dist_suffixes[i]) == sl && !memcmp(dist_suffixes[i], dot + 1, sl)) {
                *base_len = bl;
                return HF_DASH_DIST;
            }
    }
    return HF_DASH_UNKNOWN;
}

/* A source of cfg shares its dedup set in Redis (cfg NULL: as shipped,
 * which shows everything). */
static bool uses_store(const struct hf_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->nsources; i++)
        if (cfg->sources[i].dedup_redis)
            return true;
    return !cfg;
}

/* A health family of cfg's agent: the shared dedup store's only when a
 * source uses it. */
static bool family_sent(const struct hf_health_family *fam, const struct hf_config *cfg)
{
    return !fam->store_only || uses_store(cfg);
}

bool hf_dash_metric_sent(const struct hf_dash *d, const char *name, size_t len)
{
    size_t base_len;
    enum hf_dash_metric k = hf_dash_metric_kind(d, name, len, &base_len);
    if (!d->cfg || k == HF_DASH_UNKNOWN)
        return true;
    if (k == HF_DASH_AGENT) {
        for (int f = 0; f < HF_H_NFAMILIES; f++) {
            const char *dd = hf_health_families[f].dd;
            if (dd && strlen(dd) == len && !memcmp(dd, name, len))
                return d->agent_metrics && family_sent(&hf_health_families[f], d->cfg);
        }
    }
    for (size_t r = 0; r < d->cfg->nrules; r++)
        if (strlen(d->cfg->rules[r].name) == base_len && !memcmp(d->cfg->rules[r].name, name, base_len))
            return true;
    for (size_t i = 0; i < d->cfg->nsources; i++) {
        const struct hf_profile *p = d->cfg->sources[i].profile;
        for (size_t r = 0; p && r < p->nrules; r++)
            if (strlen(p->rules[r].name) == base_len && !memcmp(p->rules[r].name, name, base_len))
                return true;
    }
    return false;
}

/* The datadog sink's name cleaning, for a prefix: [A-Za-z0-9_.], one '_'
 * per run of anything else, no leading non-letter, no trailing dot. */
static void clean_prefix(const char *in, char *out, size_t cap)
{
    size_t l = 0;
    for (const char *p = in; *p && l + 1 < cap; p++) {
        char c = *p;
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (l && ((c >= '0' && c <= '9') || c == '_' || c == '.'));
        if (ok)
            out[l++] = c;
        else if (l && out[l - 1] != '_')
            out[l++] = '_';
    }
    while (l && (out[l - 1] == '.' || out[l - 1] == '_'))
        l--;
    out[l] = '\0';
}

static bool sink_is(const struct hf_sink_conf *s, const char *type)
{
    return s->plugin && !strcmp(s->plugin->name, type);
}

static const char *sink_opt(const struct hf_sink_conf *s, const char *name)
{
    return hf_conf_str(s->node, s->plugin->options, name);
}

static void add_sourcetype(struct hf_dash *d, const char *st)
{
    for (size_t i = 0; i < d->nsourcetypes; i++)
        if (!strcmp(d->sourcetypes[i], st))
            return;
    d->sourcetypes = hf_realloc(d->sourcetypes, (d->nsourcetypes + 1) * sizeof(*d->sourcetypes));
    d->sourcetypes[d->nsourcetypes++] = hf_strdup(st);
}

static void dash_from_config(struct hf_dash *d, const struct hf_config *cfg)
{
    memset(d, 0, sizeof(*d));
    d->cfg = cfg;
    snprintf(d->index_clause, sizeof(d->index_clause), "index=main");
    snprintf(d->sourcetype_clause, sizeof(d->sourcetype_clause), "sourcetype=\"hookfwd:*\"");
    if (!cfg) {
        d->agent_metrics = true;
        return;
    }
    const struct hf_sink_conf *dd = NULL, *dsd = NULL;
    struct hf_buf idx, st;
    hf_buf_init(&idx, sizeof(d->index_clause) - 1);
    hf_buf_init(&st, sizeof(d->sourcetype_clause) - 1);
    size_t nidx = 0, nst = 0;
    bool default_st = false, any_splunk = false;
    for (size_t i = 0; i < cfg->nsinks; i++) {
        const struct hf_sink_conf *s = &cfg->sinks[i];
        if (sink_is(s, "datadog") && !dd)
            dd = s;
        if (sink_is(s, "dogstatsd") && !dsd)
            dsd = s;
        if (sink_is(s, "datadog") && hf_conf_bool(s->node, s->plugin->options, "agent_metrics"))
            d->agent_metrics = true;
        if (!sink_is(s, "splunk_hec"))
            continue;
        any_splunk = true;
        const char *index = sink_opt(s, "index"), *sourcetype = sink_opt(s, "sourcetype");
        if (index && !strstr(idx.data ? idx.data : "", index))
            hf_buf_printf(&idx, "%sindex=%s", nidx++ ? " OR " : "", index);
        if (sourcetype) {
            hf_buf_printf(&st, "%ssourcetype=\"%s\"", nst++ ? " OR " : "", sourcetype);
            add_sourcetype(d, sourcetype);
        } else {
            default_st = true;
        }
    }
    if (default_st || !any_splunk) {
        hf_buf_printf(&st, "%ssourcetype=\"hookfwd:*\"", nst++ ? " OR " : "");
        for (size_t i = 0; i < cfg->nsources; i++) {
            char name[256];
            snprintf(name, sizeof(name), "hookfwd:%s", cfg->sources[i].name);
            add_sourcetype(d, name);
        }
    }
    if (nidx)
        snprintf(d->index_clause, sizeof(d->index_clause), nidx > 1 ? "(%s)" : "%s", idx.data);
    if (nst)
        snprintf(d->sourcetype_clause, sizeof(d->sourcetype_clause), nst > 1 ? "(%s)" : "%s", st.data);
    hf_buf_free(&idx);
    hf_buf_free(&st);
    const struct hf_sink_conf *m = dd ? dd : dsd;
    d->dogstatsd = !dd && dsd;
    if (m && sink_opt(m, "prefix"))
        clean_prefix(sink_opt(m, "prefix"), d->prefix, sizeof(d->prefix));
}

static void dash_free(struct hf_dash *d)
{
    for (size_t i = 0; i < d->nsourcetypes; i++)
        free(d->sourcetypes[i]);
    free(d->sourcetypes);
}

/* the title of the shipped Grafana dashboard's row of the shared dedup store */
#define GRAFANA_STORE_ROW "Shared dedup (Redis)"

/* ---- --metrics -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct lines {
    char **v;
    size_t n;
};

static void line_add(struct lines *l, const char *kind, const char *prefix, const char *name, const char *suffix,
                     const char *type, const char *tags)
{
    char *s;
    if (asprintf(&s, "%s\t%s%s%s%s\t%s\t%s", kind, prefix, prefix[0] ? "." : "", name, suffix, type, tags) < 0)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) {
            free(s);
            return;
        }
    l->v = hf_realloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = s;
}

/* A rule's tag keys, sorted, with source and the sink's own tags. */
static void rule_tags(const struct hf_metric_rule *r, const struct hf_cnode *sink_tags, char *out, size_t cap)
{
    const char *keys[80];
    char sk[16][64];
    size_t n = 0;
    keys[n++] = "source";
    for (size_t i = 0; i < r->ntags && n < 60; i++)
        keys[n++] = r->tags[i].name;
    if (r->member_tag)
        keys[n++] = r->member_tag;
    for (size_t i = 0; sink_tags && i < sink_tags->nchild && i < 16; i++) {
        const char *t = sink_tags->child[i].value;
        size_t kl = strcspn(t, ":");
        snprintf(sk[i], sizeof(sk[i]), "%.*s", (int)kl, t);
        for (char *p = sk[i]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        keys[n++] = sk[i];
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    size_t l = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!i || strcmp(keys[i], keys[i - 1]))
            l += (size_t)snprintf(out + l, l < cap ? cap - l : 0, "%s%s", l ? "," : "", keys[i]);
}

static void rule_lines(struct lines *l, const struct hf_metric_rule *r, bool dsd, const char *prefix,
                       const struct hf_cnode *sink_tags)
{
    char tags[512];
    rule_tags(r, sink_tags, tags, sizeof(tags));
    const char *kind = dsd ? "dogstatsd" : "datadog";
    if (r->type == HF_MT_DIST && dsd) {
        line_add(l, kind, prefix, r->name, "", "distribution", tags);
    } else if (r->type == HF_MT_DIST) {
        for (size_t i = 0; i < sizeof(dist_suffixes) / sizeof(*dist_suffixes); i++) {
            char suffix[16];
            snprintf(suffix, sizeof(suffix), ".%s", dist_suffixes[i]);
            line_add(l, kind, prefix, r->name, suffix, i == 0 ? "count" : "gauge", tags);
        }
    } else {
        line_add(l, kind, prefix, r->name, "", r->type == HF_MT_COUNT ? "count" : "gauge", tags);
    }
}

static void sink_lines(struct lines *l, const struct hf_config *cfg, bool dsd, const char *prefix,
                       const struct hf_cnode *sink_tags, bool agent)
{
    size_t np;
    const struct hf_profile *profiles = hf_profile_list(&np);
    for (size_t i = 0; i < np; i++) {
        bool used = !cfg;
        for (size_t s = 0; cfg && s < cfg->nsources; s++)
            used |= cfg->sources[s].profile == &profiles[i];
        for (size_t r = 0; used && r < profiles[i].nrules; r++)
            rule_lines(l, &profiles[i].rules[r], dsd, prefix, sink_tags);
    }
    for (size_t r = 0; cfg && r < cfg->nrules; r++)
        rule_lines(l, &cfg->rules[r], dsd, prefix, sink_tags);
    for (int f = 0; agent && f < HF_H_NFAMILIES; f++) {
        const struct hf_health_family *fam = &hf_health_families[f];
        if (!fam->dd || !family_sent(fam, cfg))
            continue;
        struct hf_metric_tag t[2];
        struct hf_metric_rule r = {.name = (char *)fam->dd, .tags = t};
        for (int k = 0; k < 2 && fam->labels[k]; k++)
            t[r.ntags++] = (struct hf_metric_tag){.name = (char *)fam->labels[k]};
        char tags[512];
        rule_tags(&r, sink_tags, tags, sizeof(tags));
        /* the source tag is the health sample's own here */
        const char *keys = tags;
        char own[512] = "";
        size_t ol = 0;
        for (const char *p = keys; *p;) {
            size_t kl = strcspn(p, ",");
            bool mine = kl == 6 && !memcmp(p, "source", 6) && !(fam->labels[0] && !strcmp(fam->labels[0], "source"));
            if (!mine)
                ol += (size_t)snprintf(own + ol, sizeof(own) - ol, "%s%.*s", ol ? "," : "", (int)kl, p);
            p += kl + (p[kl] == ',');
        }
        line_add(l, "datadog", prefix, fam->dd, "", fam->kind == HF_HEALTH_COUNTER ? "count" : "gauge", own);
    }
}

static int print_metrics(const struct hf_config *cfg)
{
    struct lines l = {0};
    char prefix[128];
    for (size_t i = 0; cfg && i < cfg->nsinks; i++) {
        const struct hf_sink_conf *s = &cfg->sinks[i];
        bool dd = sink_is(s, "datadog"), dsd = sink_is(s, "dogstatsd");
        if (!dd && !dsd)
            continue;
        clean_prefix(sink_opt(s, "prefix") ? sink_opt(s, "prefix") : "", prefix, sizeof(prefix));
        sink_lines(&l, cfg, dsd, prefix, hf_cnode_get(s->node, "tags"),
                   dd && hf_conf_bool(s->node, s->plugin->options, "agent_metrics"));
    }
    if (!cfg) {
        sink_lines(&l, NULL, false, "", NULL, true);
        sink_lines(&l, NULL, true, "", NULL, false);
    }
    static const char *const types[] = {"counter", "gauge", "histogram"};
    for (int f = 0; f < HF_H_NFAMILIES; f++) {
        const struct hf_health_family *fam = &hf_health_families[f];
        if (!family_sent(fam, cfg))
            continue;
        char labels[128] = "";
        snprintf(labels, sizeof(labels), "%s%s%s", fam->labels[0] ? fam->labels[0] : "", fam->labels[1] ? "," : "",
                 fam->labels[1] ? fam->labels[1] : "");
        line_add(&l, "prometheus", "", fam->prom, "", types[fam->kind], labels);
    }
    if (uses_store(cfg)) /* the claim round trip, outside the table (per source) */
        line_add(&l, "prometheus", "", HF_STORE_SECONDS, "", "histogram", "source");
    qsort(l.v, l.n, sizeof(*l.v), cmp_str);
    for (size_t i = 0; i < l.n; i++) {
        puts(l.v[i]);
        free(l.v[i]);
    }
    free(l.v);
    return 0;
}

/* ---- Splunk ------------------------------------------------------------------- */

/* macros.conf with the configured index and sourcetypes. */
static void splunk_macros(const struct hf_dash *d, const char *text, struct hf_buf *out)
{
    const char *stanza = "";
    char cur[64] = "";
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (p[0] == '[') {
            snprintf(cur, sizeof(cur), "%.*s", (int)n, p);
            stanza = cur;
        }
        if (!strcmp(stanza, "[hookfwd_index]") && !strncmp(p, "definition =", 12)) {
            hf_buf_printf(out, "definition = %s\n", d->index_clause);
        } else if (!strcmp(stanza, "[hookfwd_events]") && !strncmp(p, "definition =", 12)) {
            hf_buf_printf(out, "definition = `hookfwd_index` %s\n", d->sourcetype_clause);
        } else {
            hf_buf_append(out, p, n);
            hf_buf_putc(out, '\n');
        }
        p += n + (p[n] == '\n');
    }
}

/* props.conf: the shipped stanza once for each sourcetype. */
static void splunk_props(const struct hf_dash *d, const char *text, struct hf_buf *out)
{
    const char *first = strstr(text, "\n[");
    if (!first) {
        hf_buf_puts(out, text);
        return;
    }
    first++;
    hf_buf_append(out, text, (size_t)(first - text));
    const char *body = strchr(first, '\n');
    const char *end = body ? strstr(body, "\n\n") : NULL;
    if (!body)
        return;
    body++;
    size_t blen = end ? (size_t)(end - body) + 1 : strlen(body);
    for (size_t i = 0; i < d->nsourcetypes; i++) {
        hf_buf_printf(out, "%s[%s]\n", i ? "\n" : "", d->sourcetypes[i]);
        for (const char *p = body; p < body + blen;) {
            size_t n = strcspn(p, "\n");
            if (!strncmp(p, "description =", 13))
                hf_buf_printf(out, "description = hookfwd audit records (%s)\n", d->sourcetypes[i]);
            else {
                hf_buf_append(out, p, n);
                hf_buf_putc(out, '\n');
            }
            p += n + 1;
        }
    }
}

/* The definition's source dropdown offers the configured sources; inline,
 * the macros are expanded so that the dashboard works pasted alone. */
static int splunk_view(const struct hf_dash *d, const char *text, const char *macros, bool inline_macros,
                       struct hf_buf *out)
{
    const char *open = strstr(text, "<definition><![CDATA["), *close = open ? strstr(open, "]]></definition>") : NULL;
    if (!close)
        return -1;
    const char *js = open + strlen("<definition><![CDATA[");
    yyjson_doc *idoc = yyjson_read(js, (size_t)(close - js), 0);
    if (!idoc)
        return -1;
    yyjson_mut_doc *doc = yyjson_doc_mut_copy(idoc, NULL);
    yyjson_doc_free(idoc);
    yyjson_mut_val *root = yyjson_mut_doc_get_root(doc);
    yyjson_mut_val *items = yyjson_mut_obj_getn(
        yyjson_mut_obj_get(yyjson_mut_obj_get(yyjson_mut_obj_get(root, "inputs"), "input_source"), "options"), "items",
        5);
    if (yyjson_mut_is_arr(items)) {
        while (yyjson_mut_arr_size(items) > 1)
            yyjson_mut_arr_remove_last(items);
        for (size_t i = 0; i < d->cfg->nsources; i++) {
            yyjson_mut_val *it = yyjson_mut_arr_add_obj(doc, items);
            yyjson_mut_obj_add_strcpy(doc, it, "label", d->cfg->sources[i].name);
            yyjson_mut_obj_add_strcpy(doc, it, "value", d->cfg->sources[i].name);
        }
    }
    yyjson_mut_val *sources = yyjson_mut_obj_get(root, "dataSources");
    yyjson_mut_obj_iter it = yyjson_mut_obj_iter_with(sources);
    yyjson_mut_val *key;
    struct hf_buf q;
    hf_buf_init(&q, 0);
    while (inline_macros && (key = yyjson_mut_obj_iter_next(&it))) {
        yyjson_mut_val *query =
            yyjson_mut_obj_get(yyjson_mut_obj_get(yyjson_mut_obj_iter_get_val(key), "options"), "query");
        if (!yyjson_mut_is_str(query))
            continue;
        /* a macro's definition is on its "definition = " line; macros may
         * use macros, so expand until none is left */
        char *cur = hf_strdup(yyjson_mut_get_str(query));
        for (int depth = 0; depth < 8 && strchr(cur, '`'); depth++) {
            hf_buf_reset(&q);
            for (const char *p = cur; *p;) {
                const char *b = strchr(p, '`'), *e = b ? strchr(b + 1, '`') : NULL;
                if (!e) {
                    hf_buf_puts(&q, p);
                    break;
                }
                hf_buf_append(&q, p, (size_t)(b - p));
                char stanza[96];
                snprintf(stanza, sizeof(stanza), "[%.*s]\n", (int)(e - b - 1), b + 1);
                const char *st = strstr(macros, stanza), *def = st ? strstr(st, "\ndefinition = ") : NULL;
                if (def) {
                    def += strlen("\ndefinition = ");
                    hf_buf_append(&q, def, strcspn(def, "\n"));
                } else {
                    hf_buf_append(&q, b, (size_t)(e - b + 1));
                }
                p = e + 1;
            }
            free(cur);
            cur = hf_strndup(q.data ? q.data : "", q.len);
        }
        set_str(doc, query, cur, strlen(cur));
        free(cur);
    }
    hf_buf_free(&q);
    size_t wlen;
    char *json = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, &wlen);
    yyjson_mut_doc_free(doc);
    if (!json || strstr(json, "]]>")) {
        free(json);
        return -1;
    }
    hf_buf_append(out, text, (size_t)(js - text));
    hf_buf_putc(out, '\n');
    hf_buf_append(out, json, wlen);
    hf_buf_putc(out, '\n');
    hf_buf_puts(out, close);
    free(json);
    return 0;
}

/* ---- Grafana ------------------------------------------------------------------ */

/* The panels of the shared dedup store (a target names HF_STORE_*) and
 * their row, for a configuration where no source uses it. */
static void drop_store_panels(yyjson_mut_val *panels)
{
    for (size_t i = 0; i < yyjson_mut_arr_size(panels);) {
        yyjson_mut_val *p = yyjson_mut_arr_get(panels, i);
        const char *title = yyjson_mut_get_str(yyjson_mut_obj_get(p, "title"));
        bool store = title && !strcmp(title, GRAFANA_STORE_ROW);
        yyjson_mut_val *t, *targets = yyjson_mut_obj_get(p, "targets");
        yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(targets);
        while (!store && (t = yyjson_mut_arr_iter_next(&it))) {
            const char *expr = yyjson_mut_get_str(yyjson_mut_obj_get(t, "expr"));
            store = expr && strstr(expr, HF_STORE_PREFIX);
        }
        if (store)
            yyjson_mut_arr_remove(panels, i);
        else
            i++;
    }
}

/* The source variable starts on the configured sources; the shared dedup
 * row stays only where a source uses Redis. */
static int grafana(const struct hf_dash *d, const char *text, size_t len, struct hf_buf *out)
{
    yyjson_doc *idoc = yyjson_read(text, len, 0);
    if (!idoc)
        return -1;
    yyjson_mut_doc *doc = yyjson_doc_mut_copy(idoc, NULL);
    yyjson_doc_free(idoc);
    yyjson_mut_val *list = yyjson_mut_obj_get(yyjson_mut_obj_get(yyjson_mut_doc_get_root(doc), "templating"), "list");
    yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(list);
    yyjson_mut_val *v;
    while ((v = yyjson_mut_arr_iter_next(&it))) {
        if (!yyjson_mut_equals_str(yyjson_mut_obj_get(v, "name"), "source"))
            continue;
        yyjson_mut_val *cur = yyjson_mut_obj(doc), *t = yyjson_mut_arr(doc), *val = yyjson_mut_arr(doc);
        for (size_t i = 0; i < d->cfg->nsources; i++) {
            yyjson_mut_arr_add_strcpy(doc, t, d->cfg->sources[i].name);
            yyjson_mut_arr_add_strcpy(doc, val, d->cfg->sources[i].name);
        }
        yyjson_mut_obj_add_bool(doc, cur, "selected", true);
        yyjson_mut_obj_add_val(doc, cur, "text", t);
        yyjson_mut_obj_add_val(doc, cur, "value", val);
        yyjson_mut_obj_put(v, yyjson_mut_strcpy(doc, "current"), cur);
    }
    if (!uses_store(d->cfg))
        drop_store_panels(yyjson_mut_obj_get(yyjson_mut_doc_get_root(doc), "panels"));
    size_t wlen;
    char *json = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, &wlen);
    yyjson_mut_doc_free(doc);
    if (!json)
        return -1;
    hf_buf_append(out, json, wlen);
    hf_buf_putc(out, '\n');
    free(json);
    return 0;
}

/* ---- the command ----------------------------------------------------------------- */

static const struct hf_dashboard_file *embedded(const char *path)
{
    for (size_t i = 0; i < hf_dashboard_nfiles; i++)
        if (!strcmp(hf_dashboard_files[i].path, path))
            return &hf_dashboard_files[i];
    return NULL;
}

/* f adapted to d into out; 1: left out; -1: error. */
static int adapt(const struct hf_dash *d, const struct hf_dashboard_file *f, bool inline_macros, struct hf_buf *out)
{
    const char *text = (const char *)f->data;
    const char *base = strrchr(f->path, '/') + 1;
    int rc = 0;
    if (!d->cfg)
        hf_buf_append(out, text, f->len);
    else if (!strncmp(f->path, "datadog/", 8))
        rc = hf_dash_datadog(d, f->path, text, f->len, out);
    else if (!strcmp(base, "macros.conf"))
        splunk_macros(d, text, out);
    else if (!strcmp(base, "props.conf"))
        splunk_props(d, text, out);
    else if (strstr(f->path, "/views/")) {
        struct hf_buf m;
        hf_buf_init(&m, 0);
        splunk_macros(d, (const char *)embedded("splunk/hookfwd_app/default/macros.conf")->data, &m);
        rc = splunk_view(d, text, m.data ? m.data : "", inline_macros, out);
        hf_buf_free(&m);
    } else if (!strncmp(f->path, "grafana/", 8))
        rc = grafana(d, text, f->len, out);
    else
        hf_buf_append(out, text, f->len);
    if (rc < 0)
        fprintf(stderr, "hookfwd: cannot adapt %s\n", f->path);
    return rc;
}

static int write_file(const char *dir, const char *rel, const struct hf_buf *b)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "hookfwd: cannot create %s: %s\n", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (!f || fwrite(b->data ? b->data : "", 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "hookfwd: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}

static const char *main_file(const char *kind)
{
    return !strcmp(kind, "datadog")   ? "datadog/hookfwd-security.json"
           : !strcmp(kind, "splunk")  ? "splunk/hookfwd_app/default/data/ui/views/hookfwd_security.xml"
           : !strcmp(kind, "grafana") ? "grafana/hookfwd-agent.json"
                                      : NULL;
}

int hf_cmd_dashboard(const struct hf_args *a)
{
    struct hf_config *cfg = NULL;
    bool defaulted = !strcmp(a->config, HF_DEFAULT_CONFIG) && access(a->config, F_OK) != 0;
    if (!a->shipped && !defaulted) {
        cfg = hf_cli_load(a->config);
        if (!cfg)
            return 1;
    } else if (!a->shipped && !a->metrics && !a->list) {
        fprintf(stderr, "hookfwd: no %s: the dashboard as shipped (give -c FILE to adapt it)\n", a->config);
    }
    int rc = 0;
    struct hf_dash d;
    dash_from_config(&d, cfg);
    const char *kind = a->pos;
    if (a->metrics) {
        rc = print_metrics(cfg);
        goto out;
    }
    if (!kind || !main_file(kind)) {
        fprintf(stderr, "hookfwd dashboard: say which: datadog, splunk or grafana\n");
        rc = 2;
        goto out;
    }
    size_t klen = strlen(kind);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    for (size_t i = 0; i < hf_dashboard_nfiles; i++) {
        const struct hf_dashboard_file *f = &hf_dashboard_files[i];
        if (strncmp(f->path, kind, klen) || f->path[klen] != '/')
            continue;
        const char *rel = f->path + klen + 1;
        bool wanted = a->list || a->output ? true : a->file ? !strcmp(rel, a->file) : !strcmp(f->path, main_file(kind));
        if (!wanted)
            continue;
        hf_buf_reset(&b);
        /* --list adapts too, so it names the files -o writes: what the
         * configuration leaves out is not listed (stderr says why) */
        int r = adapt(&d, f, !a->output && !a->file, &b);
        if (r < 0) {
            rc = 1;
            break;
        }
        if (r > 0) {
            if (!a->list && !a->output) {
                fprintf(stderr, "hookfwd dashboard: %s is left out for %s (why: above)\n", f->path, cfg->file);
                rc = 1;
                goto done;
            }
            continue;
        }
        if (a->list) {
            printf("%s\n", rel);
            continue;
        }
        if (a->output) {
            if (write_file(a->output, rel, &b) < 0) {
                rc = 1;
                break;
            }
        } else {
            fwrite(b.data ? b.data : "", 1, b.len, stdout);
        }
        if (!a->output)
            goto done;
    }
    if (!a->list && !a->output) {
        fprintf(stderr, "hookfwd dashboard: %s has no file %s (see --list)\n", kind, a->file ? a->file : "");
        rc = 1;
    }
done:
    hf_buf_free(&b);
    if (cfg && !rc && !strcmp(kind, "datadog") && !d.agent_metrics)
        fprintf(stderr, "hookfwd: no datadog sink of %s has agent_metrics: true; the agent's health is left out\n",
                cfg->file);
out:
    dash_free(&d);
    if (cfg)
        hf_config_free(cfg);
    return rc;
}
