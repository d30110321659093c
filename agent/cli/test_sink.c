/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd test-sink`: one synthetic record through one sink, outcome printed. */
#define _GNU_SOURCE
#include "cli.h"
#include "pipeline.h"
#include "profile.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hf_cmd_test_sink(const struct hf_args *a)
{
    struct hf_config *c = hf_cli_load(a->config);
    if (!c)
        return 1;
    const char *name = a->sink ? a->sink : a->pos;
    struct hf_sink *s = hf_cli_open_sink(c, name);
    int rc = 1;
    if (s) {
        /* a synthetic, signed-by-nobody record through the real pipeline code */
        struct hf_source src = {.name = "hookfwd-test",
                                .event_field = "event",
                                .time_field = "timestamp",
                                .id_field = "id",
                                .index = HF_MAX_SOURCES};
        struct hf_metric_tag tags[] = {{"event", "event"}};
        struct hf_metric_rule rule = {.name = "hookfwd.test_sink", .type = HF_MT_COUNT, .tags = tags, .ntags = 1};
        struct hf_pipeline p = {.cfg = &(struct hf_config){.rules = &rule, .nrules = 1}};
        char now[32], body[256], reason[300];
        hf_format_iso_ms(hf_now_ms(), now, sizeof(now));
        snprintf(body, sizeof(body),
                 "{\"event\":\"hookfwd.test\",\"id\":\"test_%llx\",\"timestamp\":\"%s\","
                 "\"message\":\"hookfwd test-sink\"}",
                 (unsigned long long)(hf_random64() & 0xffffffffULL), now);
        struct hf_record *r =
            hf_build_record(&p, &src, body, strlen(body), NULL, NULL, hf_now_ms(), reason, sizeof(reason));
        enum hf_outcome o = hf_sink_send_once(s, &r, 1, 30000, NULL, reason, sizeof(reason));
        printf("sink %s (%s): %s%s%s\n", s->name, s->plugin->name,
               o == HF_OUT_DELIVERED  ? "delivered"
               : o == HF_OUT_REJECTED ? "rejected"
                                      : "not delivered",
               reason[0] ? ": " : "", reason);
        rc = o == HF_OUT_DELIVERED ? 0 : 1;
        hf_record_unref(r);
        hf_sink_free(s);
    }
    hf_config_free(c);
    return rc;
}
