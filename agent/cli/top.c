/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd top`: a live view of a running agent from its admin /metrics,
 * redrawn every second: per source requests/s by status class, totals,
 * accepted events, 401s and the signature keys in use; per sink
 * delivered/retried/dead per second and in total, queue depth and batch
 * latency. `q` quits. On a terminal that can (not TERM=dumb) the screen is
 * redrawn in place, with no colours; elsewhere each frame is printed after
 * the last. */
#define _GNU_SOURCE
#include "cli.h"
#include "dedup_redis.h"
#include "health.h"
#include "sink.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERIES 4096
#define MAX_ROWS 64
#define BATCH_TOP hf_lat_bounds[HF_LAT_BUCKETS - 1]
#define STORE_TOP hf_store_rtt_bounds[HF_STORE_RTT_BUCKETS - 1]

struct series {
    char key[256]; /* name{labels} as printed */
    double value;
};

struct scrape {
    struct series *s;
    size_t n;
    int64_t at_ms;
};

/* ---- fetching and parsing /metrics -------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    return hf_buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

static int fetch(CURL *h, const char *url, struct hf_buf *body, char *err, size_t errlen)
{
    hf_buf_reset(body);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "HTTP %ld (is this hookfwd's admin address?)", status);
        return -1;
    }
    return 0;
}

static void parse(const char *text, size_t len, struct scrape *sc)
{
    sc->n = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *sp = n && p[0] != '#' ? memrchr(p, ' ', n) : NULL;
        if (sp && sc->n < MAX_SERIES && (size_t)(sp - p) < sizeof(sc->s[0].key)) {
            struct series *s = &sc->s[sc->n];
            memcpy(s->key, p, (size_t)(sp - p));
            s->key[sp - p] = '\0';
            char num[64];
            snprintf(num, sizeof(num), "%.*s", (int)(p + n - sp - 1), sp + 1);
            char *e;
            s->value = strtod(num, &e);
            if (e != num)
                sc->n++;
        }
        p += n + 1;
    }
}

static double value(const struct scrape *sc, const char *key, bool *found)
{
    for (size_t i = 0; i < sc->n; i++)
        if (!strcmp(sc->s[i].key, key)) {
            if (found)
                *found = true;
            return sc->s[i].value;
        }
    if (found)
        *found = false;
    return 0;
}

/* The label values of family's series, first label, in order of appearance. */
static size_t names(const struct scrape *sc, const char *family, const char *label, char out[][64], size_t max)
{
    size_t n = 0, fl = strlen(family), ll = strlen(label);
    for (size_t i = 0; i < sc->n && n < max; i++) {
        const char *k = sc->s[i].key;
        if (strncmp(k, family, fl) || k[fl] != '{' || strncmp(k + fl + 1, label, ll) || k[fl + 1 + ll] != '=')
            continue;
        const char *v = k + fl + ll + 3;
        size_t vl = strcspn(v, "\"");
        if (!vl)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strlen(out[j]) == vl && !memcmp(out[j], v, vl);
        if (!seen)
            snprintf(out[n++], 64, "%.*s", (int)vl, v);
    }
    return n;
}

/* ---- the screen ------------------------------------------------------------ */

struct view {
    const char *url;
    bool redraw; /* a terminal that can clear */
    int width;
};

static const struct hf_health_family *fam(enum hf_health_id id) { return &hf_health_families[id]; }

/* A counter of cur with its per-second rate against prev. */
static double rate(const struct scrape *cur, const struct scrape *prev, const char *key)
{
    bool had;
    double b = prev ? value(prev, key, &had) : 0;
    double a = value(cur, key, NULL);
    double dt = prev ? (double)(cur->at_ms - prev->at_ms) / 1000.0 : 0;
    return prev && had && dt > 0 && a >= b ? (a - b) / dt : 0;
}

static void line(struct hf_buf *out, const struct view *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(struct hf_buf *out, const struct view *v, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (v->width > 0 && n > v->width)
        n = v->width;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    hf_buf_append(out, buf, (size_t)n);
    hf_buf_puts(out, v->redraw ? "\033[K\r\n" : "\n");
}

/* The upper bound of the bucket quantile q of histogram family's series
 * whose first label is label="value" falls in (what the agent knows, no
 * interpolation); -1 without observations, INFINITY past the last finite
 * bound. */
static double bucket_quantile(const struct scrape *sc, const char *family, const char *label, const char *value_,
                              double q)
{
    char key[256];
    snprintf(key, sizeof(key), "%s_count{%s=\"%s\"}", family, label, value_);
    double total = value(sc, key, NULL);
    if (total <= 0)
        return -1;
    snprintf(key, sizeof(key), "%s_bucket{%s=\"%s\",le=\"", family, label, value_);
    size_t kl = strlen(key);
    for (size_t i = 0; i < sc->n; i++)
        if (!strncmp(sc->s[i].key, key, kl) && sc->s[i].value >= q * total)
            return strtod(sc->s[i].key + kl, NULL);
    return INFINITY;
}

static void fmt_seconds(double s, char *out, size_t len)
{
    if (s < 1)
        snprintf(out, len, "%gms", s * 1000);
    else
        snprintf(out, len, "%gs", s);
}

/* A bucket_quantile result; past the last bound, ">" that bound (top). */
static void fmt_latency(double s, double top, char *out, size_t len)
{
    char t[24];
    if (s < 0) {
        snprintf(out, len, "-");
    } else if (isinf(s)) {
        fmt_seconds(top, t, sizeof(t));
        snprintf(out, len, ">%s", t);
    } else {
        fmt_seconds(s, out, len);
    }
}

/* Sources that share their dedup set in Redis (dedup.store: redis): claims
 * by answer, errors, decisions taken without Redis, the round trip. Absent
 * when no source uses it. */
static void render_store(struct hf_buf *out, const struct view *v, const struct scrape *cur, const struct scrape *prev)
{
    char key[512], names_[MAX_ROWS][64];
    size_t n = names(cur, HF_STORE_CLAIMS, "source", names_, MAX_ROWS);
    if (n == 0)
        return;
    line(out, v, "%s", "");
    line(out, v, "%-16s %8s %10s %10s %10s %10s %8s %8s %8s  %s", "DEDUP (REDIS)", "CLAIMS/S", "NEW", "DUPLICATE",
         "IN_FLIGHT", "UNAVAIL", "ERRORS", "LOCAL", "REJECT", "RTT p50/p99");
    for (size_t i = 0; i < n; i++) {
        const char *src = names_[i];
        double r = 0, tot[HF_CLAIM_RESULTS];
        for (int k = 0; k < HF_CLAIM_RESULTS; k++) {
            snprintf(key, sizeof(key), "%s{source=\"%s\",result=\"%s\"}", HF_STORE_CLAIMS, src,
                     hf_claim_result_names[k]);
            r += rate(cur, prev, key);
            tot[k] = value(cur, key, NULL);
        }
        snprintf(key, sizeof(key), HF_STORE_ERRORS "{source=\"%s\"}", src);
        double errors = value(cur, key, NULL);
        snprintf(key, sizeof(key), HF_STORE_FALLBACK "{source=\"%s\",decision=\"local\"}", src);
        double local = value(cur, key, NULL);
        snprintf(key, sizeof(key), HF_STORE_FALLBACK "{source=\"%s\",decision=\"reject\"}", src);
        double reject = value(cur, key, NULL);
        char p50[32], p99[32];
        fmt_latency(bucket_quantile(cur, HF_STORE_SECONDS, "source", src, 0.5), STORE_TOP, p50, sizeof(p50));
        fmt_latency(bucket_quantile(cur, HF_STORE_SECONDS, "source", src, 0.99), STORE_TOP, p99, sizeof(p99));
        line(out, v, "%-16.16s %8.1f %10.0f %10.0f %10.0f %10.0f %8.0f %8.0f %8.0f  %s/%s", src, r, tot[HF_CLAIM_NEW],
             tot[HF_CLAIM_DUPLICATE], tot[HF_CLAIM_IN_FLIGHT], tot[HF_CLAIM_UNAVAILABLE], errors, local, reject, p50,
             p99);
    }
}

static void render(struct hf_buf *out, const struct view *v, const struct scrape *cur, const struct scrape *prev,
                   const char *error)
{
    static const char *const ok2[] = {"200", "202"}, *const c4[] = {"400", "401", "413", "431"};
    char now[32], key[512], names_[MAX_ROWS][64];
    time_t t = time(NULL);
    strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", localtime(&t));
    hf_buf_reset(out);
    if (v->redraw)
        hf_buf_puts(out, "\033[H");
    line(out, v, "hookfwd top - %s - %s - q quits", v->url, now);
    if (error)
        line(out, v, "admin endpoint unreachable: %s (retrying)", error);
    else
        line(out, v, "journal %.0f bytes", value(cur, fam(HF_H_STORAGE_BYTES)->prom, NULL));
    line(out, v, "%s", "");
    line(out, v, "%-16s %8s %8s %8s %8s %10s %10s %8s  %s", "SOURCE", "REQ/S", "2XX/S", "4XX/S", "503/S", "REQUESTS",
         "ACCEPTED", "401", "KEYS USED (position:events)");
    size_t ns = names(cur, fam(HF_H_ACCEPTED)->prom, "source", names_, MAX_ROWS);
    for (size_t i = 0; i < ns; i++) {
        const char *src = names_[i];
        double r_all = 0, r2 = 0, r4 = 0, r5 = 0, total = 0;
        for (size_t j = 0; j < cur->n; j++) {
            snprintf(key, sizeof(key), "%s{source=\"%s\",status=\"", fam(HF_H_REQUESTS)->prom, src);
            if (strncmp(cur->s[j].key, key, strlen(key)))
                continue;
            const char *status = cur->s[j].key + strlen(key);
            double r = rate(cur, prev, cur->s[j].key);
            total += cur->s[j].value;
            r_all += r;
            for (int k = 0; k < 2; k++)
                r2 += !strncmp(status, ok2[k], 3) ? r : 0;
            for (int k = 0; k < 4; k++)
                r4 += !strncmp(status, c4[k], 3) ? r : 0;
            r5 += !strncmp(status, "503", 3) ? r : 0;
        }
        snprintf(key, sizeof(key), "%s{source=\"%s\"}", fam(HF_H_ACCEPTED)->prom, src);
        double accepted = value(cur, key, NULL);
        snprintf(key, sizeof(key), "%s{source=\"%s\",status=\"401\"}", fam(HF_H_REQUESTS)->prom, src);
        double rejected = value(cur, key, NULL);
        char keys[256] = "";
        size_t kl = 0;
        for (int k = 0; k < 8; k++) {
            bool found;
            snprintf(key, sizeof(key), "%s{source=\"%s\",key=\"%d\"}", fam(HF_H_KEY_USED)->prom, src, k);
            double used = value(cur, key, &found);
            if (found && kl < sizeof(keys))
                kl += (size_t)snprintf(keys + kl, sizeof(keys) - kl, "%s%d:%.0f", kl ? " " : "", k, used);
        }
        line(out, v, "%-16.16s %8.1f %8.1f %8.1f %8.1f %10.0f %10.0f %8.0f  %s", src, r_all, r2, r4, r5, total,
             accepted, rejected, keys);
    }
    line(out, v, "%s", "");
    line(out, v, "%-16s %8s %8s %8s %8s %10s %10s %8s  %s", "SINK", "DELIV/S", "RETRY/S", "DEAD/S", "QUEUE",
         "DELIVERED", "RETRIED", "DEAD", "BATCH p50/p95");
    size_t nk = names(cur, fam(HF_H_SINK_QUEUE)->prom, "sink", names_, MAX_ROWS);
    for (size_t i = 0; i < nk; i++) {
        const char *sink = names_[i];
        static const char *const outcomes[] = {"delivered", "retried", "dead"};
        double r[3], tot[3];
        for (int k = 0; k < 3; k++) {
            snprintf(key, sizeof(key), "%s{sink=\"%s\",outcome=\"%s\"}", fam(HF_H_SINK_EVENTS)->prom, sink,
                     outcomes[k]);
            r[k] = rate(cur, prev, key);
            tot[k] = value(cur, key, NULL);
        }
        snprintf(key, sizeof(key), "%s{sink=\"%s\"}", fam(HF_H_SINK_QUEUE)->prom, sink);
        double queue = value(cur, key, NULL);
        char p50[32], p95[32];
        fmt_latency(bucket_quantile(cur, fam(HF_H_SINK_BATCH_SECONDS)->prom, "sink", sink, 0.5), BATCH_TOP, p50,
                    sizeof(p50));
        fmt_latency(bucket_quantile(cur, fam(HF_H_SINK_BATCH_SECONDS)->prom, "sink", sink, 0.95), BATCH_TOP, p95,
                    sizeof(p95));
        line(out, v, "%-16.16s %8.1f %8.1f %8.1f %8.0f %10.0f %10.0f %8.0f  %s/%s", sink, r[0], r[1], r[2], queue,
             tot[0], tot[1], tot[2], p50, p95);
    }
    render_store(out, v, cur, prev);
    if (v->redraw)
        hf_buf_puts(out, "\033[J");
    else
        hf_buf_puts(out, "--\n");
}

/* ---- the terminal ----------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t quit_signal;

static void on_signal(int sig) { quit_signal = sig; }

static void restore_terminal(bool redraw)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    if (redraw)
        fputs("\033[?25h\r\n", stdout);
    fflush(stdout);
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 0;
}

static void admin_url(const struct hf_args *a, const struct hf_config *cfg, char *out, size_t len)
{
    const char *addr = a->admin ? a->admin : cfg && cfg->admin_address ? cfg->admin_address : "127.0.0.1:9180";
    bool scheme = strstr(addr, "://") != NULL;
    const char *path = strchr(scheme ? strstr(addr, "://") + 3 : addr, '/');
    snprintf(out, len, "%s%s%s", scheme ? "" : "http://", addr,
             path && strcmp(path, "/") ? ""
             : path                    ? "metrics"
                                       : "/metrics");
}

int hf_cmd_top(const struct hf_args *a)
{
    struct hf_config *cfg = NULL;
    if (!a->admin && (strcmp(a->config, HF_DEFAULT_CONFIG) || access(a->config, F_OK) == 0)) {
        cfg = hf_cli_load(a->config);
        if (!cfg)
            return 1;
        if (!cfg->admin_address) {
            fprintf(stderr, "hookfwd top: %s has no admin address (admin.address): give --admin URL\n", cfg->file);
            hf_config_free(cfg);
            return 1;
        }
    }
    char url[512], err[CURL_ERROR_SIZE + 64];
    admin_url(a, cfg, url, sizeof(url));
    if (cfg)
        hf_config_free(cfg);

    CURL *h = curl_easy_init();
    struct hf_buf body, screen;
    hf_buf_init(&body, 16u << 20);
    hf_buf_init(&screen, 0);
    struct scrape sc[2] = {{hf_calloc(MAX_SERIES, sizeof(struct series)), 0, 0},
                           {hf_calloc(MAX_SERIES, sizeof(struct series)), 0, 0}};
    int rc = 0;
    if (fetch(h, url, &body, err, sizeof(err)) < 0) {
        fprintf(stderr,
                "hookfwd top: cannot read %s: %s\n(is the agent running, and is that its admin.address? "
                "use -c FILE or --admin URL)\n",
                url, err);
        rc = 1;
        goto out;
    }
    const char *term = getenv("TERM");
    struct view v = {.url = url, .redraw = isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb")};
    bool tty_in = isatty(STDIN_FILENO);
    if (tty_in && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (v.redraw)
        fputs("\033[?25l\033[2J", stdout);
    int cur = 0;
    bool have_prev = false, stdin_open = true;
    const char *error = NULL;
    for (;;) {
        sc[cur].at_ms = hf_mono_ms();
        if (!error)
            parse(body.data ? body.data : "", body.len, &sc[cur]);
        v.width = v.redraw ? terminal_width() : 0;
        render(&screen, &v, &sc[cur], have_prev ? &sc[cur ^ 1] : NULL, error);
        fwrite(screen.data, 1, screen.len, stdout);
        fflush(stdout);
        if (!error) {
            have_prev = true;
            cur ^= 1;
        }
        /* a second, or until a key */
        int64_t next = hf_mono_ms() + 1000;
        bool quit = false;
        while (!quit && !quit_signal) {
            int64_t left = next - hf_mono_ms();
            if (left <= 0)
                break;
            struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
            int n = poll(&pfd, stdin_open ? 1 : 0, (int)left);
            if (n <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
                continue;
            char keys[64];
            ssize_t r = read(STDIN_FILENO, keys, sizeof(keys));
            if (r == 0 && !tty_in) /* stdin at its end: nobody can type q */
                quit = true;
            else if (r == 0)
                stdin_open = false;
            for (ssize_t i = 0; i < r; i++)
                quit |= keys[i] == 'q' || keys[i] == 'Q';
        }
        if (quit || quit_signal)
            break;
        error = fetch(h, url, &body, err, sizeof(err)) < 0 ? err : NULL;
    }
    restore_terminal(v.redraw);
out:
    free(sc[0].s);
    free(sc[1].s);
    hf_buf_free(&body);
    hf_buf_free(&screen);
    curl_easy_cleanup(h);
    return rc;
}
