#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The file sink on special files (INTERFACE.md: `/dev/null`, `/dev/stdout`,
# a FIFO work too): every batch delivered without fdatasync (which fails
# there with EINVAL), so the queue never fills and senders keep getting
# 202. And an error no retry can fix (the path is a directory): logged
# once as permanent with its reason, every batch in the dead letters, no
# retries, still no 503.
. "$(dirname "$0")/lib.sh"

N=7
mkfifo "$WORK/fifo"
mkdir "$WORK/adir"
# the FIFO's reader, started first: the sink opens the FIFO for writing
cat "$WORK/fifo" >"$WORK/fifo.out" &
PIDS_TO_KILL+=($!)
sink() { # sink NAME PATH
    printf '  - name: %s\n    type: file\n    path: %s\n    takes: records\n' "$1" "$2"
    printf '    batch: {max_events: 1, flush_interval: 10ms}\n    retry: {initial: 50ms, max: 100ms, give_up_after: 1h}\n'
}
write_config "$WORK/hookfwd.yaml" "$(sink null /dev/null; sink fifo "$WORK/fifo"; sink out /dev/stdout; sink dir "$WORK/adir")"

check_eq "check accepts special files" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>/dev/null)"
# the agent's stdout is a pipe here, so /dev/stdout is a FIFO too
"$HOOKFWD_BIN" run -c "$WORK/hookfwd.yaml" > >(cat >"$WORK/stdout.out") 2>>"$WORK/agent.err" &
AGENT_PID=$!
if ! wait_for 20 curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz"; then
    echo "agent did not come up:"
    cat "$WORK/agent.err"
    exit 1
fi

statuses=""
for f in omega/decision.escalated.json omega/decision.blocked.json omega/decision.allowed.json \
    omega/fuzz.finding.json omega/quota.warning.json sentinelayer/scan.completed.json sentinelayer/scan.failed.json; do
    statuses+="$(post_fixture "$f" | cut -d' ' -f1) "
done
check_eq "every event is accepted (no queue fills up)" "$(printf '202 %.0s' $(seq $N))" "$statuses"

delivered() { [ "$(metric "hookfwd_sink_events_total{sink=\"$1\",outcome=\"delivered\"}")" = "$2" ]; }
check "/dev/null: all $N delivered" wait_for 10 delivered null $N
check "FIFO: all $N delivered" wait_for 10 delivered fifo $N
check "/dev/stdout (a pipe): all $N delivered" wait_for 10 delivered out $N
check_eq "/dev/null: nothing retried" 0 "$(metric 'hookfwd_sink_events_total{sink="null",outcome="retried"}')"
check_eq "FIFO: nothing retried" 0 "$(metric 'hookfwd_sink_events_total{sink="fifo",outcome="retried"}')"
check "FIFO reader got $N lines" wait_for 10 test "$(wc -l <"$WORK/fifo.out")" -eq $N
check "stdout got $N lines" wait_for 10 test "$(wc -l <"$WORK/stdout.out")" -eq $N

dead() { [ "$(metric 'hookfwd_sink_events_total{sink="dir",outcome="dead"}')" = "$N" ]; }
check "a directory as path: all $N to the dead letters" wait_for 10 dead
check_eq "a directory as path: nothing retried" 0 "$(metric 'hookfwd_sink_events_total{sink="dir",outcome="retried"}')"
DLQ=$WORK/data/dead-letter/dir.jsonl
check_eq "the dead letters hold the $N records" $N "$(wc -l <"$DLQ" 2>/dev/null || echo 0)"
check "each with the reason" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all("Is a directory" in r["reason"] for r in rows), [r["reason"] for r in rows]' "$DLQ"
check_eq "the permanent error is logged once" 1 "$(grep -c 'sink:file:dir.*permanent' "$WORK/agent.err")"
check "the log line says why" grep -q "cannot open $WORK/adir: Is a directory: permanent" "$WORK/agent.err"
check_eq "readyz stays 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"

stop_agent TERM
check_eq "SIGTERM exits 0" 0 "$?"
finish
