/* SPDX-License-Identifier: Apache-2.0 */
/* The datadog sink's pieces without a network: tag and name normalization,
 * aggregation of the fixture stream, the v2 JSON schema of encoded bodies,
 * splitting at the intake's limits, and option errors. */
#include "testutil.h"
#include "verify.h"

#include "../../plugins/out_datadog/datadog.h"

#include "json_test.h"
#include <math.h>
#include <zlib.h>

/* ---- normalization ------------------------------------------------------ */

static void check_tag(const char *in, const char *want)
{
    char out[HF_DD_NAME_MAX + 1];
    size_t n = hf_dd_normalize_tag(in, strlen(in), out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void test_tag_normalization(void **state)
{
    (void)state;
    check_tag("severity:P1", "severity:p1");
    check_tag("outcome:ESCALATE", "outcome:escalate");
    check_tag("repo:acme/backend", "repo:acme/backend");
    check_tag("branch:feature/auth-2.x_y", "branch:feature/auth-2.x_y");
    check_tag("#test_starting_hash", "test_starting_hash");
    check_tag("Test Conversion Of Weird !@#$%^&**() Characters", "test_conversion_of_weird_characters");
    check_tag("123:abc", "abc"); /* must start with a letter */
    check_tag("env:", "env"); /* no trailing ':' */
    check_tag("key:value::", "key:value");
    check_tag("caf\xc3\xa9:au lait", "caf_:au_lait"); /* one '_' per multi-byte character */
    check_tag("scenario:Delete \"orders\" [x]", "scenario:delete_orders_x");
    check_tag("::::", ""); /* nothing left: dropped */
    check_tag("", "");
    char long_tag[400];
    memset(long_tag, 'a', sizeof(long_tag) - 1);
    long_tag[sizeof(long_tag) - 1] = '\0';
    char out[HF_DD_NAME_MAX + 1];
    assert_int_equal(hf_dd_normalize_tag(long_tag, strlen(long_tag), out), 200);
    /* a cut that would end on ':' drops it */
    memset(long_tag, 'b', 199);
    long_tag[199] = ':';
    long_tag[200] = 'x';
    long_tag[201] = '\0';
    assert_int_equal(hf_dd_normalize_tag(long_tag, strlen(long_tag), out), 199);
    assert_true(out[198] == 'b');
}

static void check_name(const char *prefix, const char *in, const char *want)
{
    char out[HF_DD_NAME_MAX + 1];
    size_t n = hf_dd_metric_name(prefix, in, out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_metric_names(void **state)
{
    (void)state;
    check_name(NULL, "omega.events", "omega.events");
    check_name("acme", "omega.events", "acme.omega.events");
    check_name("acme.", "omega.events", "acme.omega.events");
    check_name("", "Scan-Count per repo", "Scan_Count_per_repo"); /* names keep their case */
    check_name(NULL, "9lives.x", "lives.x");
    check_name("1", "x", "x");
    check_name(NULL, "___", "");
    char long_name[300];
    memset(long_name, 'm', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    char out[HF_DD_NAME_MAX + 1];
    assert_int_equal(hf_dd_metric_name("p", long_name, out), 200);
}

static void test_point_key(void **state)
{
    (void)state;
    struct hf_dd_tags sink = {0};
    hf_dd_tags_add(&sink, "Env:Prod");
    hf_dd_tags_add(&sink, "source:omega"); /* also on the point: counted once */
    hf_dd_tags_add(&sink, "::"); /* dropped */
    assert_int_equal(sink.n, 2);
    const char *tags[] = {"outcome:BLOCK", "policy:destructive_action", "source:omega", "Zeta:1"};
    struct hf_point pt = {.name = "omega.decision.count", .type = HF_MT_COUNT, .value = 1, .tags = tags, .ntags = 4};
    struct hf_buf scratch;
    hf_buf_init(&scratch, 0);
    size_t name_len;
    size_t n = hf_dd_point_key("acme", &sink, &pt, &scratch, &name_len);
    assert_string_equal(
        scratch.data, "acme.omega.decision.count|env:prod,outcome:block,policy:destructive_action,source:omega,zeta:1");
    assert_int_equal(n, strlen(scratch.data));
    assert_int_equal(name_len, strlen("acme.omega.decision.count"));
    /* no tags at all */
    struct hf_dd_tags none = {0};
    struct hf_point bare = {.name = "x", .type = HF_MT_GAUGE, .value = 1};
    hf_dd_point_key(NULL, &none, &bare, &scratch, &name_len);
    assert_string_equal(scratch.data, "x|");
    /* more tags than the local array holds */
    const char *many[40];
    char text[40][16];
    for (int i = 0; i < 40; i++) {
        snprintf(text[i], sizeof(text[i]), "k%02d:V", 39 - i);
        many[i] = text[i];
    }
    struct hf_point wide = {.name = "w", .type = HF_MT_GAUGE, .tags = many, .ntags = 40};
    hf_dd_point_key(NULL, &sink, &wide, &scratch, &name_len);
    assert_true(strncmp(scratch.data, "w|env:prod,k00:v,k01:v,", 23) == 0);
    assert_non_null(strstr(scratch.data, ",k39:v,source:omega"));
    /* a distribution's name leaves room for its ".count" etc. */
    char long_name[300];
    memset(long_name, 'd', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct hf_point dist = {.name = long_name, .type = HF_MT_DIST, .value = 1};
    hf_dd_point_key(NULL, &none, &dist, &scratch, &name_len);
    assert_int_equal(name_len, 194);
    dist.type = HF_MT_GAUGE;
    hf_dd_point_key(NULL, &none, &dist, &scratch, &name_len);
    assert_int_equal(name_len, 200);
    hf_buf_free(&scratch);
    hf_dd_tags_free(&sink);
}

/* ---- aggregation of the fixture stream ------------------------------------ */

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

static struct hf_record *build(const char *source, const char *fixture)
{
    return tu_fixture_record(&pipe_, source, fixture, 0, 1795453200123LL);
}

static void fold_record(struct hf_dd_bucket *b, const struct hf_dd_tags *tags, const struct hf_record *r)
{
    struct hf_buf scratch;
    hf_buf_init(&scratch, 0);
    for (size_t j = 0; j < r->npoints; j++) {
        size_t name_len, n = hf_dd_point_key(NULL, tags, &r->points[j], &scratch, &name_len);
        assert_true(n > 0);
        hf_dd_bucket_add(b, scratch.data, n, name_len, r->points[j].type, r->points[j].value);
    }
    hf_buf_free(&scratch);
}

static const struct hf_dd_series *find(const struct hf_dd_bucket *b, const char *key, enum hf_metric_type t)
{
    const struct hf_dd_series *s = hf_dd_bucket_find(b, key, strlen(key), t);
    if (!s)
        fail_msg("no series %s", key);
    return s;
}

static void test_aggregate_fixtures(void **state)
{
    (void)state;
    struct hf_dd_tags none = {0};
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, 1795453200);
    const char *sl[] = {"sentinelayer/scan.completed.json", "sentinelayer/scan.failed.json",
                        "sentinelayer/scan.blocked.json", "sentinelayer/scan.skipped.json"};
    for (size_t i = 0; i < 4; i++) {
        struct hf_record *r = build("sentinelayer", sl[i]);
        fold_record(&b, &none, r);
        hf_record_unref(r);
    }
    const struct hf_dd_series *s =
        find(&b, "sentinelayer.scan.findings|repo:acme/backend,severity:p1,source:sentinelayer", HF_MT_GAUGE);
    assert_true(s->value == 2.0);
    s = find(&b, "sentinelayer.scan.findings|repo:acme/payments,severity:p0,source:sentinelayer", HF_MT_GAUGE);
    assert_true(s->value == 1.0);
    /* cost arrives as strings ("0.0042"); counts sum per tag set */
    s = find(&b, "sentinelayer.scan.cost_usd|repo:acme/backend,source:sentinelayer", HF_MT_COUNT);
    assert_true(fabs(s->value - 0.0042) < 1e-12);
    assert_int_equal(s->n, 2);
    s = find(&b, "sentinelayer.scan.cost_usd|repo:acme/payments,source:sentinelayer", HF_MT_COUNT);
    assert_true(fabs(s->value - 0.0107) < 1e-12);
    s = find(&b,
             "sentinelayer.scan.count|branch:main,event:scan.failed,gate_status:error,repo:acme/backend,"
             "source:sentinelayer",
             HF_MT_COUNT);
    assert_true(s->value == 1.0);
    s = find(&b, "sentinelayer.scan.failed|error_code:2,repo:acme/backend,source:sentinelayer", HF_MT_COUNT);
    assert_true(s->value == 1.0);
    /* the same scan again: counts add up, gauges keep the last value */
    struct hf_record *r = build("sentinelayer", "sentinelayer/scan.completed.json");
    fold_record(&b, &none, r);
    hf_record_unref(r);
    s = find(&b, "sentinelayer.scan.findings|repo:acme/backend,severity:p1,source:sentinelayer", HF_MT_GAUGE);
    assert_true(s->value == 2.0);
    assert_int_equal(s->n, 2);
    s = find(&b, "sentinelayer.scan.cost_usd|repo:acme/backend,source:sentinelayer", HF_MT_COUNT);
    assert_true(fabs(s->value - 0.0084) < 1e-12);
    hf_dd_bucket_free(&b);

    /* distributions: count, sum, min, max per tag set */
    hf_dd_bucket_init(&b, 1795453200);
    const char *om[] = {"omega/decision.escalated.json", "omega/decision.blocked.json", "omega/decision.allowed.json",
                        "omega/decision.escalated.embedded.json"};
    for (size_t i = 0; i < 4; i++) {
        r = build("omega", om[i]);
        fold_record(&b, &none, r);
        hf_record_unref(r);
    }
    s = find(&b, "omega.decision.risk_score|outcome:escalate,source:omega", HF_MT_DIST);
    assert_int_equal(s->n, 2);
    assert_true(fabs(s->sum - 1.70) < 1e-12 && s->min == 0.85 && s->max == 0.85);
    s = find(&b, "omega.decision.risk_score|outcome:block,source:omega", HF_MT_DIST);
    assert_true(s->n == 1 && s->min == 0.97);
    s = find(&b, "omega.events|event:decision.escalated,severity:high,source:omega", HF_MT_COUNT);
    assert_true(s->value == 2.0);
    /* same name, another type: a series of its own */
    assert_null(hf_dd_bucket_find(&b, "omega.events|event:decision.escalated,severity:high,source:omega",
                                  strlen("omega.events|event:decision.escalated,severity:high,source:omega"),
                                  HF_MT_GAUGE));
    /* non-finite values cannot be sent as JSON */
    assert_int_equal(hf_dd_bucket_add(&b, "x|", 2, 1, HF_MT_GAUGE, NAN), -1);
    assert_int_equal(hf_dd_bucket_add(&b, "x|", 2, 1, HF_MT_GAUGE, INFINITY), -1);
    hf_dd_bucket_free(&b);
}

/* ---- encoding -------------------------------------------------------------- */

struct bodies {
    size_t n;
    size_t lo[4096], hi[4096], raw[4096];
    struct hf_buf body[4096];
};

static void collect(void *arg, size_t lo, size_t hi, struct hf_buf *body, size_t raw_len)
{
    struct bodies *bs = arg;
    assert_true(bs->n < 4096);
    bs->lo[bs->n] = lo;
    bs->hi[bs->n] = hi;
    bs->raw[bs->n] = raw_len;
    bs->body[bs->n] = *body;
    hf_buf_init(body, 0);
    bs->n++;
}

static void bodies_free(struct bodies *bs)
{
    for (size_t i = 0; i < bs->n; i++)
        hf_buf_free(&bs->body[i]);
    bs->n = 0;
}

/* Undoes gzip (31) or zlib (15) framing, or copies (0). */
static char *inflate_body(const struct hf_buf *body, int wbits, size_t *out_len)
{
    if (wbits == 0) {
        *out_len = body->len;
        return strndup(body->data, body->len);
    }
    size_t cap = 8 << 20;
    char *out = malloc(cap + 1);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, wbits), Z_OK);
    z.next_in = (unsigned char *)body->data;
    z.avail_in = (unsigned)body->len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (unsigned)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* nothing trailing */
    *out_len = z.total_out;
    out[*out_len] = '\0';
    inflateEnd(&z);
    return out;
}

static yyjson_val *get(yyjson_val *o, const char *k)
{
    yyjson_val *v = NULL;
    if (!((v = yyjson_obj_get(o, k)) != NULL))
        fail_msg("member %s missing", k);
    return v;
}

/* The v2 schema, strictly: what datadog_receiver.py checks too. */
static void check_series_schema(yyjson_val *s, int64_t ts, int64_t interval)
{
    size_t idx, max;
    yyjson_val *kv, *val;
    yyjson_obj_foreach(s, idx, max, kv, val)
    {
        const char *key = yyjson_get_str(kv);
        (void)val;
        assert_true(!strcmp(key, "metric") || !strcmp(key, "type") || !strcmp(key, "interval") ||
                    !strcmp(key, "points") || !strcmp(key, "tags") || !strcmp(key, "resources"));
    }
    const char *metric = yyjson_get_str(get(s, "metric"));
    assert_true(metric[0] >= 'a' && metric[0] <= 'z');
    assert_true(strlen(metric) <= 200);
    assert_true(yyjson_is_int(get(s, "type")));
    int type = (int)tj_int(get(s, "type"));
    assert_true(type == 1 || type == 3);
    yyjson_val *iv = NULL;
    bool has_iv = ((iv = yyjson_obj_get(s, "interval")) != NULL);
    assert_true(has_iv == (type == 1));
    if (has_iv)
        assert_int_equal(tj_int(iv), interval);
    yyjson_val *pts = get(s, "points");
    assert_int_equal(yyjson_arr_size(pts), 1);
    yyjson_val *p = yyjson_arr_get(pts, 0);
    assert_true(yyjson_is_int(get(p, "timestamp")));
    assert_int_equal(tj_int(get(p, "timestamp")), ts);
    yyjson_val *v = get(p, "value");
    assert_true(yyjson_is_int(v) || yyjson_is_real(v));
    yyjson_val *tags = get(s, "tags");
    for (size_t i = 0; i < yyjson_arr_size(tags); i++) {
        const char *t = yyjson_get_str(yyjson_arr_get(tags, i));
        assert_true(t[0] >= 'a' && t[0] <= 'z');
        assert_true(t[strlen(t) - 1] != ':');
        assert_true(strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_-:./") == strlen(t));
    }
    yyjson_val *res = get(s, "resources");
    assert_int_equal(yyjson_arr_size(res), 1);
    yyjson_val *r0 = yyjson_arr_get(res, 0);
    assert_string_equal(yyjson_get_str(get(r0, "type")), "host");
    assert_string_equal(yyjson_get_str(get(r0, "name")), "agent-01");
}

static yyjson_val *find_series(yyjson_val *arr, const char *metric, const char *tag)
{
    for (size_t i = 0; i < yyjson_arr_size(arr); i++) {
        yyjson_val *s = yyjson_arr_get(arr, i);
        if (strcmp(yyjson_get_str(get(s, "metric")), metric) != 0)
            continue;
        yyjson_val *tags = get(s, "tags");
        for (size_t k = 0; k < yyjson_arr_size(tags); k++)
            if (!strcmp(yyjson_get_str(yyjson_arr_get(tags, k)), tag))
                return s;
    }
    fail_msg("no series %s{%s}", metric, tag);
    return NULL;
}

static double value_of(yyjson_val *s) { return yyjson_get_num(get(yyjson_arr_get(get(s, "points"), 0), "value")); }

static void test_encode_schema(void **state)
{
    (void)state;
    struct hf_dd_tags tags = {0};
    hf_dd_tags_add(&tags, "env:Prod");
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, 1795453200);
    const char *om[] = {"omega/decision.escalated.json", "omega/decision.blocked.json", "omega/decision.allowed.json"};
    for (size_t i = 0; i < 3; i++) {
        struct hf_record *r = build("omega", om[i]);
        fold_record(&b, &tags, r);
        hf_record_unref(r);
    }
    struct hf_record *r = build("sentinelayer", "sentinelayer/scan.completed.json");
    fold_record(&b, &tags, r);
    hf_record_unref(r);
    const enum hf_dd_compression modes[] = {HF_DD_GZIP, HF_DD_DEFLATE, HF_DD_NONE};
    const int wbits[] = {31, 15, 0};
    static struct bodies bs;
    for (size_t m = 0; m < 3; m++) {
        struct hf_dd_encoder e;
        hf_dd_encoder_init(&e, modes[m], 10, "agent-01");
        assert_int_equal(hf_dd_encode(&e, &b, 0, b.n, collect, &bs), 1);
        assert_int_equal(bs.lo[0], 0);
        assert_int_equal(bs.hi[0], b.n);
        size_t len;
        char *json = inflate_body(&bs.body[0], wbits[m], &len);
        assert_int_equal(len, bs.raw[0]);
        yyjson_val *root = tj_parse(json, len);
        assert_non_null(root);
        assert_int_equal(yyjson_obj_size(root), 1);
        yyjson_val *arr = get(root, "series");
        /* 3 risk_score distributions expand to 5 series each */
        assert_int_equal(yyjson_arr_size(arr), b.n + 3 * 4);
        for (size_t i = 0; i < yyjson_arr_size(arr); i++)
            check_series_schema(yyjson_arr_get(arr, i), 1795453200, 10);
        yyjson_val *s = find_series(arr, "omega.decision.risk_score.count", "outcome:block");
        assert_int_equal((int)tj_int(get(s, "type")), 1);
        assert_true(value_of(s) == 1.0);
        s = find_series(arr, "omega.decision.risk_score.avg", "outcome:escalate");
        assert_int_equal((int)tj_int(get(s, "type")), 3);
        assert_true(value_of(s) == 0.85);
        s = find_series(arr, "sentinelayer.scan.findings", "severity:p1");
        assert_int_equal((int)tj_int(get(s, "type")), 3);
        assert_true(value_of(s) == 2.0);
        s = find_series(arr, "sentinelayer.scan.cost_usd", "env:prod");
        assert_true(value_of(s) == 0.0042);
        tj_free_all();
        free(json);
        bodies_free(&bs);
        hf_dd_encoder_free(&e);
    }
    hf_dd_bucket_free(&b);
    hf_dd_tags_free(&tags);
}

/* Series whose tags do not compress well, so bodies fill the wire limit. */
static void fill_bucket(struct hf_dd_bucket *b, size_t n, size_t tag_len)
{
    char key[512];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(key, sizeof(key), "bench.metric.%zu|id:", i % 7);
        for (size_t j = 0; j < tag_len; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            key[k++] = "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36];
        }
        k += snprintf(key + k, sizeof(key) - (size_t)k, "%zu", i); /* unique */
        size_t name_len = (size_t)(strchr(key, '|') - key);
        hf_dd_bucket_add(b, key, (size_t)k, name_len, (enum hf_metric_type)(i % 3), (double)i);
    }
}

static void check_split(enum hf_dd_compression mode, int wbits, size_t max_wire, size_t max_raw, size_t nseries,
                        size_t tag_len)
{
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, 1795453200);
    fill_bucket(&b, nseries, tag_len);
    assert_int_equal(b.n, nseries);
    struct hf_dd_encoder e;
    hf_dd_encoder_init(&e, mode, 10, "agent-01");
    e.max_wire = max_wire;
    e.max_raw = max_raw;
    static struct bodies bs;
    size_t n = hf_dd_encode(&e, &b, 0, b.n, collect, &bs);
    assert_int_equal(n, bs.n);
    assert_true(n >= 2);
    size_t next = 0, total = 0, expected = 0;
    for (size_t i = 0; i < b.n; i++)
        expected += b.series[i].type == HF_MT_DIST ? 5 : 1;
    for (size_t i = 0; i < bs.n; i++) {
        assert_int_equal(bs.lo[i], next); /* contiguous ranges, in order */
        assert_true(bs.hi[i] > bs.lo[i]);
        next = bs.hi[i];
        assert_true(bs.body[i].len <= max_wire);
        size_t len;
        char *json = inflate_body(&bs.body[i], wbits, &len);
        assert_int_equal(len, bs.raw[i]);
        assert_true(len <= max_raw);
        yyjson_val *root = tj_parse(json, len);
        assert_non_null(root);
        total += yyjson_arr_size(get(root, "series"));
        tj_free_all();
        free(json);
    }
    assert_int_equal(next, b.n);
    assert_int_equal(total, expected);
    /* the bodies are well filled: splitting is not wasteful */
    size_t sum = 0;
    for (size_t i = 0; i + 1 < bs.n; i++)
        sum += mode == HF_DD_NONE ? bs.raw[i] : bs.body[i].len;
    if (bs.n > 1 && mode != HF_DD_NONE && max_raw > 20 * max_wire)
        assert_true(sum / (bs.n - 1) > max_wire * 7 / 10);
    bodies_free(&bs);
    hf_dd_encoder_free(&e);
    hf_dd_bucket_free(&b);
}

static void test_split_at_limits(void **state)
{
    (void)state;
    /* the real limits: 512,000 bytes compressed (random tags compress ~2:1) */
    check_split(HF_DD_GZIP, 31, HF_DD_MAX_WIRE, HF_DD_MAX_RAW - 1, 12000, 150);
    /* ... and 5 MB decompressed (repetitive series compress far better) */
    check_split(HF_DD_GZIP, 31, HF_DD_MAX_WIRE, HF_DD_MAX_RAW - 1, 60000, 4);
    check_split(HF_DD_DEFLATE, 15, HF_DD_MAX_WIRE, HF_DD_MAX_RAW - 1, 12000, 150);
    /* uncompressed: 512,000 bytes as sent */
    check_split(HF_DD_NONE, 0, HF_DD_MAX_WIRE, HF_DD_MAX_RAW - 1, 6000, 150);
    /* small limits, to exercise many boundaries */
    check_split(HF_DD_GZIP, 31, 3000, 20000, 500, 40);
    check_split(HF_DD_NONE, 0, 3000, 20000, 500, 40);
    check_split(HF_DD_GZIP, 31, 100000, 4000, 500, 10);
}

static void test_oversized_series_alone(void **state)
{
    (void)state;
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, 1795453200);
    fill_bucket(&b, 3, 180);
    struct hf_dd_encoder e;
    hf_dd_encoder_init(&e, HF_DD_NONE, 10, "agent-01");
    e.max_wire = 100; /* smaller than any one series */
    static struct bodies bs;
    assert_int_equal(hf_dd_encode(&e, &b, 0, b.n, collect, &bs), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(bs.hi[i] - bs.lo[i], 1);
    bodies_free(&bs);
    /* a sub-range, as after a 413 */
    e.max_wire = HF_DD_MAX_WIRE;
    assert_int_equal(hf_dd_encode(&e, &b, 1, 3, collect, &bs), 1);
    assert_int_equal(bs.lo[0], 1);
    assert_int_equal(bs.hi[0], 3);
    bodies_free(&bs);
    hf_dd_encoder_free(&e);
    hf_dd_bucket_free(&b);
}

/* ---- options ------------------------------------------------------------- */

static void check_sink_error(const char *sink_yaml, const char *want)
{
    char text[4096];
    snprintf(text, sizeof(text), TU_SOURCES "sinks:\n%s", sink_yaml);
    struct hf_cerr err = {0};
    struct hf_config *c = tu_config(text, &err);
    struct hf_sink *s = NULL;
    if (c) {
        s = hf_sink_new(&c->sinks[0], c->file, "/tmp", &err);
        assert_null(s);
        hf_config_free(c);
    }
    if (!strstr(err.msg, want))
        fail_msg("expected [%s] in [%s]", want, err.msg);
    assert_null(strstr(err.msg, "sekrit")); /* never the key */
}

static void test_options(void **state)
{
    (void)state;
    check_sink_error("  - {name: dd, type: datadog, api_key: sekrit, takes: both}\n", "takes metrics only");
    check_sink_error("  - {name: dd, type: datadog, api_key: sekrit, interval: 1500ms}\n", "whole seconds");
    check_sink_error("  - {name: dd, type: datadog, api_key: sekrit, site: datadoghq.org}\n", "site");
    check_sink_error("  - {name: dd, type: datadog, api_key: sekrit, compression: zstd}\n", "compression");
    check_sink_error("  - {name: dd, type: datadog, api_key: \"sek rit\"}\n", "api_key: holds a character");
    check_sink_error("  - {name: dd, type: datadog}\n", "api_key");
    check_sink_error("  - {name: d, type: dogstatsd, address: \"tcp://127.0.0.1:8125\"}\n", "udp://host:port");
    check_sink_error("  - {name: d, type: dogstatsd, takes: records}\n", "takes metrics only");
    /* a good one builds, with the site's intake */
    struct hf_cerr err = {0};
    struct hf_config *c = tu_config(TU_SOURCES "sinks:\n  - {name: dd, type: datadog, api_key: sekrit, site: "
                                               "us3.datadoghq.com, tags: [\"Env:Prod\"]}\n",
                                    &err);
    assert_non_null(c);
    struct hf_sink *s = hf_sink_new(&c->sinks[0], c->file, "/tmp", &err);
    if (!s)
        fail_msg("%s", err.msg);
    assert_int_equal(s->conf->takes, HF_TAKES_METRICS);
    hf_sink_free(s);
    hf_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_normalization),
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_point_key),
        cmocka_unit_test(test_aggregate_fixtures),
        cmocka_unit_test(test_encode_schema),
        cmocka_unit_test(test_split_at_limits),
        cmocka_unit_test(test_oversized_series_alone),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
