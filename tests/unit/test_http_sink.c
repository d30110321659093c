/* SPDX-License-Identifier: Apache-2.0 */
/* The http sink without a network: the Standard Webhooks signature against
 * the specification's own test vector, hmac-sha256 against GitHub's
 * published one, webhook-id from idempotency keys, the three body formats,
 * and the configuration errors `hookfwd check` reports. */
#include "testutil.h"

#include "../../plugins/out_http/http_sink.h"

static struct hf_config *cfg;
static struct hf_pipeline pipe_;

static int setup(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    cfg = tu_config(TU_SOURCES TU_STDOUT_SINK, &err);
    if (!cfg)
        fail_msg("%s", err.msg);
    pipe_.cfg = cfg;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_config_free(cfg);
    return 0;
}

static void test_standard_webhooks_vector(void **state)
{
    (void)state;
    /* standard-webhooks libraries/javascript/src/webhook.test.ts */
    unsigned char key[64];
    int kl = http_signing_key(HTTP_SIG_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof(key));
    assert_int_equal(kl, 24);
    const char *body = "{\"test\": 2432232314}";
    char sig[100];
    http_sign_standard(key, (size_t)kl, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig,
                       sizeof(sig));
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(http_signing_key(HTTP_SIG_STANDARD, "whsec_not base64!", key, sizeof(key)), -1);
}

static void test_hmac_vector(void **state)
{
    (void)state;
    /* GitHub's "validating webhook deliveries" example */
    unsigned char key[64];
    int kl = http_signing_key(HTTP_SIG_HMAC, "It's a Secret to Everybody", key, sizeof(key));
    assert_int_equal(kl, 26);
    char sig[100];
    http_sign_hmac(key, (size_t)kl, "Hello, World!", 13, sig, sizeof(sig));
    assert_string_equal(sig, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

static void test_message_ids_and_bodies(void **state)
{
    (void)state;
    struct hf_record *a = tu_fixture_record(&pipe_, "omega", "omega/decision.escalated.json", 0, 1795453200123LL);
    struct hf_record *b =
        tu_fixture_record(&pipe_, "sentinelayer", "sentinelayer/scan.blocked.json", 0, 1795453200123LL);
    struct hf_record *ab[] = {a, b}, *ba[] = {b, a};
    char id[300], id2[300];
    http_message_id(&a, 1, id, sizeof(id));
    assert_string_equal(id, "dec_abc123:decision.escalated");
    http_message_id(&b, 1, id, sizeof(id));
    assert_string_equal(id, "run-20260223-003");
    /* a batch has one id of its own, the same for the same records */
    http_message_id(ab, 2, id, sizeof(id));
    http_message_id(ab, 2, id2, sizeof(id2));
    assert_string_equal(id, id2);
    assert_memory_equal(id, "batch_", 6);
    http_message_id(ba, 2, id2, sizeof(id2));
    assert_string_not_equal(id, id2);

    struct hf_buf out;
    hf_buf_init(&out, 0);
    http_body(HTTP_FMT_JSON, &a, 1, &out);
    assert_int_equal(out.len, a->json_len);
    assert_memory_equal(out.data, a->json, a->json_len);
    hf_buf_reset(&out);
    http_body(HTTP_FMT_NDJSON, ab, 2, &out);
    assert_int_equal(out.len, a->json_len + b->json_len + 2);
    assert_int_equal(out.data[a->json_len], '\n');
    assert_int_equal(out.data[out.len - 1], '\n');
    hf_buf_reset(&out);
    http_body(HTTP_FMT_ARRAY, ab, 2, &out);
    assert_int_equal(out.len, a->json_len + b->json_len + 3);
    assert_int_equal(out.data[0], '[');
    assert_int_equal(out.data[a->json_len + 1], ',');
    assert_int_equal(out.data[out.len - 1], ']');
    hf_buf_free(&out);
    hf_record_unref(a);
    hf_record_unref(b);
}

/* `hookfwd check` on one http sink; returns the error or "" */
static const char *check_sink(const char *sink, struct hf_cerr *err)
{
    char text[2048];
    snprintf(text, sizeof(text), TU_SOURCES "sinks:\n%s", sink);
    struct hf_config *c = tu_config(text, err);
    if (c) {
        hf_config_free(c);
        return "";
    }
    return err->msg;
}

static void test_check(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    assert_string_equal(check_sink("  - {name: h, type: http, url: 'https://hooks.example.com/in',\n"
                                   "     signature: {scheme: standard-webhooks, secret: "
                                   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw},\n"
                                   "     headers: {X-Repo: '${data.repo:-none}'}}\n",
                                   &err),
                        "");
    assert_non_null(
        strstr(check_sink("  - {name: h, type: http, url: 'http://x/', signature: {scheme: hmac-sha256}}\n", &err),
               "signature: a signature needs a secret"));
    assert_non_null(
        strstr(check_sink("  - {name: h, type: http, url: 'http://x/', signature: {secret: s}}\n", &err), "scheme"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'file:///etc/passwd'}\n", &err), "url"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'http://user:pw@x/'}\n", &err), "url"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'http://x/', format: xml}\n", &err), "format"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'http://x/',\n"
                                      "     signature: {scheme: standard-webhooks, secret: s},\n"
                                      "     headers: {webhook-id: x}}\n",
                                      &err),
                           "whsec_"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'http://x/',\n"
                                      "     signature: {scheme: standard-webhooks, secret: "
                                      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw},\n"
                                      "     headers: {Webhook-Id: x}}\n",
                                      &err),
                           "set by the signature"));
    assert_non_null(strstr(check_sink("  - {name: h, type: http, url: 'http://x/', headers: {Host: x}}\n", &err),
                           "set by the HTTP client"));
    /* a secret never appears in a message */
    const char *m = check_sink("  - {name: h, type: http, url: 'http://x/',\n"
                               "     signature: {scheme: standard-webhooks, secret: 'topsecret!!'}}\n",
                               &err);
    assert_non_null(strstr(m, "signature.secret"));
    assert_null(strstr(m, "topsecret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_hmac_vector),
        cmocka_unit_test(test_message_ids_and_bodies),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
