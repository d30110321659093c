/* SPDX-License-Identifier: Apache-2.0 */
/* The router: a sink's filter (event globs, severity floor, field
 * matches) and the one predicate "does sink S take record R", used by the
 * live ingest path and by journal replay alike. */
#ifndef HF_ROUTE_H
#define HF_ROUTE_H

#include "config.h"
#include "record.h"

#include <stdbool.h>

/* True when r passes the filter f. */
bool hf_filter_match(const struct hf_filter *f, const struct hf_record *r);

/* True when the sink configured by sc takes r: it passes the sink's filter,
 * and the sink takes records, or takes metrics and r has metric points. */
bool hf_route_takes(const struct hf_sink_conf *sc, const struct hf_record *r);

#endif
