/* SPDX-License-Identifier: Apache-2.0 */
/* Every plugin's check hook, as `hookfwd check` and every load run it:
 * each bad value is refused with the file:line:col of that value, the
 * option's name and what is wrong, and a secret in a refused value never
 * shows in the message. */
#define _GNU_SOURCE
#include "testutil.h"

/* The sinks block starts after TU_SOURCES (10 lines) and "sinks:". */
#define FIRST_SINK_LINE 12

static char msg[1024];

/* Loads TU_SOURCES + sinks; returns the error, "" when it loads. */
static const char *load(const char *sinks)
{
    char text[4096];
    struct hf_cerr err = {0};
    snprintf(text, sizeof(text), "%ssinks:\n%s", TU_SOURCES, sinks);
    struct hf_config *c = tu_config(text, &err);
    if (c)
        hf_config_free(c);
    snprintf(msg, sizeof(msg), "%s", c ? "" : err.msg);
    return msg;
}

static void accepted(const char *sinks)
{
    if (load(sinks)[0])
        fail_msg("refused: %s\n%s", msg, sinks);
}

/* The configuration is refused, the message names the position of the
 * first `at` in the sinks text (line and column, 1-based) and holds
 * `needle`. */
static void refused(const char *sinks, const char *at, const char *needle)
{
    const char *p = strstr(sinks, at);
    assert_non_null(p);
    int line = FIRST_SINK_LINE, col = 1;
    for (const char *q = sinks; q < p; q++, col++)
        if (*q == '\n') {
            line++;
            col = 0;
        }
    char where[64];
    snprintf(where, sizeof(where), ".yaml:%d:%d: ", line, col);
    load(sinks);
    if (!msg[0])
        fail_msg("accepted: %s", sinks);
    if (!strstr(msg, where) || !strstr(msg, needle))
        fail_msg("expected [%s] and [%s] in [%s]", where, needle, msg);
}

/* A readable regular file that is not PEM. */
#define NOT_PEM SOURCE_DIR "/CMakeLists.txt"

/* The built-in sinks, there in every build (also one without plugins). */
static void test_file_stdout(void **state)
{
    (void)state;
    accepted("  - name: out\n    type: file\n    path: /var/log/hookfwd/out.jsonl\n");
    accepted("  - name: out\n    type: stdout\n");
    refused("  - name: out\n    type: file\n    path: /tmp/x\n    format: xml\n", "xml",
            "sink 'out' (file): 'xml' is not a valid format (valid: json)");
    refused("  - name: out\n    type: stdout\n    format: csv\n", "csv", "'csv' is not a valid format (valid: json)");
    refused("  - name: out\n    type: file\n", "name", "sink 'out' (file): missing required key 'path'");
}

#ifdef HF_WITH_SPLUNK
#define HEC "  - name: siem\n    type: splunk_hec\n    token: 11111111-2222-3333-4444-555555555555\n"

static void test_splunk_hec(void **state)
{
    (void)state;
    accepted(HEC "    url: https://splunk.example.com:8088\n");
    accepted(HEC "    url: http://127.0.0.1:8088/services/collector/event\n    tls: {verify: false}\n");
    refused(HEC "    url: ftp://nowhere\n", "ftp://",
            "sink 'siem' (splunk_hec): url: the scheme must be https or http, not 'ftp'");
    refused(HEC "    url: file:///etc/passwd\n", "file://", "url: the scheme must be https or http");
    refused(HEC "    url: \"https://admin:hunter2@splunk.example.com\"\n", "\"https",
            "url: must not hold a user name or password");
    assert_null(strstr(msg, "hunter2"));
    refused(HEC "    url: \"https://splunk.example.com:8088/?token=x\"\n", "\"https", "url: must have no query string");
    refused(HEC "    url: \"not a url\"\n", "\"not", "url: not a URL");
    refused("  - name: siem\n    type: splunk_hec\n    url: https://s:8088\n    token: \"sekrit tok\"\n", "\"sekrit",
            "token: contains spaces");
    assert_null(strstr(msg, "sekrit"));
    refused(HEC "    url: https://s:8088\n    channel: nope\n", "nope", "channel: must be a GUID");
    refused(HEC "    url: https://s:8088\n    tls: {ca_file: /nonexistent/ca.pem}\n", "/nonexistent",
            "tls.ca_file: cannot be read (CA certificates /nonexistent/ca.pem: No such file or directory)");
    refused(HEC "    url: https://s:8088\n    tls: {ca_file: /tmp}\n", "/tmp", "tls.ca_file: cannot be read");
    refused(HEC "    url: https://s:8088\n    tls: {ca_file: " NOT_PEM "}\n", SOURCE_DIR,
            "tls.ca_file: cannot load the CA certificates from");
    refused(HEC "    url: https://s:8088\n    tls: {cert: " NOT_PEM "}\n", SOURCE_DIR,
            "tls.cert: tls.cert and tls.key go together");
    refused(HEC "    url: https://s:8088\n    tls:\n      cert: " NOT_PEM "\n      key: /nonexistent/k.pem\n",
            "/nonexistent", "tls.key: cannot be read (client key");
    refused(HEC "    url: https://s:8088\n    tls: {server_name: \"a b\"}\n", "\"a b\"",
            "tls.server_name: 'a b' is not a host name");
    refused(HEC "    url: https://s:8088\n    tls: {verfy: false}\n", "verfy", "unknown key 'verfy'");
}
#endif

#ifdef HF_WITH_DATADOG
#define DD "  - name: dd\n    type: datadog\n    api_key: k\n"
#define DSD "  - name: d\n    type: dogstatsd\n"

static void test_datadog(void **state)
{
    (void)state;
    accepted(DD);
    accepted(
        DD "    url: http://127.0.0.1:8080\n    timeout: 5s\n    tls: {ca_file: /etc/ssl/certs/ca-certificates.crt}\n");
    refused(DD "    url: file:///etc/passwd\n", "file://",
            "sink 'dd' (datadog): url: the scheme must be https or http, not 'file'");
    refused(DD "    url: gopher://127.0.0.1/\n", "gopher", "url: the scheme must be https or http");
    refused(DD "    url: \"https://me:s3cr3t@api.datadoghq.com\"\n", "\"https",
            "url: must not hold a user name or password");
    assert_null(strstr(msg, "s3cr3t"));
    refused(DD "    takes: records\n", "records", "takes: the datadog sink takes metrics only");
    refused(DD "    interval: 1500ms\n", "1500ms", "interval: must be whole seconds");
    refused("  - name: dd\n    type: datadog\n    api_key: \"sek rit\"\n", "\"sek", "api_key: holds a character");
    assert_null(strstr(msg, "sek rit"));
    refused(DD "    tls: {key: " NOT_PEM "}\n", SOURCE_DIR, "tls.key: tls.cert and tls.key go together");
    refused(DD "    tls: {ca_file: /nonexistent/ca.pem}\n", "/nonexistent", "tls.ca_file: cannot be read");
    refused(DD "    site: datadoghq.org\n", "datadoghq.org", "site");
    refused(DD "    compression: zstd\n", "zstd", "compression");
    refused(DD "    timeout: 10ms\n", "10ms", "timeout");
}

static void test_dogstatsd(void **state)
{
    (void)state;
    accepted(DSD);
    accepted(DSD "    address: unix:///var/run/datadog/dsd.socket\n");
    refused(DSD "    address: tcp://127.0.0.1:8125\n", "tcp://",
            "sink 'd' (dogstatsd): address: must be udp://host:port");
    refused(DSD "    address: udp://127.0.0.1:0\n", "udp://", "address: needs a port from 1 to 65535");
    refused(DSD "    address: unix://relative.sock\n", "unix://", "address: must be udp://host:port or unix:///path");
    refused(DSD "    takes: records\n", "records", "takes: the dogstatsd sink takes metrics only");
    refused(DSD "    max_datagram_size: 100\n", "100", "max_datagram_size");
}
#endif

#ifdef HF_WITH_SYSLOG
#define SYSLOG "  - name: s\n    type: syslog\n"

static void test_syslog(void **state)
{
    (void)state;
    accepted(SYSLOG "    address: udp://127.0.0.1:514\n");
    accepted(SYSLOG "    address: tls://127.0.0.1:6514\n    tls: {verify: false}\n");
    refused(SYSLOG "    address: tcp://127.0.0.1:0\n", "tcp://", "sink 's' (syslog): address: ");
    assert_non_null(strstr(msg, "port from 1 to 65535"));
    refused(SYSLOG "    address: ftp://127.0.0.1\n", "ftp://", "address: ");
    assert_non_null(strstr(msg, "must start with udp://"));
    refused(SYSLOG "    address: udp://127.0.0.1\n    framing: newline\n", "newline",
            "framing: applies to tcp://, tls:// and unix stream sockets");
    refused(SYSLOG "    address: tcp://127.0.0.1\n    tls: {verify: false}\n", "{verify",
            "tls: the tls options need a tls:// address");
    refused(SYSLOG "    address: udp://127.0.0.1\n    takes: metrics\n    format: cef\n", "cef",
            "format: metric points are sent with format rfc5424 or rfc3164");
    refused(SYSLOG "    address: udp://127.0.0.1\n    app_name: \"my app\"\n", "\"my app\"", "app_name: must be 1-48");
    refused(SYSLOG "    address: udp://127.0.0.1\n    facility: local9\n", "local9", "facility");
    refused(SYSLOG "    address: tls://127.0.0.1\n    tls: {ca_file: /nonexistent/ca.pem}\n", "/nonexistent",
            "tls.ca_file: cannot be read (CA certificates");
    refused(SYSLOG "    address: tls://127.0.0.1\n    tls: {ca_file: " NOT_PEM "}\n", SOURCE_DIR,
            "tls.ca_file: cannot load the CA certificates");
    refused(SYSLOG "    address: tls://127.0.0.1\n    tls: {cert: " NOT_PEM ", key: " NOT_PEM "}\n", SOURCE_DIR,
            "tls.cert: cannot use the client certificate");
}
#endif

#ifdef HF_WITH_KAFKA
#define KAFKA "  - name: k\n    type: kafka\n"

static void test_kafka(void **state)
{
    (void)state;
    accepted(KAFKA "    brokers: [\"a:9092\", \"b:9092\"]\n    topic: hookfwd.${source}\n");
    refused(KAFKA "    brokers: b:1\n    topic: \"has space.${source}\"\n", "\"has", "sink 'k' (kafka): topic: ");
    accepted(KAFKA "    brokers: b:1\n    topic: t.${data.repo}\n"); /* data fields expand with the name escaping */
    refused(KAFKA "    brokers: b:1\n    topic: t.${data.}\n", "t.${", "'topic': unknown name");
    refused(KAFKA "    brokers: []\n    topic: t\n", "[]", "brokers: is empty");
    accepted(KAFKA "    brokers: \"SSL://k1.example.com:9093,k2.example.com,[::1]:9092\"\n    topic: t\n");
    refused(KAFKA "    brokers: \"a:9092,b:99999\"\n    topic: t\n", "\"a:", "brokers: 'b:99999' is not host:port");
    refused(KAFKA "    brokers: \"a:9092,,b:1\"\n    topic: t\n", "\"a:", "brokers: '' is not host:port");
    refused(KAFKA "    brokers: [\"a:1\", [x]]\n    topic: t\n", "[x]", "each broker must be a host:port string");
    refused(KAFKA "    brokers: b:1\n    topic: t\n    properties:\n      linger.ms: 5\n      no.such.prop: 1\n",
            "no.such.prop", "librdkafka property 'no.such.prop': No such configuration property");
    refused(KAFKA "    brokers: b:1\n    topic: t\n    properties:\n      sasl.password: hunter2x\n      acks: 0\n",
            "acks", "'acks' cannot be set here");
    refused(KAFKA "    brokers: b:1\n    topic: t\n    compression: brotli\n", "brotli", "compression");
}
#endif

#ifdef HF_WITH_SLACK
static void test_slack(void **state)
{
    (void)state;
    refused("  - name: sl\n    type: slack\n    url: ftp://hooks.slack.com/x\n", "ftp://",
            "sink 'sl' (slack): url: the scheme must be http or https");
    refused(
        "  - name: sl\n    type: slack\n    url: https://hooks.slack.com/x\n    tls: {ca_file: /nonexistent/ca.pem}\n",
        "/nonexistent", "tls.ca_file: cannot be read");
}
#endif

#ifdef HF_WITH_PAGERDUTY
static void test_pagerduty(void **state)
{
    (void)state;
    refused("  - name: pd\n    type: pagerduty\n    routing_key: 0123456789abcdef0123456789abcdef\n"
            "    url: file:///etc/passwd\n",
            "file://", "sink 'pd' (pagerduty): url: the scheme must be http or https");
}
#endif

#if defined(HF_WITH_SPLUNK) && defined(HF_WITH_SLACK) && defined(HF_WITH_PAGERDUTY) && defined(HF_WITH_HTTP) &&        \
    defined(HF_WITH_DATADOG) && defined(HF_WITH_EMAIL)
/* Every URL option refuses a URL without a host, also the spellings
 * libcurl would read a host into ("http:///x" as host "x"). */
static void test_url_needs_host(void **state)
{
    (void)state;
    refused("  - name: x\n    type: http\n    url: \"http:///services/T0/B0/x\"\n", "\"http",
            "sink 'x' (http): url: has no host (expected http://host[:port]/path)");
    refused("  - name: x\n    type: slack\n    url: \"http:///services/T0/B0/x\"\n", "\"http", "url: has no host");
    refused("  - name: x\n    type: pagerduty\n    routing_key: 0123456789abcdef0123456789abcdef\n"
            "    url: \"http:/v2/enqueue\"\n",
            "\"http", "url: has no host");
    refused("  - name: x\n    type: splunk_hec\n    token: t\n    url: \"https:///services/collector\"\n", "\"https",
            "url: has no host");
    refused("  - name: x\n    type: splunk_hec\n    token: t\n    url: \"https://:8088/x\"\n", "\"https",
            "url: not a URL");
    refused("  - name: x\n    type: datadog\n    api_key: k\n    url: \"https://\"\n", "\"https", "url: ");
    refused("  - name: x\n    type: email\n    url: \"smtp:/mail\"\n    from: a@example.com\n    to: [b@example.com]\n",
            "\"smtp", "url: has no host");
    accepted("  - name: x\n    type: http\n    url: \"http://127.0.0.1:8080/x\"\n");
}

/* A value from ${ENV} or {file: PATH} that a plugin refuses is quoted as
 * written, not as read. */
static void test_plugin_values_not_quoted(void **state)
{
    (void)state;
    setenv("HF_TEST_SLACK_URL", "ftp://hooks.slack.com/services/T0/B0/SECRETX", 1);
    refused("  - name: sl\n    type: slack\n    url: \"${HF_TEST_SLACK_URL}\"\n", "\"${",
            "url: the scheme must be http or https, not '${HF_TEST_SLACK_URL}'");
    assert_null(strstr(msg, "SECRETX"));
    char *secret = tu_temp_file("ftp://hooks.slack.com/services/T0/B0/SECRETX\n");
    char sinks[512];
    snprintf(sinks, sizeof(sinks), "  - name: sl\n    type: slack\n    url: {file: %s}\n", secret);
    refused(sinks, "{file", "url: the scheme must be http or https, not '{file: ");
    assert_null(strstr(msg, "SECRETX"));
    assert_null(strstr(msg, "'ftp'"));
    unlink(secret);
    free(secret);
    setenv("HF_TEST_FROM", "no-address-SECRETX", 1);
    refused("  - name: e\n    type: email\n    url: smtp://mail.example.com\n    from: \"${HF_TEST_FROM}\"\n"
            "    to: [b@example.com]\n",
            "\"${", "from: '${HF_TEST_FROM}' is not an e-mail address");
    assert_null(strstr(msg, "SECRETX"));
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_stdout),
#ifdef HF_WITH_SPLUNK
        cmocka_unit_test(test_splunk_hec),
#endif
#ifdef HF_WITH_DATADOG
        cmocka_unit_test(test_datadog),
        cmocka_unit_test(test_dogstatsd),
#endif
#ifdef HF_WITH_SYSLOG
        cmocka_unit_test(test_syslog),
#endif
#ifdef HF_WITH_KAFKA
        cmocka_unit_test(test_kafka),
#endif
#ifdef HF_WITH_SLACK
        cmocka_unit_test(test_slack),
#endif
#ifdef HF_WITH_PAGERDUTY
        cmocka_unit_test(test_pagerduty),
#endif
#if defined(HF_WITH_SPLUNK) && defined(HF_WITH_SLACK) && defined(HF_WITH_PAGERDUTY) && defined(HF_WITH_HTTP) &&        \
    defined(HF_WITH_DATADOG) && defined(HF_WITH_EMAIL)
        cmocka_unit_test(test_url_needs_host),
        cmocka_unit_test(test_plugin_values_not_quoted),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
