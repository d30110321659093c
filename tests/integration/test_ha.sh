#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The HA deployment of README "Running several agents", tested: two agents
# (storage.mode: disk, one shared Redis for dedup) behind a real nginx,
# a sender that retries on anything but 2xx and on timeouts, and resends
# some acknowledged events (a vendor whose 2xx got lost). Each agent is
# killed with SIGKILL in the middle of the stream and restarted. Then:
# every acknowledged event is delivered, no idempotency key is delivered by
# both agents, and every resend is answered as a duplicate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_redis.sh"
. "$(dirname "$0")/lib_ha.sh"
HERE=$(dirname "$0")

COUNT=${HA_COUNT:-3000}
RATE=${HA_RATE:-300}
export REDIS_PASSWORD=ha-test-password
redis_start "$REDIS_PASSWORD" || exit 1
DEDUP="{window: 1h, store: redis, redis: {url: \"redis://127.0.0.1:$REDIS_PORT/0\", password: \"\${REDIS_PASSWORD}\", timeout: 100ms, on_unavailable: local}}"
# HA_DEDUP={window: 1h} runs the same deployment with per-agent dedup, for
# comparison (README): the checks on duplicates then fail, as they should
DEDUP=${HA_DEDUP:-$DEDUP}
for i in 1 2; do
    ha_write_config "$i" "$DEDUP"
    ha_start_agent "$i" || exit 1
done
ha_start_lb 1 2 || exit 1

records() { cat "$WORK"/a1/out.jsonl "$WORK"/a2/out.jsonl 2>/dev/null | wc -l; }
records_at_least() { [ "$(records)" -ge "$1" ]; }

python3 "$HERE/sender.py" --port "$LB_PORT" --count "$COUNT" --rate "$RATE" --concurrency 8 --timeout 5 \
    --deadline 240 --resend-every 10 --acked "$WORK/acked.txt" --keys "$WORK/keys.txt" >"$WORK/sender.json" &
SENDER=$!
t0=$(date +%s%N)
down_ms=0
for i in 1 2; do
    target=$((COUNT * i / 3))
    wait_for 120 records_at_least "$target" || not_ok "the stream reached $target records before agent $i's kill ($(records))"
    kill -0 "$SENDER" 2>/dev/null || not_ok "the sender was still streaming when agent $i was killed"
    k=$(date +%s%N)
    ha_stop_agent "$i" KILL
    ha_start_agent "$i" || exit 1
    down_ms=$((down_ms + ($(date +%s%N) - k) / 1000000))
    echo "agent $i killed at $((target)) records, back after $((($(date +%s%N) - k) / 1000000)) ms"
done
wait "$SENDER"
elapsed=$((($(date +%s%N) - t0) / 1000000))
echo "sender: $(cat "$WORK/sender.json")"
acked=$(wc -l <"$WORK/keys.txt")

# the agents deliver what they accepted (from their journals after a restart)
delivered_all() {
    python3 - "$WORK/keys.txt" "$WORK/a1/out.jsonl" "$WORK/a2/out.jsonl" <<'PY'
import json, sys
acked = {l.strip() for l in open(sys.argv[1]) if l.strip()}
seen = set()
for path in sys.argv[2:]:
    try:
        for line in open(path, errors="replace"):
            try:
                seen.add(json.loads(line)["idempotency_key"])
            except Exception:
                pass
    except FileNotFoundError:
        pass
sys.exit(0 if acked <= seen else 1)
PY
}
wait_for 60 delivered_all
read -r lost cross same total a1n a2n <<<"$(python3 - "$WORK/keys.txt" "$WORK/a1/out.jsonl" "$WORK/a2/out.jsonl" <<'PY'
import collections, json, sys
acked = {l.strip() for l in open(sys.argv[1]) if l.strip()}
per = []
for path in sys.argv[2:]:
    c = collections.Counter()
    for line in open(path, errors="replace"):
        try:
            c[json.loads(line)["idempotency_key"]] += 1
        except Exception:
            pass
    per.append(c)
both = set(per[0]) & set(per[1])
same = sum(n - 1 for c in per for n in c.values() if n > 1)
print(len(acked - set(per[0]) - set(per[1])), len(both), same, sum(sum(c.values()) for c in per),
      sum(per[0].values()), sum(per[1].values()))
PY
)"
read -r resent resent_dup resent_acc n503 conn_err timeouts <<<"$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s.get("resent", 0), s.get("resent_duplicate", 0), s.get("resent_accepted", 0), s["statuses"].get("503", 0),
      s["errors"]["connection"], s["errors"]["timeout"])' "$WORK/sender.json")"
lb=$(awk '{print $2}' "$WORK/nginx/logs/access.log" | sort | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1}')
echo "HA: sent=$COUNT at ${RATE}/s in ${elapsed} ms, acked=$acked, delivered records=$total (agent 1: $a1n, agent 2: $a2n)"
echo "HA: lost=$lost, keys delivered by both agents=$cross, redeliveries by the same agent after its SIGKILL=$same"
echo "HA: resent=$resent answered duplicate=$resent_dup accepted again=$resent_acc; sender saw 503=$n503," \
    "connection errors=$conn_err, timeouts=$timeouts; agents down ${down_ms} ms in all; nginx answers: $lb"
grep -h 'marked accepted in Redis\|did not take' "$WORK"/a1.err "$WORK"/a2.err

check_eq "every event was acknowledged" "$COUNT" "$acked"
check_eq "no acknowledged event is lost across two SIGKILLs" 0 "$lost"
check_eq "no idempotency key is delivered by both agents" 0 "$cross"
check "some resends went out" test "$resent" -gt 0
check_eq "every resend of an acknowledged event is answered duplicate" "$resent" "$resent_dup"
check "both agents took part" test "$a1n" -gt 0 -a "$a2n" -gt 0
check_eq "Redis was never unavailable to agent 1 (since its restart)" 0 \
    "$(ha_metric 1 'hookfwd_dedup_store_errors_total{source="omega"}')"
check_eq "nor to agent 2" 0 "$(ha_metric 2 'hookfwd_dedup_store_errors_total{source="omega"}')"
ha_stop_lb
ha_stop_agent 1
check_eq "agent 1 stops cleanly" 0 "$?"
ha_stop_agent 2
check_eq "agent 2 stops cleanly" 0 "$?"
finish
