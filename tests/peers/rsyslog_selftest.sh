#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rsyslog_selftest.sh - checks that rsyslog_peer.sh really receives and parses syslog over
# TCP (imtcp, octet-counted and LF-framed), imptcp, UDP, the unix socket, TLS and mutual TLS,
# and survives a restart on the same ports.
# Usage: rsyslog_selftest.sh            (KEEP=1 keeps the temporary directory)
# Needs: rsyslog, rsyslog-openssl, openssl, logger (util-linux), jq, ss (iproute2).
# Prints one line per check and finally "N passed, M failed"; exits 0 only if M is 0.

# jq programs are single-quoted on purpose; cleanup runs from the EXIT trap.
# shellcheck disable=SC2016,SC2317
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/rsyslog_peer.sh"
TIMEOUT_MS=${SELFTEST_TIMEOUT_MS:-10000}

pass=0
fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

for tool in rsyslogd openssl logger jq ss; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        bad "required tool $tool missing"
        finish
    fi
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/rsyslog-selftest.XXXXXX")
cleanup() {
    "$PEER" stop "$DIR" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
# alive PID: running and not a zombie (a zombie has an empty cmdline)
alive() { [ -n "$( { tr -d '\0' < "/proc/$1/cmdline"; } 2>/dev/null)" ]; }

# wait_msg MSG: poll out.jsonl until a record with .msg == MSG appears; prints that record.
wait_msg() {
    local deadline=$(( $(now_ms) + TIMEOUT_MS )) rec
    while :; do
        if [ -s "$DIR/out.jsonl" ]; then
            rec=$(jq -c --arg m "$1" 'select(.msg == $m)' "$DIR/out.jsonl" 2>/dev/null | head -n1)
            if [ -n "$rec" ]; then printf '%s\n' "$rec"; return 0; fi
        fi
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05   # poll interval, bounded by the deadline
    done
}

# expect NAME MSG JQ-EXPR [jq options...]: wait for the record whose msg is MSG and test
# JQ-EXPR on it (e.g. --arg sd "$SD" to compare with a shell string).
expect() {
    local name=$1 msg=$2 expr=$3 rec
    shift 3
    if ! rec=$(wait_msg "$msg"); then
        bad "$name: message '$msg' not received within ${TIMEOUT_MS}ms"
        return
    fi
    if printf '%s\n' "$rec" | jq -e "$@" "$expr" >/dev/null 2>&1; then
        ok "$name"
    else
        bad "$name: record $rec does not satisfy: $expr"
    fi
}

# tls_send PORT FRAME [s_client options...]: send FRAME over TLS, verifying the server with the CA.
tls_send() {
    local port=$1 frame=$2
    shift 2
    printf '%s' "$frame" | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
        -CAfile "$CA_FILE" -verify_return_error -verify_hostname localhost -verify_ip 127.0.0.1 \
        -quiet -no_ign_eof "$@" >"$DIR/s_client.log" 2>&1
}
octet() { printf '%d %s' "$(printf '%s' "$1" | wc -c)" "$1"; }

# ---------------------------------------------------------------------------------------------
if "$PEER" "$DIR" >"$DIR/peer.log" 2>&1 && [ -s "$DIR/ports.env" ]; then
    ok "peer started"
else
    bad "peer start failed: $(cat "$DIR/peer.log")"
    finish
fi
# shellcheck disable=SC1091
. "$DIR/ports.env"
for v in TCP_PORT PTCP_PORT UDP_PORT TLS_PORT MTLS_PORT UNIX_SOCK CA_FILE PID; do
    [ -n "${!v:-}" ] || bad "ports.env lacks $v"
done
if alive "$PID" && ss -Hulnp "sport = :$UDP_PORT" | grep -q "pid=$PID,"; then
    ok "ports.env PID $PID is alive and owns UDP port $UDP_PORT"
else
    bad "ports.env PID/UDP_PORT do not match a running rsyslogd"
fi

# RFC 5424 SD with the three mandatory escapes: \"  \\  \]
SD='[webhook@32473 id="m1" note="say \"hi\" C:\\tmp \]"]'

# 1. imtcp, octet-counted, via logger (-T --octet-count)
if logger --rfc5424=notq --octet-count -T -n 127.0.0.1 -P "$TCP_PORT" -p local0.info \
        -t hookfwd-test --msgid WHFWD --sd-id 'webhook@32473' --sd-param 'id="m1"' \
        --sd-param 'note="say \"hi\" C:\\tmp \]"' 'tcp octet message'; then
    expect "imtcp octet-counted (logger): pri/facility/severity/app-name/msgid/SD escapes" \
        'tcp octet message' \
        '.pri == 134 and .facility == 16 and .severity == 6 and .["app-name"] == "hookfwd-test"
         and .msgid == "WHFWD" and .input == "tcp" and .["structured-data"] == $sd' \
        --arg sd "$SD"
else
    bad "logger to TCP port $TCP_PORT failed"
fi

# 2. imptcp, octet-counted, via logger
if logger --rfc5424=notq --octet-count -T -n 127.0.0.1 -P "$PTCP_PORT" -p daemon.err \
        -t ptcp-app --msgid P1 'ptcp octet message'; then
    expect "imptcp octet-counted (logger): facility 3 severity 3, nil SD" 'ptcp octet message' \
        '.pri == 27 and .facility == 3 and .severity == 3 and .["app-name"] == "ptcp-app"
         and .msgid == "P1" and .["structured-data"] == "-" and .input == "ptcp"'
else
    bad "logger to PTCP port $PTCP_PORT failed"
fi

# 3. imudp via logger -d
if logger --rfc5424=notq -d -n 127.0.0.1 -P "$UDP_PORT" -p local7.debug -t udp-app \
        --msgid U1 --sd-id 'origin' --sd-param 'ip="127.0.0.1"' 'udp message'; then
    expect "imudp (logger -d): local7.debug, IANA SD origin" 'udp message' \
        '.pri == 191 and .facility == 23 and .severity == 7 and .["app-name"] == "udp-app"
         and .msgid == "U1" and .["structured-data"] == "[origin ip=\"127.0.0.1\"]"
         and .input == "udp"'
else
    bad "logger to UDP port $UDP_PORT failed"
fi

# 4. imuxsock via logger --socket
if logger --rfc5424=notq --socket "$UNIX_SOCK" -p auth.notice -t sock-app --msgid S1 \
        'unix socket message'; then
    expect "imuxsock (logger --socket): RFC 5424 parsed, auth.notice" 'unix socket message' \
        '.pri == 37 and .facility == 4 and .severity == 5 and .["app-name"] == "sock-app"
         and .msgid == "S1" and .input == "imuxsock"'
else
    bad "logger to unix socket $UNIX_SOCK failed"
fi

# 5. TLS (anon, server verified with CA_FILE, hostname and IP checked), octet-counted frame.
#    The PROTOCOLS.md 4 sample message, timestamp and all fields preserved.
TLS_MSG='<134>1 2024-05-01T12:34:56.789Z agent01.example.com webhook-agent 4242 WHFWD '"$SD"' tls message'
if tls_send "$TLS_PORT" "$(octet "$TLS_MSG")"; then
    expect "TLS octet-counted (openssl s_client): every RFC 5424 field" 'tls message' \
        '.pri == 134 and .facility == 16 and .severity == 6
         and .timestamp == "2024-05-01T12:34:56.789Z" and .hostname == "agent01.example.com"
         and .["app-name"] == "webhook-agent" and .procid == "4242" and .msgid == "WHFWD"
         and .["structured-data"] == $sd and .input == "tls" and .rawmsg == $raw' \
        --arg sd "$SD" --arg raw "$TLS_MSG"
else
    bad "openssl s_client to TLS port $TLS_PORT failed: $(cat "$DIR/s_client.log")"
fi

# 6. Several octet-counted frames in one TCP connection, one containing LF, then an
#    LF-framed (non-transparent) message: both framings on the same imtcp listener.
M1='<14>1 2024-01-01T00:00:00Z h a - M1 - multi'$'\n''line'
M2='<14>1 2024-01-01T00:00:01Z h a - M2 - second frame'
M3='<14>1 2024-01-01T00:00:02Z h a - M3 - lf framed'
if { exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT"; } 2>/dev/null; then
    printf '%s%s%s\n' "$(octet "$M1")" "$(octet "$M2")" "$M3" >&3
    exec 3>&-
    expect "octet-counted frame keeps embedded LF in msg" $'multi\nline' '.msgid == "M1"'
    expect "back-to-back octet-counted frames split correctly" 'second frame' \
        '.msgid == "M2" and .timestamp == "2024-01-01T00:00:01Z"'
    expect "LF-framed message after octet-counted ones" 'lf framed' '.msgid == "M3"'
else
    bad "cannot connect to TCP port $TCP_PORT"
fi

# 7. Mutual TLS: without a client certificate the message must not arrive; with one it must.
tls_send "$MTLS_PORT" "$(octet '<14>1 - h a - X - mtls without cert')" || true
if tls_send "$MTLS_PORT" "$(octet '<14>1 - h a - Y - mtls with cert')" \
        -cert "$CLIENT_CERT" -key "$CLIENT_KEY"; then
    expect "mTLS with client cert accepted" 'mtls with cert' '.input == "mtls" and .msgid == "Y"'
    if jq -e 'select(.msg == "mtls without cert")' "$DIR/out.jsonl" >/dev/null 2>&1; then
        bad "mTLS listener accepted a client without certificate"
    else
        ok "mTLS without client cert rejected"
    fi
else
    bad "openssl s_client with client cert failed: $(cat "$DIR/s_client.log")"
fi

# 8. restart on the same ports
OLD_PID=$PID OLD_PORTS="$TCP_PORT $PTCP_PORT $UDP_PORT $TLS_PORT $MTLS_PORT"
if "$PEER" restart "$DIR" >"$DIR/peer.log" 2>&1; then
    # shellcheck disable=SC1091
    . "$DIR/ports.env"
    if [ "$PID" != "$OLD_PID" ] && [ "$OLD_PORTS" = "$TCP_PORT $PTCP_PORT $UDP_PORT $TLS_PORT $MTLS_PORT" ] \
            && ! alive "$OLD_PID" && alive "$PID"; then
        ok "restart: new PID $PID, same ports"
    else
        bad "restart: PID $OLD_PID -> $PID, ports '$OLD_PORTS' -> '$TCP_PORT $PTCP_PORT $UDP_PORT $TLS_PORT $MTLS_PORT'"
    fi
    if logger --rfc5424=notq --octet-count -T -n 127.0.0.1 -P "$TCP_PORT" -t again 'after restart'; then
        expect "message received after restart" 'after restart' '.["app-name"] == "again"'
    else
        bad "logger after restart failed"
    fi
    if tls_send "$TLS_PORT" "$(octet '<14>1 - h a - - - tls after restart')"; then
        expect "TLS after restart (same CA)" 'tls after restart' '.input == "tls"'
    else
        bad "TLS after restart failed: $(cat "$DIR/s_client.log")"
    fi
else
    bad "restart failed: $(cat "$DIR/peer.log")"
fi

# 9. every line of out.jsonl is one valid JSON object
if jq -e -s 'length > 0 and all(.[]; type == "object" and (.pri | type) == "number")' \
        "$DIR/out.jsonl" >/dev/null 2>&1 \
        && [ "$(jq -c . "$DIR/out.jsonl" | wc -l)" -eq "$(wc -l < "$DIR/out.jsonl")" ]; then
    ok "out.jsonl: one JSON object per line, numeric pri"
else
    bad "out.jsonl is not one JSON object per line"
fi

# 10. stop kills that PID only and frees the ports
"$PEER" stop "$DIR" >"$DIR/peer.log" 2>&1
if ! alive "$PID"; then
    if [ -z "$(ss -Hltn "sport = :$TCP_PORT")" ]; then
        ok "stop: rsyslogd $PID gone, TCP port closed"
    else
        bad "stop: TCP port $TCP_PORT still listening"
    fi
else
    bad "stop: PID $PID still running"
fi

finish
