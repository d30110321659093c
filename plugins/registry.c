/* SPDX-License-Identifier: Apache-2.0 */
/* The static registry of output plugins; optional ones are switched by
 * CMake options (HF_WITH_*). */
#include "sink.h"

#include <string.h>

extern const struct hf_sink_plugin hf_out_stdout, hf_out_file;
#ifdef HF_WITH_SPLUNK
extern const struct hf_sink_plugin hf_out_splunk;
#endif
#ifdef HF_WITH_DATADOG
extern const struct hf_sink_plugin hf_out_datadog, hf_out_dogstatsd;
#endif
#ifdef HF_WITH_KAFKA
extern const struct hf_sink_plugin hf_out_kafka;
#endif
#ifdef HF_WITH_SYSLOG
extern const struct hf_sink_plugin hf_out_syslog;
#endif
#ifdef HF_WITH_SLACK
extern const struct hf_sink_plugin hf_out_slack;
#endif
#ifdef HF_WITH_PAGERDUTY
extern const struct hf_sink_plugin hf_out_pagerduty;
#endif
#ifdef HF_WITH_HTTP
extern const struct hf_sink_plugin hf_out_http;
#endif
#ifdef HF_WITH_EMAIL
extern const struct hf_sink_plugin hf_out_email;
#endif

const struct hf_sink_plugin *const hf_plugins[] = {
    &hf_out_stdout,
    &hf_out_file,
#ifdef HF_WITH_SPLUNK
    &hf_out_splunk,
#endif
#ifdef HF_WITH_DATADOG
    &hf_out_datadog,
    &hf_out_dogstatsd,
#endif
#ifdef HF_WITH_KAFKA
    &hf_out_kafka,
#endif
#ifdef HF_WITH_SYSLOG
    &hf_out_syslog,
#endif
#ifdef HF_WITH_SLACK
    &hf_out_slack,
#endif
#ifdef HF_WITH_PAGERDUTY
    &hf_out_pagerduty,
#endif
#ifdef HF_WITH_HTTP
    &hf_out_http,
#endif
#ifdef HF_WITH_EMAIL
    &hf_out_email,
#endif
    NULL,
};

const struct hf_sink_plugin *hf_plugin_find(const char *type)
{
    for (int i = 0; hf_plugins[i]; i++)
        if (!strcmp(hf_plugins[i]->name, type))
            return hf_plugins[i];
    return NULL;
}
