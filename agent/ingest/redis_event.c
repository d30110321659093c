/* SPDX-License-Identifier: Apache-2.0 */
/* hiredis's asynchronous API on a libevent loop (dedup_redis.c's
 * connections).
 *
 * hiredis is tied to libevent here rather than with its adapters/libevent.h,
 * which re-arms a one-shot read event after every read and adds and removes
 * the write event around every write: two to three epoll_ctl calls per
 * event on top of the read and the write. Here the read event persists,
 * and commands queued while the loop runs its callbacks are written once,
 * from an event activated for the purpose (no system call to arm it); a
 * real write event is used only to connect and when the socket is full. */
#include "redis_event.h"
#include "util.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <stdbool.h>
#include <stdlib.h>

struct glue {
    redisAsyncContext *ac;
    struct event *rd; /* persistent */
    struct event *wr; /* connecting, or the socket buffer was full */
    struct event *flush; /* no fd: activated when a command is queued */
    bool reading;
};

/* the glue whose queued commands are being written by glue_flush (a
 * failed write can free it inside redisAsyncHandleWrite) */
static __thread struct glue *flushing;

static void glue_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleRead(((struct glue *)arg)->ac);
}

static void glue_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleWrite(((struct glue *)arg)->ac);
}

static void glue_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct glue *g = arg;
    flushing = g;
    redisAsyncHandleWrite(g->ac);
    flushing = NULL;
}

static void glue_add_read(void *priv)
{
    struct glue *g = priv;
    if (!g->reading) {
        event_add(g->rd, NULL);
        g->reading = true;
    }
}

static void glue_del_read(void *priv)
{
    struct glue *g = priv;
    if (g->reading) {
        event_del(g->rd);
        g->reading = false;
    }
}

static void glue_add_write(void *priv)
{
    struct glue *g = priv;
    /* connecting, or called back from a write that left bytes behind:
     * wait until the socket can take more */
    if (!(g->ac->c.flags & REDIS_CONNECTED) || flushing == g)
        event_add(g->wr, NULL);
    else
        event_active(g->flush, EV_WRITE, 0);
}

static void glue_del_write(void *priv)
{
    struct glue *g = priv;
    if (event_pending(g->wr, EV_WRITE, NULL))
        event_del(g->wr);
}

static void glue_cleanup(void *priv)
{
    struct glue *g = priv;
    if (flushing == g)
        flushing = NULL;
    event_free(g->rd);
    event_free(g->wr);
    event_free(g->flush);
    free(g);
}

void hf_redis_event_attach(redisAsyncContext *ac, struct event_base *base)
{
    struct glue *g = hf_calloc(1, sizeof(*g));
    g->ac = ac;
    g->rd = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, glue_on_read, g);
    g->wr = event_new(base, ac->c.fd, EV_WRITE, glue_on_write, g);
    g->flush = event_new(base, -1, 0, glue_flush, g);
    ac->ev.data = g;
    ac->ev.addRead = glue_add_read;
    ac->ev.delRead = glue_del_read;
    ac->ev.addWrite = glue_add_write;
    ac->ev.delWrite = glue_del_write;
    ac->ev.cleanup = glue_cleanup;
    glue_add_read(g);
    event_add(g->wr, NULL); /* the connect completes when the socket is writable */
}
