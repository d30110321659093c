/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd replay`: re-sends a sink's dead letters; what still fails stays
 * in the file. Records are rebuilt from their JSON, and their metric points
 * from the source's rules. */
#define _GNU_SOURCE
#include "cli.h"
#include "pipeline.h"
#include "decode.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

#define REPLAY_BATCH 100

/* Replaces path with what keep holds, with the file's owner and mode
 * (dead letters hold whole records); fd is the file, locked. */
static int rewrite(const char *path, int fd, const struct hf_buf *keep)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.replay", path);
    int o = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (o < 0)
        return -1;
    bool ok = fchmod(o, st.st_mode & 07777) == 0 && (fchown(o, st.st_uid, st.st_gid) == 0 || errno == EPERM) &&
              (keep->len == 0 || write(o, keep->data, keep->len) == (ssize_t)keep->len) && fsync(o) == 0;
    int e = errno;
    close(o);
    if (!ok || rename(tmp, path) < 0) {
        e = ok ? errno : e;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

static int replay_file(struct hf_config *c, struct hf_sink *s, const char *dlq_path)
{
    char *path = dlq_path ? hf_strdup(dlq_path) : hf_sink_dlq_path(s);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "hookfwd: cannot open dead letters %s: %s\n", path, strerror(errno));
        free(path);
        return 1;
    }
    struct hf_buf keep;
    hf_buf_init(&keep, 0);
    hf_buf_puts(&keep, "");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t total = 0, delivered = 0, failed = 0, bad = 0, nline = 0;
    off_t done_to = 0; /* the complete lines read so far end here */
    struct hf_record *batch[REPLAY_BATCH];
    char *lines[REPLAY_BATCH];
    size_t lineno[REPLAY_BATCH];
    size_t nb = 0;
    bool eof = false;
    while (!eof) {
        len = getline(&line, &cap, f);
        /* a line the agent is still writing is left to the tail below */
        eof = len <= 0 || line[len - 1] != '\n';
        if (!eof) {
            done_to += len;
            nline++;
            /* numbers as their text, so they are written back exactly */
            yyjson_doc *doc = yyjson_read(line, (size_t)len, YYJSON_READ_NUMBER_AS_RAW);
            yyjson_val *rec = yyjson_obj_get(yyjson_doc_get_root(doc), "record");
            size_t rlen = 0;
            char *rtext = yyjson_is_obj(rec) ? yyjson_val_write(rec, 0, &rlen) : NULL;
            struct hf_record *r = rtext ? hf_record_decode(c, rtext, rlen) : NULL;
            free(rtext);
            yyjson_doc_free(doc);
            if (!r) {
                bad++;
                hf_buf_append(&keep, line, (size_t)len);
                continue;
            }
            total++;
            lineno[nb] = nline;
            batch[nb] = r;
            lines[nb++] = hf_strndup(line, (size_t)len);
        }
        if (nb == REPLAY_BATCH || (eof && nb)) {
            enum hf_outcome out[REPLAY_BATCH];
            char reason[300];
            hf_sink_send_once(s, batch, nb, 60000, out, reason, sizeof(reason));
            for (size_t i = 0; i < nb; i++) {
                if (out[i] == HF_OUT_DELIVERED)
                    delivered++;
                else {
                    failed++;
                    hf_buf_puts(&keep, lines[i]);
                    const char *id = batch[i]->event_id ? batch[i]->event_id : batch[i]->idempotency_key;
                    fprintf(stderr, "hookfwd: dead letter %zu%s%s%s: not delivered: %s\n", lineno[i], id ? " (" : "",
                            id ? id : "", id ? ")" : "", reason);
                }
                free(lines[i]);
                hf_record_unref(batch[i]);
            }
            nb = 0;
        }
    }
    /* keep only what did not make it, replacing the file atomically. The
     * agent appends dead letters under an flock of the file
     * (hf_sink_dead_letter): under it, what it appended while this ran is
     * kept as it is, and the file is replaced before the agent writes again
     * (it then finds the new file). */
    int fd = fileno(f);
    flock(fd, LOCK_EX); /* without lock support: as before */
    clearerr(f);
    if (fseeko(f, done_to, SEEK_SET) == 0)
        while ((len = getline(&line, &cap, f)) > 0)
            hf_buf_append(&keep, line, (size_t)len);
    free(line);
    int rc = failed == 0 && bad == 0 ? 0 : 1;
    if (rewrite(path, fd, &keep) < 0) {
        fprintf(stderr, "hookfwd: cannot rewrite %s (%s): it still holds the %zu delivered\n", path, strerror(errno),
                delivered);
        rc = 1;
    }
    fclose(f); /* and the lock with it */
    printf("replayed %zu dead letters to sink %s: %zu delivered, %zu failed, %zu unreadable\n", total, s->name,
           delivered, failed, bad);
    hf_buf_free(&keep);
    free(path);
    return rc;
}

int hf_cmd_replay(const struct hf_args *a)
{
    struct hf_config *c = hf_cli_load(a->config);
    if (!c)
        return 1;
    struct hf_sink *s = hf_cli_open_sink(c, a->sink);
    int rc = 1;
    if (s) {
        rc = replay_file(c, s, a->pos);
        hf_sink_free(s);
    }
    hf_config_free(c);
    return rc;
}
