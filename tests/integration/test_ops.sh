#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Operating the agent: /metrics parsed strictly, /healthz and /readyz,
# sd_notify READY=1, SIGHUP reload with events in flight (nothing lost,
# unchanged sinks keep their state), a bad reload keeps the old config, and
# the exit status of a drain the deadline cuts short.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")

OUT=$WORK/records.jsonl
sinks="  - name: archive
    type: file
    path: $OUT
    takes: records
    batch: {max_events: 100, flush_interval: 20ms}
  - name: console
    type: stdout
    takes: metrics
    batch: {flush_interval: 20ms}"
write_config "$WORK/hookfwd.yaml" "$sinks" disk

# sd_notify: a datagram socket standing in for systemd
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode() + "\n")
PY
PIDS_TO_KILL+=($!)
wait_for 5 test -S "$WORK/notify.sock"
export NOTIFY_SOCKET=$WORK/notify.sock
start_agent "$WORK/hookfwd.yaml" || exit 1
check "READY=1 sent to systemd" wait_for 5 grep -qx "READY=1" "$WORK/notify.log"

for f in omega/decision.escalated.json omega/decision.blocked.json sentinelayer/scan.completed.json; do post_fixture "$f" >/dev/null; done
post_fixture omega/decision.blocked.tampered.json >/dev/null
check "records delivered" wait_for 10 eval "[ \$(cat '$OUT' 2>/dev/null | wc -l) -ge 3 ]"

curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" >"$WORK/metrics.txt"
python3 "$HERE/prom_parse.py" <"$WORK/metrics.txt" >"$WORK/metrics.json"
check_eq "/metrics parses strictly" 0 "$?"
sample() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1])).get(sys.argv[2], -1)))' "$WORK/metrics.json" "$1"; }
check_eq "requests_total 202 for omega" 2 "$(sample 'hookfwd_requests_total{source="omega",status="202"}')"
check_eq "requests_total 401 for omega" 1 "$(sample 'hookfwd_requests_total{source="omega",status="401"}')"
check_eq "events_accepted_total" 1 "$(sample 'hookfwd_events_accepted_total{source="sentinelayer"}')"
check_eq "sink delivered" 3 "$(sample 'hookfwd_sink_events_total{sink="archive",outcome="delivered"}')"
check_eq "sink queue gauge" 0 "$(sample 'hookfwd_sink_queue_events{sink="archive"}')"
check "batch histogram has a count" test "$(sample 'hookfwd_sink_batch_seconds_count{sink="archive"}')" -ge 1
check "storage bytes are counted in disk mode" test "$(sample 'hookfwd_storage_bytes')" -gt 0
check_eq "signature key 0 used" 2 "$(sample 'hookfwd_signature_key_used_total{source="omega",key="0"}')"
check_eq "healthz" '{"status":"ok"}' "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz")"
check_eq "readyz" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"
check_eq "admin answers only GET" 405 "$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$ADMIN_PORT/metrics")"

# reload with events in flight: a sender streams while the agent reloads 5 times
lines_at_least() { [ "$(wc -l <"$OUT")" -ge "$1" ]; }
python3 "$HERE/sender.py" --port "$PORT" --count 2000 --rate 400 --concurrency 4 --acked "$WORK/acked.txt" >"$WORK/sender.json" &
SENDER=$!
for i in 1 2 3 4 5; do
    wait_for 30 lines_at_least $((i * 250)) || not_ok "stream reached $((i * 250)) records before reload $i"
    kill -0 "$SENDER" 2>/dev/null || not_ok "the sender was still streaming at reload $i"
    # change a metric rule each time, so the config really differs; the
    # archive sink's own options stay the same
    sed -i "/^metrics:/,\$d" "$WORK/hookfwd.yaml"
    printf 'metrics:\n  - {name: reload.gen%d, type: count}\n' "$i" >>"$WORK/hookfwd.yaml"
    kill -HUP "$AGENT_PID"
    wait_for 10 eval "[ \$(grep -c reloaded '$WORK/agent.err') -ge $i ]"
done
wait "$SENDER"
acked=$(wc -l <"$WORK/acked.txt")
check "sender acked events during reloads" test "$acked" -gt 1000
check "every acked event delivered across 5 reloads" wait_for 30 python3 - "$WORK/acked.txt" "$OUT" <<'PY'
import json, sys
acked = {int(l) for l in open(sys.argv[1]) if l.strip()}
got = set()
for line in open(sys.argv[2]):
    try:
        got.add(int(json.loads(line)["event_id"][4:]))
    except Exception:
        pass
sys.exit(0 if acked <= got else 1)
PY
delivered=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | python3 "$HERE/prom_parse.py" |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["hookfwd_sink_events_total{sink=\"archive\",outcome=\"delivered\"}"]))')
check "the unchanged sink kept its counters across reloads (one sink object)" test "$delivered" -ge "$((acked + 3))"

# a bad file on reload: logged with file:line:col, the old config keeps serving
printf 'listen:\n  adress: nope\n' >"$WORK/bad.yaml"
cp "$WORK/hookfwd.yaml" "$WORK/good.yaml"
cp "$WORK/bad.yaml" "$WORK/hookfwd.yaml"
kill -HUP "$AGENT_PID"
check "bad reload logged with file:line:col" wait_for 5 grep -q "reload failed.*hookfwd.yaml:2:3: configuration: unknown key 'adress'" "$WORK/agent.err"
# that file also lacks sources and sinks: one line says so, and where to see them
check "and how many more errors, in the same line" grep -q "reload failed.*unknown key 'adress'.* (and 2 more errors: hookfwd check -c $WORK/hookfwd.yaml lists them)" "$WORK/agent.err"
check_eq "still serving after a bad reload" "202" "$(post_fixture omega/decision.allowed.json | cut -d' ' -f1)"
check "the last good reload's rule is live" wait_for 5 grep -q '"metric":"reload.gen5"' "$WORK/agent.out"
check "RELOADING=1 was sent" grep -qx "RELOADING=1" "$WORK/notify.log"
cp "$WORK/good.yaml" "$WORK/hookfwd.yaml"
stop_agent TERM
check_eq "clean stop" 0 "$?"
check "STOPPING=1 was sent" grep -qx "STOPPING=1" "$WORK/notify.log"
check "no secret in the logs" bash -c "! grep -q -e whsec_your_signing_secret -e sl_live_3f9a2c71d04e '$WORK/agent.err' '$WORK/agent.out'"

# a drain the deadline (30 s) cuts short: with storage.mode memory what is
# left is lost, and the log and the exit status say so; with disk the
# journal keeps it for the next start, and the stop is clean
down_port=$(free_port) # nothing listens there
for mode in memory disk; do
    rm -rf "$WORK/data"
    write_config "$WORK/drain.yaml" "  - name: down
    type: http
    url: http://127.0.0.1:$down_port/hook
    retry: {initial: 100ms, max: 1s}" $mode
    from=$(($(wc -l <"$WORK/agent.err") + 1))
    start_agent "$WORK/drain.yaml"
    check_eq "$mode: an event for a sink that is down is accepted" 202 \
        "$(post_fixture omega/decision.allowed.json | cut -d' ' -f1)"
    stop_agent TERM
    rc=$?
    tail -n +"$from" "$WORK/agent.err" >"$WORK/drain-$mode.err"
    if [ "$mode" = memory ]; then
        check_eq "memory: a drain cut short exits 1" 1 "$rc"
        check "memory: the log says the record is lost" \
            grep -q "level=error component=agent msg=\"1 accepted records were not delivered before the drain deadline and are lost" "$WORK/drain-$mode.err"
    else
        check_eq "disk: a drain cut short still exits 0 (the journal keeps the record)" 0 "$rc"
        check "disk: the log says the journal keeps it" grep -q "the journal keeps them for the next start" "$WORK/drain-$mode.err"
    fi
done
finish
