/* SPDX-License-Identifier: Apache-2.0 */
/* Threads' names and their place in the scheduler. */
#define _GNU_SOURCE
#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>

void hf_thread_name(const char *fmt, ...)
{
    char n[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n, sizeof(n), fmt, ap);
    va_end(ap);
    pthread_setname_np(pthread_self(), n);
}

void hf_thread_background(void)
{
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}
