/* SPDX-License-Identifier: Apache-2.0 */
/* Signature verification against the independently signed fixtures and the
 * Standard Webhooks test vector. */
#include "testutil.h"
#include "verify.h"

#include <strings.h>

static struct hf_config *cfg;

static int setup(void **state)
{
    (void)state;
    struct hf_cerr err = {0};
    cfg = tu_config(TU_SOURCES
                    "  - name: std\n    path: /std\n    signature: {scheme: standard-webhooks, tolerance: 5m,\n"
                    "      secrets: [whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, "
                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]}\n" TU_STDOUT_SINK,
                    &err);
    if (!cfg)
        fail_msg("%s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_config_free(cfg);
    return 0;
}

/* Every row of signatures.tsv is accepted or rejected as listed. */
static void test_fixture_table(void **state)
{
    (void)state;
    size_t len;
    char *tsv = tu_fixture("signatures.tsv", &len);
    int rows = 0, accepted = 0, rejected = 0;
    char *save = NULL;
    strtok_r(tsv, "\n", &save); /* header */
    for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *col[6] = {0};
        char *p = line;
        for (int i = 0; i < 6; i++) {
            col[i] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        size_t blen;
        char *body = tu_fixture(col[0], &blen);
        const struct hf_source *src = tu_source(cfg, col[1]);
        const char *hdrs[] = {col[2], col[3], NULL};
        struct hf_verify_result vr;
        hf_verify(src, body, blen, tu_header, strcmp(col[2], "-") ? (void *)hdrs : NULL, hf_now_ms(), &vr);
        bool want = !strcmp(col[5], "accept");
        if (want != (vr.status == HF_VERIFY_OK))
            fail_msg("%s: expected %s, got status %d (%s)", col[0], col[5], vr.status, vr.why ? vr.why : "");
        if (want && !strcmp(col[1], "omega"))
            assert_int_equal(vr.key_index, 1); /* the second secret of the rotation list */
        if (want && !strcmp(col[1], "sentinelayer"))
            assert_int_equal(vr.key_index, 0);
        want ? accepted++ : rejected++;
        rows++;
        free(body);
    }
    assert_int_equal(rows, 13);
    assert_int_equal(accepted, 12);
    assert_int_equal(rejected, 1);
    free(tsv);
}

static void test_embedded_cut(void **state)
{
    (void)state;
    size_t blen;
    char *body = tu_fixture("omega/decision.escalated.embedded.json", &blen);
    struct hf_verify_result vr;
    hf_verify(tu_source(cfg, "omega"), body, blen, tu_header, NULL, hf_now_ms(), &vr);
    assert_int_equal(vr.status, HF_VERIFY_OK);
    /* what is left after the cut is byte-identical to the header-signed fixture */
    size_t plen;
    char *plain = tu_fixture("omega/decision.escalated.json", &plen);
    assert_int_equal(blen - vr.cut_len, plen);
    assert_memory_equal(body, plain, vr.cut_off);
    assert_memory_equal(body + vr.cut_off + vr.cut_len, plain + vr.cut_off, plen - vr.cut_off);
    free(body);
    free(plain);
}

static void test_header_forms(void **state)
{
    (void)state;
    size_t blen;
    char *body = tu_fixture("omega/decision.blocked.json", &blen);
    const struct hf_source *src = tu_source(cfg, "omega");
    const char *hex = "3064651d76ec1e5bfa1c4466331cedcf58c16318198572e0fc5f2beda147edc1";
    unsigned char raw[32];
    hf_unhex(hex, 64, raw, 32);
    char b64[64], upper[80], prefixed_b64[80];
    hf_b64_encode(raw, 32, b64);
    snprintf(upper, sizeof(upper), "SHA256=%s", hex);
    snprintf(prefixed_b64, sizeof(prefixed_b64), "sha256=%s", b64);
    const char *good[] = {hex, upper, b64, prefixed_b64};
    for (size_t i = 0; i < 4; i++) {
        const char *h[] = {"x-omega-signature", good[i], NULL};
        struct hf_verify_result vr;
        hf_verify(src, body, blen, tu_header, h, hf_now_ms(), &vr);
        if (vr.status != HF_VERIFY_OK)
            fail_msg("form %zu (%s) rejected", i, good[i]);
    }
    const char *bad[] = {"", "sha256=", "sha256=zz",
                         "sha256=3064651d76ec1e5bfa1c4466331cedcf58c16318198572e0fc5f2beda147edc0",
                         "3064651d76ec1e5bfa1c4466331cedcf58c16318198572e0fc5f2beda147edc"};
    for (size_t i = 0; i < 5; i++) {
        const char *h[] = {"X-Omega-Signature", bad[i], NULL};
        struct hf_verify_result vr;
        hf_verify(src, body, blen, tu_header, h, hf_now_ms(), &vr);
        if (vr.status == HF_VERIFY_OK)
            fail_msg("bad form %zu accepted", i);
    }
    free(body);
}

static void test_standard_webhooks_vector(void **state)
{
    (void)state;
    const struct hf_source *src = tu_source(cfg, "std");
    const char *body = "{\"test\": 2432232314}";
    const char *h[] = {"webhook-id",
                       "msg_p5jXN8AQM9LWM0D4loKWxJek",
                       "webhook-timestamp",
                       "1614265330",
                       "webhook-signature",
                       "v1a,xxxx v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                       NULL};
    struct hf_verify_result vr;
    hf_verify(src, body, strlen(body), tu_header, h, 1614265330LL * 1000, &vr);
    assert_int_equal(vr.status, HF_VERIFY_OK);
    assert_int_equal(vr.key_index, 1);
    /* outside the tolerance window, in both directions */
    hf_verify(src, body, strlen(body), tu_header, h, (1614265330LL + 301) * 1000, &vr);
    assert_int_equal(vr.status, HF_VERIFY_STALE);
    hf_verify(src, body, strlen(body), tu_header, h, (1614265330LL - 301) * 1000, &vr);
    assert_int_equal(vr.status, HF_VERIFY_STALE);
    /* one byte changed */
    const char *body2 = "{\"test\": 2432232315}";
    hf_verify(src, body2, strlen(body2), tu_header, h, 1614265330LL * 1000, &vr);
    assert_int_equal(vr.status, HF_VERIFY_BAD);
    const char *none[] = {"webhook-id", "x", NULL};
    hf_verify(src, body, strlen(body), tu_header, none, 1614265330LL * 1000, &vr);
    assert_int_equal(vr.status, HF_VERIFY_MISSING);
}

static void test_find_embedded_shapes(void **state)
{
    (void)state;
    const char *v;
    size_t vl, off, cl;
    const char *first = "{\"signature\":\"abc\", \"a\":1}";
    assert_int_equal(hf_find_embedded(first, strlen(first), "signature", &off, &cl, &v, &vl), 0);
    assert_int_equal(off, 1);
    assert_int_equal(cl, strlen("\"signature\":\"abc\", "));
    const char *nested = "{\"a\":{\"signature\":\"x\"},\"b\":\"signature\"}";
    assert_int_equal(hf_find_embedded(nested, strlen(nested), "signature", &off, &cl, &v, &vl), -1);
    const char *escaped = "{\"a\":\"q\\\"\",\"signature\":\"s\"}";
    assert_int_equal(hf_find_embedded(escaped, strlen(escaped), "signature", &off, &cl, &v, &vl), 0);
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "s", 1);
    const char *truncated = "{\"signature\":\"abc";
    assert_int_equal(hf_find_embedded(truncated, strlen(truncated), "signature", &off, &cl, &v, &vl), -1);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than a block is hashed
 * first), each also fed in parts; a second secret in the same thread must
 * not reuse the first one's pads. */
static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char k1[20], k6[131];
    memset(k1, 0x0b, sizeof(k1));
    memset(k6, 0xaa, sizeof(k6));
    static unsigned char jefe[] = "Jefe";
    const struct {
        struct hf_secret sec;
        const char *msg, *want;
    } cases[] = {
        {{k1, sizeof(k1), 0x4231001}, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {{jefe, 4, 0x4231002},
         "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {{k6, sizeof(k6), 0x4231006},
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            size_t n = strlen(cases[i].msg), half = n / 2;
            const void *one[] = {cases[i].msg}, *two[] = {cases[i].msg, cases[i].msg + half};
            size_t l1[] = {n}, l2[] = {half, n - half};
            unsigned char mac[32];
            char hex[65];
            assert_int_equal(hf_hmac_sha256(&cases[i].sec, one, l1, 1, mac), 0);
            hf_hex(mac, 32, hex);
            assert_string_equal(hex, cases[i].want);
            assert_int_equal(hf_hmac_sha256(&cases[i].sec, two, l2, 2, mac), 0);
            hf_hex(mac, 32, hex);
            assert_string_equal(hex, cases[i].want);
        }
}

/* Hex digits of either case; anything else (a NUL, 'g', a space, bytes
 * past 0x7f) and an odd length refuse the whole string. */
static void test_unhex(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(hf_unhex("0aFf9B", 6, out, sizeof(out)), 3);
    assert_int_equal(out[0], 0x0a);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0x9b);
    const char *bad[] = {"0g", "g0", " 0", "0\xff", "0/", "0:", "@0", "0G", "0`"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hf_unhex(bad[i], 2, out, sizeof(out)), -1);
    assert_int_equal(hf_unhex("0\0", 2, out, sizeof(out)), -1);
    assert_int_equal(hf_unhex("abc", 3, out, sizeof(out)), -1);
    assert_int_equal(hf_unhex("0011223344", 10, out, sizeof(out)), -1); /* longer than out */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_table),
        cmocka_unit_test(test_embedded_cut),
        cmocka_unit_test(test_header_forms),
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_find_embedded_shapes),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_unhex),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
