/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard files shipped in dashboards/ (Datadog, Splunk app,
 * Grafana), compiled into the binary by dashboards/embed.cmake so that
 * `hookfwd dashboard` needs no installed package. */
#ifndef HF_DASHBOARDS_H
#define HF_DASHBOARDS_H

#include <stddef.h>

struct hf_dashboard_file {
    const char *path;          /* relative to dashboards/, e.g. "datadog/hookfwd-security.json" */
    const unsigned char *data; /* NUL-terminated; the NUL is not in len */
    size_t len;
};

/* Sorted by path, ended by a row whose path is NULL. */
extern const struct hf_dashboard_file hf_dashboard_files[];
extern const size_t hf_dashboard_nfiles;

#endif
