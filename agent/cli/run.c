/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd run`: the agent in the foreground. */
#include "cli.h"
#include "agent.h"

int hf_cmd_run(const struct hf_args *a) { return hf_agent_run(a->config); }
