/* SPDX-License-Identifier: Apache-2.0 */
/* The Splunk HEC sink without a network: event and metric envelopes field by
 * field, gzip framing, reading HEC replies and acks, option checks. */
#include "testutil.h"
#include "verify.h"

#include "../../plugins/out_splunk/splunk.h"

#include "json_test.h"
#include <zlib.h>

#define RECEIVED_MS 1795453200123LL

#define SPLUNK_SINK(extra)                                                                                             \
    "sinks:\n"                                                                                                         \
    "  - name: siem\n"                                                                                                 \
    "    type: splunk_hec\n"                                                                                           \
    "    url: http://127.0.0.1:9/\n"                                                                                   \
    "    token: 11111111-2222-3333-4444-555555555555\n"                                                                \
    "    host: agent01\n" extra

struct env {
    struct hf_config *cfg;
    struct hf_sink *sink;
    struct hf_pipeline pipe;
};

static struct env *open_env(const char *sink_yaml)
{
    struct env *e = calloc(1, sizeof(*e));
    struct hf_cerr err = {0};
    char text[4096];
    snprintf(text, sizeof(text),
             "%smetrics:\n  - {name: test.hosted, type: count, tags: [host=decision.outcome, event]}\n%s", TU_SOURCES,
             sink_yaml);
    e->cfg = tu_config(text, &err);
    if (!e->cfg)
        fail_msg("%s", err.msg);
    e->sink = hf_sink_new(&e->cfg->sinks[0], e->cfg->file, "/tmp", &err);
    if (!e->sink)
        fail_msg("%s", err.msg);
    e->pipe.cfg = e->cfg;
    return e;
}

static void close_env(struct env *e)
{
    hf_sink_free(e->sink);
    hf_config_free(e->cfg);
    free(e);
}

static struct hf_record *build(struct env *e, const char *source, const char *fixture)
{
    size_t len;
    char *body = tu_fixture(fixture, &len);
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 1};
    char reason[200] = "";
    struct hf_record *r =
        hf_build_record(&e->pipe, tu_source(e->cfg, source), body, len, &vr, NULL, RECEIVED_MS, reason, sizeof(reason));
    free(body);
    if (!r)
        fail_msg("%s: %s", fixture, reason);
    return r;
}

/* Encodes records as one batch through the plugin's encode(). */
static char *encode(struct env *e, struct hf_record **recs, size_t n, size_t *len)
{
    struct hf_batch b = {.sink = e->sink, .recs = recs, .n = n};
    struct hf_buf out;
    hf_buf_init(&out, 0);
    assert_int_equal(e->sink->plugin->encode(e->sink, &b, &out), 0);
    *len = out.len;
    return out.data;
}

/* Splits concatenated JSON objects; returns how many were parsed. */
static size_t split_objects(const char *text, size_t len, yyjson_val **objs, size_t max)
{
    return tj_parse_many(text, len, objs, max);
}

static yyjson_val *get(yyjson_val *o, const char *key)
{
    yyjson_val *v = NULL;
    if (!((v = yyjson_obj_get(o, key)) != NULL))
        fail_msg("missing key %s in an object of %zu members", key, yyjson_obj_size(o));
    return v;
}

static const char *get_str(yyjson_val *o, const char *key)
{
    yyjson_val *v = get(o, key);
    assert_true(yyjson_is_str(v));
    return yyjson_get_str(v);
}

static void assert_keys(yyjson_val *o, const char *const *keys)
{
    size_t n = 0;
    for (; keys[n]; n++)
        get(o, keys[n]);
    assert_int_equal((size_t)yyjson_obj_size(o), n);
}

static void test_event_envelope(void **state)
{
    (void)state;
    struct env *e = open_env(SPLUNK_SINK("    gzip: false\n    index: security\n"));
    struct hf_record *r = build(e, "omega", "omega/decision.escalated.json");
    size_t len;
    char *text = encode(e, &r, 1, &len);
    /* time is written with exactly three decimals: 2026-01-14T12:00:00Z */
    assert_non_null(strstr(text, "{\"time\":1768392000.000,"));
    assert_int_equal(text[len - 1], '\n');
    yyjson_val *objs[4];
    assert_int_equal(split_objects(text, len, objs, 4), 1);
    yyjson_val *o = objs[0];
    static const char *const keys[] = {"time", "host", "source", "sourcetype", "index", "event", "fields", NULL};
    assert_keys(o, keys);
    assert_true(yyjson_is_real(get(o, "time")));
    assert_string_equal(get_str(o, "host"), "agent01");
    assert_string_equal(get_str(o, "source"), "omega");
    assert_string_equal(get_str(o, "sourcetype"), "hookfwd:omega");
    assert_string_equal(get_str(o, "index"), "security");
    yyjson_val *ev = get(o, "event");
    assert_true(yyjson_is_obj(ev));
    assert_string_equal(get_str(ev, "event_id"), "dec_abc123");
    assert_string_equal(get_str(ev, "timestamp"), "2026-01-14T12:00:00Z");
    yyjson_val *data = get(ev, "data");
    assert_true(yyjson_get_num(get(data, "decision.risk_score")) == 0.85);
    assert_string_equal(get_str(data, "decision.outcome"), "ESCALATE");
    assert_int_equal(yyjson_arr_size(get(data, "decision.policy_matches")), 2);
    /* the event is the record's JSON, byte for byte */
    assert_non_null(strstr(text, r->json));
    yyjson_val *f = get(o, "fields");
    static const char *const fkeys[] = {"event_type", "severity", "idempotency_key", NULL};
    assert_keys(f, fkeys);
    assert_string_equal(get_str(f, "event_type"), "decision.escalated");
    assert_string_equal(get_str(f, "severity"), "high");
    assert_string_equal(get_str(f, "idempotency_key"), "dec_abc123:decision.escalated");
    tj_free_all();
    free(text);
    hf_record_unref(r);
    close_env(e);
}

static void test_time_and_overrides(void **state)
{
    (void)state;
    struct env *e = open_env(SPLUNK_SINK("    gzip: false\n    sourcetype: \"custom:\\\"st\\\"\"\n"));
    struct hf_record *r = build(e, "sentinelayer", "sentinelayer/scan.completed.json");
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {{1768392000123LL, "{\"time\":1768392000.123,"},
                 {5, "{\"time\":0.005,"},
                 {1768392000999LL, "{\"time\":1768392000.999,"},
                 {-20, "{\"time\":0.000,"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r->event_ms = cases[i].ms;
        size_t len;
        char *text = encode(e, &r, 1, &len);
        assert_memory_equal(text, cases[i].text, strlen(cases[i].text));
        yyjson_val *objs[2];
        assert_int_equal(split_objects(text, len, objs, 2), 1);
        /* no index option: no index key, so the token's default applies */
        assert_false((yyjson_obj_get(objs[0], "index") != NULL));
        assert_string_equal(get_str(objs[0], "sourcetype"), "custom:\"st\"");
        assert_string_equal(get_str(objs[0], "source"), "sentinelayer");
        assert_string_equal(get_str(get(objs[0], "fields"), "idempotency_key"), "run-20260223-001");
        tj_free_all();
        free(text);
    }
    hf_record_unref(r);
    close_env(e);
}

static yyjson_val *find_metric(yyjson_val **objs, size_t n, const char *name)
{
    char key[200];
    snprintf(key, sizeof(key), "metric_name:%s", name);
    for (size_t i = 0; i < n; i++) {
        yyjson_val *f;
        if (((f = yyjson_obj_get(objs[i], "fields")) != NULL) && (yyjson_obj_get(f, key) != NULL))
            return objs[i];
    }
    fail_msg("no metric event for %s", name);
    return NULL;
}

/* Every metric event: the envelope, one numeric metric_name:<name>, and
 * dimensions that are strings or arrays of strings. */
static void check_metric_event(yyjson_val *o)
{
    static const char *const keys[] = {"time", "event", "host", "source", "sourcetype", "index", "fields", NULL};
    assert_keys(o, keys);
    assert_string_equal(get_str(o, "event"), "metric");
    assert_string_equal(get_str(o, "index"), "hookfwd_metrics");
    assert_string_equal(get_str(o, "sourcetype"), "hookfwd:omega");
    /* metric points are stamped with the receive time */
    assert_true(yyjson_get_num(get(o, "time")) == 1795453200.123);
    int names = 0;
    size_t idx, max;
    yyjson_val *kv, *v;
    yyjson_obj_foreach(get(o, "fields"), idx, max, kv, v)
    {
        const char *k = yyjson_get_str(kv);
        if (!strncmp(k, "metric_name:", 12)) {
            names++;
            assert_true(yyjson_is_int(v) || yyjson_is_real(v));
        } else if (yyjson_is_arr(v)) {
            for (size_t i = 0; i < yyjson_arr_size(v); i++)
                assert_true(yyjson_is_str(yyjson_arr_get(v, i)));
        } else {
            assert_true(yyjson_is_str(v));
        }
        assert_string_not_equal(k, "source"); /* the envelope carries it */
    }
    assert_int_equal(names, 1);
}

static void test_metric_events(void **state)
{
    (void)state;
    struct env *e = open_env(SPLUNK_SINK("    takes: metrics\n    gzip: false\n    index: security\n"
                                         "    metrics_index: hookfwd_metrics\n"));
    struct hf_record *r = build(e, "omega", "omega/decision.escalated.json");
    size_t len;
    char *text = encode(e, &r, 1, &len);
    yyjson_val *objs[16];
    size_t n = split_objects(text, len, objs, 16);
    assert_int_equal(n, r->npoints);
    assert_int_equal(n, hf_splunk_count_objects(HF_TAKES_METRICS, r));
    for (size_t i = 0; i < n; i++)
        check_metric_event(objs[i]);
    yyjson_val *m = find_metric(objs, n, "omega.events");
    assert_int_equal((int)tj_int(get(get(m, "fields"), "metric_name:omega.events")), 1);
    assert_string_equal(get_str(get(m, "fields"), "event"), "decision.escalated");
    assert_string_equal(get_str(get(m, "fields"), "severity"), "high");
    /* a repeated tag key becomes one multi-value dimension */
    m = find_metric(objs, n, "omega.decision.count");
    yyjson_val *policy = get(get(m, "fields"), "policy");
    assert_true(yyjson_is_arr(policy));
    assert_int_equal(yyjson_arr_size(policy), 2);
    assert_string_equal(yyjson_get_str(yyjson_arr_get(policy, 0)), "high_value_transfer");
    assert_string_equal(yyjson_get_str(yyjson_arr_get(policy, 1)), "new_vendor");
    assert_string_equal(get_str(get(m, "fields"), "outcome"), "ESCALATE");
    m = find_metric(objs, n, "omega.decision.risk_score");
    assert_true(yyjson_get_num(get(get(m, "fields"), "metric_name:omega.decision.risk_score")) == 0.85);
    /* a tag named like HEC metadata is renamed, not allowed to collide */
    m = find_metric(objs, n, "test.hosted");
    assert_string_equal(get_str(get(m, "fields"), "tag.host"), "ESCALATE");
    assert_string_equal(get_str(m, "host"), "agent01");
    for (size_t i = 0; i < n; i++)
        tj_free_all();
    free(text);
    hf_record_unref(r);
    close_env(e);
}

static void test_both_in_order(void **state)
{
    (void)state;
    struct env *e = open_env(SPLUNK_SINK("    takes: both\n    gzip: false\n"));
    struct hf_record *recs[2] = {build(e, "omega", "omega/decision.blocked.json"),
                                 build(e, "sentinelayer", "sentinelayer/scan.failed.json")};
    size_t len;
    char *text = encode(e, recs, 2, &len);
    yyjson_val *objs[32];
    size_t n = split_objects(text, len, objs, 32);
    size_t want0 = hf_splunk_count_objects(HF_TAKES_BOTH, recs[0]);
    assert_int_equal(want0, 1 + recs[0]->npoints);
    assert_int_equal(n, want0 + 1 + recs[1]->npoints);
    /* each record's event comes first, then its metric events */
    assert_true(yyjson_is_obj(get(objs[0], "event")));
    assert_string_equal(get_str(objs[want0], "source"), "sentinelayer");
    assert_true(yyjson_is_obj(get(objs[want0], "event")));
    assert_string_equal(get_str(objs[1], "event"), "metric");
    for (size_t i = 0; i < n; i++)
        tj_free_all();
    free(text);
    hf_record_unref(recs[0]);
    hf_record_unref(recs[1]);
    close_env(e);
}

static void test_gzip_framing(void **state)
{
    (void)state;
    struct env *plain_env = open_env(SPLUNK_SINK("    gzip: false\n"));
    struct env *gz_env = open_env(SPLUNK_SINK(""));
    struct hf_record *recs[3] = {build(plain_env, "omega", "omega/decision.escalated.json"),
                                 build(plain_env, "omega", "omega/fuzz.finding.json"),
                                 build(plain_env, "sentinelayer", "sentinelayer/scan.blocked.json")};
    size_t plain_len, gz_len;
    char *plain = encode(plain_env, recs, 3, &plain_len);
    char *gz = encode(gz_env, recs, 3, &gz_len); /* gzip defaults to on */
    assert_true(gz_len > 18);
    assert_int_equal((unsigned char)gz[0], 0x1f);
    assert_int_equal((unsigned char)gz[1], 0x8b);
    assert_int_equal(gz[2], 8); /* deflate */
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    char *back = malloc(plain_len + 64);
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)gz_len;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)(plain_len + 64);
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, plain_len);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after the trailer */
    assert_memory_equal(back, plain, plain_len);
    inflateEnd(&z);
    free(back);
    free(plain);
    free(gz);
    for (int i = 0; i < 3; i++)
        hf_record_unref(recs[i]);
    close_env(plain_env);
    close_env(gz_env);
}

/* The sink's kept compressor writes what a fresh one does, request after
 * request, whatever the previous request was. */
static void test_gzip_reused(void **state)
{
    (void)state;
    struct env *e = open_env(SPLUNK_SINK("    gzip: false\n"));
    struct hf_record *recs[2] = {build(e, "omega", "omega/decision.escalated.json"),
                                 build(e, "sentinelayer", "sentinelayer/scan.blocked.json")};
    size_t len;
    char *plain = encode(e, recs, 2, &len);
    const size_t sizes[] = {len, len / 3, 0, len, 1};
    struct hf_splunk_zip *zip = hf_splunk_zip_new();
    assert_non_null(zip);
    struct hf_buf kept, fresh;
    hf_buf_init(&kept, 0);
    hf_buf_init(&fresh, 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(hf_splunk_gzip_with(zip, plain, sizes[i], &kept), 0);
        assert_int_equal(hf_splunk_gzip(plain, sizes[i], &fresh), 0);
        assert_int_equal(kept.len, fresh.len);
        assert_memory_equal(kept.data, fresh.data, fresh.len);
    }
    hf_buf_free(&kept);
    hf_buf_free(&fresh);
    hf_splunk_zip_free(zip);
    free(plain);
    for (int i = 0; i < 2; i++)
        hf_record_unref(recs[i]);
    close_env(e);
}

static enum hf_splunk_class classify(long status, const char *body, struct hf_splunk_reply *r)
{
    hf_splunk_parse_reply(status, body, body ? strlen(body) : 0, r);
    return hf_splunk_classify(r);
}

static void test_replies(void **state)
{
    (void)state;
    struct hf_splunk_reply r;
    assert_int_equal(classify(200, "{\"text\":\"Success\",\"code\":0}", &r), HF_SPLUNK_OK);
    assert_int_equal(r.ack_id, -1);
    assert_int_equal(classify(200, "{\"text\":\"Success\",\"code\":0,\"ackId\":7}", &r), HF_SPLUNK_OK);
    assert_int_equal(r.ack_id, 7);
    assert_int_equal(classify(200, "{\"text\":\"near capacity\",\"code\":24}", &r), HF_SPLUNK_OK);
    assert_int_equal(classify(200, "{\"code\":25}", &r), HF_SPLUNK_OK);
    assert_int_equal(classify(503, "{\"text\":\"Server is busy\",\"code\":9}", &r), HF_SPLUNK_RETRY);
    assert_int_equal(classify(500, "{\"text\":\"Internal server error\",\"code\":8}", &r), HF_SPLUNK_RETRY);
    assert_int_equal(classify(502, "<html>bad gateway</html>", &r), HF_SPLUNK_RETRY);
    assert_int_equal(r.code, -1);
    assert_string_equal(r.text, "<html>bad gateway</html>");
    assert_int_equal(classify(429, "{\"code\":26}", &r), HF_SPLUNK_RETRY);
    assert_int_equal(classify(0, NULL, &r), HF_SPLUNK_RETRY);
    assert_int_equal(classify(401, "{\"text\":\"Token is required\",\"code\":2}", &r), HF_SPLUNK_AUTH);
    assert_int_equal(classify(401, "{\"code\":3}", &r), HF_SPLUNK_AUTH);
    assert_int_equal(classify(403, "{\"text\":\"Invalid token\",\"code\":4}", &r), HF_SPLUNK_AUTH);
    assert_int_equal(classify(403, "{\"code\":1}", &r), HF_SPLUNK_AUTH);
    assert_int_equal(classify(400, "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":41}", &r),
                     HF_SPLUNK_POISON);
    assert_int_equal(r.invalid_event, 41);
    assert_string_equal(r.text, "Invalid data format");
    assert_int_equal(classify(400, "{\"code\":12,\"invalid-event-number\":0}", &r), HF_SPLUNK_POISON);
    assert_int_equal(r.invalid_event, 0);
    assert_int_equal(classify(400, "{\"code\":13}", &r), HF_SPLUNK_POISON);
    assert_int_equal(r.invalid_event, -1);
    assert_int_equal(classify(400, "{\"code\":7}", &r), HF_SPLUNK_CONFIG);
    assert_int_equal(classify(400, "{\"code\":10}", &r), HF_SPLUNK_CONFIG);
    assert_int_equal(classify(404, "{\"code\":404}", &r), HF_SPLUNK_CONFIG);
    assert_int_equal(classify(301, "", &r), HF_SPLUNK_CONFIG);
    assert_int_equal(classify(413, "", &r), HF_SPLUNK_TOO_LARGE);
}

static int64_t acked[8];
static size_t nacked;
static void on_ack(void *arg, int64_t id)
{
    (void)arg;
    if (nacked < 8)
        acked[nacked++] = id;
}

static void test_acks(void **state)
{
    (void)state;
    const char *ok = "{\"acks\":{\"0\":true,\"1\":false,\"12\":true}}";
    nacked = 0;
    assert_int_equal(hf_splunk_parse_acks(ok, strlen(ok), on_ack, NULL), 0);
    assert_int_equal(nacked, 2);
    assert_int_equal(acked[0], 0);
    assert_int_equal(acked[1], 12);
    const char *bad[] = {"{\"text\":\"ACK is disabled\",\"code\":14}", "[]", "not json", "{\"acks\":[0]}"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(hf_splunk_parse_acks(bad[i], strlen(bad[i]), on_ack, NULL), -1);
    assert_int_equal(nacked, 2);
}

static void test_endpoints(void **state)
{
    (void)state;
    struct env *e = open_env("sinks:\n  - name: siem\n    type: splunk_hec\n"
                             "    url: https://splunk.example.com:8088/services/collector/event/\n"
                             "    token: abc\n");
    struct splunk_ctx *c = e->sink->ctx;
    assert_string_equal(c->conf.event_url, "https://splunk.example.com:8088/services/collector/event");
    assert_string_equal(c->conf.ack_url, "https://splunk.example.com:8088/services/collector/ack");
    assert_true(hf_splunk_is_uuid(c->conf.channel));
    assert_int_equal(c->conf.channel[14], '4'); /* version 4 */
    assert_non_null(strchr("89ab", c->conf.channel[19]));
    assert_true(c->conf.gzip);
    assert_true(c->conf.verify);
    assert_false(c->conf.ack);
    char host[256];
    gethostname(host, sizeof(host));
    assert_string_equal(c->conf.host, host);
    close_env(e);
    e = open_env("sinks:\n  - name: siem\n    type: splunk_hec\n    url: http://10.0.0.1:8088/prefix\n"
                 "    token: abc\n    channel: 5A6B7C8D-1E2F-4A3B-9C8D-7E6F5A4B3C2D\n");
    c = e->sink->ctx;
    assert_string_equal(c->conf.event_url, "http://10.0.0.1:8088/prefix/services/collector/event");
    assert_string_equal(c->conf.channel, "5A6B7C8D-1E2F-4A3B-9C8D-7E6F5A4B3C2D");
    close_env(e);
}

/* The init error for a sink, or "" when it starts. */
static void init_error(const char *sink_yaml, char *msg, size_t len)
{
    struct hf_cerr err = {0};
    char text[4096];
    snprintf(text, sizeof(text), "%s%s", TU_SOURCES, sink_yaml);
    struct hf_config *cfg = tu_config(text, &err);
    msg[0] = '\0';
    if (cfg) {
        struct hf_sink *s = hf_sink_new(&cfg->sinks[0], cfg->file, "/tmp", &err);
        if (s)
            hf_sink_free(s);
        hf_config_free(cfg);
    }
    snprintf(msg, len, "%s", err.msg);
}

static void test_option_errors(void **state)
{
    (void)state;
    char msg[600];
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"ftp://x\", token: abc}\n", msg, sizeof(msg));
    assert_non_null(strstr(msg, "scheme must be https or http"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x?token=abc\", token: abc}\n", msg, sizeof(msg));
    assert_non_null(strstr(msg, "query string"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: abc, channel: nope}\n", msg,
               sizeof(msg));
    assert_non_null(strstr(msg, "channel: must be a GUID"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: \"sekrit tok\"}\n", msg,
               sizeof(msg));
    assert_non_null(strstr(msg, "token: contains spaces"));
    assert_null(strstr(msg, "sekrit")); /* a secret is never in a message */
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: abc, tls: {ca_file: /nonexist}}\n",
               msg, sizeof(msg));
    assert_non_null(strstr(msg, "tls.ca_file: cannot be read"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: abc, gzip: maybe}\n", msg,
               sizeof(msg));
    assert_non_null(strstr(msg, "gzip"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: abc, acks: true}\n", msg,
               sizeof(msg));
    assert_non_null(strstr(msg, "unknown key 'acks'"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, token: abc}\n", msg, sizeof(msg));
    assert_non_null(strstr(msg, "missing required key 'url'"));
    init_error("sinks:\n  - {name: s, type: splunk_hec, url: \"https://x\", token: abc}\n", msg, sizeof(msg));
    assert_string_equal(msg, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_envelope), cmocka_unit_test(test_time_and_overrides),
        cmocka_unit_test(test_metric_events),  cmocka_unit_test(test_both_in_order),
        cmocka_unit_test(test_gzip_framing),   cmocka_unit_test(test_gzip_reused),
        cmocka_unit_test(test_replies),        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_endpoints),      cmocka_unit_test(test_option_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
