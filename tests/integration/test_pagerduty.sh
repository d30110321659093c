#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pagerduty sink against tests/peers/pagerduty_receiver.py (strict
# Events API v2 checks, PagerDuty's answers, incident state): triggers with
# the configured dedup_key, severity map, templates, custom_details and
# links; a passed scan.completed resolving the blocked-scan incident of its
# repository and branch; 429 and 5xx retried in order; 400 to dead letters
# with PagerDuty's errors; summaries past 1024 characters cut; test-sink;
# `check` of the routing key.
. "$(dirname "$0")/lib.sh"

KEY=0123456789abcdef0123456789abcdef
export PD_ROUTING_KEY=$KEY
python3 "$SOURCE_DIR/tests/peers/pagerduty_receiver.py" --port-file "$WORK/pd.port" --out "$WORK/pd.jsonl" \
    --routing-key "$KEY" >"$WORK/pd.out" 2>&1 &
PIDS_TO_KILL+=($!)
wait_for 10 test -s "$WORK/pd.port" || { echo "pagerduty receiver did not start"; cat "$WORK/pd.out"; exit 1; }
PD="http://127.0.0.1:$(cat "$WORK/pd.port")"

write_config "$WORK/hookfwd.yaml" "  - name: scans
    type: pagerduty
    routing_key: \"\${PD_ROUTING_KEY}\"
    url: $PD/v2/enqueue
    filter: {events: [scan.blocked, scan.completed]}
    dedup_key: \"scan/\${data.repo}/\${data.branch}\"
    class: \"\${event_type}\"
    resolve:
      events: [scan.completed]
      match: {gate_status: {eq: passed}}
    retry: {initial: 200ms}
  - name: decisions
    type: pagerduty
    routing_key: \"\${PD_ROUTING_KEY}\"
    url: $PD/v2/enqueue
    filter: {events: [decision.blocked, decision.escalated]}
    summary: \"\${data.decision.outcome}: \${data.decision.scenario}\"
    component: \"\${data.decision.policy_matches}\"
    group: \"\${source}\"
    severity_map: {warning: error, high: critical}
    retry: {initial: 200ms}
  - name: badkey
    type: pagerduty
    routing_key: ffffffffffffffffffffffffffffffff
    url: $PD/v2/enqueue
    filter: {events: [scan.failed]}"

events() { curl -sf "$PD/_events?dedup_key=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")"; }
event_field() { # DEDUP_KEY N PYEXPR (e is the Nth event record, 1-based)
    events "$1" | python3 -c "import json,sys; evs=json.load(sys.stdin)['events']; e=evs[$2-1] if len(evs) >= $2 else None; print($3)"
}
nevents() { events "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))'; }
nevents_ge() { [ "$(nevents "$1")" -ge "$2" ]; }
incident() { # DEDUP_KEY PYEXPR (i is the latest incident)
    curl -s "$PD/_incident?dedup_key=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")" |
        python3 -c "import json,sys; i=json.load(sys.stdin); print($2)"
}
incident_is() { [ "$(incident "$1" 'i.get("state")')" = "$2" ]; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
control() { curl -sf -X POST -H 'Content-Type: application/json' --data "$1" "$PD/_control" >/dev/null; }
post() { python3 "$SOURCE_DIR/tests/integration/post_signed.py" --port "$PORT" "$@" >/dev/null; }
scan() { # REPO BRANCH EVENT GATE RUN_ID
    post --source sentinelayer "{\"event_type\":\"$3\",\"run_id\":\"$5\",\"timestamp\":\"2026-02-23T10:20:00Z\",\"repo\":\"$1\",\"branch\":\"$2\",\"commit_sha\":\"abc\",\"pr_number\":7,\"gate_status\":\"$4\",\"severity_counts\":{\"P0\":1},\"total_findings\":1,\"artifact_links\":{},\"estimated_cost_usd\":\"0.01\"}"
}

# ---- check -----------------------------------------------------------------------
check_eq "check passes" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>/dev/null)"
out=$(env -u PD_ROUTING_KEY "$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>&1)
check "check without the routing key fails" grep -q "environment variable PD_ROUTING_KEY is not set" <<<"$out"
out=$(PD_ROUTING_KEY=${KEY:1} "$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>&1)
check "check: a 31-character key is refused at its line" grep -q "hookfwd.yaml:.*routing_key: must be 32 characters" <<<"$out"
not_contains() { ! grep -qF "$1" <<<"$2"; }
check "check never prints the key" not_contains "${KEY:1}" "$out"

# ---- test-sink ---------------------------------------------------------------------
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" decisions 2>&1)
check_eq "test-sink delivered" "0:sink decisions (pagerduty): delivered" "$?:$out"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" badkey 2>/dev/null)
check_eq "test-sink with an unknown key exits 1" 1 "$?"
check "test-sink prints PagerDuty's error" grep -q "rejected: PagerDuty answered 400: Invalid routing key" <<<"$out"
control '{"reset": true}'

start_agent "$WORK/hookfwd.yaml" || exit 1

# ---- triggers ------------------------------------------------------------------------
post_fixture sentinelayer/scan.blocked.json >/dev/null
post_fixture sentinelayer/scan.completed.json >/dev/null
post_fixture omega/decision.escalated.json >/dev/null
post_fixture sentinelayer/scan.failed.json >/dev/null
K1=scan/acme/payments/fix/ledger
check "blocked scan opens an incident" wait_for 20 incident_is "$K1" triggered
check_eq "its summary, source, severity, class" \
    "scan.blocked: acme/payments fix/ledger gate blocked, 1 findings|acme/payments|error|scan.blocked" \
    "$(event_field "$K1" 1 '"|".join([e["event"]["payload"]["summary"], e["event"]["payload"]["source"], e["event"]["payload"]["severity"], e["event"]["payload"]["class"]])')"
K2=scan/acme/backend/feature/auth
check "scan.completed (gate blocked) triggers too" wait_for 20 incident_is "$K2" triggered
check_eq "artifact links" "findings=https://api.github.com/repos/acme/backend/actions/artifacts/12345/zip summary=https://api.github.com/repos/acme/backend/actions/artifacts/12346/zip" \
    "$(event_field "$K2" 1 '" ".join(l["text"] + "=" + l["href"] for l in e["event"]["links"])')"
check_eq "custom_details = the record's data" "2|0.0042|142" \
    "$(event_field "$K2" 1 '"|".join(str(e["event"]["payload"]["custom_details"][k]) for k in ("severity_counts.P1", "estimated_cost_usd", "pr_number"))')"
K3=dec_abc123:decision.escalated
check "decision triggers with the idempotency key" wait_for 20 incident_is "$K3" triggered
check_eq "decision: templates and severity map" \
    "ESCALATE: Transfer \$100k to new vendor|critical|high_value_transfer, new_vendor|omega|['high_value_transfer', 'new_vendor']" \
    "$(event_field "$K3" 1 '"|".join([e["event"]["payload"]["summary"], e["event"]["payload"]["severity"], e["event"]["payload"]["component"], e["event"]["payload"]["group"], str(e["event"]["payload"]["custom_details"]["decision.policy_matches"])])')"

# ---- 400: dead letters with PagerDuty's errors -------------------------------------------
DLQ="$WORK/data/dead-letter/badkey.jsonl"
check "unknown routing key: dead letter" wait_for 20 test -s "$DLQ"
check_eq "dead letter carries PagerDuty's error" "PagerDuty answered 400: Invalid routing key|scan.failed" \
    "$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["reason"] + "|" + d["record"]["event_type"])' "$DLQ")"
check "dead counted" wait_for 10 metric_is 'hookfwd_sink_events_total{sink="badkey",outcome="dead"}' 1

# ---- resolve: a passed scan.completed closes the branch's incident -----------------------
scan acme/payments fix/ledger scan.completed passed run-pass-1
check "passed scan resolves the blocked-scan incident" wait_for 20 incident_is "$K1" resolved
check_eq "resolve event: action, key, matched, no payload" "resolve|$K1|True|False" \
    "$(event_field "$K1" 2 '"|".join([e["event_action"], e["dedup_key"], str(e["matched"]), str("payload" in e["event"])])')"
check_eq "the other branch's incident stays open" triggered "$(incident "$K2" 'i["state"]')"

# ---- 429 and 500: retried, in order (trigger, then its resolve) -----------------------------
control '{"fail": [{"status": 429, "retry_after": 1}, {"status": 500}]}'
K4=scan/acme/retry/main
scan acme/retry main scan.blocked blocked run-retry-1
scan acme/retry main scan.completed passed run-retry-2
check "after 429 and 500 the incident is triggered then resolved" wait_for 30 incident_is "$K4" resolved
check_eq "each sent once, trigger first" "trigger,resolve" \
    "$(events "$K4" | python3 -c 'import json,sys; print(",".join(e["event_action"] for e in json.load(sys.stdin)["events"]))')"
check_eq "429 and 500 seen" "1|1" \
    "$(curl -sf "$PD/_stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["statuses"].get("429",0), s["statuses"].get("500",0), sep="|")')"
check "the retry counted" test "$(metric 'hookfwd_sink_events_total{sink="scans",outcome="retried"}')" -ge 1

# ---- a summary past 1024 characters is cut, and accepted ----------------------------------
long=$(python3 -c 'print("\u00e9x" * 1500)')
post --source omega "{\"event\":\"decision.blocked\",\"timestamp\":\"2026-01-14T12:01:07Z\",\"decision\":{\"id\":\"dec_long\",\"outcome\":\"BLOCK\",\"riskScore\":0.9,\"scenario\":\"$long\",\"policyMatches\":[\"p\"],\"auditId\":\"aud_l\"}}"
K5=dec_long:decision.blocked
check "long decision accepted" wait_for 20 nevents_ge "$K5" 1
check_eq "summary cut to 1024 characters with a marker" "1024|True" \
    "$(event_field "$K5" 1 'str(len(e["event"]["payload"]["summary"])) + "|" + str(e["event"]["payload"]["summary"].endswith("\u2026"))')"
check_eq "receiver refused only the unknown key" "1" \
    "$(curl -sf "$PD/_stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for r in s["last_rejects"] if r["status"] == 400))')"

stop_agent
check "agent log names no routing key" bash -c "! grep -q '$KEY' '$WORK/agent.err'"
finish
