/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd run`: the agent in the foreground. */
#include "cli.h"
#include "agent.h"
#include "util.h"

int hf_cmd_run(const struct hf_args *a)
{
    hf_mem_tune();
    return hf_agent_run(a->config);
}
