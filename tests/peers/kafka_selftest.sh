#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kafka_selftest.sh - builds kafka_mock and kafka_consume, then checks them against each
# other and against kcat: produce with keys and headers, consume, error injection, broker
# down/up, rtt, quit / stdin EOF / SIGTERM handling.
# Usage: kafka_selftest.sh      (KEEP=1 keeps the temporary directory;
#                                KAFKA_MOCK=/path KAFKA_CONSUME=/path skip the build)
# Needs: cc, pkg-config, librdkafka-dev, kcat, jq.
# Prints one line per check and finally "N passed, M failed"; exits 0 only if M is 0.

# jq programs are single-quoted on purpose; cleanup runs from the EXIT trap.
# shellcheck disable=SC2016,SC2317
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT_S=${SELFTEST_TIMEOUT_S:-10}

pass=0
fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}
check() {  # check NAME COMMAND...: ok if COMMAND succeeds
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else bad "$name"; fi
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/kafka-selftest.XXXXXX")
MOCK_PIDS=()
cleanup() {
    local p
    for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# wait_exit PID: wait (bounded) for our child PID to end; sets $st to its exit status,
# or to "running" if it is still alive at the deadline. (Not in $(...): a subshell cannot
# wait for the parent's children.)
st=""
wait_exit() {
    local pid=$1 deadline=$(( $(now_ms) + TIMEOUT_S * 1000 ))
    while kill -0 "$pid" 2>/dev/null && [ -n "$( { tr -d '\0' < "/proc/$pid/cmdline"; } 2>/dev/null)" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then st=running; return 1; fi
        sleep 0.05   # poll interval, bounded by the deadline
    done
    st=0
    wait "$pid" 2>/dev/null || st=$?
}

for tool in cc pkg-config kcat jq; do
    command -v "$tool" >/dev/null 2>&1 || { bad "required tool $tool missing"; finish; }
done

# ---- build ------------------------------------------------------------------------------
MOCK=${KAFKA_MOCK:-}
CONSUME=${KAFKA_CONSUME:-}
if [ -z "$MOCK" ] || [ -z "$CONSUME" ]; then
    if ! pkg-config --exists rdkafka; then bad "pkg-config cannot find rdkafka"; finish; fi
    MOCK=$DIR/kafka_mock
    CONSUME=$DIR/kafka_consume
    # shellcheck disable=SC2046
    if cc -std=c11 -Wall -Wextra -Werror -o "$MOCK" "$HERE/kafka_mock.c" \
            $(pkg-config --cflags --libs rdkafka) 2>"$DIR/build.log" \
       && cc -std=c11 -Wall -Wextra -Werror -o "$CONSUME" "$HERE/kafka_consume.c" \
            $(pkg-config --cflags --libs rdkafka) 2>>"$DIR/build.log"; then
        ok "build kafka_mock and kafka_consume with -std=c11 -Wall -Wextra -Werror"
    else
        bad "build failed: $(cat "$DIR/build.log")"
        finish
    fi
fi

# ---- start the mock as a coprocess ------------------------------------------------------
coproc MOCKP { exec "$MOCK" -t events:3 -t single:1 3 2>"$DIR/mock.err"; }
# shellcheck disable=SC2153  # MOCKP_PID is set by coproc
MOCK_PID=$MOCKP_PID
MOCK_PIDS+=("$MOCK_PID")
exec {MOCK_IN}>&"${MOCKP[1]}" {MOCK_OUT}<&"${MOCKP[0]}"

B=""
if read -r -t "$TIMEOUT_S" line <&"$MOCK_OUT" && [ "${line%% *}" = BOOTSTRAP ]; then
    B=${line#BOOTSTRAP }
fi
if [[ "$B" =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]]; then
    ok "mock prints 'BOOTSTRAP <3 brokers>': $B"
else
    bad "no BOOTSTRAP line from the mock (got '${line:-}'); stderr: $(cat "$DIR/mock.err")"
    finish
fi

# cmd LINE: send one command, print the one-line answer (or TIMEOUT)
cmd() {
    local ans
    printf '%s\n' "$1" >&"$MOCK_IN"
    if read -r -t "$TIMEOUT_S" ans <&"$MOCK_OUT"; then printf '%s\n' "$ans"; else echo TIMEOUT; fi
}
expect_cmd() {  # expect_cmd LINE PATTERN
    local ans
    ans=$(cmd "$1")
    # shellcheck disable=SC2053
    if [[ "$ans" == $2 ]]; then ok "mock '$1' -> $ans"; else bad "mock '$1' -> '$ans', want $2"; fi
}

expect_cmd "ping" "OK"

# ---- kcat can see the cluster -------------------------------------------------------------
if kcat -b "$B" -L -J -m 5 >"$DIR/meta.json" 2>"$DIR/kcat.err" \
   && jq -e '(.brokers | length) == 3
             and (.topics[] | select(.topic == "events") | .partitions | length) == 3' \
        "$DIR/meta.json" >/dev/null; then
    ok "kcat -L: 3 brokers, topic events with 3 partitions"
else
    bad "kcat -L: $(cat "$DIR/meta.json" "$DIR/kcat.err")"
fi

# ---- produce 10 messages with keys and headers -------------------------------------------
# batch 1: k0..k4 with headers src=github, id=<i>; batch 2: k5..k9 with src=stripe and a
# header value that needs JSON escaping.
produce() {  # produce FIRST LAST HEADER...
    local first=$1 last=$2 i
    shift 2
    for ((i = first; i <= last; i++)); do
        printf 'k%d:{"n":%d,"text":"tab\\there \\"q\\" é"}\n' "$i" "$i"
    done | kcat -b "$B" -P -t events -K: "$@" -X message.timeout.ms=10000 2>>"$DIR/kcat.err"
}
if produce 0 4 -H src=github -H batch=1 && produce 5 9 -H src=stripe -H 'note=say "hi"\x'; then
    ok "kcat -P produced 10 keyed messages with headers"
else
    bad "kcat -P failed: $(cat "$DIR/kcat.err")"
fi

# ---- kafka_consume ------------------------------------------------------------------------
if "$CONSUME" -b "$B" -t events -n 10 -T $((TIMEOUT_S * 1000)) >"$DIR/c1.jsonl" 2>"$DIR/c1.err"; then
    ok "kafka_consume -n 10 exits 0"
else
    bad "kafka_consume -n 10 failed: $(cat "$DIR/c1.err")"
fi
check "kafka_consume printed 10 JSON lines" \
    test "$(jq -c . "$DIR/c1.jsonl" 2>/dev/null | wc -l)" -eq 10 -a "$(wc -l < "$DIR/c1.jsonl")" -eq 10
check "keys are exactly k0..k9" \
    jq -e -s '[.[].key] | sort == ["k0","k1","k2","k3","k4","k5","k6","k7","k8","k9"]' "$DIR/c1.jsonl"
check "fields topic/partition/offset/key/headers/value with the right types" \
    jq -e -s 'all(.[]; .topic == "events" and (.partition | type) == "number"
                 and .partition >= 0 and .partition < 3 and (.offset | type) == "number"
                 and (.headers | type) == "object" and (.value | type) == "string")' "$DIR/c1.jsonl"
check "headers per batch (src=github,batch=1 / src=stripe,note with quote+backslash)" \
    jq -e -s 'all(.[]; if (.key | ltrimstr("k") | tonumber) < 5
                       then .headers == {"src":"github","batch":"1"}
                       else .headers == {"src":"stripe","note":"say \"hi\"\\x"} end)' "$DIR/c1.jsonl"
check "values JSON-escaped and round-trip (tab, quote, UTF-8)" \
    jq -e -s 'all(.[]; (.value | fromjson) as $v
                 | $v.text == "tab\there \"q\" é" and ("k" + ($v.n | tostring)) == .key)' "$DIR/c1.jsonl"
check "offsets unique per partition and start at 0" \
    jq -e -s 'group_by(.partition) | all(.[]; ([.[].offset] | sort) == [range(0; length)])' "$DIR/c1.jsonl"

if "$CONSUME" -b "$B" -t events -n 11 -T 1500 >"$DIR/c2.jsonl" 2>"$DIR/c2.err"; then
    bad "kafka_consume -n 11 should exit 1 after the timeout (only 10 messages)"
else
    check "kafka_consume -n 11 -T 1500: exit 1, still prints the 10 it got" \
        test "$(wc -l < "$DIR/c2.jsonl")" -eq 10
fi

# kcat as a consumer against the mock: works (checked with librdkafka 2.0.2 / kcat 1.7.1).
if kcat -b "$B" -C -t events -e -J -q >"$DIR/kcat.jsonl" 2>>"$DIR/kcat.err"; then
    check "kcat -C -e -J reads the same 10 messages (keys + headers)" \
        jq -e -s 'length == 10 and ([.[].key] | sort | .[0]) == "k0"
                  and all(.[]; (.headers | length) == 4)' "$DIR/kcat.jsonl"
else
    bad "kcat -C failed: $(cat "$DIR/kcat.err")"
fi

# ---- error injection ------------------------------------------------------------------------
# Retriable errors on Produce: the next produce still succeeds (librdkafka retries).
expect_cmd "push_errors 0 5 7 6" "OK"
expect_cmd "push_errors Metadata LEADER_NOT_AVAILABLE" "OK"
expect_cmd "push_errors 22 _TRANSPORT" "OK"
expect_cmd "clear_errors 22" "OK"
if echo 'r1:retried' | kcat -b "$B" -P -t single -K: -X message.timeout.ms=10000 2>>"$DIR/kcat.err"; then
    ok "produce succeeds after retriable injected errors 5,7,6"
else
    bad "produce after retriable errors failed: $(tail -n 3 "$DIR/kcat.err")"
fi
# A permanent error proves the injection reaches the client.
expect_cmd "push_errors Produce MSG_SIZE_TOO_LARGE" "OK"
if echo 'r2:rejected' | kcat -b "$B" -P -t single -K: -X message.timeout.ms=10000 2>"$DIR/kcat2.err"; then
    bad "produce should fail with injected MSG_SIZE_TOO_LARGE"
else
    check "injected MSG_SIZE_TOO_LARGE fails the delivery" grep -q "Message size too large" "$DIR/kcat2.err"
fi
expect_cmd "broker_push_errors 1 Produce REQUEST_TIMED_OUT@50 0" "OK"
expect_cmd "clear_errors Produce" "OK"

expect_cmd "rtt 2 100" "OK"
expect_cmd "rtt -1 0" "OK"
expect_cmd "broker_down 2" "OK"
expect_cmd "broker_up 2" "OK"
expect_cmd "broker_down 99" "ERR *"
expect_cmd "push_errors 0 99999" "ERR *"
expect_cmd "push_errors Produce" "ERR *"
expect_cmd "frobnicate" "ERR *"
expect_cmd "create_topic extra 2 1" "OK"
expect_cmd "leader extra 0 3" "OK"
expect_cmd "bootstrap" "OK $B"

# all brokers down: delivery times out; back up: delivery works again
expect_cmd "broker_down -1" "OK"
if echo 'd1:down' | kcat -b "$B" -P -t single -K: -X message.timeout.ms=1000 2>"$DIR/kcat3.err"; then
    bad "produce with all brokers down should fail"
else
    check "all brokers down: delivery fails (Message timed out)" grep -q "timed out" "$DIR/kcat3.err"
fi
expect_cmd "broker_up -1" "OK"
if echo 'u1:up' | kcat -b "$B" -P -t single -K: -X message.timeout.ms=10000 2>>"$DIR/kcat.err"; then
    ok "brokers up again: produce succeeds"
else
    bad "produce after broker_up failed"
fi
if "$CONSUME" -b "$B" -t single -n 2 -T $((TIMEOUT_S * 1000)) >"$DIR/c3.jsonl" 2>"$DIR/c3.err"; then
    check "topic single holds exactly the 2 delivered messages (r1, u1)" \
        jq -e -s '[.[].key] == ["r1","u1"]' "$DIR/c3.jsonl"
else
    bad "kafka_consume on single failed: $(cat "$DIR/c3.err")"
fi

# ---- quit -----------------------------------------------------------------------------------
expect_cmd "quit" "OK"
exec {MOCK_IN}>&-
wait_exit "$MOCK_PID"
check "mock exits 0 after quit (status $st)" test "$st" = 0

# ---- stdin EOF and SIGTERM --------------------------------------------------------------------
# stdin EOF: a pipe whose writer goes away at once
"$MOCK" 1 < /dev/null > "$DIR/eof.out" 2>&1 &
p=$!
MOCK_PIDS+=("$p")
wait_exit "$p"
check "mock exits 0 on stdin EOF (status $st)" test "$st" = 0
check "... after printing its BOOTSTRAP line" grep -q '^BOOTSTRAP 127\.0\.0\.1:' "$DIR/eof.out"

# SIGTERM: stdin kept open by a coprocess that never writes
coproc TERMP { exec "$MOCK" 2 2>/dev/null; }
p=$TERMP_PID
MOCK_PIDS+=("$p")
exec {T_OUT}<&"${TERMP[0]}"
if read -r -t "$TIMEOUT_S" line <&"$T_OUT" && [ "${line%% *}" = BOOTSTRAP ]; then
    kill -TERM "$p"
    wait_exit "$p"
    check "mock exits 0 on SIGTERM (status $st)" test "$st" = 0
else
    bad "second mock did not start"
fi

finish
