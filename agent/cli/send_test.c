/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd send-test`: posts a signed sample event to a running agent. */
#define _GNU_SOURCE
#include "cli.h"
#include "util.h"
#include "profile.h"
#include "verify.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OmegaEngine samples shaped like the real event of each type (the
 * vendor's examples and the fixtures), so a route's filter (outcome, risk
 * score, policies) treats the sample as it would treat the real thing. */
static void omega_sample(const char *event, const char *id, const char *now, struct hf_buf *b)
{
    static const struct {
        const char *event, *outcome;
        double risk;
        const char *scenario, *policies;
    } decisions[] = {
        {"decision.allowed", "ALLOW", 0.12, "Read quarterly report", ""},
        {"decision.blocked", "BLOCK", 0.97, "Delete production database \\\"orders\\\"", "\"destructive_action\""},
        {"decision.escalated", "ESCALATE", 0.85, "Transfer $100k to new vendor",
         "\"high_value_transfer\",\"new_vendor\""},
    };
    if (!strcmp(event, "fuzz.finding")) {
        hf_buf_printf(b,
                      "{\"event\":\"%s\",\"timestamp\":\"%s\",\"finding\":{\"id\":\"fz_test_%s\","
                      "\"severity\":\"critical\",\"category\":\"prompt_injection\",\"agentId\":\"agent_send_test\","
                      "\"reproducible\":true,\"steps\":4}}",
                      event, now, id);
        return;
    }
    if (!strcmp(event, "quota.warning")) {
        hf_buf_printf(b,
                      "{\"event\":\"%s\",\"timestamp\":\"%s\",\"quota\":{\"orgId\":\"org_send_test\","
                      "\"metric\":\"decisions\",\"used\":91000,\"limit\":100000,\"percent\":91.0}}",
                      event, now);
        return;
    }
    if (!strcmp(event, "calibration.drift")) {
        hf_buf_printf(b,
                      "{\"event\":\"%s\",\"timestamp\":\"%s\",\"calibration\":{\"model\":\"risk-v3\","
                      "\"drift\":0.071,\"tolerance\":0.05,\"window\":\"24h\"}}",
                      event, now);
        return;
    }
    size_t k = 0; /* any other decision.* name: an allowed decision under that name */
    for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++)
        if (!strcmp(event, decisions[i].event))
            k = i;
    hf_buf_printf(b,
                  "{\"event\":\"%s\",\"timestamp\":\"%s\",\"decision\":{\"id\":\"dec_test_%s\","
                  "\"outcome\":\"%s\",\"riskScore\":%.2f,\"scenario\":\"%s (hookfwd send-test)\","
                  "\"policyMatches\":[%s],\"auditId\":\"aud_test_%s\"}}",
                  event, now, id, decisions[k].outcome, decisions[k].risk, decisions[k].scenario, decisions[k].policies,
                  id);
}

/* Sentinelayer samples: scan.blocked is the subset of scan.completed whose
 * gate_status is blocked, with findings; scan.failed has an error code. */
static void sentinelayer_sample(const char *event, const char *id, const char *now, struct hf_buf *b)
{
    const char *gate = "passed", *counts = "{\"P0\":0,\"P1\":0,\"P2\":1,\"P3\":2,\"info\":1}", *pr = "null";
    int total = 4;
    const char *error = "";
    if (!strcmp(event, "scan.blocked")) {
        gate = "blocked";
        counts = "{\"P0\":1,\"P1\":2,\"P2\":0,\"P3\":1,\"info\":0}";
        total = 4;
        pr = "42";
    } else if (!strcmp(event, "scan.failed")) {
        gate = "error";
        counts = "{}";
        total = 0;
        error = ",\"error_code\":2,\"error_message\":\"Missing required input: sentinelayer_token\"";
    } else if (!strcmp(event, "scan.skipped")) {
        counts = "{}";
        total = 0;
    }
    hf_buf_printf(b,
                  "{\"event_type\":\"%s\",\"run_id\":\"run-test-%s\",\"timestamp\":\"%s\","
                  "\"repo\":\"hookfwd/send-test\",\"branch\":\"main\",\"commit_sha\":\"0000000\","
                  "\"pr_number\":%s,\"gate_status\":\"%s\"%s,\"severity_counts\":%s,\"total_findings\":%d,"
                  "\"artifact_links\":%s,\"estimated_cost_usd\":\"0.0042\"}",
                  event, id, now, pr, gate, error, counts, total,
                  total ? "{\"findings\":\"https://example.com/hookfwd/send-test/findings.zip\"}" : "{}");
}

static void sample_body(const struct hf_source *s, const char *event, struct hf_buf *b)
{
    char id[24], now[32];
    snprintf(id, sizeof(id), "%012llx", (unsigned long long)(hf_random64() & 0xffffffffffffULL));
    hf_format_iso_ms(hf_now_ms(), now, sizeof(now));
    const char *prof = s->profile ? s->profile->name : "";
    if (!strcmp(prof, "omegaengine")) {
        omega_sample(event ? event : "decision.allowed", id, now, b);
    } else if (!strcmp(prof, "sentinelayer")) {
        sentinelayer_sample(event ? event : "scan.completed", id, now, b);
    } else {
        hf_buf_printf(b, "{\"%s\":\"%s\",\"%s\":\"test_%s\",\"%s\":\"%s\",\"message\":\"hookfwd send-test\"}",
                      s->event_field, event ? event : "test.event", s->id_field ? s->id_field : "id", id, s->time_field,
                      now);
    }
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    hf_buf_append(ud, p, sz * n);
    return sz * n;
}

int hf_cmd_send_test(const struct hf_args *a)
{
    struct hf_config *c = hf_cli_load(a->config);
    if (!c)
        return 1;
    const struct hf_source *s = hf_cli_source(c, a->source);
    if (!s) {
        hf_config_free(c);
        return 1;
    }
    struct hf_buf body, hdrs, url, resp;
    hf_buf_init(&body, 0);
    hf_buf_init(&hdrs, 0);
    hf_buf_init(&url, 0);
    hf_buf_init(&resp, 1 << 20);
    sample_body(s, a->event, &body);
    hf_cli_signature_headers(s, body.data, body.len, &hdrs);
    if (a->url)
        hf_buf_puts(&url, a->url);
    else
        hf_buf_printf(&url, "%s://%s%s", c->tls_cert ? "https" : "http", c->listen_address, s->path);
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    char *save = NULL;
    for (char *line = strtok_r(hdrs.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        hl = curl_slist_append(hl, line);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (a->ca) /* a listener whose certificate a private CA signed, or a self-signed one */
        curl_easy_setopt(h, CURLOPT_CAINFO, a->ca);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    int rc = 1;
    if (cc != CURLE_OK) {
        fprintf(stderr, "hookfwd: POST %s failed: %s\n", url.data, curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        printf("%ld %s\n", status, resp.data ? resp.data : "");
        rc = status >= 200 && status < 300 ? 0 : 1;
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    hf_buf_free(&body);
    hf_buf_free(&hdrs);
    hf_buf_free(&url);
    hf_buf_free(&resp);
    hf_config_free(c);
    return rc;
}
