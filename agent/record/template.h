/* SPDX-License-Identifier: Apache-2.0 */
/* Per-event templates: option text such as "${data.repo:-unknown} blocked"
 * compiled once when the configuration is loaded, then expanded for each
 * record into a caller's buffer without allocating. The names are the
 * contract's (INTERFACE.md): ${source} ${event_type} ${severity}
 * ${event_id} ${idempotency_key} ${timestamp} ${data.KEY}, each with an
 * optional default after ":-". A name the record lacks (or a null field)
 * expands to its default, or to nothing.
 *
 * Escaping is chosen per use, not per template: the same `text` goes into
 * a JSON body for one sink and a mail header for another. Values from the
 * record are escaped with every flag given; the template's own text (and
 * defaults) only with HF_ESC_JSON and HF_ESC_HEADER, so a template may
 * carry Slack markup of its own (*bold*, <https://x|link>). */
#ifndef HF_TEMPLATE_H
#define HF_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

struct hf_buf;

enum hf_escape {
    HF_ESC_NONE = 0,
    /* inside a JSON string: quotes, backslashes and control characters
     * escaped, invalid UTF-8 as U+FFFD (no surrounding quotes) */
    HF_ESC_JSON = 1 << 0,
    /* Slack mrkdwn: & < > as &amp; &lt; &gt;, so a field cannot inject
     * <!channel> or a link; invalid UTF-8 as U+FFFD */
    HF_ESC_MRKDWN = 1 << 1,
    /* a header value (HTTP, mail): CR, LF and other control characters
     * except TAB become a space, invalid UTF-8 U+FFFD */
    HF_ESC_HEADER = 1 << 2,
    /* a name (Kafka topic): letters, digits, '.', '_' and '-' kept, any
     * other byte '_', an empty value '_' */
    HF_ESC_NAME = 1 << 3,
};

struct hf_template;

/* Compiles text. NULL on an unknown name or a malformed ${...}, with why
 * set and *err_off the byte offset of the offending "${" in text. */
struct hf_template *hf_template_compile(const char *text, size_t *err_off, char *why, size_t whylen);
void hf_template_free(struct hf_template *t);

/* The text the template was compiled from. */
const char *hf_template_source(const struct hf_template *t);
/* True when the template names nothing per event (plain text). */
bool hf_template_constant(const struct hf_template *t);
/* True when the template uses ${name} (e.g. "data.repo", "idempotency_key"). */
bool hf_template_uses(const struct hf_template *t, const char *name);

/* Expands t for r into out (cap bytes, always NUL-terminated when cap > 0),
 * escaped per esc (enum hf_escape flags). Returns the length the whole
 * expansion needs, without the NUL; when that is >= cap the output was cut
 * between characters, never inside a UTF-8 sequence or an escape. */
size_t hf_template_expand(const struct hf_template *t, const struct hf_record *r, unsigned esc, char *out, size_t cap);
/* The same, appended to a buffer (which grows only when too small). */
int hf_template_append(const struct hf_template *t, const struct hf_record *r, unsigned esc, struct hf_buf *out);

/* Escapes one text (a field value) with the rules above, as for a record
 * value. Returns the length needed, like hf_template_expand. */
size_t hf_escape_text(const char *s, size_t n, unsigned esc, char *out, size_t cap);

/* The number of characters (code points) in s[0..n); invalid bytes count
 * one each. */
size_t hf_utf8_chars(const char *s, size_t n);
/* The byte length of the longest prefix of s[0..n) with at most max_chars
 * characters, cut between characters. */
size_t hf_utf8_prefix(const char *s, size_t n, size_t max_chars);

#endif
