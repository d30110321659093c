/* SPDX-License-Identifier: Apache-2.0 */
/* Sink filters and the routing predicate. */
#include "route.h"
#include "util.h"

#include <string.h>

static bool match_one(const struct hf_match *m, const struct hf_record *r)
{
    struct hf_value scratch;
    const struct hf_value *v = hf_record_get(r, m->field, &scratch);
    if (!v)
        return m->op == HF_OP_NE || m->op == HF_OP_NOT_IN;
    char text[256];
    double d;
    switch (m->op) {
    case HF_OP_GT: return hf_value_number(v, &d) && d > m->num;
    case HF_OP_GE: return hf_value_number(v, &d) && d >= m->num;
    case HF_OP_LT: return hf_value_number(v, &d) && d < m->num;
    case HF_OP_LE: return hf_value_number(v, &d) && d <= m->num;
    case HF_OP_EQ:
    case HF_OP_NE: {
        bool eq;
        if (m->numeric && hf_value_number(v, &d))
            eq = d == m->num;
        else
            eq = hf_value_text(v, text, sizeof(text)) >= 0 && !strcmp(text, m->str);
        return m->op == HF_OP_EQ ? eq : !eq;
    }
    case HF_OP_IN:
    case HF_OP_NOT_IN: {
        bool found = false;
        if (v->type == HF_V_ARRAY) {
            for (size_t i = 0; i < v->nitems && !found; i++)
                if (hf_value_text(&v->items[i], text, sizeof(text)) >= 0)
                    for (size_t j = 0; j < m->nset && !found; j++)
                        found = !strcmp(text, m->set[j]);
        } else if (hf_value_text(v, text, sizeof(text)) >= 0) {
            for (size_t j = 0; j < m->nset && !found; j++)
                found = !strcmp(text, m->set[j]);
        }
        return m->op == HF_OP_IN ? found : !found;
    }
    }
    return false;
}

bool hf_filter_match(const struct hf_filter *f, const struct hf_record *r)
{
    if (f->nevents) {
        bool any_include = false, included = false;
        for (size_t i = 0; i < f->nevents; i++) {
            const char *g = f->events[i];
            if (g[0] == '!') {
                if (hf_glob(g + 1, r->event_type))
                    return false;
            } else {
                any_include = true;
                included |= hf_glob(g, r->event_type);
            }
        }
        if (any_include && !included)
            return false;
    }
    if (f->has_sev && r->severity < f->sev_at_least)
        return false;
    for (size_t i = 0; i < f->nmatches; i++)
        if (!match_one(&f->matches[i], r))
            return false;
    return true;
}

bool hf_route_takes(const struct hf_sink_conf *sc, const struct hf_record *r)
{
    if ((sc->takes & HF_TAKES_RECORDS) == 0 && r->npoints == 0)
        return false;
    return hf_filter_match(&sc->filter, r);
}
