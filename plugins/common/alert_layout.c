/* SPDX-License-Identifier: Apache-2.0 */
/* Record shapes and default texts of the alert sinks. */
#include "alert_layout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const struct hf_value *hf_alert_field(const struct hf_record *r, const char *key)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].key, key))
            return &r->fields[i].v;
    return NULL;
}

enum hf_alert_layout hf_alert_layout_of(const struct hf_record *r)
{
    if (hf_alert_field(r, "decision.outcome") || hf_alert_field(r, "decision.id"))
        return HF_ALERT_OMEGA;
    if (hf_alert_field(r, "repo") && (hf_alert_field(r, "gate_status") || hf_alert_field(r, "run_id")))
        return HF_ALERT_SENTINELAYER;
    return HF_ALERT_GENERIC;
}

bool hf_alert_is_url(const struct hf_value *v)
{
    if (!v || v->type != HF_V_STRING || !v->s)
        return false;
    size_t skip = v->len > 8 && !strncmp(v->s, "https://", 8) ? 8 : v->len > 7 && !strncmp(v->s, "http://", 7) ? 7 : 0;
    if (!skip)
        return false;
    for (size_t i = skip; i < v->len; i++)
        if ((unsigned char)v->s[i] <= 0x20 || v->s[i] == 0x7f)
            return false;
    return true;
}

static const char *const default_texts[] = {
    [HF_ALERT_GENERIC] = "${event_type} from ${source} (${severity})",
    [HF_ALERT_OMEGA] = "${event_type}: ${data.decision.outcome:-?} (risk ${data.decision.risk_score:-?}) "
                       "${data.decision.scenario}",
    [HF_ALERT_SENTINELAYER] = "${event_type}: ${data.repo:-?} ${data.branch} gate ${data.gate_status:-?}, "
                              "${data.total_findings:-0} findings",
};
static struct hf_template *default_tmpl[3];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void compile_defaults(void)
{
    for (int i = 0; i < 3; i++) {
        default_tmpl[i] = hf_template_compile(default_texts[i], NULL, NULL, 0);
        if (!default_tmpl[i])
            abort(); /* the texts above are fixed: a failure is a bug here */
    }
}

const struct hf_template *hf_alert_default_text(const struct hf_record *r)
{
    pthread_once(&default_once, compile_defaults);
    return default_tmpl[hf_alert_layout_of(r)];
}
