/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_consume - read a topic from the beginning of every partition and print JSON lines.
 *
 * Usage:
 *   kafka_consume -b BOOTSTRAP -t TOPIC -n COUNT [-T TIMEOUT_MS] [-X key=value]...
 *
 *   -n COUNT      stop after COUNT messages; exit 0 if reached, 1 if the timeout came first.
 *                 -n 0 reads until the timeout and exits 0 (use it to dump a topic).
 *   -T TIMEOUT_MS overall deadline, default 10000, including waiting for the topic to exist
 *   -X key=value  extra librdkafka consumer property (repeatable)
 *
 * No consumer group protocol: all partitions are assign()ed at RD_KAFKA_OFFSET_BEGINNING,
 * nothing is committed, so it can be run any number of times against the same topic.
 * A group.id ("kafka_consume") is still set because librdkafka 2.0.2's rd_kafka_assign()
 * fails with "Local: Unknown group" without one (checked); it only makes the client look up
 * the group coordinator (FindCoordinator), it never joins or commits.
 * It waits (until the deadline) for the topic to exist with a leader for every partition; the
 * partition list is taken once, partitions added later are not read.
 *
 * stdout: one JSON object per message, in consumption order (interleaved across partitions,
 * in offset order within a partition):
 *   {"topic":"t","partition":0,"offset":0,"key":"k1","headers":{"h":"v"},"value":"..."}
 *   key / value / header value are null when absent (NULL pointer), "" when empty.
 *   headers is {} when the message has none; repeated header names are repeated as keys in
 *   the order they were produced.
 *   Strings are JSON-escaped: \" \\ \b \f \n \r \t, other control bytes and DEL as \u00XX;
 *   valid UTF-8 is copied as is, every byte of an invalid UTF-8 sequence becomes \u00XX
 *   (i.e. read as Latin-1) so the output is always valid JSON.
 * stderr: "kafka_consume: N/COUNT messages from TOPIC (P partitions)" at the end, and errors.
 * Exit: 0 COUNT reached (or -n 0), 1 timeout/consume error, 2 bad arguments.
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -o kafka_consume kafka_consume.c \
 *          $(pkg-config --cflags --libs rdkafka)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of the valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len, i;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        cp = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        cp = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0; /* overlong, out of range, or surrogate */
    return len;
}

static void json_str(FILE *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i = 0, l;
    if (!data) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    while (i < n) {
        unsigned char c = p[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            i++;
            continue;
        case '\\':
            fputs("\\\\", out);
            i++;
            continue;
        case '\b':
            fputs("\\b", out);
            i++;
            continue;
        case '\f':
            fputs("\\f", out);
            i++;
            continue;
        case '\n':
            fputs("\\n", out);
            i++;
            continue;
        case '\r':
            fputs("\\r", out);
            i++;
            continue;
        case '\t':
            fputs("\\t", out);
            i++;
            continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7F) {
            fprintf(out, "\\u%04x", c);
            i++;
            continue;
        }
        l = utf8_seq(p + i, n - i);
        if (l == 0) {
            fprintf(out, "\\u%04x", c);
            i++;
            continue;
        }
        fwrite(p + i, 1, l, out);
        i += l;
    }
    fputc('"', out);
}

static void print_message(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *hdrs = NULL;
    FILE *o = stdout;
    const char *topic = rd_kafka_topic_name(m->rkt);

    fputs("{\"topic\":", o);
    json_str(o, topic, strlen(topic));
    fprintf(o, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":", m->partition, m->offset);
    json_str(o, m->key, m->key_len);
    fputs(",\"headers\":{", o);
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
        size_t idx = 0;
        const char *name;
        const void *val;
        size_t vsize;
        while (rd_kafka_header_get_all(hdrs, idx, &name, &val, &vsize) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (idx > 0)
                fputc(',', o);
            json_str(o, name, strlen(name));
            fputc(':', o);
            json_str(o, val, vsize);
            idx++;
        }
    }
    fputs("},\"value\":", o);
    json_str(o, m->payload, m->len);
    fputs("}\n", o);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s -b BOOTSTRAP -t TOPIC -n COUNT [-T TIMEOUT_MS] [-X key=value]...\n", prog);
    exit(2);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_consume: %s=%s: %s\n", k, v, errstr);
        return -1;
    }
    return 0;
}

/* The mock (like a fresh cluster) may not have the topic or its leaders yet: retry the
 * metadata request until the deadline. Returns the partitions at OFFSET_BEGINNING or NULL. */
static rd_kafka_topic_partition_list_t *wait_for_partitions(rd_kafka_t *rk, const char *topic, int64_t deadline)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int i;

    while (!parts) {
        const struct rd_kafka_metadata *md = NULL;
        int64_t left = deadline - now_ms();
        err = rd_kafka_metadata(rk, 0, rkt, &md, left > 1000 ? 1000 : (left > 0 ? (int)left : 1));
        if (!err && md->topic_cnt == 1)
            err = md->topics[0].err;
        if (!err && md->topics[0].partition_cnt > 0) {
            const rd_kafka_metadata_topic_t *t = &md->topics[0];
            for (i = 0; i < t->partition_cnt; i++)
                if (t->partitions[i].leader < 0)
                    err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
            if (!err) {
                parts = rd_kafka_topic_partition_list_new(t->partition_cnt);
                for (i = 0; i < t->partition_cnt; i++)
                    rd_kafka_topic_partition_list_add(parts, topic, t->partitions[i].id)->offset =
                        RD_KAFKA_OFFSET_BEGINNING;
            }
        } else if (!err) {
            err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if (!parts) {
            struct timespec ts = {0, 50 * 1000000L}; /* retry interval, bounded by deadline */
            if (now_ms() >= deadline) {
                fprintf(stderr, "kafka_consume: topic %s not available: %s\n", topic, rd_kafka_err2str(err));
                break;
            }
            nanosleep(&ts, NULL);
        }
    }
    rd_kafka_topic_destroy(rkt);
    return parts;
}

/* Prints up to count messages (count 0: no limit) until the deadline; returns how many. */
static long consume(rd_kafka_t *rk, long count, int64_t deadline)
{
    long got = 0;
    while (count == 0 || got < count) {
        int64_t left = deadline - now_ms();
        rd_kafka_message_t *m;
        if (left <= 0)
            break;
        m = rd_kafka_consumer_poll(rk, left > 200 ? 200 : (int)left);
        if (!m)
            continue;
        if (!m->err) {
            print_message(m);
            got++;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "kafka_consume: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    return got;
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL;
    long count = -1, timeout_ms = 10000, got = 0;
    int opt, rc = 1, npart = 0;
    char errstr[512], *end;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_resp_err_t err;
    int64_t deadline;

    conf = rd_kafka_conf_new();
    while ((opt = getopt(argc, argv, "b:t:n:T:X:h")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'n':
            errno = 0;
            count = strtol(optarg, &end, 10);
            if (errno || *end || count < 0)
                usage(argv[0]);
            break;
        case 'T':
            errno = 0;
            timeout_ms = strtol(optarg, &end, 10);
            if (errno || *end || timeout_ms < 0)
                usage(argv[0]);
            break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq)
                usage(argv[0]);
            *eq = '\0';
            if (conf_set(conf, optarg, eq + 1)) {
                rd_kafka_conf_destroy(conf);
                return 2;
            }
            break;
        }
        default: usage(argv[0]);
        }
    }
    if (!bootstrap || !topic || !*topic || count < 0 || optind != argc)
        usage(argv[0]);

    deadline = now_ms() + timeout_ms;
    /* group.id only because rd_kafka_assign() needs one; nothing joins or commits. */
    if (conf_set(conf, "bootstrap.servers", bootstrap) || conf_set(conf, "group.id", "kafka_consume") ||
        conf_set(conf, "enable.auto.commit", "false") || conf_set(conf, "enable.auto.offset.store", "false") ||
        conf_set(conf, "enable.partition.eof", "false") || conf_set(conf, "allow.auto.create.topics", "false") ||
        conf_set(conf, "fetch.wait.max.ms", "100") || conf_set(conf, "topic.metadata.refresh.interval.ms", "1000") ||
        conf_set(conf, "log_level", "3")) {
        rd_kafka_conf_destroy(conf);
        return 2;
    }

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_consume: rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    parts = wait_for_partitions(rk, topic, deadline);
    if (parts) {
        npart = parts->cnt;
        err = rd_kafka_assign(rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (err) {
            fprintf(stderr, "kafka_consume: assign: %s\n", rd_kafka_err2str(err));
        } else {
            got = consume(rk, count, deadline);
            rc = (count == 0 || got >= count) ? 0 : 1;
            rd_kafka_assign(rk, NULL);
        }
    }
    fprintf(stderr, "kafka_consume: %ld/%ld messages from %s (%d partitions)\n", got, count, topic, npart);

    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
