/* SPDX-License-Identifier: Apache-2.0 */
/* hiredis's asynchronous API on a libevent loop: a persistent read event,
 * queued commands written once per loop pass. */
#ifndef HF_REDIS_EVENT_H
#define HF_REDIS_EVENT_H

#include <event2/event.h>
#include <hiredis/async.h>

/* Ties ac (connecting) to base; hiredis frees the glue with ac. */
void hf_redis_event_attach(redisAsyncContext *ac, struct event_base *base);

#endif
