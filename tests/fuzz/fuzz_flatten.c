/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: parse + flatten + rules (hf_build_record), as if the body had
 * been verified, so every byte reaches yyjson and the flattener.
 *
 * Input: one byte picking the source (omega, sentinelayer, other) and
 * options, then the body. For omega an embedded "signature" member is cut
 * exactly as verify.c would cut it.
 *
 * Checked: a refused body comes with a reason; an accepted one gives a
 * record whose JSON and metric point JSON parse back (yyjson, strict) and are
 * RFC 3629 UTF-8 by our own check as well;
 * lookups, filters and value rendering run over every field. */
#include "fuzz_common.h"
#include "pipeline.h"
#include "record.h"
#include "verify.h"

#include <yyjson.h>
#include <stdint.h>

static struct hf_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg = fuzz_default_config();
    return 0;
}

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF
 * (checked here independently of yyjson's own check). */
static bool strict_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        unsigned cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const unsigned min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static void must_parse(const char *what, const char *s, size_t n)
{
    if (!strict_utf8((const unsigned char *)s, n)) {
        fprintf(stderr, "fuzz_flatten: %s is not strict UTF-8\n", what);
        abort();
    }
    /* strict RFC 8259 (yyjson's defaults), UTF-8 validated; numbers as
     * text, so 1e999 (valid JSON past a double) is fine */
    yyjson_doc *doc = yyjson_read(s, n, YYJSON_READ_NUMBER_AS_RAW);
    bool ok = doc && yyjson_doc_get_read_size(doc) == n && yyjson_is_obj(yyjson_doc_get_root(doc));
    yyjson_doc_free(doc);
    if (!ok) {
        fprintf(stderr, "fuzz_flatten: %s is not one valid JSON object: %.*s\n", what, (int)(n > 2000 ? 2000 : n), s);
        abort();
    }
}

static void exercise(const struct hf_record *r)
{
    if (!r->json || r->json_len != strlen(r->json))
        abort();
    must_parse("record JSON", r->json, r->json_len);
    struct hf_buf b;
    hf_buf_init(&b, 0);
    for (size_t i = 0; i < r->npoints; i++) {
        hf_buf_reset(&b);
        hf_point_json(&b, r, &r->points[i]);
        must_parse("metric point JSON", b.data, b.len);
        for (size_t t = 1; t < r->points[i].ntags; t++)
            if (strcmp(r->points[i].tags[t - 1], r->points[i].tags[t]) > 0)
                abort(); /* tags are promised sorted */
    }
    hf_buf_free(&b);
    char text[256];
    double d;
    for (size_t i = 0; i < r->nfields; i++) {
        struct hf_value scratch;
        const struct hf_value *v = hf_record_get(r, r->fields[i].key, &scratch);
        if (!v)
            abort(); /* every field must be found by its own key */
        (void)hf_value_text(&r->fields[i].v, text, sizeof(text));
        (void)hf_value_number(&r->fields[i].v, &d);
    }
    static const char *const pseudo[] = {"event", "event_type", "source", "severity", "event_id", "decision.id"};
    for (size_t i = 0; i < sizeof(pseudo) / sizeof(*pseudo); i++) {
        struct hf_value scratch;
        (void)hf_record_get(r, pseudo[i], &scratch);
    }
    for (size_t i = 0; i < cfg->nsinks; i++)
        (void)hf_filter_match(&cfg->sinks[i].filter, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const names[] = {"omega", "sentinelayer", "other"};
    const struct hf_source *src = fuzz_source(cfg, names[data[0] % 3]);
    /* an exact-size heap copy, so reads past the body are caught */
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);

    struct hf_verify_result vr = {.status = HF_VERIFY_OK, .key_index = 0};
    for (int i = 0; i < 32; i++)
        vr.mac[i] = (unsigned char)(data[0] * 31 + i);
    if (src->embedded) {
        const char *v;
        size_t vl;
        if (hf_find_embedded(body, len, src->embedded, &vr.cut_off, &vr.cut_len, &v, &vl) < 0)
            vr.cut_off = vr.cut_len = 0;
    }
    struct hf_pipeline pl = {.cfg = cfg};
    char reason[200] = "";
    const char *wid = (data[0] & 0x10) ? "msg_2Lh9fuzz" : NULL;
    struct hf_record *r =
        hf_build_record((data[0] & 0x20) ? NULL : &pl, src, body, len, &vr, wid, FUZZ_NOW_MS, reason, sizeof(reason));
    if (r) {
        exercise(r);
        hf_record_unref(r);
    } else if (!reason[0]) {
        fprintf(stderr, "fuzz_flatten: refused without a reason\n");
        abort();
    }
    free(body);
    return 0;
}
