/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark of the datadog sink's CPU path on one core: records (built from
 * the fixtures by the real pipeline code) -> points normalized and folded
 * into an interval -> v2 series JSON -> gzip request bodies within the
 * intake's limits. No network. Prints points/s and the ratio of requests
 * to points at saturation, for two cardinalities:
 *   bounded:   --repos repositories, the same series again and again (the
 *              usual case: aggregation folds everything into a few series)
 *   unbounded: every record on a repository of its own (no two points
 *              aggregate; the worst case for the encoder and the requests)
 *
 *   bench_datadog [--seconds S] [--repos N] [--unique N] [--level L]   */
#include "config.h"
#include "pipeline.h"
#include "verify.h"

#include "../../plugins/out_datadog/datadog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const fixtures[] = {
    "sentinelayer/scan.completed.json", "sentinelayer/scan.failed.json", "sentinelayer/scan.blocked.json",
    "sentinelayer/scan.skipped.json",   "omega/decision.escalated.json", "omega/decision.blocked.json",
    "omega/decision.allowed.json",
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

static const char config_text[] =
    "sources:\n"
    "  - {name: omega, path: /o, profile: omegaengine,\n"
    "     signature: {scheme: hmac-sha256, header: X-Omega-Signature, secrets: [x]}}\n"
    "  - {name: sentinelayer, path: /s, profile: sentinelayer,\n"
    "     signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: [x]}}\n"
    "sinks:\n  - {name: out, type: stdout}\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_fixture(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    char *buf = calloc(1, 65536);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

/* The fixture with its repository ("acme/...") replaced by acme/repo-<k>. */
static struct hf_record *make_record(struct hf_pipeline *p, size_t i, size_t repo)
{
    static char *bodies[NFIX];
    static size_t lens[NFIX];
    size_t f = i % NFIX;
    if (!bodies[f])
        bodies[f] = read_fixture(fixtures[f], &lens[f]);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    const char *src = bodies[f], *at = strstr(src, "\"repo\":\"");
    if (at) {
        const char *end = strchr(at + 8, '"');
        hf_buf_append(&b, src, (size_t)(at - src));
        hf_buf_printf(&b, "\"repo\":\"acme/repo-%zu\"", repo);
        hf_buf_puts(&b, end + 1);
    } else {
        hf_buf_append(&b, src, lens[f]);
    }
    const char *name = f < 4 ? "sentinelayer" : "omega";
    const struct hf_source *s = NULL;
    for (size_t k = 0; k < p->cfg->nsources; k++)
        if (!strcmp(p->cfg->sources[k].name, name))
            s = &p->cfg->sources[k];
    struct hf_verify_result vr = {.status = HF_VERIFY_OK};
    char reason[200];
    struct hf_record *r = hf_build_record(p, s, b.data, b.len, &vr, NULL, 1795453200123LL, reason, sizeof(reason));
    hf_buf_free(&b);
    if (!r) {
        fprintf(stderr, "record: %s\n", reason);
        exit(1);
    }
    return r;
}

struct tally {
    size_t requests, wire, raw, series;
};

static void count_body(void *arg, size_t lo, size_t hi, struct hf_buf *body, size_t raw_len)
{
    struct tally *t = arg;
    t->requests++;
    t->wire += body->len;
    t->raw += raw_len;
    t->series += hi - lo;
}

static size_t fold(struct hf_dd_bucket *b, const struct hf_dd_tags *tags, struct hf_buf *scratch,
                   const struct hf_record *r)
{
    for (size_t j = 0; j < r->npoints; j++) {
        size_t name_len, n = hf_dd_point_key(NULL, tags, &r->points[j], scratch, &name_len);
        if (n)
            hf_dd_bucket_add(b, scratch->data, n, name_len, r->points[j].type, r->points[j].value);
    }
    return r->npoints;
}

static void report(const char *what, size_t points, const struct hf_dd_bucket *b, const struct tally *t, double t_agg,
                   double t_enc)
{
    printf("%s\n", what);
    printf("  points %zu -> series %zu -> requests %zu (%.1f MB json, %.2f MB gzip, %.0f KB/request)\n", points, b->n,
           t->requests, (double)t->raw / 1e6, (double)t->wire / 1e6,
           t->requests ? (double)t->wire / 1e3 / (double)t->requests : 0.0);
    printf("  aggregate %.0f ns/point, encode+gzip %.2f us/series\n", t_agg * 1e9 / (double)points,
           b->n ? t_enc * 1e6 / (double)b->n : 0.0);
    printf("  points/s (records to gzip bodies, one core): %.0f\n", (double)points / (t_agg + t_enc));
    printf("  requests/points: %.3g (1 request per %.0f points)\n", (double)t->requests / (double)points,
           (double)points / (double)(t->requests ? t->requests : 1));
}

int main(int argc, char **argv)
{
    double seconds = 3;
    size_t repos = 1000, unique = 200000;
    int level = 6;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds"))
            seconds = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--repos"))
            repos = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--unique"))
            unique = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--level"))
            level = (int)strtol(argv[i + 1], NULL, 10);
    }
    char path[] = "/tmp/bench-datadog-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, config_text, sizeof(config_text) - 1) < 0)
        return 1;
    close(fd);
    struct hf_cerr err = {0};
    struct hf_config *cfg = hf_config_load(path, &err);
    unlink(path);
    if (!cfg) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct hf_pipeline p = {.cfg = cfg};
    struct hf_dd_tags tags = {0};
    hf_dd_tags_add(&tags, "env:prod");
    hf_dd_tags_add(&tags, "service:hookfwd");
    struct hf_buf scratch;
    hf_buf_init(&scratch, 0);
    struct hf_dd_encoder enc;
    hf_dd_encoder_init(&enc, HF_DD_GZIP, 10, "agent-01");
    enc.level = level;

    /* bounded: fold the same record set for `seconds` of CPU, then seal */
    size_t nrec = repos * NFIX;
    struct hf_record **recs = calloc(nrec, sizeof(*recs));
    for (size_t i = 0; i < nrec; i++)
        recs[i] = make_record(&p, i, (i / NFIX) % repos);
    struct hf_dd_bucket b;
    hf_dd_bucket_init(&b, 1795453200);
    size_t points = 0;
    double t0 = now_s(), t_agg;
    do {
        for (size_t i = 0; i < nrec; i++)
            points += fold(&b, &tags, &scratch, recs[i]);
    } while ((t_agg = now_s() - t0) < seconds);
    struct tally t = {0};
    t0 = now_s();
    hf_dd_encode(&enc, &b, 0, b.n, count_body, &t);
    double t_enc = now_s() - t0;
    char what[200];
    snprintf(what, sizeof(what), "bounded cardinality: %zu repositories, one interval at saturation (%.0f s CPU)",
             repos, seconds);
    report(what, points, &b, &t, t_agg, t_enc);
    hf_dd_bucket_free(&b);
    for (size_t i = 0; i < nrec; i++)
        hf_record_unref(recs[i]);
    free(recs);

    /* unbounded: every record on its own repository (built in chunks, so
     * memory stays small; only the folding is timed) */
    hf_dd_bucket_init(&b, 1795453200);
    points = 0;
    t_agg = 0;
    struct hf_record *chunk[1000];
    for (size_t done = 0; done < unique;) {
        size_t n = unique - done < 1000 ? unique - done : 1000;
        for (size_t i = 0; i < n; i++)
            chunk[i] = make_record(&p, done + i, done + i);
        t0 = now_s();
        for (size_t i = 0; i < n; i++)
            points += fold(&b, &tags, &scratch, chunk[i]);
        t_agg += now_s() - t0;
        for (size_t i = 0; i < n; i++)
            hf_record_unref(chunk[i]);
        done += n;
    }
    memset(&t, 0, sizeof(t));
    t0 = now_s();
    hf_dd_encode(&enc, &b, 0, b.n, count_body, &t);
    t_enc = now_s() - t0;
    snprintf(what, sizeof(what), "unbounded cardinality: %zu records, each on a repository of its own", unique);
    report(what, points, &b, &t, t_agg, t_enc);
    hf_dd_bucket_free(&b);

    hf_dd_encoder_free(&enc);
    hf_dd_tags_free(&tags);
    hf_buf_free(&scratch);
    hf_config_free(cfg);
    return 0;
}
