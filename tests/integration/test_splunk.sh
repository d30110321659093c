#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The splunk_hec sink against the strict HEC receiver (tests/peers/hec_receiver.py):
# records and metric events compared field by field with the fixtures,
# batching by count, bytes and interval, gzip on and off, every HEC error
# class (busy, 5xx, token, poison event, 413), indexer acknowledgement with a
# lost ack, TLS verification, and `hookfwd test-sink`.
. "$(dirname "$0")/lib.sh"

RECEIVER="$SOURCE_DIR/tests/peers/hec_receiver.py"
TOKEN=9c2b4f1e-7d3a-4e8b-a1c5-0f6e2d9b8a47
RPORT=
RPID=
RSCHEME=http

# start_receiver [ARGS...]: a fresh receiver on a free port; sets RPORT, RPID.
start_receiver() {
    : >"$WORK/rcv.out"
    python3 "$RECEIVER" --token "$TOKEN" --port 0 "$@" >"$WORK/rcv.out" 2>>"$WORK/rcv.err" &
    RPID=$!
    PIDS_TO_KILL+=("$RPID")
    wait_for 10 grep -q '^LISTENING' "$WORK/rcv.out" || { echo "receiver did not start"; cat "$WORK/rcv.err"; exit 1; }
    RPORT=$(awk '/^LISTENING/ {print $2}' "$WORK/rcv.out")
}
stop_receiver() {
    kill "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
}
control() { curl -sfk -d "$1" "$RSCHEME://127.0.0.1:$RPORT/_control" >/dev/null; }
# stat KEY: one value of the receiver's /_stats (lists as comma-separated)
stat() {
    curl -sfk "$RSCHEME://127.0.0.1:$RPORT/_stats" | python3 -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(",".join(map(str, v)) if isinstance(v, list) else v)' "$1"
}
stat_is() { [ "$(stat "$1")" = "$2" ]; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ]; }
sink_metric() { metric "hookfwd_sink_events_total{sink=\"siem\",outcome=\"$1\"}"; }
sink_metric_is() { [ "$(sink_metric "$1")" = "$2" ]; }
sink_metric_ge() { [ "$(sink_metric "$1")" -ge "$2" ]; }
lines_are() { [ -f "$1" ] && [ "$(wc -l <"$1")" = "$2" ]; }

# run_agent SINK_OPTIONS: an agent whose sink "siem" sends to the receiver.
run_agent() {
    write_config "$WORK/hookfwd.yaml" "  - name: siem
    type: splunk_hec
    url: http://127.0.0.1:$RPORT
    token: \"\${HEC_TOKEN}\"
$1"
    : >"$WORK/agent.err"
    rm -rf "$WORK/data"
    start_agent "$WORK/hookfwd.yaml" || exit 1
}
export HEC_TOKEN=$TOKEN

# post_events N PREFIX [EVENT]: N signed OmegaEngine events with ids
# PREFIX0000.., signed here with Python's hmac (not the agent's code), sent
# on one kept-alive connection; prints how many were accepted.
post_events() {
    python3 - "$PORT" "$1" "$2" "${3:-decision.blocked}" <<'PY'
import hashlib, hmac, http.client, os, sys
port, n, prefix, event = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
secret = os.environ["OMEGA_SECRET"].encode()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ok = 0
for i in range(n):
    body = ('{"event":"%s","timestamp":"2026-01-14T12:00:00Z","decision":{"id":"%s%04d",'
            '"outcome":"BLOCK","riskScore":0.9,"scenario":"load test"}}' % (event, prefix, i)).encode()
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    conn.request("POST", "/webhooks/omega", body, {"X-Omega-Signature": sig, "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    ok += r.status == 202
print(ok)
PY
}

# event_ids: the decision ids of the receiver's accepted events, sorted, one per line
event_ids() {
    curl -sf "http://127.0.0.1:$RPORT/_events" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    if isinstance(e["event"], dict):
        print(e["event"]["event_id"])' | sort
}
dlq_ids() {
    [ -f "$WORK/data/dead-letter/siem.jsonl" ] || return 0
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["record"]["event_id"], d["reason"])' "$WORK/data/dead-letter/siem.jsonl"
}
no_secret_logged() { ! grep -qF "$TOKEN" "$WORK/agent.err" "$WORK/agent.out"; }

# ---- 1. records and metric events, field by field ----
start_receiver --out "$WORK/hec.jsonl"
run_agent "    takes: both
    index: security
    batch: {max_events: 500, flush_interval: 100ms}
  - name: archive
    type: file
    path: $WORK/records.jsonl
    takes: records
    batch: {max_events: 1, flush_interval: 10ms}"
accepted=0
while IFS='|' read -r file src hdr val key expect; do
    [ "$expect" = accept ] || continue
    case "$file" in *.embedded.json | *.pretty.json) continue ;; esac # duplicates of others
    [ "$(post_fixture "$file" | cut -d' ' -f1)" = 202 ] && accepted=$((accepted + 1))
done < <(tr '\t' '|' <"$FIXTURES/signatures.tsv")
check_eq "fixtures accepted" 10 "$accepted"
check "all 10 delivered to HEC" wait_for 15 sink_metric_is delivered 10
check "the file sink has them too" wait_for 10 lines_are "$WORK/records.jsonl" 10
check_eq "every request was gzipped" "$(stat requests)" "$(stat gzip_requests)"
check_eq "nothing rejected" 0 "$(stat rejected)"
python3 - "$WORK/hec.jsonl" "$WORK/records.jsonl" "$(hostname)" >"$WORK/compare.txt" <<'PY'
import datetime, json, sys
from decimal import Decimal
hec = [json.loads(l, parse_float=Decimal) for l in open(sys.argv[1])]
recs = {json.loads(l)["idempotency_key"]: json.loads(l) for l in open(sys.argv[2])}
host = sys.argv[3]
events = [e for e in hec if e["event"] != "metric"]
metrics = [e for e in hec if e["event"] == "metric"]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
def epoch(ts):
    return Decimal(int(datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)) / 1000
want(len(events) == len(recs) == 10, "10 events and 10 records")
for e in events:
    ev = json.loads(json.dumps(e["event"], default=float))
    key = ev["idempotency_key"]
    rec = recs.get(key)
    want(rec is not None, "record for " + key)
    if rec is None:
        continue
    want(ev == rec, key + ": event equals the record the file sink wrote")
    want(set(e) == {"time", "host", "source", "sourcetype", "index", "event", "fields"}, key + ": envelope keys")
    want(e["time"] == epoch(rec["timestamp"]), key + ": time %s from timestamp %s" % (e["time"], rec["timestamp"]))
    want(str(e["time"]).split(".")[1].__len__() == 3, key + ": time has 3 decimals")
    want(e["host"] == host, key + ": host")
    want(e["source"] == rec["source"], key + ": source")
    want(e["sourcetype"] == "hookfwd:" + rec["source"], key + ": sourcetype")
    want(e["index"] == "security", key + ": index")
    want(e["fields"] == {"event_type": rec["event_type"], "severity": rec["severity"], "idempotency_key": key},
         key + ": fields")
esc = [e for e in events if e["event"]["event_type"] == "decision.escalated"][0]
want(esc["time"] == Decimal("1768392000.000"), "escalated time 1768392000.000")
want(esc["event"]["data"]["decision.risk_score"] == Decimal("0.85"), "escalated risk_score 0.85")
want(esc["event"]["data"]["decision.policy_matches"] == ["high_value_transfer", "new_vendor"], "policy_matches")
want(esc["fields"]["severity"] == "high", "escalated severity high")
names = {}
for m in metrics:
    ks = [k for k in m["fields"] if k.startswith("metric_name:")]
    want(len(ks) == 1, "one metric per event")
    names.setdefault(ks[0][12:], []).append(m)
    want(m["sourcetype"] == "hookfwd:" + m["source"] and m["index"] == "security" and m["host"] == host, "metric envelope")
    want("source" not in m["fields"], "no source dimension")
want(len(names.get("omega.events", [])) == 6, "6 omega.events points")
want(all(m["fields"]["metric_name:omega.events"] == 1 for m in names.get("omega.events", [])), "omega.events value 1")
want(sorted(m["fields"]["event"] for m in names.get("omega.events", [])) ==
     sorted(r["event_type"] for r in recs.values() if r["source"] == "omega"), "omega.events event dimension")
want(len(names.get("sentinelayer.scan.count", [])) == 4, "4 sentinelayer.scan.count points")
rs = [m for m in names.get("omega.decision.risk_score", []) if m["fields"]["outcome"] == "ESCALATE"]
want(len(rs) == 1 and rs[0]["fields"]["metric_name:omega.decision.risk_score"] == Decimal("0.85"), "risk_score 0.85")
cnt = [m for m in names.get("omega.decision.count", []) if m["fields"]["event"] == "decision.escalated"]
want(len(cnt) == 1 and cnt[0]["fields"]["policy"] == ["high_value_transfer", "new_vendor"], "policy dimension")
print("metric events", len(metrics))
print("\n".join("BAD " + b for b in bad) if bad else "ALL OK")
PY
check_eq "events and metric events match the fixtures field by field" "ALL OK" "$(tail -1 "$WORK/compare.txt")"
grep BAD "$WORK/compare.txt"
check "the token is never logged" no_secret_logged
check "the agent stops cleanly" stop_agent
stop_receiver

# ---- 2. batching by count, bytes and interval; gzip off ----
start_receiver
run_agent "    gzip: false
    batch: {max_events: 10, flush_interval: 30s}"
check_eq "30 events accepted" 30 "$(post_events 30 cnt_)"
check "count: three batches of 10" wait_for 15 stat_is batch_sizes 10,10,10
check_eq "gzip off: no gzipped request" 0 "$(stat gzip_requests)"
check_eq "all 30 events, once each" 30 "$(event_ids | uniq | wc -l)"
check "the agent stops cleanly" stop_agent
control '{"reset":true}'
run_agent "    batch: {max_events: 500, max_bytes: 1KiB, flush_interval: 1s}"
check_eq "12 events accepted" 12 "$(post_events 12 byt_)"
check "bytes: all 12 delivered" wait_for 15 stat_is events 12
sizes=$(stat batch_sizes)
check "bytes: no batch over 1 KiB of records (2 of these), some of 2 ($sizes)" python3 -c '
import sys; s = [int(x) for x in sys.argv[1].split(",")]; sys.exit(not (max(s) == 2 and sum(s) == 12))' "$sizes"
check_eq "gzip on by default" "$(stat requests)" "$(stat gzip_requests)"
check "the agent stops cleanly" stop_agent
control '{"reset":true}'
run_agent "    batch: {max_events: 500, flush_interval: 400ms}"
check_eq "3 events accepted" 3 "$(post_events 3 ivl_)"
check "interval: one batch of 3 after the flush interval" wait_for 10 stat_is batch_sizes 3
check "the agent stops cleanly" stop_agent

# ---- 3. error classes ----
ERR_BATCH="    retry: {initial: 100ms, max: 1s}
    batch: {max_events: 100, flush_interval: 300ms}"
for fault in '{"code":9}' '{"code":8}' '{"status":502,"code":8,"text":"Bad Gateway"}' '{"status":429,"code":26}' \
    '{"close":true}'; do
    control '{"reset":true}'
    control "{\"fail\":[$fault,$fault]}"
    run_agent "$ERR_BATCH"
    check_eq "$fault: 5 events accepted" 5 "$(post_events 5 busy_)"
    check "$fault: retried, then delivered" wait_for 20 sink_metric_is delivered 5
    check_eq "$fault: the receiver has each event once" 5 "$(event_ids | uniq | wc -l)"
    check_eq "$fault: both faults were answered" 0 "$(stat pending_faults)"
    check "$fault: counted as retried" sink_metric_ge retried 5
    check_eq "$fault: nothing dead" "" "$(dlq_ids)"
    check "the agent stops cleanly" stop_agent
done

# codes 24 and 25 answer 200: the events were indexed, resending would duplicate them
for fault in '{"status":200,"code":24,"text":"queue near capacity"}' '{"status":200,"code":25}'; do
    control '{"reset":true}'
    control "{\"fail\":[$fault]}"
    run_agent "$ERR_BATCH"
    check_eq "$fault: 5 events accepted" 5 "$(post_events 5 warn_)"
    check "$fault: delivered" wait_for 20 sink_metric_is delivered 5
    check_eq "$fault: not resent" "5 0 0" "$(stat events) $(sink_metric retried) $(stat pending_faults)"
    check "the agent stops cleanly" stop_agent
done

for fault in '{"code":4}' '{"code":2}' '{"code":1}'; do
    control '{"reset":true}'
    control "{\"fail\":[$fault,$fault]}"
    run_agent "$ERR_BATCH"
    check_eq "$fault: 5 events accepted" 5 "$(post_events 5 auth_)"
    check "$fault: kept, retried slowly, delivered once the token works" wait_for 20 sink_metric_is delivered 5
    check "$fault: the operator is told" grep -q 'refused the token' "$WORK/agent.err"
    check_eq "$fault: told once per interval, not per retry" 1 "$(grep -c 'refused the token' "$WORK/agent.err")"
    check "$fault: the token is never logged" no_secret_logged
    check_eq "$fault: nothing dead" "" "$(dlq_ids)"
    check "the agent stops cleanly" stop_agent
done

control '{"reset":true}'
control '{"poison_field":"event_id","poison_value":"psn_0042"}'
run_agent "    retry: {initial: 100ms, max: 1s}
    batch: {max_events: 100, flush_interval: 10s}"
check_eq "poison: 100 events accepted" 100 "$(post_events 100 psn_)"
check "poison: 99 delivered" wait_for 20 sink_metric_is delivered 99
check "poison: 1 dead" wait_for 5 sink_metric_is dead 1
check_eq "poison: the receiver has the 99 others, once each" "99 99" \
    "$(event_ids | wc -l) $(event_ids | grep -v psn_0042 | uniq | wc -l)"
check_eq "poison: one request of 100 refused, the rest resent" "1 57" "$(stat rejected) $(stat batch_sizes)"
dead=$(dlq_ids)
check_eq "poison: the dead letter is psn_0042, with HEC's reason" "psn_0042 HEC refused this event (HTTP 400 code 6: Invalid data format)" "$dead"
check "the agent stops cleanly" stop_agent

# a replay the receiver answers slowly, with 503: the dead letter stays and
# is named; one the agent adds while the replay runs is kept (the agent
# appends under the file's lock, the replay rewrites under it); the file
# keeps its mode
DLQ="$WORK/data/dead-letter/siem.jsonl"
mode0=$(stat -c %a "$DLQ")
control '{"fail":[{"code":9,"delay_ms":2000}]}'
"$HOOKFWD_BIN" replay -c "$WORK/hookfwd.yaml" --sink siem >"$WORK/replay0.out" 2>&1 &
replay_pid=$!
check "replay: its request reached the receiver" wait_for 10 stat_is pending_faults 0
python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline())
d["record"]["event_id"] = "psn_late"
d["record"]["idempotency_key"] = "psn_late:" + d["record"]["event_type"]
d["reason"] = "added while a replay ran"
open(sys.argv[1], "a").write(json.dumps(d) + "\n")' "$DLQ"
wait "$replay_pid"
check_eq "replay: exits 1 while the receiver refuses" 1 "$?"
check "replay: names the dead letter it could not send" grep -q "dead letter 1 (psn_0042): not delivered" "$WORK/replay0.out"
check_eq "replay: the refused one and the one added meanwhile are both kept" \
    "psn_0042 HEC refused this event (HTTP 400 code 6: Invalid data format)
psn_late added while a replay ran" "$(dlq_ids)"
check_eq "replay: the file keeps its mode" "$mode0" "$(stat -c %a "$DLQ")"

# the receiver's poison rule is lifted: `hookfwd replay` re-sends the dead letters
control '{"reset":true}'
"$HOOKFWD_BIN" replay -c "$WORK/hookfwd.yaml" --sink siem >"$WORK/replay.out" 2>&1
check_eq "replay: exits 0 once the receiver takes the records" 0 "$?"
check "replay: reports two delivered" grep -q "2 delivered, 0 failed" "$WORK/replay.out"
check_eq "replay: psn_0042 and psn_late arrived, once each" "psn_0042
psn_late" "$(event_ids)"
check_eq "replay: the dead-letter file is empty now" "" "$(dlq_ids)"
"$HOOKFWD_BIN" replay -c "$WORK/hookfwd.yaml" --sink siem >"$WORK/replay2.out" 2>&1
check "replay: a second run has nothing to send" grep -q "replayed 0 dead letters" "$WORK/replay2.out"

control '{"reset":true}'
control '{"fail":[{"code":13,"invalid_event_number":0}]}'
run_agent "$ERR_BATCH"
check_eq "code 13: 5 events accepted" 5 "$(post_events 5 blk_)"
check "code 13: 4 delivered" wait_for 20 sink_metric_is delivered 4
check_eq "code 13: the first one is dead" "blk_0000" "$(dlq_ids | cut -d' ' -f1)"
check_eq "code 13: the others reached the receiver" "blk_0001 blk_0002 blk_0003 blk_0004" "$(event_ids | xargs)"
check "the agent stops cleanly" stop_agent

# code 6 without invalid-event-number: halve until one event is alone
control '{"reset":true}'
control '{"fail":[{"code":6},{"code":6},{"code":6}]}'
run_agent "    retry: {initial: 100ms, max: 1s}
    batch: {max_events: 4, flush_interval: 10s}"
check_eq "bisect: 4 events accepted" 4 "$(post_events 4 bis_)"
check "bisect: 3 delivered" wait_for 20 sink_metric_is delivered 3
check_eq "bisect: the event cornered alone is dead" "bis_0000" "$(dlq_ids | cut -d' ' -f1)"
check_eq "bisect: requests of 4, 2, 1 refused, then three of 1" "3 1,1,1" "$(stat rejected) $(stat batch_sizes)"
check "the agent stops cleanly" stop_agent

control '{"reset":true}'
control '{"fail":[{"status":413,"code":413,"text":"Content too large"}]}'
run_agent "    retry: {initial: 100ms, max: 1s}
    batch: {max_events: 40, flush_interval: 10s}"
check_eq "413: 40 events accepted" 40 "$(post_events 40 big_)"
check "413: split and delivered" wait_for 20 sink_metric_is delivered 40
check_eq "413: two halves" "20,20" "$(stat batch_sizes)"
check_eq "413: each event once" 40 "$(event_ids | uniq | wc -l)"
check_eq "413: nothing dead" "" "$(dlq_ids)"
check "413: the split is logged" grep -q 'too large' "$WORK/agent.err"
check "the agent stops cleanly" stop_agent

stop_receiver
start_receiver --indexes main
run_agent "    index: forbidden
    retry: {initial: 100ms, max: 500ms}
    batch: {max_events: 100, flush_interval: 100ms}"
check_eq "code 7: 2 events accepted" 2 "$(post_events 2 idx_)"
check "code 7: the operator is told it needs a configuration fix" wait_for 10 grep -q 'configuration fix' "$WORK/agent.err"
check "code 7: records are kept and resent" wait_for 5 sink_metric_ge retried 4
check_eq "code 7: nothing dead" "0 " "$(sink_metric dead) $(dlq_ids)"
stop_receiver
start_receiver --port "$RPORT" # the index exists now
check "code 7: delivered once fixed" wait_for 10 sink_metric_is delivered 2
check "the agent stops cleanly" stop_agent
stop_receiver

# ---- 4. indexer acknowledgement ----
start_receiver --ack
control '{"ack_after_polls":100000}'
run_agent "    ack: true
    ack_timeout: 3s
    retry: {initial: 100ms, max: 1s}
    batch: {max_events: 5, flush_interval: 1s}"
check_eq "ack: 5 events accepted" 5 "$(post_events 5 ack_)"
check "ack: HEC has them" wait_for 10 stat_is events 5
check "ack: the agent polls for the ack" wait_for 10 stat_ge ack_queries 3
check_eq "ack: not delivered before the ack says true" 0 "$(sink_metric delivered)"
control '{"ack_after_polls":1}'
check "ack: resent after the ack timeout, then acknowledged" wait_for 20 sink_metric_is delivered 5
check "ack: HEC has them again (resent)" stat_ge events 10
check_eq "ack: each once per send, one ack true" "5 1" "$(event_ids | uniq | wc -l) $(stat acks_true)"
control '{"reset":true,"lose_next_acks":1}'
check_eq "lost ack: 5 events accepted" 5 "$(post_events 5 lost_)"
check "lost ack: resent and delivered" wait_for 20 sink_metric_is delivered 10
check_eq "lost ack: each event twice at HEC, 1 ack true" "10 5 1" \
    "$(stat events) $(event_ids | uniq | wc -l) $(stat acks_true)"
check_eq "ack: nothing dead" "" "$(dlq_ids)"
check "the agent stops cleanly" stop_agent

# ---- 5. test-sink and TLS ----
control '{"reset":true}'
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" siem 2>"$WORK/ts.err")
check_eq "test-sink exits 0 against the receiver (with ack)" "0 sink siem (splunk_hec): delivered" "$? $out"
check "test-sink's event reached HEC" wait_for 5 stat_is events 1
stop_receiver
"$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" siem >"$WORK/ts.out" 2>"$WORK/ts.err"
rc=$?
check "test-sink fails against a stopped receiver (rc $rc: $(cat "$WORK/ts.out"))" test "$rc" -ne 0
check "it says why" grep -q 'cannot reach HEC' "$WORK/ts.out"

if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1; then
    start_receiver --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
    RSCHEME=https
    tls_sink() {
        write_config "$WORK/tls.yaml" "  - name: siem
    type: splunk_hec
    url: https://127.0.0.1:$RPORT
    token: \"\${HEC_TOKEN}\"
$1"
        "$HOOKFWD_BIN" test-sink -c "$WORK/tls.yaml" siem >"$WORK/ts.out" 2>"$WORK/ts.err"
    }
    tls_sink "    tls: {ca_file: $WORK/cert.pem}"
    check_eq "TLS with the server's CA: delivered" 0 "$?"
    tls_sink ""
    check_eq "TLS with an unknown CA: refused" 1 "$?"
    check "it names the certificate problem" grep -qi 'certificate' "$WORK/ts.out"
    tls_sink "    tls: {verify: false}"
    check_eq "tls.verify false: delivered" 0 "$?"
    check "tls.verify false: a loud warning" grep -q 'NOT checked' "$WORK/ts.err"
    check_eq "HEC got the two delivered test events" 2 "$(stat events)"
    stop_receiver
else
    echo "# openssl cannot make a certificate here: TLS cases skipped"
fi

finish
