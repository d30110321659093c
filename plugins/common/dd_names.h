/* SPDX-License-Identifier: Apache-2.0 */
/* Datadog's rules for metric names and tags, and the canonical key of a
 * point (name + normalized, merged, sorted tags), as the datadog and
 * dogstatsd sinks both send them. */
#ifndef HF_DD_NAMES_H
#define HF_DD_NAMES_H

#include "record.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>

#define HF_DD_NAME_MAX 200 /* metric names and tags, as Datadog caps them */

/* Cleans a tag the way Datadog does: lower-cased, leading non-letters
 * dropped, characters outside [a-z0-9_-:./] become '_' (one per run), at
 * most 200 characters, no trailing ':'. out holds HF_DD_NAME_MAX + 1 bytes.
 * Returns the length; 0 means nothing is left and the tag is dropped. */
size_t hf_dd_normalize_tag(const char *in, size_t n, char *out);

/* prefix + "." + name with characters outside [A-Za-z0-9_.] turned into
 * '_', leading non-letters dropped, at most 200 characters. prefix may be
 * NULL or end with '.'. out holds HF_DD_NAME_MAX + 1 bytes. Returns the
 * length (0: no usable name). */
size_t hf_dd_metric_name(const char *prefix, const char *name, char *out);

/* The sink's own tags, normalized once; owns its strings. */
struct hf_dd_tags {
    char **tags;
    size_t n;
};
void hf_dd_tags_add(struct hf_dd_tags *t, const char *raw);
void hf_dd_tags_free(struct hf_dd_tags *t);

/* A point's name and tags in canonical form: "name|tag1,tag2" with the tags
 * normalized, merged with the sink's, sorted and de-duplicated. Neither a
 * normalized name nor a tag can hold '|' or ',', so the key is unambiguous.
 * Returns the key length and sets *name_len; 0 when the point has no usable
 * name. The key lives in `scratch` until the next call. */
size_t hf_dd_point_key(const char *prefix, const struct hf_dd_tags *sink_tags, const struct hf_point *pt,
                       struct hf_buf *scratch, size_t *name_len);

#endif
