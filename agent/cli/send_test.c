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

static void sample_body(const struct hf_source *s, const char *event, struct hf_buf *b)
{
    char id[24], now[32];
    snprintf(id, sizeof(id), "%012llx", (unsigned long long)(hf_random64() & 0xffffffffffffULL));
    hf_format_iso_ms(hf_now_ms(), now, sizeof(now));
    const char *prof = s->profile ? s->profile->name : "";
    if (!strcmp(prof, "omegaengine")) {
        hf_buf_printf(b, "{\"event\":\"%s\",\"timestamp\":\"%s\",\"decision\":{\"id\":\"dec_test_%s\","
                         "\"outcome\":\"ALLOW\",\"riskScore\":0.1,\"scenario\":\"hookfwd send-test\","
                         "\"policyMatches\":[],\"auditId\":\"aud_test_%s\"}}",
                      event ? event : "decision.allowed", now, id, id);
    } else if (!strcmp(prof, "sentinelayer")) {
        hf_buf_printf(b, "{\"event_type\":\"%s\",\"run_id\":\"run-test-%s\",\"timestamp\":\"%s\","
                         "\"repo\":\"hookfwd/send-test\",\"branch\":\"main\",\"commit_sha\":\"0000000\","
                         "\"pr_number\":null,\"gate_status\":\"passed\",\"severity_counts\":{\"P0\":0,\"P1\":0},"
                         "\"total_findings\":0,\"artifact_links\":{},\"estimated_cost_usd\":\"0.00\"}",
                      event ? event : "scan.completed", id, now);
    } else {
        hf_buf_printf(b, "{\"%s\":\"%s\",\"%s\":\"test_%s\",\"%s\":\"%s\",\"message\":\"hookfwd send-test\"}",
                      s->event_field, event ? event : "test.event", s->id_field ? s->id_field : "id", id,
                      s->time_field, now);
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
