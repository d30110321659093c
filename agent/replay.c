/* `hookfwd replay`: re-sends a sink's dead letters; what still fails stays
 * in the file. Records are rebuilt from their JSON, and their metric points
 * from the source's rules. */
#define _GNU_SOURCE
#include "pipeline.h"
#include "profile.h"
#include "util.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLAY_BATCH 100

static const char *jstr(struct hf_record *r, json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return hf_rec_strdup(r, json_object_get_string(v));
}

static void jvalue(struct hf_record *r, json_object *o, struct hf_value *v)
{
    memset(v, 0, sizeof(*v));
    json_type t = json_object_get_type(o);
    if (t == json_type_boolean) {
        v->type = HF_V_BOOL;
        v->b = json_object_get_boolean(o);
    } else if (t == json_type_int || t == json_type_double) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        v->type = t == json_type_int ? HF_V_INT : HF_V_DOUBLE;
        v->s = hf_rec_strndup(r, s, len);
        v->len = len;
        v->d = json_object_get_double(o);
        v->i = json_object_get_int64(o);
    } else if (t == json_type_string) {
        v->type = HF_V_STRING;
        v->len = (size_t)json_object_get_string_len(o);
        v->s = hf_rec_strndup(r, json_object_get_string(o), v->len);
    } else if (t == json_type_array) {
        size_t n = json_object_array_length(o);
        struct hf_value *items = hf_rec_alloc(r, (n ? n : 1) * sizeof(*items));
        for (size_t i = 0; i < n; i++)
            jvalue(r, json_object_array_get_idx(o, i), &items[i]);
        v->type = HF_V_ARRAY;
        v->items = items;
        v->nitems = n;
    } else {
        v->type = HF_V_NULL;
    }
}

/* Rebuilds a record from its own JSON (as written to dead letters). */
struct hf_record *hf_record_from_json(const struct hf_config *c, json_object *o)
{
    const char *src_name = json_object_get_string(json_object_object_get(o, "source"));
    const char *ev = json_object_get_string(json_object_object_get(o, "event_type"));
    if (!src_name || !ev)
        return NULL;
    struct hf_record *r = hf_record_new();
    const struct hf_source *src = NULL;
    for (size_t i = 0; i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, src_name))
            src = &c->sources[i];
    r->source = src ? src->name : hf_rec_strdup(r, src_name);
    r->event_type = hf_rec_strdup(r, ev);
    r->event_id = jstr(r, o, "event_id");
    r->idempotency_key = jstr(r, o, "idempotency_key");
    r->timestamp = jstr(r, o, "timestamp");
    const char *sev = jstr(r, o, "severity");
    if (sev)
        hf_severity_parse(sev, &r->severity);
    const char *recv = jstr(r, o, "received_at");
    r->received_ms = hf_now_ms();
    if (recv)
        hf_parse_rfc3339(recv, strlen(recv), &r->received_ms);
    r->event_ms = r->received_ms;
    if (r->timestamp)
        hf_parse_rfc3339(r->timestamp, strlen(r->timestamp), &r->event_ms);
    json_object *k = json_object_object_get(o, "signature_key");
    r->signature_key = k && json_object_is_type(k, json_type_int) ? json_object_get_int(k) : -1;
    json_object *data = json_object_object_get(o, "data");
    size_t n = data && json_object_is_type(data, json_type_object) ? (size_t)json_object_object_length(data) : 0;
    struct hf_field *f = hf_rec_alloc(r, (n ? n : 1) * sizeof(*f));
    size_t i = 0;
    if (n) {
        json_object_object_foreach(data, key, val)
        {
            f[i].key = hf_rec_strdup(r, key);
            jvalue(r, val, &f[i].v);
            i++;
        }
    }
    r->fields = f;
    r->nfields = i;
    if (src)
        hf_rules_apply(r, src, c->rules, c->nrules);
    hf_record_seal(r);
    return r;
}

int hf_replay(struct hf_config *c, struct hf_sink *s, const char *dlq_path)
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
            json_object *o = json_tokener_parse(line);
            json_object *rec = o ? json_object_object_get(o, "record") : NULL;
            struct hf_record *r = rec ? hf_record_from_json(c, rec) : NULL;
            if (o)
                json_object_put(o);
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
