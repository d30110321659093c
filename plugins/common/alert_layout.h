/* SPDX-License-Identifier: Apache-2.0 */
/* What the alert sinks (slack, pagerduty) share about a record: which
 * sender's shape it has (an OmegaEngine decision, a Sentinelayer scan, or
 * anything else), the one-line text that says what happened when the
 * configuration gives none, and which fields are links. */
#ifndef HF_ALERT_LAYOUT_H
#define HF_ALERT_LAYOUT_H

#include "record.h"
#include "template.h"

#include <stdbool.h>

enum hf_alert_layout { HF_ALERT_GENERIC, HF_ALERT_OMEGA, HF_ALERT_SENTINELAYER };

/* Decided by the fields a record carries (decision.outcome, repo and
 * gate_status), not by the source's name, so a generic source relaying
 * the same payloads gets the same layout. */
enum hf_alert_layout hf_alert_layout_of(const struct hf_record *r);

/* The default one-line text for r's layout, e.g.
 * "scan.blocked: acme/payments fix/ledger gate blocked, 1 findings".
 * Compiled once, shared, never freed. */
const struct hf_template *hf_alert_default_text(const struct hf_record *r);

/* A record field by its exact (flattened) key; NULL when absent. */
const struct hf_value *hf_alert_field(const struct hf_record *r, const char *key);
/* True for a string value that is an http(s) URL without blanks. */
bool hf_alert_is_url(const struct hf_value *v);

#endif
