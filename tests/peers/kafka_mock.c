/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock - a librdkafka mock Kafka cluster held open for tests, driven over stdin.
 *
 * Usage:
 *   kafka_mock [-n BROKERS] [-t TOPIC:PARTITIONS[:REPLICATION]]... [-d DEBUG] [BROKERS]
 *
 *   BROKERS       number of mock brokers (default 3; ids are 1..BROKERS)
 *   -t            create a topic (repeatable); replication defaults to min(3, BROKERS).
 *                 Topics not created here are auto-created by the mock on first use
 *                 (4 partitions in librdkafka 2.0.2).
 *   -d DEBUG      librdkafka debug contexts for the owning handle (e.g. "mock,broker");
 *                 without it only critical log lines go to stderr (the owning handle
 *                 otherwise logs connection errors for every broker_down)
 *
 * The cluster is created through a producer handle with test.mock.num.brokers=BROKERS
 * (rd_kafka_handle_mock_cluster). Brokers listen on 127.0.0.1 ephemeral ports.
 *
 * stdout, first line, once the cluster is up:   BOOTSTRAP 127.0.0.1:p1,127.0.0.1:p2,...
 * Then one command per stdin line, one answer line per command ("OK", "OK <info>" or
 * "ERR <message>"), flushed after each line:
 *
 *   push_errors <apikey> <err> [<err>...]   cluster-wide error stack for that request type
 *                                           (rd_kafka_mock_push_request_errors_array); the next
 *                                           requests of that ApiKey fail in this order
 *   broker_push_errors <id> <apikey> <err>[@<rtt_ms>] [...]
 *                                           per-broker errors with optional response delay
 *   clear_errors <apikey>                   drop the cluster-wide stack for that ApiKey
 *   broker_down <id>                        disconnect and refuse connections (-1 = all)
 *   broker_up <id>                          accept connections again (-1 = all)
 *   rtt <id> <ms>                           response delay of a broker (-1 = all)
 *   create_topic <name> <partitions> [<replication>]
 *   leader <topic> <partition> <id>         set partition leader (-1 = leaderless)
 *   bootstrap                               answers "OK <bootstrap servers>"
 *   ping                                    answers "OK"
 *   quit                                    answers "OK" and exits 0
 *
 * <apikey> is a number or a name: Produce=0 Fetch=1 ListOffsets=2 Metadata=3
 *   OffsetCommit=8 OffsetFetch=9 FindCoordinator=10 JoinGroup=11 Heartbeat=12
 *   LeaveGroup=13 SyncGroup=14 ApiVersions=18 InitProducerId=22 AddPartitionsToTxn=24
 *   AddOffsetsToTxn=25 EndTxn=26 TxnOffsetCommit=28.
 * <err> is an rd_kafka_resp_err_t as a number (5, 7, 6, -195) or a name as printed by
 *   rd_kafka_err2name, with or without the RD_KAFKA_RESP_ERR_ prefix, any case
 *   (LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT, NOT_LEADER_FOR_PARTITION, _TRANSPORT).
 *   Unknown codes are rejected. _TRANSPORT (-195) makes the broker drop the connection.
 * Empty lines and unknown commands get "ERR ...".
 *
 * It exits 0 on "quit", on stdin EOF and on SIGTERM/SIGINT; 1 if the cluster cannot be
 * created; 2 on bad arguments. The cluster dies with the process.
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -o kafka_mock kafka_mock.c \
 *          $(pkg-config --cflags --libs rdkafka)
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64
#define MAX_ARGS 256
#define LINE_MAX_LEN 8192

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const struct {
    const char *name;
    int key;
} api_names[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Offset", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"SaslAuthenticate", 36},
};

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_apikey(const char *s, int16_t *out)
{
    long v;
    size_t i;
    if (parse_long(s, 0, 200, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    for (i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
        if (strcasecmp(s, api_names[i].name) == 0) {
            *out = (int16_t)api_names[i].key;
            return 0;
        }
    }
    return -1;
}

/* Number or name; must exist in librdkafka's error table. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t cnt, i;
    long v;
    const char *name = s;

    rd_kafka_get_err_descs(&descs, &cnt);
    if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
        if (v == 0) {
            *out = RD_KAFKA_RESP_ERR_NO_ERROR;
            return 0;
        }
        for (i = 0; i < cnt; i++) {
            if (descs[i].name && (long)descs[i].code == v) {
                *out = descs[i].code;
                return 0;
            }
        }
        return -1;
    }
    if (strncasecmp(name, "RD_KAFKA_RESP_ERR_", 18) == 0)
        name += 18;
    for (i = 0; i < cnt; i++) {
        if (descs[i].name && strcasecmp(descs[i].name, name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

static int parse_broker(const char *s, int32_t *out)
{
    long v;
    if (parse_long(s, -1, INT32_MAX, &v) != 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static void answer_err(rd_kafka_resp_err_t err)
{
    if (err)
        reply("ERR %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
    else
        reply("OK");
}

/* Returns 1 when the program should exit. */
static int handle_line(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *p = line, *save = NULL, *tok;
    size_t n = strlen(line);

    while (n > 0 && (line[n - 1] == '\r' || isspace((unsigned char)line[n - 1])))
        line[--n] = '\0';
    while ((tok = strtok_r(p, " \t", &save)) != NULL) {
        p = NULL;
        if (argc == MAX_ARGS) {
            reply("ERR too many arguments (max %d)", MAX_ARGS - 1);
            return 0;
        }
        argv[argc++] = tok;
    }
    if (argc == 0) {
        reply("ERR empty command");
        return 0;
    }

    if (!strcmp(argv[0], "quit") || !strcmp(argv[0], "exit")) {
        reply("OK");
        return 1;
    }
    if (!strcmp(argv[0], "ping")) {
        reply("OK");
        return 0;
    }
    if (!strcmp(argv[0], "bootstrap")) {
        reply("OK %s", rd_kafka_mock_cluster_bootstraps(mc));
        return 0;
    }

    if (!strcmp(argv[0], "push_errors")) {
        rd_kafka_resp_err_t errs[MAX_ARGS];
        int16_t apikey;
        int i;
        if (argc < 3) {
            reply("ERR usage: push_errors <apikey> <err> [<err>...]");
            return 0;
        }
        if (parse_apikey(argv[1], &apikey)) {
            reply("ERR bad apikey '%s'", argv[1]);
            return 0;
        }
        for (i = 2; i < argc; i++) {
            if (parse_err(argv[i], &errs[i - 2])) {
                reply("ERR unknown error code '%s'", argv[i]);
                return 0;
            }
        }
        rd_kafka_mock_push_request_errors_array(mc, apikey, (size_t)(argc - 2), errs);
        reply("OK");
        return 0;
    }

    if (!strcmp(argv[0], "broker_push_errors")) {
        int32_t id;
        int16_t apikey;
        int i;
        rd_kafka_resp_err_t errs[MAX_ARGS];
        long rtts[MAX_ARGS];
        if (argc < 4) {
            reply("ERR usage: broker_push_errors <id> <apikey> <err>[@<rtt_ms>] [...]");
            return 0;
        }
        if (parse_broker(argv[1], &id) || id < 0) {
            reply("ERR bad broker id '%s'", argv[1]);
            return 0;
        }
        if (parse_apikey(argv[2], &apikey)) {
            reply("ERR bad apikey '%s'", argv[2]);
            return 0;
        }
        for (i = 3; i < argc; i++) {
            char *at = strchr(argv[i], '@');
            rtts[i] = 0;
            if (at) {
                *at = '\0';
                if (parse_long(at + 1, 0, INT_MAX, &rtts[i])) {
                    reply("ERR bad rtt '%s'", at + 1);
                    return 0;
                }
            }
            if (parse_err(argv[i], &errs[i])) {
                reply("ERR unknown error code '%s'", argv[i]);
                return 0;
            }
        }
        /* One tuple per call: the stack is FIFO, so the order is kept. */
        for (i = 3; i < argc; i++) {
            rd_kafka_resp_err_t e =
                rd_kafka_mock_broker_push_request_error_rtts(mc, id, apikey, 1, errs[i], (int)rtts[i]);
            if (e) {
                answer_err(e);
                return 0;
            }
        }
        reply("OK");
        return 0;
    }

    if (!strcmp(argv[0], "clear_errors")) {
        int16_t apikey;
        if (argc != 2 || parse_apikey(argv[1], &apikey)) {
            reply("ERR usage: clear_errors <apikey>");
            return 0;
        }
        rd_kafka_mock_clear_request_errors(mc, apikey);
        reply("OK");
        return 0;
    }

    if (!strcmp(argv[0], "broker_down") || !strcmp(argv[0], "broker_up")) {
        int32_t id;
        if (argc != 2 || parse_broker(argv[1], &id)) {
            reply("ERR usage: %s <id|-1>", argv[0]);
            return 0;
        }
        answer_err(argv[0][7] == 'd' ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id));
        return 0;
    }

    if (!strcmp(argv[0], "rtt")) {
        int32_t id;
        long ms;
        if (argc != 3 || parse_broker(argv[1], &id) || parse_long(argv[2], 0, INT_MAX, &ms)) {
            reply("ERR usage: rtt <id|-1> <ms>");
            return 0;
        }
        answer_err(rd_kafka_mock_broker_set_rtt(mc, id, (int)ms));
        return 0;
    }

    if (!strcmp(argv[0], "create_topic")) {
        long parts, rf = 1;
        if ((argc != 3 && argc != 4) || parse_long(argv[2], 1, 100000, &parts) ||
            (argc == 4 && parse_long(argv[3], 1, 1000, &rf))) {
            reply("ERR usage: create_topic <name> <partitions> [<replication>]");
            return 0;
        }
        answer_err(rd_kafka_mock_topic_create(mc, argv[1], (int)parts, (int)rf));
        return 0;
    }

    if (!strcmp(argv[0], "leader")) {
        long part;
        int32_t id;
        if (argc != 4 || parse_long(argv[2], 0, INT32_MAX, &part) || parse_broker(argv[3], &id)) {
            reply("ERR usage: leader <topic> <partition> <id|-1>");
            return 0;
        }
        answer_err(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)part, id));
        return 0;
    }

    reply("ERR unknown command '%s'", argv[0]);
    return 0;
}

/* -t TOPIC[:PARTITIONS[:REPLICATION]]. Returns 0, 1 (mock refused) or 2 (bad syntax). */
static int create_topic_arg(rd_kafka_mock_cluster_t *mc, const char *spec, long brokers)
{
    char name[512];
    char *c1, *c2;
    long parts = 1, rf = brokers < 3 ? brokers : 3;
    rd_kafka_resp_err_t err;

    snprintf(name, sizeof(name), "%s", spec);
    c1 = strchr(name, ':');
    if (c1) {
        *c1++ = '\0';
        c2 = strchr(c1, ':');
        if (c2)
            *c2++ = '\0';
        if (parse_long(c1, 1, 100000, &parts) || (c2 && parse_long(c2, 1, brokers, &rf))) {
            fprintf(stderr, "kafka_mock: bad -t '%s' (TOPIC:PARTITIONS[:REPLICATION])\n", spec);
            return 2;
        }
    }
    if (!*name) {
        fprintf(stderr, "kafka_mock: empty topic name in -t '%s'\n", spec);
        return 2;
    }
    err = rd_kafka_mock_topic_create(mc, name, (int)parts, (int)rf);
    if (err) {
        fprintf(stderr, "kafka_mock: topic %s: %s\n", name, rd_kafka_err2str(err));
        return 1;
    }
    return 0;
}

/* Prints BOOTSTRAP, then answers stdin commands until quit, EOF or SIGTERM/SIGINT. */
static void serve(rd_kafka_t *rk, rd_kafka_mock_cluster_t *mc)
{
    static char buf[LINE_MAX_LEN];
    size_t len = 0;
    int discarding = 0, quit = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    reply("BOOTSTRAP %s", rd_kafka_mock_cluster_bootstraps(mc));

    while (!g_stop && !quit) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        ssize_t r;
        char *nl;
        int pr;

        rd_kafka_poll(rk, 0);
        pr = poll(&pfd, 1, 200);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            perror("kafka_mock: poll");
            break;
        }
        if (pr == 0)
            continue;
        r = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("kafka_mock: read");
            break;
        }
        if (r == 0) { /* EOF: run a last unterminated command, then leave */
            if (len > 0 && !discarding) {
                buf[len] = '\0';
                handle_line(mc, buf);
            }
            break;
        }
        len += (size_t)r;
        buf[len] = '\0';
        while (!quit && (nl = memchr(buf, '\n', len)) != NULL) {
            size_t linelen = (size_t)(nl - buf);
            *nl = '\0';
            if (discarding) {
                discarding = 0;
                reply("ERR line too long (max %d bytes)", LINE_MAX_LEN - 2);
            } else {
                quit = handle_line(mc, buf);
            }
            memmove(buf, nl + 1, len - linelen - 1);
            len -= linelen + 1;
            buf[len] = '\0';
        }
        if (len == sizeof(buf) - 1) { /* overlong line: drop until its newline */
            discarding = 1;
            len = 0;
        }
    }
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-n BROKERS] [-t TOPIC:PARTITIONS[:REPLICATION]]... [-d DEBUG] "
            "[BROKERS]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    long brokers = 3;
    const char *topics[MAX_TOPICS];
    int ntopics = 0, i, opt, rc = 0;
    const char *debug = NULL;
    char errstr[512], nbuf[32];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "n:t:d:h")) != -1) {
        switch (opt) {
        case 'n':
            if (parse_long(optarg, 1, 64, &brokers))
                usage(argv[0]);
            break;
        case 't':
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, "kafka_mock: too many topics\n");
                return 2;
            }
            topics[ntopics++] = optarg;
            break;
        case 'd': debug = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (optind < argc) {
        if (optind + 1 != argc || parse_long(argv[optind], 1, 64, &brokers))
            usage(argv[0]);
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    conf = rd_kafka_conf_new();
    snprintf(nbuf, sizeof(nbuf), "%ld", brokers);
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", nbuf, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "log_level", debug ? "7" : "2", errstr, sizeof(errstr)) ||
        (debug && rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof(errstr)))) {
        fprintf(stderr, "kafka_mock: config: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_mock: rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(conf); /* only freed by rd_kafka_new on success */
        return 1;
    }
    mc = rd_kafka_handle_mock_cluster(rk);
    if (!mc) {
        fprintf(stderr, "kafka_mock: no mock cluster (test.mock.num.brokers unsupported?)\n");
        rc = 1;
        goto out;
    }

    for (i = 0; rc == 0 && i < ntopics; i++)
        rc = create_topic_arg(mc, topics[i], brokers);
    if (rc == 0)
        serve(rk, mc);

out:
    rd_kafka_destroy(rk); /* also destroys the mock cluster */
    return rc;
}
