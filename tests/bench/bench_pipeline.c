/* SPDX-License-Identifier: Apache-2.0 */
/* Micro-benchmark of the per-event CPU path without HTTP: hf_ingest (verify,
 * parse, flatten, dedup, rules, route into a sink queue) plus the sink's
 * encode of what it drained, on one thread, for the accepted fixtures with
 * a unique id per copy. Bodies are generated and signed (OpenSSL one-shot
 * HMAC, not hookfwd's code) outside the timed region.
 *
 *   bench_pipeline [-s SECONDS] [-n EVENTS_PER_ROUND] [-r ROUNDS] [-b BAD_EVERY] [-p]
 *   bench_pipeline -g FILE
 *
 * -r fixes the number of rounds (repeatable instruction counts under
 * callgrind: --toggle-collect=bench_timed_round); otherwise rounds run until
 * SECONDS of CPU time. -p also prints each fixture alone. Prints events/s
 * per core (thread CPU time) and ns/event. -g writes the file sink's output
 * for every fixture and for awkward bodies, with a fixed receive time, plus
 * formatted times and numbers: a performance change to serialization must
 * leave this file byte-identical (cmp before/after). Not a test: run by
 * hand or by tests/bench/run. */
#define _GNU_SOURCE
#include "pipeline.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEMPLATES 32
#define DRAIN_AT 500

struct template
{
    char file[128];
    const struct hf_source *src;
    const char *secret;
    char header[64]; /* "" for the embedded signature */
    bool prefixed; /* "sha256=" before the hex */
    const char *unique; /* quoted value made unique per copy */
    char *body;
    size_t len;
};

struct event {
    const struct template *t;
    char *body;
    size_t len;
    char sig[80];
    bool bad;
};

struct hdr_ctx {
    const char *name, *value;
};

static const struct {
    const char *file, *unique;
} unique_rules[] = {
    {"omega/decision.escalated.json", "\"dec_abc123\""},
    {"omega/decision.blocked.json", "\"dec_b7720f\""},
    {"omega/decision.allowed.json", "\"dec_a1000\""},
    {"omega/fuzz.finding.json", "\"fz_9912\""},
    {"omega/quota.warning.json", "\"org_42\""},
    {"omega/calibration.drift.json", "\"risk-v3\""},
    {"omega/decision.escalated.embedded.json", "\"dec_abc123\""},
    {"sentinelayer/scan.completed.json", "\"run-20260223-001\""},
    {"sentinelayer/scan.failed.json", "\"run-20260223-002\""},
    {"sentinelayer/scan.blocked.json", "\"run-20260223-003\""},
    {"sentinelayer/scan.skipped.json", "\"run-20260223-004\""},
    {"sentinelayer/scan.completed.pretty.json", "\"run-20260223-001\""},
};

static const char embedded_member[] = ",\"signature\":\"";

static const char config_yaml[] =
    "listen: {address: 127.0.0.1:0, threads: 1}\n"
    "storage: {mode: memory, path: /tmp}\n"
    "sources:\n"
    "  - name: omega\n"
    "    path: /webhooks/omega\n"
    "    profile: omegaengine\n"
    "    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature,\n"
    "                secrets: [\"whsec_your_signing_secret\"]}\n"
    "  - name: sentinelayer\n"
    "    path: /webhooks/sentinelayer\n"
    "    profile: sentinelayer\n"
    "    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: [\"sl_live_3f9a2c71d04e\"]}\n"
    "sinks:\n"
    "  - {name: out, type: stdout, takes: both, batch: {max_events: 500, flush_interval: 100ms}}\n";

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        hf_buf_append(&b, chunk, n);
    fclose(f);
    hf_buf_putc(&b, '\0');
    *len = b.len - 1;
    return b.data;
}

static const char *get_header(void *ctx, const char *name)
{
    const struct hdr_ctx *h = ctx;
    return h->name && !strcasecmp(h->name, name) ? h->value : NULL;
}

static void sign_hex(const char *secret, const char *body, size_t len, char out[65])
{
    unsigned char mac[32];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &ml);
    hf_hex(mac, 32, out);
}

/* Reads the accepted rows of signatures.tsv; the embedded fixture is kept
 * as its signed (cut) body. Checks each published signature. */
static size_t load_templates(struct hf_pipeline *p, struct template *t)
{
    size_t tsvlen, n = 0;
    char *tsv = read_file(FIXTURES_DIR "/signatures.tsv", &tsvlen);
    if (!tsv) {
        fprintf(stderr, "bench_pipeline: cannot read %s/signatures.tsv\n", FIXTURES_DIR);
        exit(1);
    }
    char *save = NULL;
    strtok_r(tsv, "\n", &save); /* header row */
    for (char *line; (line = strtok_r(NULL, "\n", &save)) && n < MAX_TEMPLATES;) {
        char *col[6] = {0}, *rest = line;
        for (int i = 0; i < 6; i++)
            col[i] = strsep(&rest, "\t"); /* keeps empty columns, unlike strtok */
        if (!col[5] || strcmp(col[5], "accept"))
            continue;
        struct template *tp = &t[n];
        memset(tp, 0, sizeof(*tp));
        snprintf(tp->file, sizeof(tp->file), "%s", col[0]);
        for (size_t i = 0; i < sizeof(unique_rules) / sizeof(unique_rules[0]); i++)
            if (!strcmp(unique_rules[i].file, col[0]))
                tp->unique = unique_rules[i].unique;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, col[0]);
        tp->body = read_file(path, &tp->len);
        char spath[80];
        snprintf(spath, sizeof(spath), "/webhooks/%s", col[1]);
        tp->src = hf_pipeline_source(p, spath, strlen(spath));
        tp->secret = !strcmp(col[1], "omega") ? "whsec_your_signing_secret" : "sl_live_3f9a2c71d04e";
        if (!tp->unique || !tp->body || !tp->src) {
            fprintf(stderr, "bench_pipeline: cannot use fixture %s\n", col[0]);
            exit(1);
        }
        char hex[65], want[80];
        if (strcmp(col[2], "-")) {
            snprintf(tp->header, sizeof(tp->header), "%s", col[2]);
            tp->prefixed = !strncmp(col[3], "sha256=", 7);
            snprintf(want, sizeof(want), "%s", col[3]);
        } else {
            char *m = strstr(tp->body, embedded_member);
            snprintf(want, sizeof(want), "%.71s", m + strlen(embedded_member));
            m[0] = '}'; /* the signed bytes are the body without the member */
            m[1] = '\0';
            tp->len = (size_t)(m - tp->body) + 1;
            tp->prefixed = true;
        }
        sign_hex(tp->secret, tp->body, tp->len, hex);
        if (strcmp(want + (tp->prefixed ? 7 : 0), hex)) {
            fprintf(stderr, "bench_pipeline: cannot reproduce the signature of %s\n", col[0]);
            exit(1);
        }
        n++;
    }
    free(tsv);
    return n;
}

/* One signed copy of t with its unique value suffixed by -<n>. */
static void make_event(const struct template *t, unsigned long n, bool bad, struct event *e)
{
    const char *at = strstr(t->body, t->unique);
    size_t ul = strlen(t->unique), pre = (size_t)(at - t->body) + ul - 1;
    struct hf_buf b;
    hf_buf_init(&b, 0);
    hf_buf_append(&b, t->body, pre);
    hf_buf_printf(&b, "-%07lu", n);
    hf_buf_append(&b, t->body + pre, t->len - pre);
    char hex[65];
    sign_hex(t->secret, b.data, b.len, hex);
    if (bad)
        hex[0] = hex[0] == '0' ? '1' : '0';
    snprintf(e->sig, sizeof(e->sig), "%s%s", t->prefixed ? "sha256=" : "", hex);
    if (!t->header[0]) {
        b.len--; /* the closing brace */
        hf_buf_printf(&b, "%s%s\"}", embedded_member, e->sig);
    }
    e->t = t;
    e->body = b.data;
    e->len = b.len;
    e->bad = bad;
}

/* The consumer side: takes what the ingest path queued and encodes it as
 * the sink's worker would, into a buffer that is then dropped. */
static size_t drain(struct hf_sink *s, struct hf_buf *out)
{
    struct hf_record *recs[DRAIN_AT * 2];
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    while (s->count && n < DRAIN_AT * 2) {
        recs[n++] = s->ring[s->head];
        s->queued_bytes -= s->ring[s->head]->json_len;
        s->head = (s->head + 1) % s->cap;
        s->count--;
    }
    pthread_mutex_unlock(&s->mu);
    struct hf_batch b = {.sink = s, .recs = recs, .n = n};
    hf_buf_reset(out);
    s->plugin->encode(s, &b, out);
    for (size_t i = 0; i < n; i++)
        hf_record_unref(recs[i]);
    return out->len;
}

struct totals {
    unsigned long events, bad, bytes_out;
    double cpu_s, wall_s;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The timed part, kept in one function so callgrind can count only it. */
static __attribute__((noinline)) void bench_timed_round(struct hf_pipeline *p, struct event *ev, size_t n,
                                                        struct hf_buf *out, struct totals *tot)
{
    struct hf_sink *s = p->sinks[0];
    for (size_t i = 0; i < n; i++) {
        struct hdr_ctx hc = {ev[i].t->header[0] ? ev[i].t->header : NULL, ev[i].sig};
        struct hf_ingest_result res;
        hf_ingest(p, ev[i].t->src, ev[i].body, ev[i].len, get_header, &hc, &res, NULL);
        int want = ev[i].bad ? 401 : 202;
        if (res.status != want) {
            fprintf(stderr, "bench_pipeline: %s copy answered %d (%s), expected %d\n", ev[i].t->file, res.status,
                    res.reason, want);
            exit(1);
        }
        if (s->count >= DRAIN_AT)
            tot->bytes_out += drain(s, out);
    }
    tot->bytes_out += drain(s, out);
}

static void run(struct hf_pipeline *p, const struct template *t, size_t nt, size_t per_round, long rounds,
                double seconds, int bad_every, unsigned long *serial, struct totals *tot)
{
    struct event *ev = hf_calloc(per_round, sizeof(*ev));
    struct hf_buf out;
    hf_buf_init(&out, 0);
    memset(tot, 0, sizeof(*tot));
    for (long r = 0; rounds ? r < rounds : tot->cpu_s < seconds; r++) {
        for (size_t i = 0; i < per_round; i++, (*serial)++) {
            bool bad = bad_every > 0 && *serial % (unsigned long)bad_every == (unsigned long)bad_every - 1;
            make_event(&t[*serial % nt], *serial, bad, &ev[i]);
            tot->bad += bad;
        }
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        bench_timed_round(p, ev, per_round, &out, tot);
        tot->cpu_s += clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        tot->wall_s += clock_s(CLOCK_MONOTONIC) - w0;
        tot->events += per_round;
        for (size_t i = 0; i < per_round; i++)
            free(ev[i].body);
    }
    hf_buf_free(&out);
    free(ev);
}

static void report(const char *what, const struct totals *t)
{
    printf("%-42s events=%lu bad=%lu cpu_s=%.3f events_per_s=%.0f ns_per_event=%.0f out_bytes_per_event=%.0f\n", what,
           t->events, t->bad, t->cpu_s, (double)t->events / t->cpu_s, t->cpu_s * 1e9 / (double)t->events,
           (double)t->bytes_out / (double)t->events);
}

/* Bodies that reach the corners of flatten and serialization (a lone
 * surrogate escape such as \\ud800 is refused by the parser: not here). */
static const char *const awkward[] = {
    "{\"event\":\"decision.allowed\",\"decision\":{\"id\":\"d1\",\"riskScore\":-0.0,\"n\":-0,\"big\":"
    "9223372036854775807,\"bigger\":18446744073709551615,\"neg\":-9223372036854775808,\"e\":1e400,"
    "\"f\":1.5E-7,\"g\":12345678901234567890123,\"h\":0.1,\"i\":100000000000000000000.0}}",
    "{\"event\":\"decision.blocked\",\"timestamp\":\"2026-01-14T12:01:07+02:00\",\"decision\":{\"id\":"
    "\"d2\",\"outcome\":\"BL\\u0000OCK\",\"scenario\":\"tab\\there \\\"q\\\" \\\\ \\u001f \\u00e9 "
    "\\ud83d\\ude00 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 </script>\",\"policyMatches\":[1,2.5,"
    "true,null,\"a\\nb\"],\"nested\":{\"deepKey\":{\"x\":[{\"y\":1},{\"zZ\":[]}]}},\"e\":{},\"camelCASEKey\":1}}",
    "{\"event_type\":\"scan.failed\",\"run_id\":\"r1\",\"timestamp\":\"bogus\",\"repo\":\"a/b\","
    "\"severity_counts\":{\"P0\":\"3\",\"P1\":2.25,\"info\":true},\"total_findings\":-4,"
    "\"estimated_cost_usd\":\"1e-3\",\"error_code\":\"E\\u0001\"}",
};

static void golden_record(struct hf_pipeline *p, const struct hf_source *src, const char *body, size_t len,
                          int64_t received_ms, FILE *out)
{
    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    char reason[300] = "";
    struct hf_record *r = hf_build_record(p, src, body, len, &vr, NULL, received_ms, reason, sizeof(reason));
    if (!r) {
        fprintf(out, "rejected: %s\n", reason);
        return;
    }
    struct hf_buf b;
    hf_buf_init(&b, 0);
    struct hf_batch batch = {.sink = p->sinks[0], .recs = &r, .n = 1};
    p->sinks[0]->plugin->encode(p->sinks[0], &batch, &b);
    fwrite(b.data, 1, b.len, out);
    hf_buf_free(&b);
    hf_record_unref(r);
}

static int golden(struct hf_pipeline *p, const struct template *t, size_t nt, const char *path)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 1;
    }
    for (size_t i = 0; i < nt; i++)
        golden_record(p, t[i].src, t[i].body, t[i].len, 1795453200123LL + (int64_t)i * 86399999, out);
    for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); i++)
        golden_record(p, p->cfg->sources[i == 2].name ? &p->cfg->sources[i == 2] : NULL, awkward[i], strlen(awkward[i]),
                      0, out);
    char ts[32];
    for (int64_t ms = 0; ms < 253402300800000LL; ms += 9876543211LL + ms / 7) {
        hf_format_iso_ms(ms, ts, sizeof(ts));
        fprintf(out, "%s\n", ts);
    }
    struct hf_buf b;
    hf_buf_init(&b, 0);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: a fixed sequence */
        double d;
        memcpy(&d, &x, sizeof(d));
        double vals[] = {d, (double)(int64_t)x, (double)(int32_t)x, (double)(x % 100000) / 1000.0, -(double)(x % 997)};
        for (size_t k = 0; k < 5; k++) {
            hf_buf_reset(&b);
            hf_buf_json_double(&b, vals[k]);
            fprintf(out, "%.*s\n", (int)b.len, b.data);
        }
    }
    hf_buf_free(&b);
    return fclose(out) == 0 ? 0 : 1;
}

static struct hf_pipeline *open_pipeline(void)
{
    char path[] = "/tmp/hookfwd-bench-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, config_yaml, strlen(config_yaml)) != (ssize_t)strlen(config_yaml)) {
        perror("bench_pipeline: temporary config");
        exit(1);
    }
    close(fd);
    struct hf_cerr err = {0};
    struct hf_config *cfg = hf_config_load(path, &err);
    unlink(path);
    struct hf_pipeline *p = cfg ? hf_pipeline_new(cfg, NULL, &err) : NULL;
    if (!p) {
        fprintf(stderr, "bench_pipeline: %s\n", err.msg);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    double seconds = 3;
    long rounds = 0, per_round = 20000;
    int bad_every = 0, opt;
    bool per_fixture = false;
    const char *golden_path = NULL;
    hf_mem_tune(); /* as the agent runs */
    while ((opt = getopt(argc, argv, "s:n:r:b:pg:")) != -1) {
        switch (opt) {
        case 'g': golden_path = optarg; break;
        case 's': seconds = strtod(optarg, NULL); break;
        case 'n': per_round = strtol(optarg, NULL, 10); break;
        case 'r': rounds = strtol(optarg, NULL, 10); break;
        case 'b': bad_every = (int)strtol(optarg, NULL, 10); break;
        case 'p': per_fixture = true; break;
        default:
            fprintf(stderr,
                    "usage: bench_pipeline [-s SECONDS] [-n EVENTS_PER_ROUND] [-r ROUNDS] [-b BAD_EVERY] [-p]\n");
            return 2;
        }
    }
    if (per_round < 1 || seconds <= 0) {
        fprintf(stderr, "bench_pipeline: -n and -s must be positive\n");
        return 2;
    }
    hf_log_set_level(HF_LOG_ERROR);
    struct hf_pipeline *p = open_pipeline();
    struct template t[MAX_TEMPLATES];
    size_t nt = load_templates(p, t);
    if (golden_path) {
        int rc = golden(p, t, nt, golden_path);
        for (size_t i = 0; i < nt; i++)
            free(t[i].body);
        hf_pipeline_unref(p);
        return rc;
    }
    unsigned long serial = 0;
    struct totals tot;
    char what[200];
    snprintf(what, sizeof(what), "mix of %zu fixtures%s", nt,
             bad_every == 1 ? ", all bad signatures"
             : bad_every    ? ", some bad signatures"
                            : "");
    run(p, t, nt, (size_t)per_round, rounds, seconds, bad_every, &serial, &tot);
    report(what, &tot);
    for (size_t i = 0; per_fixture && i < nt; i++) {
        run(p, &t[i], 1, (size_t)per_round, rounds, seconds / 4, bad_every, &serial, &tot);
        report(t[i].file, &tot);
    }
    for (size_t i = 0; i < nt; i++)
        free(t[i].body);
    hf_pipeline_unref(p);
    return 0;
}
