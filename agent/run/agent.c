/* SPDX-License-Identifier: Apache-2.0 */
/* The running agent: ingest and admin listeners over the current pipeline,
 * SIGHUP reload (build the new one, then swap), SIGTERM drain. */
#define _GNU_SOURCE
#include "agent.h"
#include "admin.h"
#include "http.h"
#include "journal.h"
#include "pipeline.h"
#include "util.h"
#include "verify.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DRAIN_MS 30000

struct agent {
    const char *config_path;
    struct hf_pipeline *pipeline; /* guarded by `lock`: readers are the request handlers */
    pthread_rwlock_t lock;
    struct hf_http_server *ingest, *admin;
    struct event_base *base;
    struct hf_journal *journal; /* storage.mode: disk */
};

void hf_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t pl = strlen(path);
    if (pl >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, pl);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl));
    (void)w;
    close(fd);
}

/* ---- ingest ---- */

struct hdr_ctx {
    const struct hf_http_req *req;
};

static const char *get_header(void *ctx, const char *name)
{
    return hf_http_header(((struct hdr_ctx *)ctx)->req, name);
}

static int ingest_headers(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    struct agent *a = arg;
    int rc = 0;
    pthread_rwlock_rdlock(&a->lock);
    const struct hf_source *src = hf_pipeline_source(a->pipeline, req->path, strlen(req->path));
    if (!src) {
        atomic_fetch_add(&hf_stats_unknown_path, 1);
        hf_http_error(resp, 404, "no source is configured for this path");
        rc = 404;
    } else if (strcmp(req->method, "POST")) {
        hf_http_error(resp, 405, "only POST is accepted");
        rc = 405;
    } else if (req->content_length > a->pipeline->cfg->max_body) {
        hf_stats_count(a->pipeline->stats[src->index], 413);
        hf_http_error(resp, 413, "request body is larger than max_body");
        rc = 413;
    }
    pthread_rwlock_unlock(&a->lock);
    return rc;
}

static void render(struct hf_buf *b, const struct hf_ingest_result *res)
{
    if (res->status == 202 || res->status == 200) {
        hf_buf_puts(b, res->status == 202 ? "{\"status\":\"accepted\",\"id\":" : "{\"status\":\"duplicate\",\"id\":");
        hf_buf_json_str(b, res->id, strlen(res->id));
        hf_buf_putc(b, '}');
        return;
    }
    hf_buf_puts(b, "{\"status\":\"error\",\"error\":");
    hf_buf_json_str(b, res->reason, strlen(res->reason));
    hf_buf_putc(b, '}');
}

/* Journal thread (the event is on disk, or not) or the ingest thread (the
 * shared dedup store answered): answer the sender. */
static void ingest_done(void *arg, const struct hf_ingest_result *res)
{
    struct hf_buf b;
    hf_buf_init(&b, 0);
    render(&b, res);
    hf_http_resume(arg, res->status, b.data, b.len, res->retry_after);
    hf_buf_free(&b);
}

/* Ingest thread, from its loop: the shared dedup store has answered (or
 * its timeout passed); go on with the pipeline in place now. */
static void ingest_resume(void *arg, struct hf_ingest_pending *pd)
{
    struct agent *a = arg;
    struct hf_ingest_result res;
    void *d;
    pthread_rwlock_rdlock(&a->lock);
    bool now = hf_ingest_resume(a->pipeline, pd, &res, &d);
    pthread_rwlock_unlock(&a->lock);
    if (now) {
        /* this thread, outside the lock: written at once */
        struct hf_buf b;
        hf_buf_init(&b, 0);
        render(&b, &res);
        hf_http_answer(d, res.status, b.data, b.len, res.retry_after);
        hf_buf_free(&b);
    }
}

static void ingest_request(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    struct agent *a = arg;
    struct hdr_ctx hc = {req};
    struct hf_ingest_result res;
    pthread_rwlock_rdlock(&a->lock);
    /* the path was checked with the headers, but a reload may have come between */
    const struct hf_source *src = hf_pipeline_source(a->pipeline, req->path, strlen(req->path));
    if (!src) {
        pthread_rwlock_unlock(&a->lock);
        hf_http_error(resp, 404, "no source is configured for this path");
        return;
    }
    if ((int64_t)req->body_len > a->pipeline->cfg->max_body) {
        pthread_rwlock_unlock(&a->lock);
        hf_http_error(resp, 413, "request body is larger than max_body");
        resp->close = true;
        return;
    }
    /* the defer handle exists before the journal or Redis can answer */
    struct hf_http_defer *d = a->journal || (src->dedup && src->dedup_redis) ? hf_http_defer(resp) : NULL;
    struct hf_ingest_io io = {.done = d ? ingest_done : NULL,
                              .done_arg = d,
                              .base = hf_http_loop(resp),
                              .resume = ingest_resume,
                              .resume_arg = a};
    hf_ingest(a->pipeline, src, req->body, req->body_len, get_header, &hc, &res, &io);
    pthread_rwlock_unlock(&a->lock);
    if (res.status == 0)
        return; /* deferred: ingest_done answers */
    if (d) {
        /* answered at once (401, 400, 200, 503): through the same path */
        ingest_done(d, &res);
        return;
    }
    resp->status = res.status;
    resp->retry_after = res.retry_after;
    render(&resp->body, &res);
}

static const struct hf_http_ops ingest_ops = {
    .on_headers = ingest_headers,
    .on_request = ingest_request,
    .on_thread_exit = hf_verify_thread_cleanup,
    .thread_name = "ingest",
};

/* ---- admin ---- */

static int admin_headers(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    (void)arg;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        hf_http_error(resp, 405, "admin endpoints answer GET");
        return 405;
    }
    return 0;
}

static void admin_request(void *arg, struct hf_http_req *req, struct hf_http_resp *resp)
{
    struct agent *a = arg;
    resp->status = 200;
    if (!strcmp(req->path, "/healthz")) {
        hf_buf_puts(&resp->body, "{\"status\":\"ok\"}");
    } else if (!strcmp(req->path, "/readyz")) {
        pthread_rwlock_rdlock(&a->lock);
        bool ready = hf_pipeline_ready(a->pipeline);
        pthread_rwlock_unlock(&a->lock);
        resp->status = ready ? 200 : 503;
        hf_buf_puts(&resp->body,
                    ready ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\",\"error\":\"a sink queue is full\"}");
    } else if (!strcmp(req->path, "/metrics")) {
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        pthread_rwlock_rdlock(&a->lock);
        hf_admin_metrics(a->pipeline, &resp->body);
        pthread_rwlock_unlock(&a->lock);
    } else {
        hf_http_error(resp, 404, "admin endpoints: /healthz /readyz /metrics");
    }
}

static const struct hf_http_ops admin_ops = {
    .on_headers = admin_headers, .on_request = admin_request, .thread_name = "admin"};

/* The health snapshot a sink may forward (the datadog sink's agent_metrics). */
static size_t health_snapshot(void *arg, struct hf_health_sample *out, size_t cap)
{
    struct agent *a = arg;
    pthread_rwlock_rdlock(&a->lock);
    size_t n = hf_pipeline_health(a->pipeline, out, cap);
    pthread_rwlock_unlock(&a->lock);
    return n;
}

/* ---- signals and reload ---- */

/* One log line: the first error, and where to see them all. */
static void reload_failed(const struct agent *a, const struct hf_cerr *err)
{
    if (err->n > 1)
        hf_log_error("config",
                     "reload failed, the running configuration stays: %s (and %d more errors: hookfwd check -c %s "
                     "lists them)",
                     err->msg, err->n - 1, a->config_path);
    else
        hf_log_error("config", "reload failed, the running configuration stays: %s", err->msg);
}

static void reload(struct agent *a)
{
    struct hf_cerr err = {0};
    hf_sd_notify("RELOADING=1");
    struct hf_config *cfg = hf_config_load(a->config_path, &err);
    if (!cfg) {
        reload_failed(a, &err);
        hf_sd_notify("READY=1");
        return;
    }
    if (strcmp(cfg->listen_address, a->pipeline->cfg->listen_address))
        hf_log_warn("config", "listen.address changes only with a restart; still listening on %s",
                    a->pipeline->cfg->listen_address);
    /* under the write lock no request is in the pipeline, so unchanged
     * sinks (with their queues and connections) and the dedup state can
     * move to the new one */
    pthread_rwlock_wrlock(&a->lock);
    struct hf_pipeline *old = a->pipeline;
    if (a->journal)
        hf_journal_wait_idle(a->journal); /* appends in flight push into the old sinks */
    struct hf_pipeline *np = hf_pipeline_new(cfg, old, &err);
    if (!np) {
        pthread_rwlock_unlock(&a->lock);
        reload_failed(a, &err);
        hf_config_free(cfg);
        hf_sd_notify("READY=1");
        return;
    }
    if (a->journal) {
        hf_pipeline_attach_journal(np, a->journal, false);
    }
    hf_pipeline_start(np);
    a->pipeline = np;
    pthread_rwlock_unlock(&a->lock);
    /* the old sinks deliver what they hold, then go */
    hf_pipeline_stop(old, DRAIN_MS);
    hf_pipeline_unref(old);
    hf_log_info("config", "reloaded %s: %zu sources, %zu sinks", a->config_path, cfg->nsources, cfg->nsinks);
    hf_sd_notify("READY=1");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct agent *a = arg;
    if (sig == SIGHUP) {
        reload(a);
        return;
    }
    hf_log_info("agent", "signal %d: draining and stopping", (int)sig);
    event_base_loopbreak(a->base);
}

/* Loads the configuration and builds its pipeline, with the journal in
 * disk mode (replaying what the sinks had not acknowledged). */
static int agent_load(struct agent *a, struct hf_config **cfgp)
{
    struct hf_cerr err = {0};
    struct hf_config *cfg = hf_config_load(a->config_path, &err);
    if (!cfg) {
        hf_cerr_print(stderr, &err);
        return -1;
    }
    a->pipeline = hf_pipeline_new(cfg, NULL, &err);
    if (!a->pipeline) {
        fprintf(stderr, "%s\n", err.msg);
        hf_config_free(cfg);
        return -1;
    }
    if (cfg->storage_mode == HF_STORAGE_DISK) {
        a->journal = hf_journal_open(cfg->storage_path, cfg->storage_max_size, &err);
        if (!a->journal) {
            hf_log_error("storage", "%s", err.msg);
            hf_pipeline_unref(a->pipeline);
            return -1;
        }
        hf_pipeline_attach_journal(a->pipeline, a->journal, true);
    }
    *cfgp = cfg;
    return 0;
}

/* Binds the ingest and admin listeners (threads start later). */
static int agent_listen(struct agent *a, const struct hf_config *cfg, int threads)
{
    char msg[512];
    struct hf_http_limits lim = {.max_body = cfg->max_body,
                                 .max_header = cfg->max_header,
                                 .max_connections = cfg->max_connections,
                                 .read_timeout_ms = cfg->read_timeout_ms};
    a->ingest =
        hf_http_new(cfg->listen_address, threads, &lim, cfg->tls_cert, cfg->tls_key, &ingest_ops, a, msg, sizeof(msg));
    if (!a->ingest) {
        hf_log_error("listener", "%s", msg);
        return -1;
    }
    if (cfg->admin_address) {
        struct hf_http_limits al = {.max_body = 0, .max_header = 8192, .max_connections = 64, .read_timeout_ms = 5000};
        a->admin = hf_http_new(cfg->admin_address, 1, &al, NULL, NULL, &admin_ops, a, msg, sizeof(msg));
        if (!a->admin) {
            hf_log_error("admin", "%s", msg);
            return -1;
        }
    }
    return 0;
}

static int agent_start(struct agent *a)
{
    return (a->journal && hf_journal_start(a->journal) < 0) || hf_pipeline_start(a->pipeline) < 0 ||
                   hf_http_start(a->ingest) < 0 || (a->admin && hf_http_start(a->admin) < 0)
               ? -1
               : 0;
}

/* Stops taking requests first, then lets the sinks deliver what was
 * accepted, then persists the journal's final positions. Returns the
 * records the drain deadline left undelivered. */
static size_t agent_stop(struct agent *a)
{
    hf_http_stop(a->ingest);
    hf_http_stop(a->admin);
    hf_http_free(a->ingest);
    hf_http_free(a->admin);
    if (a->journal)
        hf_journal_wait_idle(a->journal);
    size_t left = hf_pipeline_stop(a->pipeline, DRAIN_MS);
    hf_health_provide(NULL, NULL);
    hf_pipeline_unref(a->pipeline);
    hf_journal_close(a->journal);
    return left;
}

int hf_agent_run(const char *config_path)
{
    struct agent a = {.config_path = config_path};
    struct hf_config *cfg;
    int rc = 1;
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&a.lock, &ra);
    pthread_rwlockattr_destroy(&ra);

    if (agent_load(&a, &cfg) < 0)
        return 1;
    int threads = cfg->threads ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (agent_listen(&a, cfg, threads) < 0)
        goto out;
    a.base = event_base_new();
    struct event *sigs[3];
    int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(a.base, signums[i], on_signal, &a);
        evsignal_add(sigs[i], NULL);
    }
    hf_health_provide(health_snapshot, &a);
    if (agent_start(&a) < 0) {
        hf_log_error("agent", "cannot start threads");
        goto out_sigs;
    }
    hf_log_info("agent", "listening on %s (port %d, %d threads); admin on %s; %zu sources, %zu sinks; storage %s",
                cfg->listen_address, hf_http_port(a.ingest), threads, cfg->admin_address ? cfg->admin_address : "off",
                cfg->nsources, cfg->nsinks, cfg->storage_mode == HF_STORAGE_DISK ? "disk" : "memory");
    hf_sd_notify("READY=1");
    event_base_dispatch(a.base);
    hf_sd_notify("STOPPING=1");
    rc = 0;
out_sigs:
    for (int i = 0; i < 3; i++)
        event_free(sigs[i]);
    event_base_free(a.base);
out:;
    bool disk = a.journal != NULL;
    size_t left = agent_stop(&a);
    if (left && disk) {
        hf_log_info("agent",
                    "%zu records were not delivered before the drain deadline; the journal keeps them for "
                    "the next start",
                    left);
    } else if (left) {
        /* not a clean drain: the exit status says so (systemd shows the
         * unit failed) as well as the log */
        hf_log_error("agent",
                     "%zu accepted records were not delivered before the drain deadline and are lost "
                     "(storage.mode: memory keeps them nowhere else)",
                     left);
        rc = 1;
    }
    pthread_rwlock_destroy(&a.lock);
    hf_log_info("agent", "stopped");
    return rc;
}
