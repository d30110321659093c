/* SPDX-License-Identifier: Apache-2.0 */
/* The syslog sink: options, connection life (reconnect with backoff),
 * framing (octet-counting or newline) and delivery confirmation. Sockets and
 * TLS are in syslog_net.c, the message formats in syslog_format.c.
 *
 * Plain syslog has no acknowledgement. A collector that restarts drops what
 * its kernel had accepted but it had not read yet, and rsyslog even closes
 * cleanly (FIN, close_notify) after reading data it then drops. So a batch
 * written to a stream counts as delivered only once the peer's TCP has
 * acknowledged every byte of it (SIOCOUTQ) and the connection has then
 * stayed up for confirm_delay; when the connection breaks first, every batch
 * not yet confirmed is sent again: duplicates are the price of
 * at-least-once. Measured against rsyslog 8.2302 restarted under load:
 * without the delay 2 runs in 15 lost about 45 events each; with 300 ms,
 * none in 20. A loss now needs a collector that holds what it read for
 * longer than confirm_delay and then discards it (an in-memory queue at
 * shutdown), which is the collector's durability setting. Datagrams have no
 * such check: handed to the kernel is delivered. */
#define _GNU_SOURCE
#include "plugin.h"
#include "syslog_format.h"
#include "syslog_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A batch written to the stream, waiting for its confirmation. */
struct pending {
    struct hf_batch *b;
    uint64_t wire_end; /* bytes handed to the kernel on this connection once the batch was out */
    int64_t sent_ms; /* monotonic */
    int64_t acked_ms; /* when the peer's TCP had acknowledged all of it; 0: not yet */
    struct pending *next;
};

struct syslog_ctx {
    struct hf_syslog_net net;
    struct hf_syslog_fmt fmt;
    char hostname[HF_SYSLOG_HOSTNAME_MAX + 1];
    char app_name[HF_SYSLOG_APPNAME_MAX + 1];
    char *sd_id;
    bool octet_counting;
    bool framing_set;
    size_t max_msg; /* per datagram; 0: no limit */
    bool max_msg_set;
    enum hf_takes takes;
    int64_t confirm_ms;
    int64_t reconnect_min_ms, reconnect_max_ms, backoff_ms, next_connect_ms;
    unsigned long long truncations;
    struct pending *pend;
    struct hf_buf buf;
};

/* The options as the core binds them; owned by the core. Enums are the
 * indexes of their choices (format, header and message in the order of
 * their C enums); framing -1 and max_message_size 0 when not given. */
struct syslog_options {
    char *address;
    int format, framing, facility, message, header;
    char *app_name, *hostname, *sd_id;
    bool bom;
    int64_t max_message_size, timeout_ms, confirm_ms, reconnect_initial_ms, reconnect_max_ms;
    const struct hf_cnode *tls_given;
    struct hf_tls_conf tls;
};

#define OPT(m) HF_OPT_AT(struct syslog_options, m)
#define FRAMINGS "octet-counting|newline"
#define FACILITIES                                                                                                     \
    "kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|ntp|audit|alert|clock"                          \
    "|local0|local1|local2|local3|local4|local5|local6|local7"                                                         \
    "|0|1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16|17|18|19|20|21|22|23"
#define DEFAULT_MAX_MESSAGE 2048

static const struct hf_option tls_opts[] = {HF_TLS_OPTIONS(struct syslog_options, tls), {0}};

static const struct hf_option reconnect_opts[] = {
    {.name = "initial", .type = HF_OPT_DURATION, .def = "200ms", .min = 1, .max = 3600000, OPT(reconnect_initial_ms)},
    {.name = "max", .type = HF_OPT_DURATION, .def = "30s", .min = 1, .max = 3600000, OPT(reconnect_max_ms)},
    {0}};

static const struct hf_option syslog_options[] = {
    {.name = "address",
     .type = HF_OPT_STR,
     .required = true,
     .help = "udp://host:514, tcp://host:514, tls://host:6514 or unix:///dev/log",
     OPT(address)},
    {.name = "format", .type = HF_OPT_ENUM, .enums = "rfc5424|rfc3164|cef|leef", .def = "rfc5424", OPT(format)},
    {.name = "framing",
     .type = HF_OPT_ENUM,
     .enums = FRAMINGS,
     .help = "stream framing (RFC 6587): octet-counting (default), newline; unix stream sockets default to newline",
     OPT(framing)},
    {.name = "facility",
     .type = HF_OPT_ENUM,
     /* a table entry, so `hookfwd check` catches a typo too */
     .enums = FACILITIES,
     .def = "local0",
     .help = "name (local0, auth, ...) or 0..23",
     OPT(facility)},
    {.name = "app_name",
     .type = HF_OPT_STR,
     .def = "hookfwd",
     .help = "APP-NAME (rfc5424), TAG (rfc3164)",
     OPT(app_name)},
    {.name = "hostname", .type = HF_OPT_STR, .help = "HOSTNAME field; default: gethostname()", OPT(hostname)},
    {.name = "message",
     .type = HF_OPT_ENUM,
     .enums = "json|summary",
     .def = "json",
     .help = "MSG: the record JSON or a one-line summary",
     OPT(message)},
    {.name = "header",
     .type = HF_OPT_ENUM,
     .enums = "rfc5424|rfc3164|none",
     .def = "rfc5424",
     .help = "syslog header in front of CEF and LEEF lines",
     OPT(header)},
    {.name = "bom", .type = HF_OPT_BOOL, .def = "false", .help = "start the RFC 5424 MSG with a UTF-8 BOM", OPT(bom)},
    {.name = "sd_id",
     .type = HF_OPT_STR,
     .def = "hookfwd@32473",
     .help = "SD-ID of the structured data element",
     OPT(sd_id)},
    {.name = "max_message_size",
     .type = HF_OPT_SIZE,
     .min = 480,
     .max = 65507,
     .help = "largest UDP datagram (default 2048); longer messages are truncated (rfc3164: at most 1024)",
     OPT(max_message_size)},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "10s",
     .min = 100,
     .max = 600000,
     .help = "connect + TLS handshake, and the longest a written batch may wait for the peer's ack",
     OPT(timeout_ms)},
    {.name = "confirm_delay",
     .type = HF_OPT_DURATION,
     .def = "300ms",
     .min = 0,
     .max = 60000,
     .help = "how long an acknowledged batch must see the connection stay up before it counts as delivered",
     OPT(confirm_ms)},
    {.name = "reconnect", .type = HF_OPT_OBJ, .sub = reconnect_opts},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_opts, OPT(tls_given)},
    {0}};

/* ---- configuration ---------------------------------------------------- */

/* app_name must fit the header as is: rewriting it silently would make the
 * collector's filters miss it. */
static int check_app_name(const struct syslog_options *o, struct syslog_ctx *c, const struct hf_check *ck)
{
    const char *a = o->app_name;
    bool legacy = c->fmt.format == HF_SYSLOG_RFC3164 ||
                  (c->fmt.format >= HF_SYSLOG_CEF && c->fmt.header == HF_SYSLOG_HDR_RFC3164);
    size_t n = strlen(a), max = legacy ? HF_SYSLOG_TAG_MAX : HF_SYSLOG_APPNAME_MAX;
    bool ok = n > 0 && n <= max;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)a[i];
        ok = legacy ? (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z') || strchr("-_./", ch)
                    : ch >= 33 && ch <= 126;
    }
    if (!ok)
        return hf_check_fail(ck, "app_name",
                             legacy ? "must be 1-32 letters, digits or -_./ for an RFC 3164 TAG"
                                    : "must be 1-48 printable ASCII characters without spaces");
    memcpy(c->app_name, a, n + 1);
    return 0;
}

static int check_sd_id(const struct syslog_options *o, struct syslog_ctx *c, const struct hf_check *ck)
{
    const char *id = o->sd_id;
    size_t n = strlen(id);
    bool ok = n > 0 && n <= 32 && strchr(id, '@');
    for (size_t i = 0; ok && i < n; i++)
        ok = id[i] >= 33 && id[i] <= 126 && !strchr("=]\"", id[i]);
    if (!ok)
        return hf_check_fail(ck, "sd_id",
                             "must be name@<private enterprise number>, 1-32 printable "
                             "characters without '=', ']', '\"' or spaces");
    c->sd_id = hf_strdup(id);
    return 0;
}

static void set_hostname(const struct syslog_options *o, struct syslog_ctx *c)
{
    const char *h = o->hostname;
    char sys[256] = "";
    if (!h) {
        if (gethostname(sys, sizeof(sys) - 1) < 0)
            sys[0] = '\0';
        h = sys;
    }
    /* RFC 3164 ends HOSTNAME at a space; RFC 5424 allows only PRINTUSASCII */
    hf_syslog_clean_token(h, HF_SYSLOG_HOSTNAME_MAX, c->hostname, sizeof(c->hostname));
}

static int build_format(const struct syslog_options *o, struct syslog_ctx *c, const struct hf_check *ck)
{
    struct hf_syslog_fmt *f = &c->fmt;
    char facility[16];
    f->format = (enum hf_syslog_format)o->format;
    f->header = (enum hf_syslog_header)o->header;
    f->message = (enum hf_syslog_msg)o->message;
    f->facility = hf_syslog_facility_parse(hf_opt_enum_text(FACILITIES, o->facility, facility, sizeof(facility)));
    if (f->facility < 0)
        return hf_check_fail(ck, "facility",
                             "must be kern, user, mail, daemon, auth, syslog, lpr, news, "
                             "uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0..local7 "
                             "or a number 0..23");
    if ((c->takes & HF_TAKES_METRICS) && f->format >= HF_SYSLOG_CEF)
        return hf_check_fail(ck, "format", "metric points are sent with format rfc5424 or rfc3164, not cef/leef");
    if (check_app_name(o, c, ck) < 0 || check_sd_id(o, c, ck) < 0)
        return -1;
    set_hostname(o, c);
    f->hostname = c->hostname;
    f->app_name = c->app_name;
    f->procid = (int)getpid();
    f->sd_id = c->sd_id;
    f->version = HF_VERSION;
    f->bom = o->bom;
    return 0;
}

static int build_transport(const struct syslog_options *o, struct syslog_ctx *c, const struct hf_check *ck)
{
    char why[300];
    if (hf_syslog_net_parse(&c->net, o->address, why, sizeof(why)) < 0)
        return hf_check_fail(ck, "address", "%s", why);
    c->framing_set = o->framing >= 0;
    c->octet_counting = !c->framing_set || o->framing == 0; /* FRAMINGS: octet-counting first */
    if (c->framing_set && c->net.kind == HF_SYSLOG_UDP)
        return hf_check_fail(ck, "framing",
                             "applies to tcp://, tls:// and unix stream sockets; UDP sends one message per datagram");
    if (o->tls_given && c->net.kind != HF_SYSLOG_TLS)
        return hf_check_fail(ck, "tls", "the tls options need a tls:// address");
    c->fmt.one_line = !c->octet_counting; /* a line break would split the message */
    c->max_msg_set = o->max_message_size > 0;
    c->max_msg = c->max_msg_set ? (size_t)o->max_message_size : DEFAULT_MAX_MESSAGE;
    if (c->fmt.format == HF_SYSLOG_RFC3164 && c->max_msg > HF_SYSLOG_RFC3164_MAX)
        c->max_msg = HF_SYSLOG_RFC3164_MAX;
    c->net.timeout_ms = o->timeout_ms;
    c->confirm_ms = o->confirm_ms;
    c->reconnect_min_ms = o->reconnect_initial_ms;
    c->reconnect_max_ms = o->reconnect_max_ms;
    if (c->reconnect_max_ms < c->reconnect_min_ms)
        c->reconnect_max_ms = c->reconnect_min_ms;
    c->backoff_ms = c->reconnect_min_ms;
    if (c->net.kind != HF_SYSLOG_TLS)
        return 0;
    if (hf_check_tls(ck, &o->tls) < 0)
        return -1;
    const char *bad_opt = "tls";
    if (hf_syslog_net_tls_init(&c->net, &o->tls, &bad_opt, why, sizeof(why)) < 0)
        return hf_check_fail(ck, bad_opt, "%s", why);
    return 0;
}

static void syslog_ctx_free(struct syslog_ctx *c)
{
    for (struct pending *p = c->pend, *n; p; p = n) {
        n = p->next;
        free(p); /* the runtime owns and frees the batches */
    }
    hf_syslog_net_free(&c->net);
    hf_buf_free(&c->buf);
    free(c->sd_id);
    free(c);
}

/* Everything init sets up from the options, reporting through ck: shared
 * by the check hook (on a context it throws away) and init. */
static struct syslog_ctx *syslog_ctx_new(const struct syslog_options *o, const struct hf_check *ck)
{
    struct syslog_ctx *c = hf_calloc(1, sizeof(*c));
    hf_syslog_net_init(&c->net);
    hf_buf_init(&c->buf, 0);
    c->takes = ck->takes;
    if (build_format(o, c, ck) < 0 || build_transport(o, c, ck) < 0) {
        syslog_ctx_free(c);
        return NULL;
    }
    return c;
}

/* `hookfwd check` and every load: the same setup as init (address,
 * format, TLS files), without connecting anywhere. */
static int syslog_check(const void *conf, const struct hf_check *ck)
{
    struct syslog_ctx *c = syslog_ctx_new(conf, ck);
    if (!c)
        return -1;
    syslog_ctx_free(c);
    return 0;
}

static int syslog_init(struct hf_sink *s, struct hf_cerr *err)
{
    const struct syslog_options *o = hf_sink_conf(s);
    char what[200];
    snprintf(what, sizeof(what), "sink '%s' (syslog)", hf_sink_name(s));
    /* checked at load already; a failure here is a file that changed since */
    const struct hf_check ck = {.file = hf_sink_config_file(s), .what = what, .err = err, .takes = hf_sink_takes(s)};
    struct syslog_ctx *c = syslog_ctx_new(o, &ck);
    if (!c)
        return -1;
    hf_sink_set_state(s, c);
    if (c->net.kind == HF_SYSLOG_TLS && !o->tls.verify)
        hf_sink_log(s, HF_LOG_WARN,
                    "tls.verify is false: the collector's certificate and name are NOT checked; anyone on the path "
                    "can read and alter this audit stream. Use tls.ca_file instead.");
    return 0;
}

/* ---- connection ----------------------------------------------------- */

/* The connection is gone: every batch not yet confirmed is sent again.
 * Even a clean close (FIN, close_notify) proves nothing: rsyslog closes
 * cleanly after reading data it then drops at shutdown. */
static void connection_lost(struct hf_sink *s, struct syslog_ctx *c, const char *why)
{
    while (c->pend) {
        struct pending *p = c->pend;
        c->pend = p->next;
        hf_batch_done(p->b, HF_OUT_RETRY, 0, why);
        free(p);
    }
    hf_syslog_net_close(&c->net);
    /* the next batch reconnects at once; only failed connects back off */
    c->next_connect_ms = 0;
    hf_sink_log(s, HF_LOG_WARN, "connection to %s lost: %s", c->net.address, why);
}

static int ensure_connected(struct hf_sink *s, struct syslog_ctx *c, struct hf_batch *b)
{
    if (c->net.fd >= 0)
        return 0;
    char why[300];
    int64_t now = hf_mono_ms();
    if (now < c->next_connect_ms) {
        snprintf(why, sizeof(why), "reconnecting to %.100s in %lld ms: %.150s", c->net.address,
                 (long long)(c->next_connect_ms - now), c->net.last_error);
        hf_batch_done(b, HF_OUT_RETRY, c->next_connect_ms - now, why);
        return -1;
    }
    if (hf_syslog_net_open(&c->net, why, sizeof(why)) < 0) {
        snprintf(c->net.last_error, sizeof(c->net.last_error), "%s", why);
        c->next_connect_ms = now + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > c->reconnect_max_ms ? c->reconnect_max_ms : c->backoff_ms * 2;
        hf_sink_log(s, HF_LOG_WARN, "cannot connect to %s: %s", c->net.address, why);
        hf_batch_done(b, HF_OUT_RETRY, c->next_connect_ms - now, why);
        return -1;
    }
    if (c->net.kind == HF_SYSLOG_UNIX && c->net.stream && !c->framing_set) {
        c->octet_counting = false; /* local stream daemons split on LF */
        c->fmt.one_line = true;
    }
    hf_sink_log(s, HF_LOG_INFO, "connected to %s%s", c->net.address,
                c->net.kind == HF_SYSLOG_UNIX ? (c->net.stream ? " (stream)" : " (datagram)") : "");
    return 0;
}

/* ---- encoding ----------------------------------------------------- */

static void count_truncation(struct hf_sink *s, struct syslog_ctx *c, const struct hf_record *r)
{
    hf_sink_count_truncated(s, 1);
    if (c->truncations++ == 0)
        hf_sink_log(s, HF_LOG_WARN,
                    "event %s did not fit in %zu bytes and was truncated (max_message_size; counted in "
                    "hookfwd_sink_truncated_total, further ones are not logged)",
                    r->event_id ? r->event_id : r->event_type, c->max_msg);
}

/* How many messages record r makes: itself and/or its metric points. */
static size_t messages_of(const struct hf_sink *s, const struct hf_record *r)
{
    enum hf_takes takes = hf_sink_takes(s);
    return (takes & HF_TAKES_RECORDS ? 1 : 0) + (takes & HF_TAKES_METRICS ? r->npoints : 0);
}

/* Appends message k of record r to out, framed for a stream when `framed`. */
static void encode_message(struct hf_sink *s, struct syslog_ctx *c, const struct hf_record *r, size_t k, size_t max_len,
                           bool framed, struct hf_buf *out)
{
    bool cut = false, counted = framed && c->octet_counting;
    size_t at = out->len;
    if (counted)
        hf_buf_puts(out, "0000000000 "); /* room for MSG-LEN, fixed below */
    size_t msg_at = out->len;
    bool record = (hf_sink_takes(s) & HF_TAKES_RECORDS) != 0;
    if (record && k == 0)
        hf_syslog_encode(&c->fmt, r, max_len, out, &cut);
    else
        hf_syslog_encode_point(&c->fmt, r, &r->points[k - (record ? 1 : 0)], max_len, out, &cut);
    if (cut)
        count_truncation(s, c, r);
    if (counted && !out->overflow) {
        char len[16];
        size_t msglen = out->len - msg_at;
        int l = snprintf(len, sizeof(len), "%zu ", msglen);
        memmove(out->data + at + l, out->data + msg_at, msglen);
        memcpy(out->data + at, len, (size_t)l);
        out->len = at + (size_t)l + msglen;
    } else if (framed) {
        hf_buf_putc(out, '\n');
    }
}

static int syslog_encode(struct hf_sink *s, const struct hf_batch *b, struct hf_buf *out)
{
    struct syslog_ctx *c = hf_sink_state(s);
    bool dgram = c->net.kind == HF_SYSLOG_UDP || (c->net.kind == HF_SYSLOG_UNIX && !c->net.stream);
    /* datagrams as they go out, one per line; streams framed as configured */
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; k < messages_of(s, b->recs[i]); k++) {
            encode_message(s, c, b->recs[i], k, dgram ? c->max_msg : 0, !dgram, out);
            if (dgram)
                hf_buf_putc(out, '\n');
        }
    return out->overflow ? -1 : 0;
}

/* ---- sending -------------------------------------------------------- */

static void send_stream(struct hf_sink *s, struct syslog_ctx *c, struct hf_batch *b)
{
    char why[300];
    hf_buf_reset(&c->buf);
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; k < messages_of(s, b->recs[i]); k++)
            encode_message(s, c, b->recs[i], k, 0, true, &c->buf);
    if (hf_syslog_net_write(&c->net, c->buf.data, c->buf.len, why, sizeof(why)) < 0) {
        hf_batch_done(b, HF_OUT_RETRY, 0, why);
        connection_lost(s, c, why);
        return;
    }
    struct pending *p = hf_calloc(1, sizeof(*p)), **tail = &c->pend;
    p->b = b;
    p->wire_end = hf_syslog_net_written(&c->net);
    p->sent_ms = hf_mono_ms();
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
}

/* Sends record i's datagrams: OK, TOO_BIG or ERROR. */
static int send_record_dgrams(struct hf_sink *s, struct syslog_ctx *c, const struct hf_record *r, char *why,
                              size_t whylen)
{
    size_t limit = c->net.kind == HF_SYSLOG_UDP || c->max_msg_set ? c->max_msg : 0;
    for (size_t k = 0; k < messages_of(s, r); k++) {
        hf_buf_reset(&c->buf);
        encode_message(s, c, r, k, limit, false, &c->buf);
        int rc = hf_syslog_net_send_dgram(&c->net, c->buf.data, c->buf.len, why, whylen);
        if (rc != HF_SYSLOG_NET_OK)
            return rc;
    }
    return HF_SYSLOG_NET_OK;
}

/* One datagram per message. Records sent before a failure are delivered
 * (marked one by one); the rest of the batch is retried. */
static void send_dgram(struct hf_sink *s, struct syslog_ctx *c, struct hf_batch *b)
{
    char why[300];
    for (size_t i = 0; i < b->n; i++) {
        int rc = send_record_dgrams(s, c, b->recs[i], why, sizeof(why));
        if (rc == HF_SYSLOG_NET_TOO_BIG) {
            hf_batch_mark(b, i, HF_OUT_REJECTED, why); /* it will never fit: dead letters */
            continue;
        }
        if (rc != HF_SYSLOG_NET_OK) {
            for (size_t j = 0; j < i; j++)
                if (!b->rec_outcome || !b->rec_outcome[j])
                    hf_batch_mark(b, j, HF_OUT_DELIVERED, NULL);
            hf_batch_done(b, HF_OUT_RETRY, 0, why);
            connection_lost(s, c, why);
            return;
        }
    }
    c->backoff_ms = c->reconnect_min_ms; /* datagrams went out: the path works */
    hf_batch_done(b, HF_OUT_DELIVERED, 0, NULL);
}

static void syslog_send(struct hf_sink *s, struct hf_batch *b)
{
    struct syslog_ctx *c = hf_sink_state(s);
    char why[300];
    /* a collector that closed an idle connection is noticed before writing
     * into it, not one retry later */
    if (c->net.fd >= 0 && c->net.stream && hf_syslog_net_check(&c->net, why, sizeof(why)) != HF_SYSLOG_NET_OK)
        connection_lost(s, c, why);
    if (ensure_connected(s, c, b) < 0)
        return;
    if (c->net.stream)
        send_stream(s, c, b);
    else
        send_dgram(s, c, b);
}

/* Confirms what can be confirmed; notices a dead or stalled peer. */
static void pump(struct hf_sink *s, struct syslog_ctx *c)
{
    if (!c->pend)
        return;
    char why[300];
    if (hf_syslog_net_check(&c->net, why, sizeof(why)) != HF_SYSLOG_NET_OK) {
        connection_lost(s, c, why);
        return;
    }
    int64_t now = hf_mono_ms();
    uint64_t acked = hf_syslog_net_acked(&c->net);
    /* every batch's clock starts at its own ack, not when it reaches the
     * head; the first one not acknowledged yet is the oldest waiting */
    struct pending *p = c->pend;
    for (; p && acked >= p->wire_end; p = p->next)
        if (!p->acked_ms)
            p->acked_ms = now;
    if (p && now - p->sent_ms >= c->net.timeout_ms) {
        snprintf(why, sizeof(why), "the collector did not acknowledge %llu bytes within %lld ms",
                 (unsigned long long)(p->wire_end - acked), (long long)c->net.timeout_ms);
        connection_lost(s, c, why);
        return;
    }
    while (c->pend && c->pend->acked_ms && now - c->pend->acked_ms >= c->confirm_ms) {
        p = c->pend;
        c->pend = p->next;
        c->backoff_ms = c->reconnect_min_ms; /* the peer is healthy again */
        hf_batch_done(p->b, HF_OUT_DELIVERED, 0, NULL);
        free(p);
    }
}

static void syslog_poll(struct hf_sink *s, int timeout_ms)
{
    struct syslog_ctx *c = hf_sink_state(s);
    if (!c->pend)
        return;
    /* wake for the first confirmation due, or for the peer closing */
    int64_t now = hf_mono_ms(), wait = timeout_ms;
    if (c->pend->acked_ms) {
        int64_t due = c->pend->acked_ms + c->confirm_ms - now;
        wait = due < wait ? due : wait;
    } else if (wait > 5) {
        wait = 5; /* acks come in microseconds; look again soon */
    }
    hf_syslog_net_wait(&c->net, (int)(wait < 0 ? 0 : wait));
    pump(s, c);
}

static void syslog_drain(struct hf_sink *s, int deadline_ms)
{
    struct syslog_ctx *c = hf_sink_state(s);
    (void)deadline_ms;
    /* out of time: what the peer's TCP acknowledged is the best we know */
    uint64_t acked = hf_syslog_net_acked(&c->net);
    while (c->pend) {
        struct pending *p = c->pend;
        c->pend = p->next;
        bool ok = p->acked_ms || acked >= p->wire_end;
        hf_batch_done(p->b, ok ? HF_OUT_DELIVERED : HF_OUT_RETRY, 0, ok ? NULL : "shutting down before the ack");
        free(p);
    }
}

static void syslog_destroy(struct hf_sink *s)
{
    struct syslog_ctx *c = hf_sink_state(s);
    if (!c)
        return;
    syslog_ctx_free(c);
    hf_sink_set_state(s, NULL);
}

const struct hf_sink_plugin hf_out_syslog = {
    .name = "syslog",
    .options = syslog_options,
    .conf_size = sizeof(struct syslog_options),
    .check = syslog_check,
    .default_takes = HF_TAKES_RECORDS,
    .max_inflight = 32,
    .init = syslog_init,
    .encode = syslog_encode,
    .send = syslog_send,
    .poll = syslog_poll,
    .drain = syslog_drain,
    .destroy = syslog_destroy,
};
