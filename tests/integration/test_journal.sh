#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# storage.mode: disk never loses an acknowledged event: SIGKILL during a
# stream, a torn tail and a zero-filled block in a segment, a sink outage
# (503 with Retry-After, bounded memory, everything delivered afterwards),
# and dedup state across a restart.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")

OUT=$WORK/out/records.jsonl
mkdir -p "$WORK/out"
write_config "$WORK/hookfwd.yaml" "  - name: archive
    type: file
    path: $OUT
    takes: records
    queue: {max_events: 100000}
    retry: {initial: 50ms, max: 200ms}
    batch: {max_events: 200, flush_interval: 20ms}" disk

delivered_ids() { # unique decision numbers in the sink's file (a torn last line is skipped)
    python3 - "$OUT" <<'PY'
import json, sys
ids = set()
try:
    for line in open(sys.argv[1], errors="replace"):
        try:
            ids.add(int(json.loads(line)["event_id"][4:]))
        except Exception:
            pass
except FileNotFoundError:
    pass
print(len(ids))
PY
}
lines() { [ -f "$OUT" ] && wc -l <"$OUT" || echo 0; }
# (functions, so wait_for re-reads the file on every poll)
lines_at_least() { [ "$(lines)" -ge "$1" ]; }
delivered_at_least() { [ "$(delivered_ids)" -ge "$1" ]; }

# --- 1. crash conservation: SIGKILL three times while a sender streams ---
start_agent "$WORK/hookfwd.yaml" || exit 1
python3 "$HERE/sender.py" --port "$PORT" --count 3000 --rate 300 --concurrency 4 --acked "$WORK/acked.txt" >"$WORK/sender.json" &
SENDER=$!
for round in 1 2 3; do
    target=$((round * 600))
    if ! wait_for 60 lines_at_least "$target"; then
        not_ok "the stream reached $target records before kill $round (only $(lines))"
    fi
    kill -0 "$SENDER" 2>/dev/null || not_ok "the sender was still streaming at kill $round"
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=
    start_agent "$WORK/hookfwd.yaml" || exit 1
done
wait "$SENDER"
acked=$(wc -l <"$WORK/acked.txt")
echo "sender: $(cat "$WORK/sender.json")"
wait_for 60 delivered_at_least "$acked"
read -r lost dup total <<<"$(python3 - "$WORK/acked.txt" "$OUT" <<'PY'
import json, sys
acked = {int(l) for l in open(sys.argv[1]) if l.strip()}
seen = []
for line in open(sys.argv[2], errors="replace"):
    try:
        seen.append(int(json.loads(line)["event_id"][4:]))
    except Exception:
        pass
print(len(acked - set(seen)), len(seen) - len(set(seen)), len(seen))
PY
)"
echo "crash conservation: acked=$acked delivered_lines=$total lost=$lost duplicated=$dup"
check "the sender got 2xx answers across the kills" test "$acked" -gt 1000
check_eq "no acknowledged event lost across 3 SIGKILLs" 0 "$lost"

# dedup state survives the restarts: an acknowledged decision is a duplicate now
first=$(head -1 "$WORK/acked.txt")
python3 "$HERE/sender.py" --port "$PORT" --count 1 --start "$first" --concurrency 1 --acked "$WORK/again.txt" >"$WORK/again.json"
check "a repeated decision after restarts is answered 200 duplicate" grep -q '"200": 1' "$WORK/again.json"
stop_agent TERM
check_eq "clean stop exits 0" 0 "$?"

# --- 2. sink outage: 503 with Retry-After, bounded memory, nothing lost ---
rm -rf "$WORK/data" "$WORK/out"
write_config "$WORK/hookfwd.yaml" "  - name: archive
    type: file
    path: $OUT
    takes: records
    queue: {max_events: 300}
    retry: {initial: 50ms, max: 200ms}
    batch: {max_events: 100, flush_interval: 20ms}" disk
start_agent "$WORK/hookfwd.yaml" || exit 1
python3 "$HERE/sender.py" --port "$PORT" --count 1000 --start 100000 --concurrency 4 --retries 1 \
    --acked "$WORK/acked2.txt" >"$WORK/sender2.json"
acked2=$(wc -l <"$WORK/acked2.txt")
echo "during the outage: $(cat "$WORK/sender2.json")"
# the queue (300) plus the batch the worker holds in retry (at most 100)
check "the queue's worth, and no more, was accepted during the outage" test "$acked2" -ge 300 -a "$acked2" -le 400
code_and_retry=$(curl -s -o /dev/null -D - -H "X-Omega-Signature: sha256=233f82cbdcce38bd8d042c05d7ffff58cec6500ea1c4568f79a8db505203e0c6" \
    --data-binary @"$FIXTURES/omega/decision.escalated.json" "http://127.0.0.1:$PORT/webhooks/omega" | tr -d '\r' |
    awk 'NR==1{c=$2} tolower($1)=="retry-after:"{r=$2} END{print c, r}')
check_eq "a full queue answers 503 with Retry-After" "503 1" "$code_and_retry"
check_eq "readyz says not ready while full" 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"
rss_kb=$(awk '/VmRSS/{print $2}' "/proc/$AGENT_PID/status")
echo "RSS during the outage: ${rss_kb} kB"
check "RSS stays under 64 MiB during the outage" test "$rss_kb" -lt 65536
mkdir -p "$WORK/out" # the sink comes back
check "everything accepted during the outage is delivered" wait_for 30 delivered_at_least "$acked2"
check_eq "readyz recovers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"
stop_agent TERM

# --- 3. a torn tail and a zero-filled block: start succeeds, intact entries delivered ---
rm -rf "$WORK/data" "$WORK/out"
start_agent "$WORK/hookfwd.yaml" || exit 1
python3 "$HERE/sender.py" --port "$PORT" --count 20 --start 200000 --concurrency 1 --acked "$WORK/acked3.txt" >/dev/null
stop_agent KILL
seg=$(ls "$WORK"/data/journal/*.seg | tail -1)
size_before=$(($(stat -c %s "$seg") - 20)) # the entries; the end mark (20 zero bytes) follows
truncate -s "$size_before" "$seg"
printf '\x48\x46\x4a\x31\xff\x00\x00\x00garbage' >>"$seg" # a torn entry header where the next would go
head -c 4096 /dev/zero >>"$seg"                         # a zero-filled block after it
start_agent "$WORK/hookfwd.yaml" || exit 1
check "start logs the damaged offset" grep -q "damaged entry at byte $size_before" "$WORK/agent.err"
check_eq "the segment is truncated to its intact entries" "$size_before" "$(stat -c %s "$seg")"
mkdir -p "$WORK/out"
check "the 20 intact entries are delivered" wait_for 30 delivered_at_least 20
check_eq "new events are accepted after recovery" 202 "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "X-Omega-Signature: sha256=e07112850aefd9f4c2cfcd0c43a95824e9c03487956c949da533c968848c5174" \
    --data-binary @"$FIXTURES/omega/decision.allowed.json" "http://127.0.0.1:$PORT/webhooks/omega")"
stop_agent TERM

# --- 4. dedup.log keeps what the in-memory set can hold: expired lines and
# lines beyond its 131,072 keys are dropped when the journal opens ---
python3 - "$WORK/data/journal/dedup.log" <<'PY'
import sys, time
now = int(time.time() * 1000)
with open(sys.argv[1], "w") as f:
    for i in range(50000):
        f.write("%d\tomega\texpired-%d\n" % (now - 1000, i))
    for i in range(200000):
        f.write("%d\tomega\tkey-%d\n" % (now + 3600000, i))
    f.write("%d\tomega\ttorn" % (now + 3600000))  # no newline: a torn last line
PY
start_agent "$WORK/hookfwd.yaml" || exit 1
check_eq "dedup.log is compacted to the newest 131072 unexpired keys" "131072 key-68928 key-199999" \
    "$(wc -l <"$WORK/data/journal/dedup.log") $(head -1 "$WORK/data/journal/dedup.log" | cut -f3) $(tail -1 "$WORK/data/journal/dedup.log" | cut -f3)"
stop_agent TERM
finish
