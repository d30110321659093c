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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yyjson.h>

#define REPLAY_BATCH 100

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
    size_t total = 0, delivered = 0, failed = 0, bad = 0;
    struct hf_record *batch[REPLAY_BATCH];
    char *lines[REPLAY_BATCH];
    size_t nb = 0;
    bool eof = false;
    while (!eof) {
        len = getline(&line, &cap, f);
        eof = len < 0;
        if (!eof) {
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
                    fprintf(stderr, "hookfwd: %s: not delivered: %s\n", batch[i]->event_id ? batch[i]->event_id : "?",
                            reason);
                }
                free(lines[i]);
                hf_record_unref(batch[i]);
            }
            nb = 0;
        }
    }
    free(line);
    fclose(f);
    /* keep only what did not make it, replacing the file atomically */
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.replay", path);
    FILE *o = fopen(tmp, "wb");
    if (o && fwrite(keep.data, 1, keep.len, o) == keep.len && fflush(o) == 0 && fsync(fileno(o)) == 0) {
        fclose(o);
        rename(tmp, path);
    } else if (o) {
        fclose(o);
        unlink(tmp);
    }
    printf("replayed %zu dead letters to sink %s: %zu delivered, %zu failed, %zu unreadable\n", total, s->name,
           delivered, failed, bad);
    hf_buf_free(&keep);
    free(path);
    return failed == 0 && bad == 0 ? 0 : 1;
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
