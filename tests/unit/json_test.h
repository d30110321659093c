/* SPDX-License-Identifier: Apache-2.0 */
/* JSON reading for the unit tests (yyjson, as the agent): documents parsed
 * here stay alive until tj_free_all(), so a test can keep values of several
 * bodies at once. */
#ifndef HF_JSON_TEST_H
#define HF_JSON_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <yyjson.h>

#define TJ_MAX_DOCS 256

static yyjson_doc *tj_docs[TJ_MAX_DOCS];
static size_t tj_ndocs;

static inline void tj_free_all(void)
{
    for (size_t i = 0; i < tj_ndocs; i++)
        yyjson_doc_free(tj_docs[i]);
    tj_ndocs = 0;
}

/* One JSON text; its root, or NULL when it is not JSON. */
static inline yyjson_val *tj_parse(const char *text, size_t len)
{
    yyjson_doc *d = yyjson_read(text, len, 0);
    if (!d)
        return NULL;
    if (tj_ndocs == TJ_MAX_DOCS)
        fail_msg("tj_parse: more than %d documents alive", TJ_MAX_DOCS);
    tj_docs[tj_ndocs++] = d;
    return yyjson_doc_get_root(d);
}

/* Concatenated JSON texts (blank-separated); how many were parsed. */
static inline size_t tj_parse_many(const char *text, size_t len, yyjson_val **out, size_t max)
{
    size_t n = 0, off = 0;
    while (off < len && n < max) {
        while (off < len && (text[off] == '\n' || text[off] == ' '))
            off++;
        if (off == len)
            break;
        yyjson_read_err err;
        yyjson_doc *d = yyjson_read_opts((char *)text + off, len - off, YYJSON_READ_STOP_WHEN_DONE, NULL, &err);
        if (!d)
            fail_msg("not JSON at byte %zu: %s", off + err.pos, err.msg);
        if (tj_ndocs == TJ_MAX_DOCS)
            fail_msg("tj_parse_many: more than %d documents alive", TJ_MAX_DOCS);
        tj_docs[tj_ndocs++] = d;
        out[n++] = yyjson_doc_get_root(d);
        off += yyjson_doc_get_read_size(d);
    }
    return n;
}

/* An integer member's value whether yyjson typed it signed or unsigned. */
static inline int64_t tj_int(yyjson_val *v)
{
    return yyjson_is_uint(v) ? (int64_t)yyjson_get_uint(v) : yyjson_get_sint(v);
}

#endif
