#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The slack sink against tests/peers/slack_receiver.py (strict Block Kit
# checks, Slack's answers): routing by filter, the layouts on the fixtures,
# hostile values escaped, long values cut to Slack's limits and accepted,
# 429 and 5xx retried, 410 channel_is_archived to dead letters with Slack's
# reason, a storm folded into one summary message after max_per_minute,
# test-sink, and `check` without the secret.
. "$(dirname "$0")/lib.sh"

SLACK_LOG="$WORK/slack.jsonl"
HA=/services/T0HOOKFWD/B0INCIDENT/aaaaaaaaaaaaaaaaaaaaaaaa
HB=/services/T0HOOKFWD/B0ARCHIVED/bbbbbbbbbbbbbbbbbbbbbbbb
HC=/services/T0HOOKFWD/B0OPS/cccccccccccccccccccccccc
HD=/services/T0HOOKFWD/B0STORM/dddddddddddddddddddddddd
python3 "$SOURCE_DIR/tests/peers/slack_receiver.py" --port-file "$WORK/slack.port" --out "$SLACK_LOG" \
    --hook "$HA" --hook "$HB=channel_is_archived" --hook "$HC" --hook "$HD" >"$WORK/slack.out" 2>&1 &
PIDS_TO_KILL+=($!)
wait_for 10 test -s "$WORK/slack.port" || { echo "slack receiver did not start"; cat "$WORK/slack.out"; exit 1; }
SP=$(cat "$WORK/slack.port")
SLACK="http://127.0.0.1:$SP"
export SLACK_INCIDENT_URL="$SLACK$HA"

write_config "$WORK/hookfwd.yaml" "  - name: incident
    type: slack
    url: \"\${SLACK_INCIDENT_URL}\"
    filter:
      events: [scan.blocked, decision.blocked, decision.escalated]
      match: {repo: {ne: storm/repo}}
  - name: archived
    type: slack
    url: $SLACK$HB
    filter: {events: [scan.failed]}
    retry: {initial: 100ms}
  - name: ops
    type: slack
    url: $SLACK$HC
    text: \"*\${event_type}* \${data.repo}@\${data.branch}: \${data.error_message:-no message}\"
    blocks: none
    filter: {events: [scan.failed]}
  - name: storm
    type: slack
    url: $SLACK$HD
    max_per_minute: 3
    filter: {events: [scan.blocked], match: {repo: {eq: storm/repo}}}"

# messages a hook received, as JSON lines of {"text", "blocks"}
messages() {
    curl -sf "$SLACK/_messages?hook=$1" |
        python3 -c 'import json,sys; [print(json.dumps(m["message"] | {"markup": m["markup"]})) for m in json.load(sys.stdin)["messages"]]'
}
count() { messages "$1" | wc -l; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; } # HOOK N, for wait_for
metric_is() { [ "$(metric "$1")" = "$2" ]; }  # SERIES VALUE, for wait_for
# jq-like field of the Nth (1-based) message of a hook
msg_field() { # HOOK N PYEXPR (m is the message)
    messages "$1" | sed -n "${2}p" | python3 -c "import json,sys; m=json.load(sys.stdin); print($3)"
}
stat() { curl -sf "$SLACK/_stats" | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }
control() { curl -sf -X POST -H 'Content-Type: application/json' --data "$1" "$SLACK/_control" >/dev/null; }
post() { python3 "$SOURCE_DIR/tests/integration/post_signed.py" --port "$PORT" "$@" >/dev/null; }

# ---- check: the URL is a secret from the environment -----------------------
check_eq "check passes" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>/dev/null)"
out=$(env -u SLACK_INCIDENT_URL "$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>&1)
check "check without the secret fails at its line" grep -q "hookfwd.yaml:.*environment variable SLACK_INCIDENT_URL is not set" <<<"$out"

# ---- test-sink ---------------------------------------------------------------
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" incident 2>&1)
check_eq "test-sink incident delivered (exit 0)" "0:sink incident (slack): delivered" "$?:$out"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" archived 2>/dev/null)
rc=$?
check_eq "test-sink to an archived channel exits 1" 1 "$rc"
check "test-sink prints Slack's reason" grep -q "rejected: Slack answered 410 channel_is_archived" <<<"$out"
check_eq "test-sink message on the hook" 1 "$(count "$HA")"
control '{"reset": true}'

start_agent "$WORK/hookfwd.yaml" || exit 1

# ---- routing and layouts ------------------------------------------------------
for f in sentinelayer/scan.blocked.json omega/decision.blocked.json omega/decision.escalated.json \
    sentinelayer/scan.completed.json omega/decision.allowed.json sentinelayer/scan.failed.json; do
    post_fixture "$f" >/dev/null
done
check "incident channel gets its three events" wait_for 20 count_ge "$HA" 3
check "ops channel gets scan.failed" wait_for 20 count_ge "$HC" 1
wait_for 10 metric_is 'hookfwd_sink_events_total{sink="incident",outcome="delivered"}' 3
check_eq "nothing else routed to the incident channel" 3 "$(count "$HA")"
check_eq "incident texts, in order" \
    "scan.blocked: acme/payments fix/ledger gate blocked, 1 findings|decision.blocked: BLOCK (risk 0.97) Delete production database \"orders\" [cleanup]|decision.escalated: ESCALATE (risk 0.85) Transfer \$100k to new vendor" \
    "$(messages "$HA" | python3 -c 'import json,sys; print("|".join(json.loads(l)["text"] for l in sys.stdin))')"
check_eq "scan header" "scan.blocked: acme/payments (fix/ledger)" "$(msg_field "$HA" 1 'm["blocks"][0]["text"]["text"]')"
check_eq "scan findings field" "*Findings*\n1 (P0 1, P1 0, P2 0, P3 0, info 0)" \
    "$(msg_field "$HA" 1 'm["blocks"][1]["fields"][4]["text"].replace(chr(10), "\\n")')"
check_eq "decision fields" "*Matched policies*\ndestructive_action|*Audit*\n\`aud_b7720f\`" \
    "$(msg_field "$HA" 2 '"|".join(f["text"] for f in m["blocks"][2]["fields"][2:5:2]).replace(chr(10), "\\n")')"
check_eq "ops: text template, no blocks" \
    "*scan.failed* acme/backend@main: Missing required input: sentinelayer_token|False" \
    "$(msg_field "$HC" 1 'm["text"] + "|" + str("blocks" in m)')"

# ---- 410 channel_is_archived: dead letters with Slack's reason -----------------
DLQ="$WORK/data/dead-letter/archived.jsonl"
check "archived channel: dead letter written" wait_for 20 test -s "$DLQ"
check_eq "dead letter reason" "Slack answered 410 channel_is_archived|scan.failed" \
    "$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["reason"] + "|" + d["record"]["event_type"])' "$DLQ")"
check "dead counted" wait_for 10 metric_is 'hookfwd_sink_events_total{sink="archived",outcome="dead"}' 1

# ---- hostile values: escaped; long values: cut, and Slack accepts them ---------
post --source omega '{"event":"decision.blocked","timestamp":"2026-01-14T12:01:07Z","decision":{"id":"dec_hostile","outcome":"BLOCK","riskScore":0.99,"scenario":"<!channel> wire & <@U024BE7LH> <https://evil.test|log in> *now*","policyMatches":["<!here>"],"auditId":"aud_h"}}'
long=$(python3 -c 'print("\u00e9&<" * 4000)')
post --source omega "{\"event\":\"decision.escalated\",\"timestamp\":\"2026-01-14T12:01:07Z\",\"decision\":{\"id\":\"dec_long\",\"outcome\":\"$(printf 'E%.0s' $(seq 200))\",\"riskScore\":0.9,\"scenario\":\"$long\",\"policyMatches\":[\"p\"],\"auditId\":\"aud_l\"}}"
check "hostile and long messages accepted" wait_for 20 count_ge "$HA" 5
check_eq "no live mention, link or raw & from a field" "[]|[]|0" \
    "$(msg_field "$HA" 4 '"|".join([json.dumps(m["markup"]["mentions"]), json.dumps(m["markup"]["links"]), str(m["markup"]["raw_ampersands"])])')"
check "hostile scenario shown escaped" grep -qF '&lt;!channel&gt; wire &amp; &lt;@U024BE7LH&gt; &lt;https://evil.test|log in&gt; *now*' \
    <<<"$(msg_field "$HA" 4 'm["blocks"][1]["text"]["text"]')"
check_eq "long scenario cut to 3000 with a marker (never inside &amp;)" "True|True" \
    "$(msg_field "$HA" 5 'str(2995 <= len(m["blocks"][1]["text"]["text"]) <= 3000) + "|" + str(m["blocks"][1]["text"]["text"].endswith("\u2026"))')"
check_eq "long header cut to 150" 150 "$(msg_field "$HA" 5 'len(m["blocks"][0]["text"]["text"])')"
check_eq "receiver refused nothing on the incident hook" 0 "$(stat "sum(1 for r in s['last_rejects'] if r['hook'] == '$HA')")"
check "cut messages counted" wait_for 10 metric_is 'hookfwd_sink_truncated_total{sink="incident"}' 1

# ---- 429 with Retry-After, then 500: retried, delivered once ---------------------
control "{\"fail\": [{\"error\": \"rate_limited\", \"retry_after\": 1, \"hook\": \"$HA\"}, {\"status\": 500, \"hook\": \"$HA\"}]}"
post --source omega '{"event":"decision.escalated","timestamp":"2026-01-14T12:00:00Z","decision":{"id":"dec_retry","outcome":"ESCALATE","riskScore":0.8,"scenario":"retry me","policyMatches":["p"],"auditId":"aud_r"}}'
check "delivered after 429 and 500" wait_for 30 count_ge "$HA" 6
check_eq "one 429 and one 500 seen, message sent once" "1|1|1" \
    "$(curl -sf "$SLACK/_stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["statuses"].get("429",0), s["statuses"].get("500",0), sep="|", end="|")'; messages "$HA" | grep -c 'retry me')"
dead=$(metric 'hookfwd_sink_events_total{sink="incident",outcome="dead"}')
check_eq "not dead-lettered" 0 "${dead:-0}"
check_eq "both retries counted (outcome retried)" 2 "$(metric 'hookfwd_sink_events_total{sink="incident",outcome="retried"}')"

# ---- a storm: max_per_minute messages, then one summary --------------------------
control '{"rate_limit": {"per_second": 1, "burst": 1}}'
t0=$(date +%s)
post --source sentinelayer --count 30 '{"event_type":"scan.blocked","run_id":"storm-{n}","timestamp":"2026-02-23T10:20:00Z","repo":"storm/repo","branch":"main","commit_sha":"c3d4e5f6a7b8","pr_number":{n},"gate_status":"blocked","severity_counts":{"P0":1},"total_findings":1,"artifact_links":{},"estimated_cost_usd":"0.01"}'
check "storm: three messages at Slack's pace" wait_for 20 count_ge "$HD" 3
check "storm: the summary after the minute" wait_for 90 count_ge "$HD" 4
t1=$(date +%s)
check_eq "storm: exactly four messages" 4 "$(count "$HD")"
check_eq "storm: summary text" "27 more scan.blocked in the last minute, newest: scan.blocked: storm/repo main gate blocked, 1 findings" \
    "$(msg_field "$HD" 4 'm["text"]')"
check "storm: summary came about a minute after the burst" test $((t1 - t0)) -ge 55
check "storm: all 30 delivered" wait_for 10 metric_is 'hookfwd_sink_events_total{sink="storm",outcome="delivered"}' 30
dead=$(metric 'hookfwd_sink_events_total{sink="storm",outcome="dead"}')
check_eq "storm: none dead" 0 "${dead:-0}"
check_eq "storm: messages came at most one a second" 1 \
    "$(messages "$HD" >/dev/null; curl -sf "$SLACK/_messages?hook=$HD" | python3 -c 'import json,sys; t=[m["time"] for m in json.load(sys.stdin)["messages"]]; print(int(all(b-a >= 0.9 for a,b in zip(t,t[1:]))))')"

stop_agent
check "agent log names no webhook token" bash -c "! grep -q 'aaaaaaaaaaaaaaaaaaaaaaaa\|bbbbbbbbbbbbbbbbbbbbbbbb' '$WORK/agent.err'"
finish
