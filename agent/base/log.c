/* SPDX-License-Identifier: Apache-2.0 */
/* One-line logs to stderr (level=... component=... msg=...), with per-message suppression. */
#define _GNU_SOURCE
#include "util.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- logging ---- */

static enum hf_log_level log_level = HF_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

#define LOG_SLOTS 64
static struct {
    const void *fmt;
    const void *comp;
    int64_t window_start;
    unsigned suppressed;
} log_slots[LOG_SLOTS];

void hf_log_set_level(enum hf_log_level lvl) { log_level = lvl; }

void hf_log_keyed(enum hf_log_level lvl, const char *component, const void *key, const void *owner, const char *text)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log_level)
        return;
    char msg[1200];
    snprintf(msg, sizeof(msg), "%s", text);
    int64_t now = hf_mono_ms();
    unsigned slot =
        (unsigned)(((uintptr_t)key >> 3) ^ ((uintptr_t)owner >> 4) ^ ((uintptr_t)component >> 3)) % LOG_SLOTS;
    unsigned report_suppressed = 0;
    pthread_mutex_lock(&log_mu);
    bool same = log_slots[slot].fmt == key && log_slots[slot].comp == owner;
    /* info lines are rare by design (start, reload, stop): never suppressed */
    if (same && lvl >= HF_LOG_WARN && now - log_slots[slot].window_start < 10000) {
        /* the same message again within 10 s: counted, said once later */
        log_slots[slot].suppressed++;
        pthread_mutex_unlock(&log_mu);
        return;
    }
    if (same)
        report_suppressed = log_slots[slot].suppressed;
    log_slots[slot].fmt = key;
    log_slots[slot].comp = owner;
    log_slots[slot].window_start = now;
    log_slots[slot].suppressed = 0;
    if (report_suppressed) {
        size_t ml = strlen(msg);
        snprintf(msg + ml, sizeof(msg) - ml, " (suppressed %u similar messages)", report_suppressed);
    }
    struct hf_buf b;
    hf_buf_init(&b, 4096);
    hf_buf_printf(&b, "level=%s component=%s msg=", names[lvl], component);
    hf_buf_json_str(&b, msg, strlen(msg));
    hf_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
    hf_buf_free(&b);
}

void hf_log(enum hf_log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hf_log_keyed(lvl, component, fmt, component, msg);
}
