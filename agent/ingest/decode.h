/* SPDX-License-Identifier: Apache-2.0 */
/* Records rebuilt from the JSON they were serialized to. */
#ifndef HF_DECODE_H
#define HF_DECODE_H

#include "config.h"
#include "record.h"

#include <stddef.h>

/* Rebuilds a record from its own JSON (a journal entry or a dead letter):
 * metadata, typed fields, and metric points from its source's rules in c.
 * NULL when the text is not such a record. */
struct hf_record *hf_record_decode(const struct hf_config *c, const char *json, size_t len);

#endif
