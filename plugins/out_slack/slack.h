/* SPDX-License-Identifier: Apache-2.0 */
/* The slack sink: one message per record to an incoming webhook, laid out
 * in Block Kit per sender (slack_encode.c), paced to about one message a
 * second and folded into one summary message a minute past
 * max_per_minute (slack_pace.c), sent and classified in slack.c. */
#ifndef HF_OUT_SLACK_H
#define HF_OUT_SLACK_H

#include "plugin.h"
#include "tls_conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hf_slack_blocks { HF_SLACK_BLOCKS_AUTO, HF_SLACK_BLOCKS_NONE };

struct hf_slack_conf {
    char *url; /* secret: the webhook URL holds the token */
    struct hf_template *text; /* notification text; NULL: per layout */
    int blocks; /* enum hf_slack_blocks */
    int64_t max_per_minute;
    int64_t timeout_ms;
    struct hf_tls_conf tls;
};

/* Slack's limits (api.slack.com/reference/block-kit/blocks), counted in
 * characters (code points) of the text as sent, escapes included. */
#define HF_SLACK_MAX_BLOCKS 50
#define HF_SLACK_MAX_SECTION 3000
#define HF_SLACK_MAX_FIELD 2000
#define HF_SLACK_MAX_FIELDS 10
#define HF_SLACK_MAX_HEADER 150
#define HF_SLACK_MAX_CONTEXT 10
/* Reported, not documented (slackapi/bolt-js#2509): the blocks of one
 * message carry at most about 12,000 characters of text. */
#define HF_SLACK_MAX_BLOCKS_TEXT 12000
/* The notification text; Slack cuts at 40,000, a notification needs less. */
#define HF_SLACK_MAX_TEXT 3000

/* Pure encoders: one message as the webhook's JSON body, appended to out.
 * text is the notification template (NULL: the layout's own); with_blocks
 * false sends the text alone. Returns how many texts had to be cut to
 * Slack's limits (0: none), or -1 when out overflowed its limit. */
int hf_slack_encode_record(const struct hf_record *r, const struct hf_template *text, bool with_blocks,
                           struct hf_buf *out);

/* What one summary message says: "N more TYPE[, M more TYPE2] in the last
 * minute, newest: ..." */
#define HF_SLACK_SUMMARY_TYPES 8
struct hf_slack_summary {
    struct {
        char name[96];
        size_t count;
    } types[HF_SLACK_SUMMARY_TYPES];
    size_t ntypes;
    size_t other; /* events of types past the first eight */
    size_t total;
    int64_t opened_ms; /* monotonic, when the first event was held back */
    int64_t span_ms; /* how long it collected */
    struct hf_record *newest; /* a reference of the summary's */
};

void hf_slack_summary_add(struct hf_slack_summary *sm, struct hf_record *r, int64_t now_ms);
void hf_slack_summary_clear(struct hf_slack_summary *sm);
int hf_slack_encode_summary(const struct hf_slack_summary *sm, const struct hf_template *text, bool with_blocks,
                            int64_t max_per_minute, struct hf_buf *out);

/* Pacing per webhook: a token bucket (about one message a second, a
 * small burst) and a one-minute window of the messages sent, which says
 * when a record is folded into the summary instead. Pure: the caller gives
 * the (monotonic) time. */
struct hf_slack_pace {
    double tokens;
    int burst;
    double per_ms;
    int64_t last_ms;
    int64_t paused_until_ms; /* Retry-After from Slack */
    int64_t *window; /* times of the last max_per_minute messages, a ring */
    size_t cap, head, n;
};

void hf_slack_pace_init(struct hf_slack_pace *p, int64_t max_per_minute, double per_second, int burst, int64_t now_ms);
void hf_slack_pace_free(struct hf_slack_pace *p);
/* 0 and a token taken when a message may go now, else the ms to wait. */
int64_t hf_slack_pace_take(struct hf_slack_pace *p, int64_t now_ms);
/* Slack said 429: nothing goes before now + delay, and the burst is spent. */
void hf_slack_pace_pause(struct hf_slack_pace *p, int64_t now_ms, int64_t delay_ms);
/* True when max_per_minute messages were taken in the last minute. */
bool hf_slack_pace_window_full(struct hf_slack_pace *p, int64_t now_ms);
/* Counts one message in the minute's window. */
void hf_slack_pace_count(struct hf_slack_pace *p, int64_t now_ms);

/* What a webhook's answer means for the message. */
enum hf_outcome hf_slack_classify(long status, const char *body, char *reason, size_t reasonlen);

#endif
