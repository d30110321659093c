/* SPDX-License-Identifier: Apache-2.0 */
/* One configuration for the tests of a file: the fixtures' sources plus a
 * generic Standard Webhooks source "other", a pipeline over it, and records
 * built from bodies as verified events of those sources. Set up once per
 * file with cmocka_run_group_tests(tests, tu_sources_setup,
 * tu_sources_teardown). */
#ifndef TU_SOURCES_H
#define TU_SOURCES_H

#include "testutil.h"
#include "verify.h"

/* Every record these build was received at this time. */
#define TU_RECEIVED_MS 1795453200123LL

static struct hf_config *tu_cfg;
static struct hf_pipeline tu_pipe;

static inline int tu_sources_setup(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    tu_cfg = tu_config(TU_SOURCES "  - name: other\n    path: /other\n    event_field: type\n    id_field: id\n"
                                  "    signature: {scheme: standard-webhooks, secrets: "
                                  "[whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}\n" TU_STDOUT_SINK,
                       &err);
    if (!tu_cfg)
        fail_msg("%s", err.msg);
    tu_pipe.cfg = tu_cfg;
    return 0;
}

static inline int tu_sources_teardown(void **state)
{
    (void)state;
    hf_config_free(tu_cfg);
    return 0;
}

/* The record of body as a verified event of source. */
static inline struct hf_record *tu_build_body(const char *source, const char *body)
{
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    char reason[200] = "";
    struct hf_record *r = hf_build_record(&tu_pipe, tu_source(tu_cfg, source), body, strlen(body), &vr, NULL,
                                          TU_RECEIVED_MS, reason, sizeof(reason));
    if (!r)
        fail_msg("%s: %s", body, reason);
    return r;
}

/* The record of a fixture file as a verified event of source. */
static inline struct hf_record *tu_build(const char *source, const char *fixture)
{
    return tu_fixture_record(&tu_pipe, source, fixture, 0, TU_RECEIVED_MS);
}

#endif
