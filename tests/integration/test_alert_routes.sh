#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The routes of the shipped config/examples/alerts.yaml, taken as they are
# (sources and every sink's filter) with each sink replaced by a file of
# the same name, fed by `hookfwd send-test` for every event type: each
# sample must reach exactly the routes the real event of its type reaches
# (scan.blocked the incident channel and PagerDuty, scan.failed the ops
# channel, scan.skipped the digest, risky decisions the security channel),
# and carry what makes it that event (gate_status blocked with findings, an
# error_code, the decision's outcome and risk score).
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
ADMIN_PORT=$(free_port)
python3 - "$SOURCE_DIR/config/examples/alerts.yaml" "$WORK" "$PORT" "$ADMIN_PORT" >"$WORK/routes.yaml" <<'PY'
import json, sys, yaml
src, work, port, admin = sys.argv[1:]
c = yaml.safe_load(open(src))
out = {"listen": {"address": "127.0.0.1:" + port, "threads": 1},
       "admin": {"address": "127.0.0.1:" + admin},
       "storage": {"mode": "memory", "path": work + "/data"},
       "sources": c["sources"], "sinks": []}
for s in c["sinks"]:
    f = {"name": s["name"], "type": "file", "takes": "records", "path": "%s/%s.jsonl" % (work, s["name"]),
         "batch": {"flush_interval": "50ms"}}
    if "filter" in s:
        f["filter"] = s["filter"]
    out["sinks"].append(f)
# JSON is YAML: no re-quoting of ${...}
print(json.dumps(out, indent=1))
PY
check_eq "the example's routes load as file sinks" "configuration OK" \
    "$("$HOOKFWD_BIN" check -c "$WORK/routes.yaml" 2>/dev/null)"
start_agent "$WORK/routes.yaml" || exit 1

for e in scan.blocked scan.completed scan.failed scan.skipped; do
    check "send-test sentinelayer $e" "$HOOKFWD_BIN" send-test -c "$WORK/routes.yaml" --source sentinelayer --event "$e"
done
for e in decision.allowed decision.blocked decision.escalated fuzz.finding; do
    check "send-test omega $e" "$HOOKFWD_BIN" send-test -c "$WORK/routes.yaml" --source omega --event "$e"
done
lines() { [ -f "$WORK/$1.jsonl" ] && wc -l <"$WORK/$1.jsonl" || echo 0; }
wait_for 10 test "$(lines relay)" -ge 8
check_eq "the relay (no filter) got all eight" 8 "$(lines relay)"
stop_agent TERM   # drained: every file is complete

python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
def recs(name):
    p = os.path.join(work, name + ".jsonl")
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
def types(name):
    return sorted(r["event_type"] for r in recs(name))
want = {
    "slack-incidents": ["scan.blocked"],
    "pagerduty": ["scan.blocked", "scan.completed"],   # the passed scan.completed is the resolve
    "slack-ops": ["scan.failed"],
    "daily-digest": ["scan.skipped"],
    "slack-security": ["decision.blocked", "decision.escalated"],
}
bad = {k: types(k) for k, v in want.items() if types(k) != v}
assert not bad, bad
by = {r["event_type"]: r for r in recs("relay")}
b = by["scan.blocked"]["data"]
assert b["gate_status"] == "blocked" and b["total_findings"] > 0 and b["severity_counts.P0"] >= 1, b
assert by["scan.blocked"]["severity"] == "high"
assert by["scan.completed"]["data"]["gate_status"] == "passed"
f = by["scan.failed"]["data"]
assert f["gate_status"] == "error" and f["error_code"] == 2 and f["error_message"], f
assert by["scan.skipped"]["data"]["total_findings"] == 0
for ev, outcome, risky in (("decision.allowed", "ALLOW", False), ("decision.blocked", "BLOCK", True),
                           ("decision.escalated", "ESCALATE", True)):
    d = by[ev]["data"]
    assert d["decision.outcome"] == outcome, (ev, d)
    assert (d["decision.risk_score"] > 0.8) == risky, (ev, d)
assert by["decision.blocked"]["data"]["decision.policy_matches"] == ["destructive_action"]
assert by["fuzz.finding"]["severity"] == "critical", by["fuzz.finding"]
print("routes ok")
PY
check_eq "each sample reached exactly the routes of its real event, with its shape" 0 "$?"
finish
