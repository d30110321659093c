#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The datadog sink against the strict v2 series receiver
# (tests/peers/datadog_receiver.py): aggregated values of the fixture stream,
# tags, compression, every error answer of the intake, test-sink, and the
# flush on shutdown.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
export DD_API_KEY=dd0123456789abcdef0123456789abcd

# ---- the receiver ----------------------------------------------------------
python3 "$SOURCE_DIR/tests/peers/datadog_receiver.py" --api-key "$DD_API_KEY" --port 0 \
    >"$WORK/dd.out" 2>"$WORK/dd.err" &
PIDS_TO_KILL+=($!)
wait_for 10 grep -q LISTENING "$WORK/dd.out" || { echo "receiver did not start"; cat "$WORK/dd.err"; exit 1; }
DDPORT=$(awk '/LISTENING/ {print $2}' "$WORK/dd.out")
DDURL="http://127.0.0.1:$DDPORT"

# dd FUNC METRIC [TAG...]: FUNC (sum min max n type interval) over the points
# of every accepted series named METRIC that carries all the TAGs.
dd() {
    python3 - "$DDPORT" "$@" <<'PY'
import json, sys, urllib.request
port, func, metric, *tags = sys.argv[1:]
data = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_series?metric=%s" % (port, metric)))
vals, types, intervals = [], set(), set()
for s in data["series"]:
    if all(t in s.get("tags", []) for t in tags):
        types.add(s["type"])
        intervals.add(s.get("interval", 0))
        vals += [p["value"] for p in s["points"]]
if not vals:
    print("none")
    sys.exit(0)
r = {"sum": lambda: sum(vals), "min": lambda: min(vals), "max": lambda: max(vals), "n": lambda: len(vals),
     "type": lambda: ",".join(map(str, sorted(types))),
     "interval": lambda: ",".join(map(str, sorted(intervals)))}[func]()
print(("%.10g" % r) if isinstance(r, (int, float)) else r)
PY
}
dd_is() { [ "$(dd "${@:2}")" = "$1" ]; }                 # dd_is EXPECTED FUNC METRIC TAG...
stat() { curl -sf "$DDURL/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ]; }
control() { curl -sf -X POST -H 'Content-Type: application/json' --data "$1" "$DDURL/_control" >/dev/null; }
delivered() { metric 'hookfwd_sink_events_total{sink="dd",outcome="delivered"}'; }
dead() { metric 'hookfwd_sink_events_total{sink="dd",outcome="dead"}'; }
num_is() { [ "$(${*:2})" = "$1" ]; }

# sink_yaml [API_KEY [INTERVAL [EXTRA]]]
sink_yaml() {
    cat <<YAML
  - name: dd
    type: datadog
    api_key: "${1:-\${DD_API_KEY\}}"
    url: $DDURL
    interval: ${2:-1s}
    tags: ["Env:Test", "Team:Sec Ops"]
    batch: {flush_interval: 100ms}
    retry: {initial: 200ms, max: 1s}
${3:-}
YAML
}

# post_unique FIXTURE SUFFIX: the Sentinelayer fixture with its run_id made
# unique (dedup answers a repeat 200 and forwards nothing), signed afresh.
post_unique() {
    local body="$WORK/body-$2.json" hdr
    sed -E "s/\"run_id\":\"([^\"]*)\"/\"run_id\":\"\\1-$2\"/" "$FIXTURES/$1" >"$body"
    grep -q "\"run_id\":\"[^\"]*-$2\"" "$body" || { echo "cannot rewrite run_id of $1"; return 1; }
    hdr=$("$HOOKFWD_BIN" sign -c "$WORK/hookfwd.yaml" --source sentinelayer "$body")
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "$hdr" \
        --data-binary "@$body" "http://127.0.0.1:$PORT/webhooks/sentinelayer"
}

write_config "$WORK/hookfwd.yaml" "$(sink_yaml)"
start_agent "$WORK/hookfwd.yaml" || exit 1

# ---- the four Sentinelayer scans -------------------------------------------
for f in scan.completed scan.failed scan.blocked scan.skipped; do
    check_eq "post $f" 202 "$(post_fixture sentinelayer/$f.json | cut -d' ' -f1)"
done
check "scan counts reach the receiver" wait_for 15 dd_is 4 sum sentinelayer.scan.count
check "the four records count as delivered once Datadog has them" wait_for 10 num_is 4 delivered
check_eq "findings{severity:p1,repo:acme/backend} is 2" 2 \
    "$(dd sum sentinelayer.scan.findings severity:p1 repo:acme/backend)"
check_eq "findings{severity:p0,repo:acme/payments} is 1" 1 \
    "$(dd sum sentinelayer.scan.findings severity:p0 repo:acme/payments)"
check_eq "findings{severity:p3,repo:acme/backend} is 5" 5 \
    "$(dd sum sentinelayer.scan.findings severity:p3 repo:acme/backend)"
check_eq "findings are gauges (type 3)" 3 "$(dd type sentinelayer.scan.findings)"
check_eq "total_findings{repo:acme/backend,gate_status:blocked} is 11" 11 \
    "$(dd sum sentinelayer.scan.total_findings repo:acme/backend gate_status:blocked)"
check_eq "scan.count{gate_status:blocked} sums to 2" 2 "$(dd sum sentinelayer.scan.count gate_status:blocked)"
check_eq "scan.count{event:scan.failed,branch:main} is 1" 1 \
    "$(dd sum sentinelayer.scan.count event:scan.failed branch:main repo:acme/backend)"
check_eq "counts are type 1" 1 "$(dd type sentinelayer.scan.count)"
check_eq "counts carry the interval (1 s)" 1 "$(dd interval sentinelayer.scan.count)"
check_eq "cost_usd{repo:acme/backend} sums the string amounts" 0.0042 \
    "$(dd sum sentinelayer.scan.cost_usd repo:acme/backend)"
check_eq "cost_usd{repo:acme/payments}" 0.0107 "$(dd sum sentinelayer.scan.cost_usd repo:acme/payments)"
check_eq "scan.failed{error_code:2}" 1 "$(dd sum sentinelayer.scan.failed error_code:2 repo:acme/backend)"
check_eq "rule tags, source and sink tags, lower-cased and cleaned" 2 \
    "$(dd sum sentinelayer.scan.findings severity:p1 source:sentinelayer env:test team:sec_ops)"
python3 - "$DDPORT" >"$WORK/shape.txt" <<'PY'
import json, socket, sys, urllib.request
data = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_series" % sys.argv[1]))
host = socket.gethostname()
bad = [s for s in data["series"] if s.get("resources") != [{"name": host, "type": "host"}]
       or any(t != t.lower() for t in s["tags"]) or len(s["points"]) != 1
       or s["points"][0]["timestamp"] % 1 != 0]
print(len(data["series"]), len(bad))
PY
check "every series has the host resource, lower-case tags, one point" \
    grep -qE '^[1-9][0-9]* 0$' "$WORK/shape.txt"
check_eq "sent gzip" 1 "$(stat '["encodings"].get("gzip",0) > 0 and 1 or 0')"

# ---- OmegaEngine decisions: distributions as count/sum/min/max/avg ----------
for f in decision.escalated decision.blocked decision.allowed; do
    post_fixture omega/$f.json >/dev/null
done
check "risk_score pieces arrive" wait_for 15 dd_is 1 sum omega.decision.risk_score.count outcome:allow
check_eq "risk_score.count{outcome:escalate}" 1 "$(dd sum omega.decision.risk_score.count outcome:escalate)"
check_eq "risk_score.count is a count" 1 "$(dd type omega.decision.risk_score.count)"
check_eq "risk_score.max{outcome:block}" 0.97 "$(dd max omega.decision.risk_score.max outcome:block)"
check_eq "risk_score.min{outcome:escalate}" 0.85 "$(dd min omega.decision.risk_score.min outcome:escalate)"
check_eq "risk_score.sum{outcome:allow}" 0.12 "$(dd sum omega.decision.risk_score.sum outcome:allow)"
check_eq "risk_score.avg is a gauge" 3 "$(dd type omega.decision.risk_score.avg)"
check_eq "decision.count{outcome:escalate,policy:new_vendor}" 1 \
    "$(dd sum omega.decision.count outcome:escalate policy:new_vendor policy:high_value_transfer)"
check_eq "omega.events{event:decision.blocked,severity:warning}" 1 \
    "$(dd sum omega.events event:decision.blocked severity:warning source:omega)"

# ---- retryable answers -------------------------------------------------------
# retry_status STATUS: one answer STATUS, then the same body again and 202
retry_status() {
    control "{\"reset\": true, \"fail\": [{\"status\": $1}]}"
    local before
    before=$(delivered)
    check_eq "$1: posted" 202 "$(post_unique sentinelayer/scan.blocked.json r$1)"
    check "$1: refused once" wait_for 15 stat_ge '["rejected"]' 1
    check "$1: retried and accepted" wait_for 15 dd_is 1 sum sentinelayer.scan.findings severity:p0 repo:acme/payments
    check "$1: delivered after the retry" wait_for 10 num_is $((before + 1)) delivered
    check_eq "$1: sent twice (not re-aggregated)" 2 "$(stat '["requests"]')"
}
retry_status 408
retry_status 500
retry_status 503

# 429: Retry-After is honoured, nothing is delivered before the 202. The
# interval is sealed at least 1.1 s after the post, so with Retry-After 3 the
# 202 comes at least 4.1 s after it; the 200 ms backoff alone would give ~2.5 s.
control '{"reset": true, "fail": [{"status": 429, "retry_after": 3}]}'
before=$(delivered)
t0=$(date +%s%N)
check_eq "429: posted" 202 "$(post_unique sentinelayer/scan.blocked.json r429)"
check "429: refused" wait_for 15 stat_ge '["rejected"]' 1
check_eq "429: not delivered while Datadog has not accepted" "$before" "$(delivered)"
check "429: accepted after Retry-After" wait_for 15 stat_ge '["accepted"]' 1
waited=$((($(date +%s%N) - t0) / 1000000))
check "429: Retry-After honoured (${waited} ms from the post to the 202)" [ "$waited" -ge 3500 ]
check "429: delivered" wait_for 10 num_is $((before + 1)) delivered
check_eq "429: value intact" 1 "$(dd sum sentinelayer.scan.findings severity:p0 repo:acme/payments)"

# 413: the body is split in two, both halves are accepted, nothing lost
control '{"reset": true, "fail": [{"status": 413}]}'
check_eq "413: posted" 202 "$(post_unique sentinelayer/scan.completed.json r413)"
check "413: split halves accepted" wait_for 15 stat_ge '["accepted"]' 2
check_eq "413: 3 requests (refused, then two halves)" 3 "$(stat '["requests"]')"
check_eq "413: findings{p1} intact" 2 "$(dd sum sentinelayer.scan.findings severity:p1 repo:acme/backend)"
check_eq "413: all 8 series arrived" 8 "$(stat '["series"]')"

# ---- 400 and 403: dead letters with the intake's reason ----------------------
DLQ="$WORK/data/dead-letter/dd.jsonl"
dead_status() { # dead_status STATUS MESSAGE FIXTURE
    control "{\"reset\": true, \"fail\": [{\"status\": $1, \"errors\": [\"$2\"]}]}"
    local d0
    d0=$(dead)
    check_eq "$1: posted" 202 "$(post_unique "$3" "r$1")"
    check "$1: record goes to dead letters" wait_for 15 num_is $((${d0:-0} + 1)) dead
    check "$1: with the reason from the body" grep -q "\"reason\":\"HTTP $1: $2\"" "$DLQ"
    check_eq "$1: not retried" 1 "$(stat '["requests"]')"
}
dead_status 400 "Invalid payload: metric type" sentinelayer/scan.skipped.json
dead_status 403 "Forbidden" sentinelayer/scan.failed.json
check_eq "dead letters hold both records" 2 "$(grep -c '"sink":"dd"' "$DLQ")"
check "the dead letter keeps the record" grep -q '"event_type":"scan.failed"' "$DLQ"
check "the API key is never logged" bash -c "! grep -q '$DD_API_KEY' '$WORK/agent.err' '$DLQ'"
stop_agent
check_eq "agent stops cleanly" 0 "$?"

# ---- replay of the dead letters, once the intake takes them -------------------
control '{"reset": true}'
out=$("$HOOKFWD_BIN" replay -c "$WORK/hookfwd.yaml" --sink dd 2>>"$WORK/agent.err")
check_eq "replay exits 0 ($out)" 0 "$?"
check "replay: both delivered" grep -q "2 delivered, 0 failed" <<<"$out"
check_eq "replay: the refused scan.failed is counted" 1 "$(dd sum sentinelayer.scan.count event:scan.failed)"
check_eq "replay: the refused scan.skipped is counted" 1 "$(dd sum sentinelayer.scan.count event:scan.skipped)"
check_eq "replay: the dead-letter file is emptied" 0 "$(grep -c . "$DLQ")"

# ---- test-sink, compression none and deflate, a wrong key ---------------------
for comp in none deflate gzip; do
    control '{"reset": true}'
    write_config "$WORK/ts-$comp.yaml" "$(sink_yaml "" 1s "    compression: $comp")"
    out=$("$HOOKFWD_BIN" test-sink -c "$WORK/ts-$comp.yaml" dd 2>>"$WORK/agent.err")
    check_eq "test-sink ($comp) exits 0" 0 "$?"
    check "test-sink ($comp) says delivered: $out" grep -q "delivered" <<<"$out"
    check_eq "test-sink ($comp): the test metric arrived" 1 \
        "$(dd sum hookfwd.test_sink event:hookfwd.test source:hookfwd-test env:test)"
    enc=$comp
    [ "$comp" = none ] && enc=identity
    check_eq "test-sink ($comp): Content-Encoding $enc" 1 "$(stat "[\"encodings\"].get(\"$enc\",0)")"
done
write_config "$WORK/badkey.yaml" "$(sink_yaml wrongkey0000)"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/badkey.yaml" dd 2>"$WORK/badkey.err")
check_eq "test-sink with a wrong key exits 1" 1 "$?"
check "... and says rejected: HTTP 403 ($out)" grep -q "rejected: HTTP 403: Forbidden" <<<"$out"

# unreachable intake: test-sink reports at once instead of retrying for a day
write_config "$WORK/down.yaml" "$(sink_yaml "" 1s)"
sed -i "s#url: $DDURL#url: http://127.0.0.1:$(free_port)#" "$WORK/down.yaml"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/down.yaml" dd 2>>"$WORK/agent.err")
check_eq "test-sink to a closed port exits 1" 1 "$?"
check "... and says why ($out)" grep -qi "not delivered: .*connect" <<<"$out"

# ---- TLS: verify against a CA file, refuse an unknown certificate ------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
python3 "$SOURCE_DIR/tests/peers/datadog_receiver.py" --api-key "$DD_API_KEY" --port 0 \
    --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" >"$WORK/ddtls.out" 2>"$WORK/ddtls.err" &
PIDS_TO_KILL+=($!)
wait_for 10 grep -q LISTENING "$WORK/ddtls.out" || { echo "TLS receiver did not start"; cat "$WORK/ddtls.err"; }
TLSURL="https://127.0.0.1:$(awk '/LISTENING/ {print $2}' "$WORK/ddtls.out")"
tls_sink() { sink_yaml "" 1s "$1" | sed "s#url: $DDURL#url: $TLSURL#"; }
write_config "$WORK/tls-ca.yaml" "$(tls_sink "    tls: {ca_file: $WORK/tls.crt}")"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/tls-ca.yaml" dd 2>>"$WORK/agent.err")
check_eq "TLS with ca_file: delivered ($out)" 0 "$?"
write_config "$WORK/tls-unknown.yaml" "$(tls_sink "")"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/tls-unknown.yaml" dd 2>>"$WORK/agent.err")
check_eq "TLS with an unknown certificate: refused" 1 "$?"
check "... because of the certificate ($out)" grep -qi "certificate" <<<"$out"
write_config "$WORK/tls-noverify.yaml" "$(tls_sink "    tls: {verify: false}")"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/tls-noverify.yaml" dd 2>>"$WORK/agent.err")
check_eq "TLS with verify: false: delivered ($out)" 0 "$?"

# ---- shutdown flushes the open interval ----------------------------------------
control '{"reset": true}'
write_config "$WORK/long.yaml" "$(sink_yaml "" 60s)"
start_agent "$WORK/long.yaml" || exit 1
post_fixture sentinelayer/scan.completed.json >/dev/null
check_eq "nothing sent while the 60 s interval is open" 0 "$(stat '["requests"]')"
stop_agent
check_eq "agent drains and exits 0" 0 "$?"
check_eq "the 60 s interval was sent at shutdown" 2 \
    "$(dd sum sentinelayer.scan.findings severity:p1 repo:acme/backend)"
check_eq "with interval 60" 60 "$(dd interval sentinelayer.scan.count)"

finish
