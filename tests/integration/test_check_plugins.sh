#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `hookfwd check` against each plugin's check hook: a bad value is refused
# (exit 1, nothing on stdout) with FILE:LINE:COL of that value, the sink,
# the option and why; secrets in a refused URL are not echoed; a config
# with every plugin's good values passes. Plugins not in this build are
# skipped case by case.
. "$(dirname "$0")/lib.sh"

export DD_API_KEY=dd0123456789abcdef0123456789abcd
SINKS=$("$HOOKFWD_BIN" version 2>&1 | grep "sinks:")

# refused NAME VALUE PATTERN SINK_YAML: check fails at the position of the
# first VALUE in the file, and its message matches PATTERN (grep -E).
refused() {
    local name=$1 value=$2 pat=$3 sink=$4 f="$WORK/$1.yaml" line col out rc
    write_config "$f" "$sink"
    out=$("$HOOKFWD_BIN" check -c "$f" 2>"$WORK/$name.err")
    rc=$?
    if grep -q "unknown type" "$WORK/$name.err"; then
        echo "skip - $name (plugin not in this build)"
        return
    fi
    line=$(grep -nF -- "$value" "$f" | head -1 | cut -d: -f1)
    col=$(awk -v n="$line" -v v="$value" 'NR == n {print index($0, v)}' "$f")
    check_eq "$name: check exits 1" 1 "$rc"
    check_eq "$name: nothing on stdout" "" "$out"
    check "$name: refused at $line:$col" grep -qE "^$f:$line:$col: $pat" "$WORK/$name.err"
}

refused datadog_file_url "file:///etc/passwd" \
    "sink 'dd' \(datadog\): url: the scheme must be https or http, not 'file'" \
    "  - name: dd
    type: datadog
    api_key: \"\${DD_API_KEY}\"
    url: file:///etc/passwd"

# libcurl reads "http:///x" as host "x": refused as written, like datadog's
export HF_HOOK_URL="ftp://hooks.example.com/SECRETPATH"
refused http_no_host '"http:///services/T0/B0/x"' \
    "sink 'x' \(http\): url: has no host" \
    "  - name: x
    type: http
    url: \"http:///services/T0/B0/x\""
# a URL from the environment is quoted as written, never as expanded
refused slack_env_url '"${HF_HOOK_URL}"' \
    "sink 'sl' \(slack\): url: the scheme must be http or https, not '\\\$\\{HF_HOOK_URL\\}'" \
    "  - name: sl
    type: slack
    url: \"\${HF_HOOK_URL}\""
check "slack_env_url: the URL is not echoed" bash -c "! grep -q SECRETPATH '$WORK/slack_env_url.err'"

refused splunk_ftp_url "ftp://nowhere" \
    "sink 'siem' \(splunk_hec\): url: the scheme must be https or http, not 'ftp'" \
    "  - name: siem
    type: splunk_hec
    token: 11111111-2222-3333-4444-555555555555
    url: ftp://nowhere"

refused splunk_userinfo "https://admin" \
    "sink 'siem' \(splunk_hec\): url: must not hold a user name or password" \
    "  - name: siem
    type: splunk_hec
    token: 11111111-2222-3333-4444-555555555555
    url: https://admin:hunter2@splunk.example.com:8088"
check "splunk_userinfo: the password is not echoed" bash -c "! grep -q hunter2 '$WORK/splunk_userinfo.err'"

refused splunk_ca_file "$WORK/missing-ca.pem" \
    "sink 'siem' \(splunk_hec\): tls.ca_file: cannot be read \(CA certificates $WORK/missing-ca.pem: No such file or directory\)" \
    "  - name: siem
    type: splunk_hec
    token: 11111111-2222-3333-4444-555555555555
    url: https://splunk.example.com:8088
    tls:
      ca_file: $WORK/missing-ca.pem"

refused datadog_records "records" \
    "sink 'dd' \(datadog\): takes: the datadog sink takes metrics only" \
    "  - name: dd
    type: datadog
    api_key: \"\${DD_API_KEY}\"
    takes: records"

refused dogstatsd_tcp "tcp://" \
    "sink 'd' \(dogstatsd\): address: must be udp://host:port or unix:///path" \
    "  - name: d
    type: dogstatsd
    address: tcp://127.0.0.1:8125"

refused syslog_cef_metrics "cef" \
    "sink 's' \(syslog\): format: metric points are sent with format rfc5424 or rfc3164" \
    "  - name: s
    type: syslog
    address: udp://127.0.0.1:514
    takes: metrics
    format: cef"

refused syslog_key_alone "$WORK/missing.key" \
    "sink 's' \(syslog\): tls.key: tls.cert and tls.key go together" \
    "  - name: s
    type: syslog
    address: tls://127.0.0.1:6514
    tls:
      key: $WORK/missing.key"

refused kafka_property "no.such.prop" \
    "sink 'k' \(kafka\): librdkafka property 'no.such.prop': No such configuration property" \
    "  - name: k
    type: kafka
    brokers: 127.0.0.1:9092
    topic: hookfwd.\${source}
    properties:
      no.such.prop: 1"

refused slack_ftp "ftp://" \
    "sink 'sl' \(slack\): url: the scheme must be http or https" \
    "  - name: sl
    type: slack
    url: ftp://hooks.slack.com/services/x"

# every plugin of this build with good values
good="  - name: dd
    type: datadog
    api_key: \"\${DD_API_KEY}\"
    url: http://127.0.0.1:9/
    tls: {verify: true, server_name: api.datadoghq.com}
  - name: d
    type: dogstatsd
  - name: siem
    type: splunk_hec
    token: 11111111-2222-3333-4444-555555555555
    url: https://splunk.example.com:8088
  - name: s
    type: syslog
    address: udp://127.0.0.1:514"
case "$SINKS " in *" kafka "*) good="$good
  - name: k
    type: kafka
    brokers: [127.0.0.1:9092]
    topic: hookfwd.\${source}" ;; esac
write_config "$WORK/good.yaml" "$good"
check_eq "good values: configuration OK" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/good.yaml" 2>"$WORK/good.err")"

finish
