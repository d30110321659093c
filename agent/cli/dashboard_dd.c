/* SPDX-License-Identifier: Apache-2.0 */
/* The Datadog dashboard and monitors adapted to a configuration: metric
 * names with the sink's prefix; through DogStatsD, distributions queried as
 * such (avg:, max:, and their p50 and p95 beside the average) instead of the
 * .avg/.max series the datadog sink sends; the source template variable
 * offering the configured sources; no widget or monitor of metrics the
 * configuration does not send (the agent's own health without
 * agent_metrics, a profile no source uses). */
#define _GNU_SOURCE
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

void hf_dash_set_str(struct yyjson_mut_doc *doc, struct yyjson_mut_val *v, const char *s, size_t len)
{
    yyjson_mut_val *copy = yyjson_mut_strncpy(doc, s, len);
    yyjson_mut_set_strn(v, yyjson_mut_get_str(copy), len);
}

#define set_str hf_dash_set_str

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static bool agg_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Rewrites every "AGG:METRIC{" of a metric query. */
static void rewrite_query(const struct hf_dash *d, const char *q, struct hf_buf *out)
{
    size_t n = strlen(q), copied = 0;
    for (size_t j = 0; j < n; j++) {
        if (q[j] != '{')
            continue;
        size_t ns = j;
        while (ns > 0 && name_char(q[ns - 1]))
            ns--;
        if (ns == j || ns == 0 || q[ns - 1] != ':')
            continue;
        size_t as = ns - 1;
        while (as > 0 && agg_char(q[as - 1]))
            as--;
        size_t base_len;
        enum hf_dash_metric k = hf_dash_metric_kind(d, q + ns, j - ns, &base_len);
        if (k == HF_DASH_UNKNOWN)
            continue;
        hf_buf_append(out, q + copied, as - copied);
        if (k == HF_DASH_DIST && d->dogstatsd && base_len < j - ns) {
            /* omega.decision.risk_score.max -> max:omega.decision.risk_score */
            hf_buf_append(out, q + ns + base_len + 1, j - ns - base_len - 1);
            hf_buf_putc(out, ':');
        } else {
            hf_buf_append(out, q + as, ns - as);
            base_len = j - ns;
        }
        if (d->prefix[0])
            hf_buf_printf(out, "%s.", d->prefix);
        hf_buf_append(out, q + ns, base_len);
        copied = j;
    }
    hf_buf_append(out, q + copied, n - copied);
}

/* Whether v queries a metric the configuration does not send. */
static bool queries_unsent(yyjson_mut_val *v, const struct hf_dash *d)
{
    if (yyjson_mut_is_obj(v)) {
        yyjson_mut_obj_iter it = yyjson_mut_obj_iter_with(v);
        yyjson_mut_val *key;
        while ((key = yyjson_mut_obj_iter_next(&it))) {
            yyjson_mut_val *val = yyjson_mut_obj_iter_get_val(key);
            if (yyjson_mut_is_str(val) && (yyjson_mut_equals_str(key, "query") || yyjson_mut_equals_str(key, "q"))) {
                const char *q = yyjson_mut_get_str(val);
                for (const char *p = strchr(q, '{'); p; p = strchr(p + 1, '{')) {
                    const char *s = p;
                    while (s > q && name_char(s[-1]))
                        s--;
                    if (s < p && !hf_dash_metric_sent(d, s, (size_t)(p - s)))
                        return true;
                }
            } else if (queries_unsent(val, d)) {
                return true;
            }
        }
    } else if (yyjson_mut_is_arr(v)) {
        yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(v);
        yyjson_mut_val *e;
        while ((e = yyjson_mut_arr_iter_next(&it)))
            if (queries_unsent(e, d))
                return true;
    }
    return false;
}

/* Drops the widgets that query metrics the configuration does not send,
 * and groups left empty. */
static void drop_unsent_widgets(yyjson_mut_val *widgets, const struct hf_dash *d)
{
    for (size_t i = yyjson_mut_arr_size(widgets); i > 0; i--) {
        yyjson_mut_val *w = yyjson_mut_arr_get(widgets, i - 1);
        yyjson_mut_val *def = yyjson_mut_obj_get(w, "definition");
        yyjson_mut_val *inner = yyjson_mut_obj_get(def, "widgets");
        if (inner) {
            drop_unsent_widgets(inner, d);
            if (yyjson_mut_arr_size(inner) == 0)
                yyjson_mut_arr_remove(widgets, i - 1);
        } else if (queries_unsent(w, d)) {
            yyjson_mut_arr_remove(widgets, i - 1);
        }
    }
}

/* Through DogStatsD a distribution has percentiles: beside each avg: query
 * of one, its p50: and p95:. */
static void add_percentiles(yyjson_mut_doc *doc, yyjson_mut_val *req, const struct hf_dash *d)
{
    yyjson_mut_val *queries = yyjson_mut_obj_get(req, "queries");
    yyjson_mut_val *formulas = yyjson_mut_obj_get(req, "formulas");
    if (!yyjson_mut_is_arr(queries) || !yyjson_mut_is_arr(formulas))
        return;
    size_t nq = yyjson_mut_arr_size(queries);
    for (size_t i = 0; i < nq; i++) {
        yyjson_mut_val *q = yyjson_mut_arr_get(queries, i);
        const char *text = yyjson_mut_get_str(yyjson_mut_obj_get(q, "query"));
        const char *name = yyjson_mut_get_str(yyjson_mut_obj_get(q, "name"));
        if (!text || !name || strncmp(text, "avg:", 4))
            continue;
        const char *brace = strchr(text, '{');
        const char *m = text + 4;
        if (d->prefix[0] && brace && (size_t)(brace - m) > strlen(d->prefix))
            m += strlen(d->prefix) + 1;
        size_t bl;
        if (!brace || hf_dash_metric_kind(d, m, (size_t)(brace - m), &bl) != HF_DASH_DIST)
            continue;
        static const char *const pcts[] = {"p50", "p95"};
        for (int k = 0; k < 2; k++) {
            char qname[128], qtext[1024];
            snprintf(qname, sizeof(qname), "%s_%s", name, pcts[k]);
            snprintf(qtext, sizeof(qtext), "%s:%s", pcts[k], text + 4);
            yyjson_mut_val *nqv = yyjson_mut_obj(doc);
            yyjson_mut_obj_add_str(doc, nqv, "data_source", "metrics");
            yyjson_mut_obj_add_strcpy(doc, nqv, "name", qname);
            yyjson_mut_obj_add_strcpy(doc, nqv, "query", qtext);
            yyjson_mut_arr_append(queries, nqv);
            yyjson_mut_val *f = yyjson_mut_obj(doc);
            yyjson_mut_obj_add_strcpy(doc, f, "formula", qname);
            yyjson_mut_obj_add_str(doc, f, "alias", pcts[k]);
            yyjson_mut_arr_append(formulas, f);
        }
    }
}

static void rewrite_all(yyjson_mut_doc *doc, yyjson_mut_val *v, const struct hf_dash *d, struct hf_buf *scratch)
{
    if (yyjson_mut_is_obj(v)) {
        yyjson_mut_obj_iter it = yyjson_mut_obj_iter_with(v);
        yyjson_mut_val *key;
        while ((key = yyjson_mut_obj_iter_next(&it))) {
            yyjson_mut_val *val = yyjson_mut_obj_iter_get_val(key);
            if (yyjson_mut_is_str(val) && (yyjson_mut_equals_str(key, "query") || yyjson_mut_equals_str(key, "q"))) {
                hf_buf_reset(scratch);
                rewrite_query(d, yyjson_mut_get_str(val), scratch);
                set_str(doc, val, scratch->data ? scratch->data : "", scratch->len);
            } else {
                rewrite_all(doc, val, d, scratch);
            }
        }
        if (d->dogstatsd && yyjson_mut_obj_get(v, "queries"))
            add_percentiles(doc, v, d);
    } else if (yyjson_mut_is_arr(v)) {
        yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(v);
        yyjson_mut_val *e;
        while ((e = yyjson_mut_arr_iter_next(&it)))
            rewrite_all(doc, e, d, scratch);
    }
}

static bool mentions_var(yyjson_mut_val *v, const char *var)
{
    if (yyjson_mut_is_str(v)) {
        size_t n = strlen(var);
        for (const char *p = strchr(yyjson_mut_get_str(v), '$'); p; p = strchr(p + 1, '$'))
            if (!strncmp(p + 1, var, n) && !(name_char(p[1 + n]) && p[1 + n] != '.'))
                return true;
        return false;
    }
    yyjson_mut_val *e;
    if (yyjson_mut_is_obj(v)) {
        yyjson_mut_obj_iter it = yyjson_mut_obj_iter_with(v);
        while ((e = yyjson_mut_obj_iter_next(&it)))
            if (mentions_var(yyjson_mut_obj_iter_get_val(e), var))
                return true;
    } else if (yyjson_mut_is_arr(v)) {
        yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(v);
        while ((e = yyjson_mut_arr_iter_next(&it)))
            if (mentions_var(e, var))
                return true;
    }
    return false;
}

/* Template variables no widget left uses go too. */
static void drop_unused_vars(yyjson_mut_val *root)
{
    yyjson_mut_val *vars = yyjson_mut_obj_get(root, "template_variables");
    yyjson_mut_val *widgets = yyjson_mut_obj_get(root, "widgets");
    for (size_t i = yyjson_mut_arr_size(vars); i > 0; i--) {
        const char *name = yyjson_mut_get_str(yyjson_mut_obj_get(yyjson_mut_arr_get(vars, i - 1), "name"));
        if (name && !mentions_var(widgets, name))
            yyjson_mut_arr_remove(vars, i - 1);
    }
}

static void source_choices(yyjson_mut_doc *doc, yyjson_mut_val *root, const struct hf_config *cfg)
{
    yyjson_mut_val *vars = yyjson_mut_obj_get(root, "template_variables");
    yyjson_mut_arr_iter it = yyjson_mut_arr_iter_with(vars);
    yyjson_mut_val *v;
    while ((v = yyjson_mut_arr_iter_next(&it))) {
        if (!yyjson_mut_equals_str(yyjson_mut_obj_get(v, "prefix"), "source"))
            continue;
        yyjson_mut_val *vals = yyjson_mut_arr(doc);
        for (size_t i = 0; i < cfg->nsources; i++)
            yyjson_mut_arr_add_strcpy(doc, vals, cfg->sources[i].name);
        yyjson_mut_obj_put(v, yyjson_mut_strcpy(doc, "available_values"), vals);
    }
}

int hf_dash_datadog(const struct hf_dash *d, const char *path, const char *json, size_t len, struct hf_buf *out)
{
    yyjson_read_err rerr;
    yyjson_doc *idoc = yyjson_read_opts((char *)(uintptr_t)json, len, 0, NULL, &rerr);
    if (!idoc) {
        fprintf(stderr, "hookfwd: %s: %s at byte %zu\n", path, rerr.msg, rerr.pos);
        return -1;
    }
    yyjson_mut_doc *doc = yyjson_doc_mut_copy(idoc, NULL);
    yyjson_doc_free(idoc);
    yyjson_mut_val *root = yyjson_mut_doc_get_root(doc);
    bool monitor = yyjson_mut_obj_get(root, "widgets") == NULL;
    int rc = 0;
    if (monitor && queries_unsent(root, d)) {
        fprintf(stderr,
                "hookfwd: %s left out: it watches metrics %s does not send (hookfwd.* need agent_metrics: "
                "true on a datadog sink, hookfwd.dedup_store.* also a source with dedup.store: redis, a "
                "profile's metrics a source with that profile)\n",
                path, d->cfg->file);
        rc = 1;
    } else if (!monitor) {
        drop_unsent_widgets(yyjson_mut_obj_get(root, "widgets"), d);
        drop_unused_vars(root);
    }
    if (rc == 0) {
        struct hf_buf scratch;
        hf_buf_init(&scratch, 0);
        rewrite_all(doc, root, d, &scratch);
        hf_buf_free(&scratch);
        if (!monitor)
            source_choices(doc, root, d->cfg);
        size_t wlen;
        char *text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, &wlen);
        hf_buf_append(out, text, wlen);
        hf_buf_putc(out, '\n');
        free(text);
    }
    yyjson_mut_doc_free(doc);
    return rc;
}
