/* SPDX-License-Identifier: Apache-2.0 */
/* hf_hec_stand_in: a strict Splunk HEC event endpoint in C for tests/bench/run's setup 3, where the
 * Python receiver (tests/peers/hec_receiver.py) could not keep up with hookfwd, so the benchmark
 * measured the receiver. It answers the event path as hec_receiver.py does (same codes, texts,
 * statuses and "invalid-event-number", PROTOCOLS.md section 1), without its acks, fault injection
 * or event log; the integration tests keep the Python receiver.
 *
 *   hf_hec_stand_in --token T [--port 0] [--bind 127.0.0.1]
 *
 * Prints "LISTENING <port>" once bound; on SIGTERM or SIGINT prints
 * "EVENTS <n> REQUESTS <m> REJECTED <k>" and exits 0. GET /_stats answers the counters as JSON.
 * One thread: libevent's evhttp, zlib for gzip bodies and the pinned yyjson, with one body buffer
 * and one yyjson allocator reused by every request, so an event costs no allocation of its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <yyjson.h>
#include <zlib.h>

/* as peer_common.py's BODY_HARD_LIMIT: a larger body is refused unread (libevent answers 413) */
#define BODY_LIMIT (64 * 1024 * 1024)
/* a gzip body inflating past this is refused (413) rather than grown without bound */
#define INFLATED_LIMIT ((size_t)256 * 1024 * 1024)
#define INFLATE_STEP ((size_t)64 * 1024)
#define NO_NUMBER (-1)

/* In place (no copy of the rest of the batch per object), one value at a time, numbers kept as
 * written: "time" is checked on its written decimals, as the Python receiver does with Decimal. */
#define READ_FLAGS (YYJSON_READ_INSITU | YYJSON_READ_STOP_WHEN_DONE | YYJSON_READ_NUMBER_AS_RAW)

/* code -> (HTTP status, text), hec_receiver.py's HEC_CODES */
static const struct {
    int status;
    const char *text;
} hec_codes[] = {
    {200, "Success"},
    {403, "Token disabled"},
    {401, "Token is required"},
    {401, "Invalid authorization"},
    {403, "Invalid token"},
    {400, "No data"},
    {400, "Invalid data format"},
    {400, "Incorrect index"},
    {500, "Internal server error"},
    {503, "Server is busy"},
    {400, "Data channel is missing"},
    {400, "Invalid data channel"},
    {400, "Event field is required"},
    {400, "Event field cannot be blank"},
    {400, "ACK is disabled"},
    {400, "Error in handling indexed fields"},
    {400, "Query string authorization is not enabled"},
    {200, "HEC is healthy"},
};

static const char *const event_paths[] = {"/services/collector", "/services/collector/event",
                                          "/services/collector/event/1.0", NULL};

enum envelope_key { K_TIME, K_HOST, K_SOURCE, K_SOURCETYPE, K_INDEX, K_EVENT, K_FIELDS, K_COUNT };
static const char *const envelope_keys[K_COUNT] = {"time", "host", "source", "sourcetype", "index", "event", "fields"};

/* One answer: {"text": text + detail, "code": code[, "invalid-event-number": number]}. detail, when
 * set, is a client's header value, written lower-cased as the Python receiver does. */
struct answer {
    int status;
    int code;
    const char *text;
    const char *detail;
    long long number;
};

struct counters {
    unsigned long long requests, events, gzip_requests, rejected;
};

/* The request body as parsed: grown on demand up to INFLATED_LIMIT and kept, with yyjson's
 * zero padding after len. */
struct body {
    char *data;
    size_t len, cap;
};

/* Scratch for the duplicate-key check of large objects: an open-addressed set of keys, cleared by
 * bumping gen rather than by writing the table. */
struct key_set {
    yyjson_val **slot;
    uint32_t *gen;
    size_t cap;
    uint32_t cur;
};

struct stand_in {
    const char *token;
    size_t token_len;
    struct counters n;
    struct body body;
    z_stream z;
    yyjson_alc *alc;
    struct key_set keys;
    struct evbuffer *reply;
    struct event_base *base;
};

static struct answer hec_answer(int code, long long number)
{
    return (struct answer){hec_codes[code].status, code, hec_codes[code].text, NULL, number};
}

/* ---- replies ---------------------------------------------------------------------------------- */

/* A JSON string as Python's json.dumps writes it (ASCII only); lower-cased when asked. */
static void add_json_chars(struct evbuffer *b, const char *s, bool lower)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c == '"' || c == '\\')
            evbuffer_add_printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            evbuffer_add_printf(b, "\\u%04x", c);
        else
            evbuffer_add(b, &c, 1);
    }
}

static void send_answer(struct stand_in *s, struct evhttp_request *req, const struct answer *a)
{
    evbuffer_add(s->reply, "{\"text\":\"", 9);
    add_json_chars(s->reply, a->text, false);
    if (a->detail)
        add_json_chars(s->reply, a->detail, true);
    evbuffer_add_printf(s->reply, "\",\"code\":%d", a->code);
    if (a->number != NO_NUMBER)
        evbuffer_add_printf(s->reply, ",\"invalid-event-number\":%lld", a->number);
    evbuffer_add(s->reply, "}", 1);
    evhttp_send_reply(req, a->status, NULL, s->reply);
}

static void reject(struct stand_in *s, struct evhttp_request *req, const struct answer *a)
{
    s->n.rejected++;
    send_answer(s, req, a);
}

/* ---- request metadata ------------------------------------------------------------------------- */

static bool same_secret(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < an; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One query-string component decoded as Python's unquote_plus does, into out; false when it does
 * not fit (then it is neither a name nor a channel this program looks for). */
static bool decode_component(const char *p, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && hex_digit(p[i + 1]) >= 0 && hex_digit(p[i + 2]) >= 0) {
            c = (char)(hex_digit(p[i + 1]) * 16 + hex_digit(p[i + 2]));
            i += 2;
        }
        if (o + 1 >= outsz)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* parse_qs(query, keep_blank_values=True) for one name: whether it is there; its first value,
 * decoded, in value (empty when it does not fit in valsz). */
static bool query_get(const char *query, const char *name, char *value, size_t valsz)
{
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        char key[32];
        if (len && decode_component(p, nlen, key, sizeof(key)) && !strcmp(key, name)) {
            if (!eq || !decode_component(eq + 1, len - nlen - 1, value, valsz))
                value[0] = '\0';
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

/* hec_receiver.py's check_auth: 0, or the HEC code to answer */
static int auth_code(const struct stand_in *s, const char *auth, const char *query)
{
    char ignored[8];
    if (!auth)
        return query_get(query, "token", ignored, sizeof(ignored)) ? 16 : 2;
    const char *space = strchr(auth, ' ');
    size_t scheme_len = space ? (size_t)(space - auth) : strlen(auth);
    if (scheme_len != 6 || memcmp(auth, "Splunk", 6))
        return 3;
    const char *token = space ? space + 1 : "";
    if (!*token)
        return 2;
    return same_secret(token, strlen(token), s->token, s->token_len) ? 0 : 4;
}

static bool is_guid(const char *c)
{
    if (strlen(c) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c[i] != '-' : hex_digit(c[i]) < 0)
            return false;
    }
    return true;
}

/* A channel is optional here (no --require-channel, no acks), but one that is sent must be a GUID. */
static bool channel_ok(const char *header, const char *query)
{
    char value[40];
    if (header)
        return is_guid(header);
    return !query_get(query, "channel", value, sizeof(value)) || is_guid(value);
}

/* ---- the body --------------------------------------------------------------------------------- */

static int body_reserve(struct body *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    if (need > INFLATED_LIMIT + YYJSON_PADDING_SIZE)
        return -1;
    size_t cap = b->cap ? b->cap : INFLATE_STEP;
    while (cap < need)
        cap *= 2;
    if (cap > INFLATED_LIMIT + YYJSON_PADDING_SIZE)
        cap = INFLATED_LIMIT + YYJSON_PADDING_SIZE;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

/* gzip (one member or several, as Python's gzip.decompress) into s->body; 0, or -1 when it is not
 * gzip or is truncated, -2 when it inflates past INFLATED_LIMIT. */
static int inflate_body(struct stand_in *s, struct evbuffer *in)
{
    size_t n = evbuffer_get_length(in);
    if (n == 0)
        return 0;
    if (inflateReset(&s->z) != Z_OK)
        return -1;
    s->z.next_in = evbuffer_pullup(in, -1);
    s->z.avail_in = (uInt)n;
    for (;;) {
        if (body_reserve(&s->body, s->body.len + INFLATE_STEP + YYJSON_PADDING_SIZE) < 0)
            return -2;
        size_t room = s->body.cap - YYJSON_PADDING_SIZE - s->body.len;
        s->z.next_out = (Bytef *)s->body.data + s->body.len;
        s->z.avail_out = (uInt)room;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->body.len += room - s->z.avail_out;
        if (rc == Z_STREAM_END) {
            if (s->z.avail_in == 0)
                return 0;
            if (inflateReset(&s->z) != Z_OK) /* the next member */
                return -1;
        } else if (rc != Z_OK) { /* Z_BUF_ERROR here: the input ended inside a member */
            return -1;
        }
    }
}

/* Python's decode_body up to the UTF-8 check: the body into s->body, zero-padded for yyjson. */
static int load_body(struct stand_in *s, struct evbuffer *in, bool gzip, struct answer *a)
{
    s->body.len = 0;
    if (gzip) {
        int rc = inflate_body(s, in);
        if (rc == -2)
            *a = (struct answer){413, 413, "body too large", NULL, NO_NUMBER};
        else if (rc < 0)
            *a = hec_answer(6, NO_NUMBER);
        if (rc < 0)
            return -1;
    } else {
        size_t n = evbuffer_get_length(in);
        if (body_reserve(&s->body, n + YYJSON_PADDING_SIZE) < 0) {
            *a = hec_answer(8, NO_NUMBER);
            return -1;
        }
        evbuffer_copyout(in, s->body.data, n);
        s->body.len = n;
    }
    if (s->body.data)
        memset(s->body.data + s->body.len, 0, YYJSON_PADDING_SIZE);
    return 0;
}

/* Strict UTF-8 as Python's decoder: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

static size_t skip_ws(const char *p, size_t pos, size_t len)
{
    while (pos < len && (p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\r' || p[pos] == '\n'))
        pos++;
    return pos;
}

/* ---- one envelope object ---------------------------------------------------------------------- */

static bool same_key(yyjson_val *a, yyjson_val *b)
{
    return yyjson_get_len(a) == yyjson_get_len(b) && !memcmp(yyjson_get_str(a), yyjson_get_str(b), yyjson_get_len(a));
}

static uint32_t key_hash(yyjson_val *key)
{
    const unsigned char *p = (const unsigned char *)yyjson_get_str(key);
    uint32_t h = 2166136261u;
    for (size_t i = 0, n = yyjson_get_len(key); i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int key_set_prepare(struct key_set *ks, size_t nkeys)
{
    size_t cap = ks->cap ? ks->cap : 64;
    while (cap < 2 * nkeys)
        cap *= 2;
    if (cap != ks->cap) {
        yyjson_val **slot = realloc(ks->slot, cap * sizeof(*slot));
        if (slot)
            ks->slot = slot;
        uint32_t *gen = slot ? calloc(cap, sizeof(*gen)) : NULL;
        if (!gen)
            return -1;
        free(ks->gen);
        ks->gen = gen;
        ks->cap = cap;
        ks->cur = 0;
    }
    if (++ks->cur == 0) { /* the generation wrapped: clear once */
        memset(ks->gen, 0, ks->cap * sizeof(*ks->gen));
        ks->cur = 1;
    }
    return 0;
}

/* Python's strict decoder refuses duplicate keys in any object; -1 also when out of memory. */
static int object_has_duplicate(struct key_set *ks, yyjson_val *obj)
{
    size_t n = yyjson_obj_size(obj);
    yyjson_obj_iter it = yyjson_obj_iter_with(obj);
    yyjson_val *key;
    if (n <= 8) {
        yyjson_val *seen[8];
        for (size_t i = 0; (key = yyjson_obj_iter_next(&it)); seen[i++] = key)
            for (size_t j = 0; j < i; j++)
                if (same_key(seen[j], key))
                    return 1;
        return 0;
    }
    if (key_set_prepare(ks, n) < 0)
        return -1;
    size_t mask = ks->cap - 1;
    while ((key = yyjson_obj_iter_next(&it))) {
        size_t h = key_hash(key) & mask;
        for (; ks->gen[h] == ks->cur; h = (h + 1) & mask)
            if (same_key(ks->slot[h], key))
                return 1;
        ks->slot[h] = key;
        ks->gen[h] = ks->cur;
    }
    return 0;
}

/* An immutable yyjson document is one flat array of values in document order, so every object in
 * it is visited without recursion (a deeply nested body cannot exhaust the stack). */
static int doc_has_duplicate(struct key_set *ks, yyjson_doc *doc)
{
    yyjson_val *v = yyjson_doc_get_root(doc);
    for (size_t i = 0, n = yyjson_doc_get_val_count(doc); i < n; i++) {
        int rc = yyjson_is_obj(v + i) && yyjson_obj_size(v + i) > 1 ? object_has_duplicate(ks, v + i) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* Python's valid_time on the number as written: not negative, at most 3 decimals (ms). An integer
 * is exact; a number with a fraction or exponent is a Decimal whose exponent must be >= -3. */
static bool valid_time(yyjson_val *v)
{
    const long long cap = 1000000000000LL;
    if (!yyjson_is_raw(v))
        return false;
    const char *p = yyjson_get_raw(v);
    size_t n = yyjson_get_len(v), i = 0;
    bool negative = n > 0 && p[0] == '-', nonzero = false, decimal = false, exp_negative = false;
    long long frac = 0, exp = 0;
    for (i = negative; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        nonzero |= p[i] != '0';
    if (i < n && p[i] == '.') {
        decimal = true;
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            nonzero |= p[i] != '0';
            frac += frac < cap;
        }
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        decimal = true;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            exp_negative = p[i++] == '-';
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            if (exp < cap)
                exp = exp * 10 + (p[i] - '0');
    }
    if (negative && nonzero)
        return false;
    return !decimal || (exp_negative ? -exp : exp) - frac >= -3;
}

/* Python's fields_code: index-time fields are a flat object of strings, numbers or arrays of
 * strings; 0 when they are, else 15. */
static int fields_code(yyjson_val *fields)
{
    if (!yyjson_is_obj(fields))
        return 15;
    yyjson_obj_iter it = yyjson_obj_iter_with(fields);
    yyjson_val *key;
    while ((key = yyjson_obj_iter_next(&it))) {
        yyjson_val *val = yyjson_obj_iter_get_val(key), *item;
        if (yyjson_get_len(key) == 0)
            return 15;
        if (yyjson_is_arr(val)) {
            yyjson_arr_iter ai = yyjson_arr_iter_with(val);
            while ((item = yyjson_arr_iter_next(&ai)))
                if (!yyjson_is_str(item))
                    return 15;
        } else if (!yyjson_is_str(val) && !yyjson_is_raw(val)) {
            return 15;
        }
    }
    return 0;
}

/* Python's valid_metric: "metric_name:<name>": number keys, or metric_name plus a numeric _value. */
static bool valid_metric(yyjson_val *fields)
{
    static const char prefix[] = "metric_name:";
    const size_t plen = sizeof(prefix) - 1;
    bool multi = false, ok = true;
    if (!yyjson_is_obj(fields))
        return false;
    yyjson_obj_iter it = yyjson_obj_iter_with(fields);
    yyjson_val *key;
    while ((key = yyjson_obj_iter_next(&it))) {
        size_t len = yyjson_get_len(key);
        if (len >= plen && !memcmp(yyjson_get_str(key), prefix, plen)) {
            multi = true;
            ok &= len > plen && yyjson_is_raw(yyjson_obj_iter_get_val(key));
        }
    }
    if (multi)
        return ok;
    yyjson_val *name = yyjson_obj_getn(fields, "metric_name", 11);
    return yyjson_is_str(name) && yyjson_get_len(name) > 0 && yyjson_is_raw(yyjson_obj_getn(fields, "_value", 6));
}

/* Python's envelope_code, in its order: 0 for a good object, else the HEC code. */
static int envelope_code(yyjson_val *obj)
{
    yyjson_val *f[K_COUNT] = {NULL};
    bool unknown = false;
    if (!yyjson_is_obj(obj))
        return 6;
    yyjson_obj_iter it = yyjson_obj_iter_with(obj);
    yyjson_val *key;
    while ((key = yyjson_obj_iter_next(&it))) {
        int k = 0;
        while (k < K_COUNT && !yyjson_equals_str(key, envelope_keys[k]))
            k++;
        if (k == K_COUNT)
            unknown = true;
        else
            f[k] = yyjson_obj_iter_get_val(key);
    }
    yyjson_val *event = f[K_EVENT];
    if (!event)
        return 12;
    if (yyjson_is_null(event) || (yyjson_is_str(event) && yyjson_get_len(event) == 0))
        return 13;
    if (unknown || (f[K_TIME] && !valid_time(f[K_TIME])))
        return 6;
    for (int k = K_HOST; k <= K_INDEX; k++)
        if (f[k] && !yyjson_is_str(f[k]))
            return 6;
    int code = f[K_FIELDS] ? fields_code(f[K_FIELDS]) : 0;
    if (code)
        return code;
    return yyjson_equals_str(event, "metric") && !valid_metric(f[K_FIELDS]) ? 6 : 0;
}

/* The batch in s->body, object by object as Python's split_events: returns how many objects came
 * before the first bad one (all of them when none is), and sets *a when one is bad. */
static unsigned long long check_batch(struct stand_in *s, struct answer *a)
{
    char *data = s->body.data;
    size_t len = s->body.len, pos = skip_ws(data, 0, len);
    unsigned long long number = 0;
    if (pos == len) {
        *a = hec_answer(5, NO_NUMBER);
        return 0;
    }
    for (; pos < len; number++, pos = skip_ws(data, pos, len)) {
        yyjson_read_err err;
        yyjson_doc *doc = yyjson_read_opts(data + pos, len - pos, READ_FLAGS, s->alc, &err);
        if (!doc) {
            *a = err.code == YYJSON_READ_ERROR_MEMORY_ALLOCATION ? hec_answer(8, NO_NUMBER)
                                                                 : hec_answer(6, (long long)number);
            return number;
        }
        pos += yyjson_doc_get_read_size(doc);
        int dup = doc_has_duplicate(&s->keys, doc);
        int code = dup < 0 ? 8 : dup ? 6 : envelope_code(yyjson_doc_get_root(doc));
        yyjson_doc_free(doc);
        if (code) {
            *a = hec_answer(code, code == 8 ? NO_NUMBER : (long long)number);
            return number;
        }
    }
    return number;
}

/* ---- HTTP ------------------------------------------------------------------------------------- */

/* Content-Encoding as Python's .strip().lower(): "" and identity are plain, gzip is gzip, anything
 * else is 415. Returns 0 plain, 1 gzip, -1 unsupported (with the trimmed value in buf). */
static int content_encoding(const char *value, char *buf, size_t bufsz)
{
    if (!value)
        return 0;
    while (*value && strchr(" \t\r\n\v\f", *value))
        value++;
    size_t n = strlen(value);
    while (n && strchr(" \t\r\n\v\f", value[n - 1]))
        n--;
    if (n == 0 || (n == 8 && !strncasecmp(value, "identity", 8)))
        return 0;
    if (n == 4 && !strncasecmp(value, "gzip", 4))
        return 1;
    snprintf(buf, bufsz, "%.*s", (int)(n < bufsz ? n : bufsz - 1), value);
    return -1;
}

static void post_events(struct stand_in *s, struct evhttp_request *req, const char *query)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    char unsupported[256];
    int gzip = content_encoding(evhttp_find_header(h, "Content-Encoding"), unsupported, sizeof(unsupported));
    struct answer a = {0};
    s->n.requests++;
    s->n.gzip_requests += gzip == 1;
    int code = auth_code(s, evhttp_find_header(h, "Authorization"), query);
    if (!code && !channel_ok(evhttp_find_header(h, "X-Splunk-Request-Channel"), query))
        code = 11;
    if (code) {
        a = hec_answer(code, NO_NUMBER);
        reject(s, req, &a);
        return;
    }
    if (gzip < 0) {
        a = (struct answer){415, 6, "Unsupported Content-Encoding: ", unsupported, NO_NUMBER};
        reject(s, req, &a);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    if (load_body(s, in, gzip == 1, &a) < 0) {
        reject(s, req, &a);
        return;
    }
    unsigned long long accepted = check_batch(s, &a);
    /* The parse was in place and changed what it read, so a bad batch is loaded again to check its
     * encoding: Python decodes the whole body first, and bad UTF-8 anywhere is code 6, no number. */
    if (a.status && a.code != 5 && load_body(s, in, gzip == 1, &a) == 0 &&
        !valid_utf8((const unsigned char *)s->body.data, s->body.len)) {
        a = hec_answer(6, NO_NUMBER);
        accepted = 0;
    }
    s->n.events += accepted; /* as Splunk: objects before the bad one are indexed */
    if (a.status) {
        reject(s, req, &a);
        return;
    }
    a = hec_answer(0, NO_NUMBER);
    send_answer(s, req, &a);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct stand_in *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri);
    struct answer not_found = {404, 404, "The requested URL was not found on this server.", NULL, NO_NUMBER};
    path = path ? path : "";
    if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
        if (!strcmp(path, "/services/collector/health")) {
            struct answer a = hec_answer(17, NO_NUMBER);
            send_answer(s, req, &a);
        } else if (!strcmp(path, "/_stats")) {
            evbuffer_add_printf(s->reply,
                                "{\"requests\":%llu,\"events\":%llu,\"gzip_requests\":%llu,\"rejected\":%llu}",
                                s->n.requests, s->n.events, s->n.gzip_requests, s->n.rejected);
            evhttp_send_reply(req, 200, NULL, s->reply);
        } else {
            send_answer(s, req, &not_found);
        }
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    if (!evhttp_find_header(h, "Content-Length") && !evhttp_find_header(h, "Transfer-Encoding")) {
        /* as peer_common.py's read_body; the connection is then closed */
        struct answer a = {411, 411, "Content-Length required", NULL, NO_NUMBER};
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        send_answer(s, req, &a);
        return;
    }
    for (int i = 0; event_paths[i]; i++) {
        if (!strcmp(path, event_paths[i])) {
            post_events(s, req, evhttp_uri_get_query(uri));
            return;
        }
    }
    send_answer(s, req, &not_found);
}

/* ---- start and stop --------------------------------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(((struct stand_in *)arg)->base);
}

static int usage(void)
{
    fprintf(stderr, "usage: hf_hec_stand_in --token T [--port 0] [--bind 127.0.0.1]\n");
    return 2;
}

static uint16_t bound_port(struct evhttp_bound_socket *bound)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Sets up s and serves until a signal; 0 on a clean stop. Accepts half-built state on failure. */
static int serve(struct stand_in *s, const char *bind_addr, uint16_t port)
{
    int ret = 1;
    struct evhttp *http = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    s->base = event_base_new();
    s->reply = evbuffer_new();
    s->alc = yyjson_alc_dyn_new();
    if (!s->base || !s->reply || !s->alc || inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        fprintf(stderr, "hf_hec_stand_in: out of memory\n");
        goto done;
    }
    http = evhttp_new(s->base);
    sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    if (!http || !sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0) {
        fprintf(stderr, "hf_hec_stand_in: cannot set up the event loop\n");
        goto done;
    }
    evhttp_set_max_body_size(http, BODY_LIMIT);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_default_content_type(http, "application/json; charset=UTF-8");
    evhttp_set_gencb(http, on_request, s);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, bind_addr, port);
    if (!bound) {
        fprintf(stderr, "hf_hec_stand_in: cannot listen on %s:%u: %s\n", bind_addr, port, strerror(errno));
        goto done;
    }
    printf("LISTENING %u\n", bound_port(bound));
    fflush(stdout);
    if (event_base_dispatch(s->base) < 0)
        goto done;
    printf("EVENTS %llu REQUESTS %llu REJECTED %llu\n", s->n.events, s->n.requests, s->n.rejected);
    fflush(stdout);
    ret = 0;
done:
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (http)
        evhttp_free(http);
    if (s->reply)
        evbuffer_free(s->reply);
    if (s->base)
        event_base_free(s->base);
    if (s->alc)
        yyjson_alc_dyn_free(s->alc);
    if (s->z.state)
        inflateEnd(&s->z);
    free(s->body.data);
    free(s->keys.slot);
    free(s->keys.gen);
    return ret;
}

int main(int argc, char **argv)
{
    struct stand_in s = {0};
    const char *bind_addr = "127.0.0.1";
    long port = 0;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!val)
            return usage();
        if (!strcmp(opt, "--token")) {
            s.token = val;
        } else if (!strcmp(opt, "--bind") || !strcmp(opt, "--host")) {
            bind_addr = val;
        } else if (!strcmp(opt, "--port")) {
            errno = 0;
            port = strtol(val, &end, 10);
            if (errno || end == val || *end || port < 0 || port > 65535)
                return usage();
        } else {
            return usage();
        }
        i++;
    }
    if (!s.token || !*s.token)
        return usage();
    s.token_len = strlen(s.token);
    signal(SIGPIPE, SIG_IGN);
    return serve(&s, bind_addr, (uint16_t)port);
}
