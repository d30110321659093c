/* SPDX-License-Identifier: Apache-2.0 */
/* The running agent: listeners, the current pipeline, signals, reload. */
#ifndef HF_AGENT_H
#define HF_AGENT_H

int hf_agent_run(const char *config_path);
/* sd_notify(3)'s protocol without libsystemd. */
void hf_sd_notify(const char *state);

#endif
