/* SPDX-License-Identifier: Apache-2.0 */
/* Pacing of one webhook (Slack allows about one message a second, with
 * short bursts), the minute window behind max_per_minute, the summary that
 * stands for the records held back, and what an answer means. Pure
 * functions of the time they are given. */
#include "slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000

void hf_slack_pace_init(struct hf_slack_pace *p, int64_t max_per_minute, double per_second, int burst, int64_t now_ms)
{
    memset(p, 0, sizeof(*p));
    p->burst = burst < 1 ? 1 : burst;
    p->tokens = p->burst;
    p->per_ms = per_second / 1000.0;
    p->last_ms = now_ms;
    p->cap = max_per_minute < 1 ? 1 : (size_t)max_per_minute;
    p->window = hf_calloc(p->cap, sizeof(*p->window));
}

void hf_slack_pace_free(struct hf_slack_pace *p)
{
    free(p->window);
    p->window = NULL;
}

static void refill(struct hf_slack_pace *p, int64_t now_ms)
{
    if (now_ms > p->last_ms) {
        p->tokens += (double)(now_ms - p->last_ms) * p->per_ms;
        if (p->tokens > p->burst)
            p->tokens = p->burst;
        p->last_ms = now_ms;
    }
}

int64_t hf_slack_pace_take(struct hf_slack_pace *p, int64_t now_ms)
{
    if (now_ms < p->paused_until_ms)
        return p->paused_until_ms - now_ms;
    refill(p, now_ms);
    if (p->tokens >= 1.0) {
        p->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - p->tokens) / p->per_ms) + 1;
    return wait < 1 ? 1 : wait;
}

void hf_slack_pace_pause(struct hf_slack_pace *p, int64_t now_ms, int64_t delay_ms)
{
    if (now_ms + delay_ms > p->paused_until_ms)
        p->paused_until_ms = now_ms + delay_ms;
    /* after the pause one message goes, then the usual pace: Slack's
     * bucket is empty too */
    p->tokens = 0;
    p->last_ms = p->paused_until_ms - (int64_t)(1.0 / p->per_ms);
}

bool hf_slack_pace_window_full(struct hf_slack_pace *p, int64_t now_ms)
{
    /* drop what is older than a minute */
    while (p->n && now_ms - p->window[p->head] >= MINUTE_MS) {
        p->head = (p->head + 1) % p->cap;
        p->n--;
    }
    return p->n >= p->cap;
}

void hf_slack_pace_count(struct hf_slack_pace *p, int64_t now_ms)
{
    if (p->n == p->cap) { /* a summary past a full window: the oldest goes */
        p->head = (p->head + 1) % p->cap;
        p->n--;
    }
    p->window[(p->head + p->n) % p->cap] = now_ms;
    p->n++;
}

void hf_slack_summary_add(struct hf_slack_summary *sm, struct hf_record *r, int64_t now_ms)
{
    if (sm->total == 0)
        sm->opened_ms = now_ms;
    sm->span_ms = now_ms - sm->opened_ms;
    sm->total++;
    const char *et = r->event_type ? r->event_type : "";
    size_t i = 0;
    while (i < sm->ntypes && strcmp(sm->types[i].name, et) != 0)
        i++;
    if (i < sm->ntypes) {
        sm->types[i].count++;
    } else if (sm->ntypes < HF_SLACK_SUMMARY_TYPES && strlen(et) < sizeof(sm->types[0].name)) {
        memcpy(sm->types[sm->ntypes].name, et, strlen(et) + 1);
        sm->types[sm->ntypes++].count = 1;
    } else {
        sm->other++;
    }
    hf_record_ref(r);
    hf_record_unref(sm->newest);
    sm->newest = r;
}

void hf_slack_summary_clear(struct hf_slack_summary *sm)
{
    hf_record_unref(sm->newest);
    memset(sm, 0, sizeof(*sm));
}

enum hf_outcome hf_slack_classify(long status, const char *body, char *reason, size_t reasonlen)
{
    /* Slack answers with a bare token ("ok", "channel_is_archived"); keep
     * one line of it for the dead letter */
    char token[120];
    size_t n = 0;
    for (const char *p = body ? body : ""; *p && *p != '\n' && *p != '\r' && n + 1 < sizeof(token); p++)
        token[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    token[n] = '\0';
    if (status >= 200 && status < 300) {
        snprintf(reason, reasonlen, "%s", "");
        return HF_OUT_DELIVERED;
    }
    if (status == 0) {
        snprintf(reason, reasonlen, "no answer from Slack: %s", token[0] ? token : "transport error");
        return HF_OUT_RETRY;
    }
    snprintf(reason, reasonlen, "Slack answered %ld%s%s", status, token[0] ? " " : "", token);
    if (status == 408 || status == 429 || status >= 500)
        return HF_OUT_RETRY;
    /* 400 invalid_payload/invalid_blocks, 403 invalid_token/action_prohibited,
     * 404 channel_not_found/no_service, 410 channel_is_archived, and any
     * other answer: the same message would get the same answer */
    return HF_OUT_REJECTED;
}
