/* SPDX-License-Identifier: Apache-2.0 */
/* Threads' names and their place in the scheduler. */
#define _GNU_SOURCE
#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>

void hf_thread_name(const char *prefix, const char *name)
{
    char n[16];
    snprintf(n, sizeof(n), "%s%s", prefix, name);
    pthread_setname_np(pthread_self(), n);
}

void hf_thread_background(void)
{
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}
