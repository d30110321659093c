/* SPDX-License-Identifier: Apache-2.0 */
/* The stdout and file sinks: JSON lines of records and metric points. A
 * file batch counts as delivered once it is written and, for a regular
 * file, fdatasync'ed; the file is reopened when it was rotated away
 * (logrotate's move-and-create). Special files (/dev/null, /dev/stdout, a
 * FIFO, a terminal) are written without a sync: there is nothing to sync,
 * and fdatasync fails there with EINVAL. An error no retry can fix (the
 * path is a directory, say) is logged once as permanent and the batch goes
 * to the dead letters instead of filling the queue. */
#define _GNU_SOURCE
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lines_ctx {
    int fd;
    bool is_file;
    bool sync; /* a regular file: fdatasync after each batch */
    bool permanent_logged;
    const char *path;
    ino_t ino;
    struct hf_buf buf;
};

struct lines_conf {
    int format;
    char *path;
};

static const struct hf_option stdout_options[] = {{.name = "format",
                                                   .type = HF_OPT_ENUM,
                                                   .enums = "json",
                                                   .def = "json",
                                                   .help = "JSON lines",
                                                   HF_OPT_AT(struct lines_conf, format)},
                                                  {0}};

static const struct hf_option file_options[] = {{.name = "format",
                                                 .type = HF_OPT_ENUM,
                                                 .enums = "json",
                                                 .def = "json",
                                                 .help = "JSON lines",
                                                 HF_OPT_AT(struct lines_conf, format)},
                                                {.name = "path",
                                                 .type = HF_OPT_STR,
                                                 .required = true,
                                                 .help = "file to append to",
                                                 HF_OPT_AT(struct lines_conf, path)},
                                                {0}};

static int open_file(struct hf_sink *s, struct lines_ctx *c, struct hf_cerr *err)
{
    /* O_NONBLOCK: opening a FIFO without a reader must not hang the worker
     * (it fails with ENXIO, retried); writes block again below */
    int fd = open(c->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    if (fd < 0) {
        if (err)
            snprintf(err->msg, sizeof(err->msg), "%s: sink '%s': cannot open %s: %s", hf_sink_config_file(s),
                     hf_sink_name(s), c->path, strerror(errno));
        return -1;
    }
    struct stat st;
    fstat(fd, &st);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = fd;
    c->ino = st.st_ino;
    c->sync = S_ISREG(st.st_mode);
    return 0;
}

/* Errors a retry cannot fix: the path names something that can never take
 * our lines. Everything else (ENOSPC, EIO, EACCES an operator may fix, a
 * FIFO without a reader) is an outage and retried. */
static bool permanent_errno(int e, const char *path)
{
    struct stat st;
    switch (e) {
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EINVAL:
    case EFBIG:
    case EOPNOTSUPP:
    case ENODEV: return true;
    case ENXIO: /* a device that is not there; a FIFO without a reader is */
        return !(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
    default: return false;
    }
}

/* Ends the batch after an error: a permanent one is logged once (until
 * the next success) and dead-letters the batch. */
static void failed(struct hf_sink *s, struct lines_ctx *c, struct hf_batch *b, int e, const char *what)
{
    char why[300];
    snprintf(why, sizeof(why), "%s %s: %s", what, c->path ? c->path : "stdout", strerror(e));
    if (c->is_file && permanent_errno(e, c->path)) {
        if (!c->permanent_logged)
            hf_sink_log(s, HF_LOG_ERROR,
                        "%s: permanent (a retry cannot succeed); batches go to the dead letters "
                        "until it is fixed",
                        why);
        c->permanent_logged = true;
        hf_batch_done(b, HF_OUT_REJECTED, 0, why);
        return;
    }
    hf_batch_done(b, HF_OUT_RETRY, 0, why);
}

static int lines_init(struct hf_sink *s, struct hf_cerr *err, bool is_file)
{
    struct lines_ctx *c = hf_calloc(1, sizeof(*c));
    c->fd = -1;
    c->is_file = is_file;
    hf_buf_init(&c->buf, 0);
    hf_sink_set_state(s, c);
    if (!is_file) {
        c->fd = STDOUT_FILENO;
        return 0;
    }
    c->path = ((const struct lines_conf *)hf_sink_conf(s))->path;
    /* a missing directory (a mount not there yet) is an outage, not a
     * configuration error: batches retry until the file can be opened */
    if (open_file(s, c, NULL) < 0)
        hf_sink_log(s, HF_LOG_WARN, "cannot open %s yet (%s); will retry", c->path, strerror(errno));
    (void)err;
    return 0;
}

static int stdout_init(struct hf_sink *s, struct hf_cerr *err) { return lines_init(s, err, false); }
static int file_init(struct hf_sink *s, struct hf_cerr *err) { return lines_init(s, err, true); }

static int lines_encode(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct hf_record *r = b->recs[i];
        if (hf_sink_takes(s) & HF_TAKES_RECORDS) {
            hf_buf_append(out, r->json, r->json_len);
            hf_buf_putc(out, '\n');
        }
        if (hf_sink_takes(s) & HF_TAKES_METRICS)
            for (size_t j = 0; j < r->npoints; j++) {
                hf_point_json(out, r, &r->points[j]);
                hf_buf_putc(out, '\n');
            }
    }
    return out->overflow ? -1 : 0;
}

static void lines_send(struct hf_sink *s, struct hf_batch *b)
{
    struct lines_ctx *c = hf_sink_state(s);
    if (c->is_file) {
        struct stat st;
        if (c->fd < 0 || stat(c->path, &st) < 0 || st.st_ino != c->ino) {
            if (open_file(s, c, NULL) < 0) {
                failed(s, c, b, errno, "cannot open");
                return;
            }
        }
    }
    hf_buf_reset(&c->buf);
    lines_encode(s, b, &c->buf);
    size_t off = 0;
    while (off < c->buf.len) {
        ssize_t w = write(c->fd, c->buf.data + off, c->buf.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            if (c->is_file && e == EPIPE) {
                /* the FIFO's reader left: reopen (and wait for one) next time */
                close(c->fd);
                c->fd = -1;
            }
            /* a partial line may be written; the retry repeats the batch
             * (at-least-once), never loses it */
            failed(s, c, b, e, "cannot write to");
            return;
        }
        off += (size_t)w;
    }
    if (c->sync && fdatasync(c->fd) < 0) {
        if (errno == EINVAL || errno == EROFS) {
            /* a file system that cannot sync this file: nothing to wait for */
            hf_sink_log(s, HF_LOG_WARN, "%s cannot be synced (%s); writing it without fdatasync", c->path,
                        strerror(errno));
            c->sync = false;
        } else {
            failed(s, c, b, errno, "cannot sync");
            return;
        }
    }
    c->permanent_logged = false;
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

static void lines_destroy(struct hf_sink *s)
{
    struct lines_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    if (c->is_file && c->fd >= 0)
        close(c->fd);
    hf_buf_free(&c->buf);
    free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_stdout = {
    .name = "stdout",
    .options = stdout_options,
    .conf_size = sizeof(struct lines_conf),
    .default_takes = HF_TAKES_BOTH,
    .init = stdout_init,
    .encode = lines_encode,
    .send = lines_send,
    .destroy = lines_destroy,
};

const struct hf_sink_plugin hf_out_file = {
    .name = "file",
    .options = file_options,
    .conf_size = sizeof(struct lines_conf),
    .default_takes = HF_TAKES_BOTH,
    .init = file_init,
    .encode = lines_encode,
    .send = lines_send,
    .destroy = lines_destroy,
};
