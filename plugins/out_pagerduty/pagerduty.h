/* SPDX-License-Identifier: Apache-2.0 */
/* The pagerduty sink (Events API v2): each record triggers an alert, or
 * resolves one when it matches the `resolve` filter. pd_encode.c builds the
 * events and reads PagerDuty's answers (pure); pagerduty.c sends them. */
#ifndef HF_OUT_PAGERDUTY_H
#define HF_OUT_PAGERDUTY_H

#include "plugin.h"
#include "tls_conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PagerDuty's severities, in severity_map's values. */
enum hf_pd_severity { HF_PD_CRITICAL, HF_PD_ERROR, HF_PD_WARNING, HF_PD_INFO };
#define HF_PD_SEVERITIES "critical|error|warning|info"

struct hf_pd_conf {
    char *routing_key; /* secret: the integration key, 32 characters */
    char *url;
    struct hf_template *summary; /* NULL: the record's layout gives one */
    struct hf_template *source; /* NULL: the repository, or the hookfwd source */
    struct hf_template *dedup_key; /* default ${idempotency_key} */
    struct hf_template *component, *group, *class_;
    int severity_map[HF_SEV__COUNT]; /* hookfwd severity -> enum hf_pd_severity */
    struct hf_filter *resolve; /* NULL: never resolve */
    struct hf_template *resolve_dedup_key; /* NULL: dedup_key */
    int64_t timeout_ms;
    struct hf_tls_conf tls;
};

#define HF_PD_ROUTING_KEY_LEN 32
#define HF_PD_MAX_SUMMARY 1024
#define HF_PD_MAX_DEDUP_KEY 255
#define HF_PD_MAX_EVENT (512 * 1024)
#define HF_PD_MAX_LINKS 10

enum hf_pd_action { HF_PD_TRIGGER, HF_PD_RESOLVE };

/* The action a record asks for under conf. */
enum hf_pd_action hf_pd_action_of(const struct hf_pd_conf *conf, const struct hf_record *r);

/* Appends the event for r (the JSON body of one POST to /v2/enqueue).
 * 0; 1 when something had to be cut or left out (summary past 1024
 * characters, a dedup key past 255, custom_details past the 512 KB limit);
 * -1 with why when the event cannot be sent at all (a resolve whose
 * dedup_key comes out empty). */
int hf_pd_encode(const struct hf_pd_conf *conf, const struct hf_record *r, struct hf_buf *out, char *why,
                 size_t whylen);

/* What an answer means; reason says why in PagerDuty's words (its
 * "errors" list for a 400). */
enum hf_outcome hf_pd_classify(long status, const char *body, size_t body_len, char *reason, size_t reasonlen);

#endif
