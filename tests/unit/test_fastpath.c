/* SPDX-License-Identifier: Apache-2.0 */
/* The printf-free formatting on the per-event path (issue 10) against the
 * printf / gmtime_r code it replaced, over many generated inputs: ISO
 * times, integral doubles, JSON string escaping, value text, bounded
 * string joins and camelCase keys near a buffer's cap. */
#include "testutil.h"

#include <math.h>
#include <time.h>

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void ref_iso(int64_t ms, char *out, size_t outlen)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[128]; /* room for any int, so -O3 sees no truncation */
    gmtime_r(&sec, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    size_t n = strlen(tmp), k = n < outlen ? n : outlen - 1; /* truncated as snprintf would */
    memcpy(out, tmp, k);
    out[k] = '\0';
}

static void test_iso_times(void **state)
{
    (void)state;
    const int64_t edges[] = {0,
                             999,
                             86399999,
                             86400000,
                             951782400000LL,
                             951868799999LL,
                             4107542400000LL,
                             253402300799999LL,
                             253402300800000LL,
                             -1,
                             -86400001};
    char a[32], b[32];
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        hf_format_iso_ms(edges[i], a, sizeof(a));
        ref_iso(edges[i], b, sizeof(b));
        assert_string_equal(a, b);
    }
    for (int i = 0; i < 300000; i++) {
        int64_t ms = (int64_t)(next() % 253402300800000ULL);
        if (i % 3 == 0)
            ms -= ms % 86400000; /* midnights */
        hf_format_iso_ms(ms, a, sizeof(a));
        ref_iso(ms, b, sizeof(b));
        assert_string_equal(a, b);
    }
    hf_format_iso_ms(1795453200123LL, a, 10); /* a short buffer truncates as snprintf does */
    assert_string_equal(a, "2026-11-2");
}

static void test_integral_doubles(void **state)
{
    (void)state;
    const double vals[] = {0.0, -0.0, 1, -1, 42, 999999999999999.0, -999999999999999.0, 123456789012345.0};
    struct hf_buf b;
    hf_buf_init(&b, 0);
    char want[64];
    for (int i = 0; i < 200000; i++) {
        double d = i < 8 ? vals[i] : (double)((int64_t)(next() % 2000000000000000ULL) - 1000000000000000LL);
        if (i >= 8 && i % 2)
            d = (double)(int32_t)next();
        hf_buf_reset(&b);
        hf_buf_json_double(&b, d);
        snprintf(want, sizeof(want), "%.0f", d);
        assert_string_equal(b.data, want);
    }
    hf_buf_free(&b);
}

/* The shortest "%.*g" (15 to 17 digits) that reads back, as it was */
static void ref_double(double d, char *out, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
}

/* Values with up to 6 decimals take the path without printf; the text
 * must be what printf gave, around every edge (1e-4, 6 decimals, 1e9,
 * signs), and any other double still goes through printf. */
static void test_decimal_doubles(void **state)
{
    (void)state;
    const double vals[] = {0.5,    -0.5,  0.97,     0.85,       0.0042,           0.0001,     -0.0001,  0.00012,
                           0.0107, 0.001, 2.25,     123.456,    999999999.999999, 0.000123,   1e-5,     1.0000001,
                           0.1,    0.3,   1.999999, 1e15 + 0.5, 0.1 + 0.2,        -1234.5678, 8.000001, 0.000099};
    struct hf_buf b;
    hf_buf_init(&b, 0);
    char want[64];
    for (int i = 0; i < 400000; i++) {
        double d;
        int nv = (int)(sizeof(vals) / sizeof(vals[0]));
        if (i < nv)
            d = vals[i];
        else if (i % 3 == 0) /* k / 10^j, j up to 7, mostly exact decimals */
            d = (double)((int64_t)(next() % 2000000000000ULL) - 1000000000000LL) / pow(10, (double)(next() % 8));
        else if (i % 3 == 1)
            d = (double)(next() % 1000000) / 1e6;
        else
            d = (double)(int64_t)(next() >> 1) / (double)(next() | 1); /* arbitrary */
        if (d == floor(d))
            continue;
        hf_buf_reset(&b);
        hf_buf_json_double(&b, d);
        ref_double(d, want, sizeof(want));
        assert_string_equal(b.data, want);
    }
    hf_buf_free(&b);
}

/* utf8_len from agent/util.c as it was */
static size_t ref_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The escaping as it was before the table-driven fast path. */
static void ref_json_str(struct hf_buf *b, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    if (hf_buf_reserve(b, n + 2) < 0)
        return;
    hf_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t ul = c >= 0x80 ? ref_utf8_len(p + i, n - i) : 0;
        if ((c >= 0x20 && c != '"' && c != '\\' && c < 0x80) || ul) {
            i += ul ? ul : 1;
            continue;
        }
        hf_buf_append(b, s + run, i - run);
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        char u[7] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15], 0};
        hf_buf_puts(b, esc ? esc : c < 0x20 ? u : "\xef\xbf\xbd");
        run = ++i;
    }
    hf_buf_append(b, s + run, n - run);
    hf_buf_putc(b, '"');
}

static void test_json_strings(void **state)
{
    (void)state;
    static const unsigned char pool[] = {'a',  'Z',  '0',  ' ',  '"',  '\\', '\n', '\t', 0x01, 0x1f, 0x7f, 0x80,
                                         0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0xff, 0xed, 0xa0, 0xc0};
    for (int it = 0; it < 200000; it++) {
        unsigned char s[64];
        size_t n = next() % 48;
        int mode = it % 3;
        for (size_t i = 0; i < n; i++) {
            uint64_t x = next();
            s[i] = mode == 0   ? (unsigned char)x
                   : mode == 1 ? pool[x % sizeof(pool)]
                   : x % 16    ? (unsigned char)('a' + x % 26)
                               : pool[(x >> 8) % sizeof(pool)];
        }
        struct hf_buf a, b;
        size_t cap = it % 5 == 0 ? 40 : 0; /* some near a buffer's cap */
        hf_buf_init(&a, cap);
        hf_buf_init(&b, cap);
        hf_buf_puts(&a, "x:");
        hf_buf_puts(&b, "x:");
        hf_buf_json_str(&a, (const char *)s, n);
        ref_json_str(&b, (const char *)s, n);
        assert_int_equal(a.overflow, b.overflow);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        hf_buf_free(&a);
        hf_buf_free(&b);
    }
}

static void test_value_text_and_join(void **state)
{
    (void)state;
    char a[16], b[16];
    struct hf_value v = {.type = HF_V_STRING, .s = "abc\0def", .len = 7};
    assert_int_equal(hf_value_text(&v, a, sizeof(a)), snprintf(b, sizeof(b), "%.*s", 7, "abc\0def"));
    assert_string_equal(a, b);
    v = (struct hf_value){.type = HF_V_INT, .s = "12345678901234567890", .len = 20};
    assert_int_equal(hf_value_text(&v, a, sizeof(a)), 20);
    assert_string_equal(a, "123456789012345");
    v = (struct hf_value){.type = HF_V_BOOL, .b = false};
    assert_int_equal(hf_value_text(&v, a, sizeof(a)), 5);
    assert_string_equal(a, "false");
    v = (struct hf_value){.type = HF_V_NULL};
    assert_int_equal(hf_value_text(&v, a, 3), 4);
    assert_string_equal(a, "nu");
    const char *parts[][3] = {{"dec_1", ":", "decision.blocked"}, {"", NULL, NULL}, {"0123456789abcdef", "-", "x"}};
    for (size_t i = 0; i < 3; i++)
        for (size_t cap = 1; cap <= sizeof(a); cap++) {
            size_t got = hf_str_join3(a, cap, parts[i][0], parts[i][1], parts[i][2]);
            int want =
                snprintf(b, cap, "%s%s%s", parts[i][0], parts[i][1] ? parts[i][1] : "", parts[i][2] ? parts[i][2] : "");
            assert_int_equal(got, want);
            assert_string_equal(a, b);
        }
}

static void test_snake_case_near_cap(void **state)
{
    (void)state;
    /* the direct path and the byte-by-byte one must fill a capped buffer alike */
    const char *key = "someCamelCaseKeyWithURLAndID2Parts";
    for (size_t cap = 1; cap < 80; cap++) {
        struct hf_buf b;
        hf_buf_init(&b, cap);
        hf_buf_puts(&b, "ab.");
        hf_snake_case(&b, key, strlen(key));
        struct hf_buf r;
        hf_buf_init(&r, 0);
        hf_buf_puts(&r, "ab.");
        hf_snake_case(&r, key, strlen(key));
        assert_string_equal(r.data, "ab.some_camel_case_key_with_url_and_id2_parts");
        size_t want = r.len <= cap ? r.len : 0;
        if (want) {
            assert_false(b.overflow);
            assert_string_equal(b.data, r.data);
        } else {
            assert_true(b.overflow);
            assert_true(b.len <= cap);
            assert_memory_equal(b.data, r.data, b.len);
        }
        hf_buf_free(&b);
        hf_buf_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_times),           cmocka_unit_test(test_integral_doubles),
        cmocka_unit_test(test_decimal_doubles),     cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_value_text_and_join), cmocka_unit_test(test_snake_case_near_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
