#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shipped dashboards against a running agent. An agent with two datadog
# sinks (one with a prefix, both with agent_metrics), a dogstatsd sink and a
# splunk_hec sink gets every fixture; then:
#   - the metric list the binary prints from its rule and health tables
#     (`hookfwd dashboard --metrics`) is exactly what the Datadog intake
#     peers, the DogStatsD socket and /metrics received;
#   - every widget and monitor queries only metrics (and tags, and tag
#     values) that were received, as shipped and as `hookfwd dashboard`
#     adapts them (prefix, DogStatsD, no agent_metrics, no source sharing
#     its dedup set in Redis: then no shared dedup group or monitor), and
#     agent_metrics' dedup-store counts add up to /metrics';
#   - the Datadog JSON deserializes strictly with the official client's
#     models (npm @datadog/datadog-api-client, installed into the build
#     directory), monitors too;
#   - the Grafana PromQL, parsed with Prometheus' grammar (npm
#     @prometheus-io/lezer-promql), names only series of the live /metrics
#     (the omega source shares its dedup set in Redis, so the shared dedup
#     row has its series; adapted to a config without Redis, it is left out);
#   - the Splunk app has the layout Splunk loads and its searches read only
#     fields the records the HEC peer received have;
#   - the binary holds the shipped files byte for byte, and the .tgz holds
#     the app.
# Exit 77 only when the npm registry cannot be reached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_redis.sh"

CHECKS="$SOURCE_DIR/tests/integration/dashboards"
DASH="$SOURCE_DIR/dashboards"
export DD_API_KEY=dd0123456789abcdef0123456789abcd HEC_TOKEN=12345678-1234-1234-1234-1234567890AB

# ---- the npm packages, once per build directory -----------------------------
NPM_DIR="$BUILD_DIR/npm-dashboards"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    not_ok "node and npm installed (packaging/install-deps.sh)"
    finish
fi
if ! cmp -s "$CHECKS/package.json" "$NPM_DIR/package.json" || [ ! -d "$NPM_DIR/node_modules/@datadog/datadog-api-client" ]; then
    if ! timeout 30 npm ping >/dev/null 2>&1; then
        echo "the npm registry cannot be reached: skipped"
        exit 77
    fi
    rm -rf "$NPM_DIR"
    mkdir -p "$NPM_DIR"
    cp "$CHECKS/package.json" "$NPM_DIR/package.json"
    if ! (cd "$NPM_DIR" && timeout 300 npm install --no-audit --no-fund --no-save --loglevel=error) >"$WORK/npm.log" 2>&1; then
        cat "$WORK/npm.log"
        rm -f "$NPM_DIR/package.json"
        not_ok "npm install of the checking packages"
        finish
    fi
fi
export NODE_PATH="$NPM_DIR/node_modules"
cp "$CHECKS/dd_strict.cjs" "$CHECKS/promql.mjs" "$NPM_DIR/" # ES modules resolve packages from their own folder
DD_STRICT="node $NPM_DIR/dd_strict.cjs"
PROMQL="node $NPM_DIR/promql.mjs"

# ---- the binary holds the shipped files --------------------------------------
for kind in datadog grafana splunk; do
    listed=$("$HOOKFWD_BIN" dashboard "$kind" --shipped --list | sort)
    found=$(cd "$DASH/$kind" && find . -type f | sed 's|^\./||' | sort)
    check_eq "$kind: --list names the files of dashboards/$kind" "$found" "$listed"
    same=0 differ=0
    for f in $listed; do
        if "$HOOKFWD_BIN" dashboard "$kind" --shipped --file "$f" | cmp -s - "$DASH/$kind/$f"; then
            same=$((same + 1))
        else
            differ=$((differ + 1))
            echo "# differs: $kind/$f"
        fi
    done
    check_eq "$kind: the $same embedded files are the shipped ones byte for byte" 0 "$differ"
done

# ---- peers --------------------------------------------------------------------
start_peer() { # start_peer NAME COMMAND...: waits for LISTENING PORT; sets PEER_PORT
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS_TO_KILL+=($!)
    wait_for 10 grep -q LISTENING "$WORK/$name.out" || { echo "$name did not start"; cat "$WORK/$name.err"; exit 1; }
    PEER_PORT=$(awk '/LISTENING/ {print $2; exit}' "$WORK/$name.out")
}
start_peer dd python3 "$SOURCE_DIR/tests/peers/datadog_receiver.py" --api-key "$DD_API_KEY" --port 0
DD_URL=http://127.0.0.1:$PEER_PORT
start_peer dd_acme python3 "$SOURCE_DIR/tests/peers/datadog_receiver.py" --api-key "$DD_API_KEY" --port 0
DD_ACME_URL=http://127.0.0.1:$PEER_PORT
start_peer hec python3 "$SOURCE_DIR/tests/peers/hec_receiver.py" --token "$HEC_TOKEN" --port 0 --indexes main,security
HEC_URL=http://127.0.0.1:$PEER_PORT
start_peer dsd python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("LISTENING", s.getsockname()[1], flush=True)
out = open(sys.argv[1], "a")
while True:
    out.write(s.recv(70000).decode("utf-8", "replace") + "\n")
    out.flush()' "$WORK/dogstatsd.txt"
DSD_PORT=$PEER_PORT

dd_sink() { # dd_sink NAME URL EXTRA
    printf '  - name: %s\n    type: datadog\n    api_key: "${DD_API_KEY}"\n    url: %s\n    interval: 1s\n    batch: {flush_interval: 100ms}\n    retry: {initial: 200ms, max: 1s}\n%s\n' "$1" "$2" "$3"
}
SINKS="$(dd_sink dd "$DD_URL" "    agent_metrics: true")
$(dd_sink dd_acme "$DD_ACME_URL" "    agent_metrics: true
    prefix: acme")
  - name: dsd
    type: dogstatsd
    address: udp://127.0.0.1:$DSD_PORT
    batch: {flush_interval: 100ms}
  - name: siem
    type: splunk_hec
    url: $HEC_URL
    token: \"\${HEC_TOKEN}\"
    index: security
    takes: records
    batch: {flush_interval: 100ms}"
write_config "$WORK/hookfwd.yaml" "$SINKS"
redis_start || exit 1
# omega shares its dedup set in Redis: the dedup store's series for Grafana
sed -i "/header: X-Omega-Signature/a\\    dedup: {window: 24h, store: redis, redis: {url: \"$REDIS_URL\"}}" "$WORK/hookfwd.yaml"
check_eq "the test config's omega source uses the shared dedup store" 1 "$(grep -c 'store: redis' "$WORK/hookfwd.yaml")"
start_agent "$WORK/hookfwd.yaml" || exit 1

# ---- every fixture, a repeat and a forged one -----------------------------------
posted=0
while IFS=$'\t' read -r file _; do
    [ "$file" = file ] && continue
    post_fixture "$file" >/dev/null
    posted=$((posted + 1))
done <"$FIXTURES/signatures.tsv"
post_fixture omega/decision.escalated.json >/dev/null # a duplicate
check_eq "401 for the tampered fixture is counted" 1 \
    "$(metric 'hookfwd_requests_total{source="omega",status="401"}')"
echo "# posted $posted fixtures"

"$HOOKFWD_BIN" dashboard --metrics -c "$WORK/hookfwd.yaml" >"$WORK/metrics.tsv"
"$HOOKFWD_BIN" dashboard --metrics >"$WORK/metrics-builtin.tsv"
emitted_dd() {
    python3 "$CHECKS/check_datadog.py" emitted --receiver "$DD_URL" --receiver "$DD_ACME_URL" --out "$WORK/dd.json" \
        >/dev/null && python3 "$CHECKS/check_datadog.py" table --metrics "$WORK/metrics.tsv" --kind datadog \
        --emitted "$WORK/dd.json" >"$WORK/dd-table.out"
}
# the agent's health goes once an interval, after the first whole one
if wait_for 30 emitted_dd; then ok "datadog: what the intake peers received is what --metrics lists"; else
    not_ok "datadog: what the intake peers received is what --metrics lists"; cat "$WORK/dd-table.out"; fi
echo "# $(head -1 "$WORK/dd-table.out")"
emitted_dsd() {
    python3 "$CHECKS/check_datadog.py" emitted --dogstatsd "$WORK/dogstatsd.txt" --out "$WORK/dsd.json" >/dev/null &&
        python3 "$CHECKS/check_datadog.py" table --metrics "$WORK/metrics.tsv" --kind dogstatsd \
            --emitted "$WORK/dsd.json" >"$WORK/dsd-table.out"
}
if wait_for 20 emitted_dsd; then ok "dogstatsd: the lines received are what --metrics lists"; else
    not_ok "dogstatsd: the lines received are what --metrics lists"; cat "$WORK/dsd-table.out"; fi
# the built-in list (no -c) is the configured one without the prefixed copies
check_eq "--metrics without -c lists the built-in rules and the health table" \
    "$(grep -v 'acme\.' "$WORK/metrics.tsv" | sort)" "$(sort "$WORK/metrics-builtin.tsv")"
curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" >"$WORK/live.prom"
wait_for 20 sh -c "curl -s '$HEC_URL/_events' | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)[\"events\"]) < 10)'" ||
    not_ok "the HEC peer received the 10 records"

# ---- Datadog ---------------------------------------------------------------------
dd_check() { # dd_check NAME EMITTED [--prefix P] FILES...: queries, then strict models
    local name=$1 emitted=$2
    shift 2
    local pre=()
    if [ "$1" = --prefix ]; then pre=(--prefix "$2"); shift 2; fi
    local args=(Dashboard "$1")
    shift
    [ $# -gt 0 ] && args+=(Monitor "$@")
    if python3 "$CHECKS/check_datadog.py" queries --emitted "$emitted" "${pre[@]}" "${args[@]}" >"$WORK/q.out" 2>&1; then
        ok "$name: every query names metrics, tags and values the agent sent"
    else
        not_ok "$name: queries"
        cat "$WORK/q.out"
    fi
    echo "# $(grep -v PROBLEM "$WORK/q.out" | head -1)"
    if $DD_STRICT "${args[@]}" >"$WORK/strict.out" 2>&1; then
        ok "$name: deserializes strictly with @datadog/datadog-api-client ($(grep -c '^ok' "$WORK/strict.out") files)"
    else
        not_ok "$name: strict deserialization"
        cat "$WORK/strict.out"
    fi
}
dd_check "shipped Datadog dashboard and monitors" "$WORK/dd.json" "$DASH/datadog/hookfwd-security.json" \
    "$DASH"/datadog/monitors/*.json
check "the shipped dashboard has the agent's health (agent_metrics)" grep -q 'hookfwd\.sink\.events' \
    "$DASH/datadog/hookfwd-security.json"
# agent_metrics forwards the shared dedup store's counters (the repeats
# posted above are caught by the agent's own set before Redis is asked)
dd_sum() { # dd_sum METRIC TAG...: the sum of the points the first intake peer received
    python3 - "$DD_URL" "$@" <<'PY'
import json, sys, urllib.request
url, metric, *tags = sys.argv[1:]
data = json.load(urllib.request.urlopen("%s/_series?metric=%s" % (url, metric)))
print(int(sum(p["value"] for s in data["series"] if all(t in s.get("tags", []) for t in tags) for p in s["points"])))
PY
}
prom_claims() {
    echo "$(metric 'hookfwd_dedup_store_claims_total{source="omega",result="new"}')" \
        "$(metric 'hookfwd_dedup_store_claims_total{source="omega",result="duplicate"}')"
}
dd_claims() {
    echo "$(dd_sum hookfwd.dedup_store.claims source:omega result:new)" \
        "$(dd_sum hookfwd.dedup_store.claims source:omega result:duplicate)"
}
claims_forwarded() { [ "$(dd_claims)" = "$(prom_claims)" ]; }
wait_for 20 claims_forwarded
check_eq "agent_metrics: hookfwd.dedup_store.claims sums to /metrics' counts (omega: new, duplicate)" \
    "$(prom_claims)" "$(dd_claims)"
check "and the omega events were claimed in Redis (new > 0)" \
    test "$(dd_sum hookfwd.dedup_store.claims source:omega result:new)" -gt 0
check_eq "agent_metrics: no Redis errors, no decision without Redis" "0 0" \
    "$(dd_sum hookfwd.dedup_store.errors source:omega) $(dd_sum hookfwd.dedup_store.fallback source:omega)"
check "the shipped Datadog dashboard has the shared dedup group" grep -q 'hookfwd\.dedup_store\.claims' \
    "$DASH/datadog/hookfwd-security.json"

# adapted: the config above (its first datadog sink: no prefix, agent_metrics)
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/hookfwd.yaml" -o "$WORK/dd-plain" 2>/dev/null
dd_check "adapted to the test config" "$WORK/dd.json" "$WORK/dd-plain/hookfwd-security.json" \
    "$WORK"/dd-plain/monitors/*.json
check_eq "adapted: the source variable offers the configured sources" '["omega","sentinelayer"]' \
    "$(jq -c '.template_variables[] | select(.name == "source") | .available_values' "$WORK/dd-plain/hookfwd-security.json")"

# adapted: the prefixed sink first
python3 - "$WORK/hookfwd.yaml" "$WORK/acme.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
head, sinks = text.split("sinks:\n", 1)
blocks = ["  - " + b for b in sinks.split("  - ")[1:]]
blocks.sort(key=lambda b: "prefix: acme" not in b)   # the prefixed datadog sink first
open(sys.argv[2], "w").write(head + "sinks:\n" + "".join(blocks))
PY
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/acme.yaml" -o "$WORK/dd-acme" 2>/dev/null
dd_check "adapted to prefix acme" "$WORK/dd.json" --prefix acme "$WORK/dd-acme/hookfwd-security.json" \
    "$WORK"/dd-acme/monitors/*.json
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/acme.yaml" >"$WORK/dd-acme-stdout.json" 2>/dev/null
check "printed (not -o) it is the same dashboard" cmp -s "$WORK/dd-acme-stdout.json" "$WORK/dd-acme/hookfwd-security.json"

# adapted: metrics through DogStatsD only (no datadog sink): true distributions
python3 - "$WORK/hookfwd.yaml" "$WORK/dsd.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
head, sinks = text.split("sinks:\n", 1)
blocks = ["  - " + b for b in sinks.split("  - ")[1:] if "type: datadog" not in b]
open(sys.argv[2], "w").write(head + "sinks:\n" + "".join(blocks))
PY
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/dsd.yaml" -o "$WORK/dd-dsd" 2>"$WORK/dd-dsd.err"
dd_check "adapted to DogStatsD" "$WORK/dsd.json" "$WORK/dd-dsd/hookfwd-security.json" "$WORK"/dd-dsd/monitors/*.json
check "DogStatsD: the risk score has p50 and p95" grep -q 'p95:omega.decision.risk_score{' \
    "$WORK/dd-dsd/hookfwd-security.json"
check "no agent_metrics: no widget of the agent's health" sh -c "! grep -q 'hookfwd\.' '$WORK/dd-dsd/hookfwd-security.json'"
check_eq "no agent_metrics: the three monitors of agent metrics are left out" \
    "blocked-scan-protected-branch.json calibration-drift.json escalation-burst.json" \
    "$(cd "$WORK/dd-dsd/monitors" && echo *)"
check "and it says so" grep -q 'agent_metrics' "$WORK/dd-dsd.err"
check_eq "--list names the files -o wrote for that config" "$(cd "$WORK/dd-dsd" && find . -type f | sed 's|^\./||' | sort)" \
    "$("$HOOKFWD_BIN" dashboard datadog -c "$WORK/dsd.yaml" --list 2>/dev/null | sort)"
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/dsd.yaml" --file monitors/dead-letters.json >"$WORK/left.out" 2>"$WORK/left.err"
left_rc=$?
check_eq "--file of a left-out monitor: status 1, nothing on stdout, the reason" "1 0 1" \
    "$left_rc $(wc -c <"$WORK/left.out") $(grep -c 'dead-letters.json is left out for' "$WORK/left.err")"

# adapted: no source with the Sentinelayer profile: no scan widgets or monitor
python3 - "$WORK/hookfwd.yaml" "$WORK/omega-only.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"  - name: sentinelayer\n(    .*\n)*", "", text, count=1)
open(sys.argv[2], "w").write(text)
PY
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/omega-only.yaml" -o "$WORK/dd-omega" 2>"$WORK/dd-omega.err"
dd_check "adapted to an OmegaEngine source alone" "$WORK/dd.json" "$WORK/dd-omega/hookfwd-security.json" \
    "$WORK"/dd-omega/monitors/*.json
check_eq "no Sentinelayer source: no scan query, the scan monitor left out" \
    "0 calibration-drift.json dead-letters.json escalation-burst.json shared-dedup-unreachable.json signature-failures.json" \
    "$(grep -c sentinelayer "$WORK/dd-omega/hookfwd-security.json") $(cd "$WORK/dd-omega/monitors" && echo *)"

# the checks can fail: a metric the agent does not send, a tag it lacks, a typo in a value
jq '.widgets[0].definition.widgets[0].definition.requests[0].queries[0].query = "sum:omega.decision.counts{$source}.as_count()"' \
    "$DASH/datadog/hookfwd-security.json" >"$WORK/bad1.json"
jq '.query = "sum(last_5m):sum:hookfwd.requests{status:401} by {source,sink}.as_count() > 20"' \
    "$DASH/datadog/monitors/signature-failures.json" >"$WORK/bad2.json"
jq '.query = "sum(last_5m):sum:sentinelayer.scan.count{gate_status:blockd,branch:main} by {repo,branch}.as_count() > 0"' \
    "$DASH/datadog/monitors/blocked-scan-protected-branch.json" >"$WORK/bad3.json"
python3 "$CHECKS/check_datadog.py" queries --emitted "$WORK/dd.json" Dashboard "$WORK/bad1.json" \
    Monitor "$WORK/bad2.json" "$WORK/bad3.json" >"$WORK/bad.out"
check_eq "the query check refuses an unknown metric, tag and value" 3 "$(grep -c PROBLEM "$WORK/bad.out")"
jq '.widgets[1].definition.widgets[0].definition.requests[0].display_type = "barz"' \
    "$DASH/datadog/hookfwd-security.json" >"$WORK/bad4.json"
check "the strict deserialization refuses a bad enum value" sh -c "! $DD_STRICT Dashboard '$WORK/bad4.json' >/dev/null"

# ---- Grafana --------------------------------------------------------------------
grafana_check() {
    if python3 "$CHECKS/check_grafana.py" --metrics "$WORK/live.prom" --promql "$PROMQL" --table "$WORK/metrics.tsv" \
            "$2" >"$WORK/g.out" 2>&1; then
        ok "$1: PromQL names only series and labels of the live /metrics; layout and datasource variable"
    else
        not_ok "$1"
        cat "$WORK/g.out"
    fi
    grep -v PROBLEM "$WORK/g.out" | sed 's/^/# /'
}
grafana_check "shipped Grafana dashboard" "$DASH/grafana/hookfwd-agent.json"
"$HOOKFWD_BIN" dashboard grafana -c "$WORK/hookfwd.yaml" >"$WORK/grafana.json"
grafana_check "Grafana adapted to the test config" "$WORK/grafana.json"
check "the shipped and the adapted Grafana dashboards have the shared dedup row" \
    grep -q 'hookfwd_dedup_store_claims_total' "$DASH/grafana/hookfwd-agent.json" "$WORK/grafana.json"
grep -v 'store: redis' "$WORK/hookfwd.yaml" >"$WORK/local-dedup.yaml"
"$HOOKFWD_BIN" dashboard grafana -c "$WORK/local-dedup.yaml" >"$WORK/grafana-local.json"
check_eq "adapted to a config without Redis: no shared dedup row or panels, the others kept" \
    "0 $(($(jq '.panels | length' "$DASH/grafana/hookfwd-agent.json") - 4))" \
    "$(grep -c 'hookfwd_dedup_store\|Shared dedup' "$WORK/grafana-local.json") $(jq '.panels | length' "$WORK/grafana-local.json")"
grafana_check "Grafana adapted to a config without Redis" "$WORK/grafana-local.json"
check_eq "--metrics of a config without Redis: no dedup store families" 0 \
    "$("$HOOKFWD_BIN" dashboard --metrics -c "$WORK/local-dedup.yaml" | grep -c dedup_store)"
"$HOOKFWD_BIN" dashboard datadog -c "$WORK/local-dedup.yaml" -o "$WORK/dd-local" 2>"$WORK/dd-local.err"
check_eq "Datadog adapted to a config without Redis: no shared dedup group, the agent's health kept" "0 1" \
    "$(grep -c 'dedup_store\|Shared dedup' "$WORK/dd-local/hookfwd-security.json") $(grep -c 'hookfwd\.sink\.events{\*} by' "$WORK/dd-local/hookfwd-security.json")"
check_eq "and no shared dedup monitor, the agent's other monitors kept, and it says why" \
    "blocked-scan-protected-branch.json calibration-drift.json dead-letters.json escalation-burst.json signature-failures.json 1" \
    "$(cd "$WORK/dd-local/monitors" && echo *) $(grep -c 'shared-dedup-unreachable.json left out.*dedup.store: redis' "$WORK/dd-local.err")"
sed 's/hookfwd_sink_queue_events{/hookfwd_sink_queue_depth{/' "$DASH/grafana/hookfwd-agent.json" >"$WORK/gbad.json"
check "the PromQL check refuses a series /metrics does not have" sh -c \
    "! python3 '$CHECKS/check_grafana.py' --metrics '$WORK/live.prom' --promql '$PROMQL' '$WORK/gbad.json' >/dev/null"

# ---- Splunk ---------------------------------------------------------------------
curl -sf "$HEC_URL/_events" | python3 -c '
import json, sys
evs = json.load(sys.stdin)["events"]
with open(sys.argv[1], "w") as out:
    for e in evs:
        out.write(json.dumps(e["event"]) + "\n")
print(",".join(sorted({e["sourcetype"] for e in evs})))
print(",".join(sorted({e.get("index", "") for e in evs})))' "$WORK/records.jsonl" >"$WORK/hec.meta"
SOURCETYPES=$(sed -n 1p "$WORK/hec.meta")
check_eq "HEC events went to the index security" security "$(sed -n 2p "$WORK/hec.meta")"
VERSION=$("$HOOKFWD_BIN" version | awk 'NR == 1 {print $2}')
splunk_check() { # splunk_check NAME APPDIR [ARGS]
    local name=$1 app=$2
    shift 2
    if python3 "$CHECKS/check_splunk.py" --app "$app" --records "$WORK/records.jsonl" --sourcetypes "$SOURCETYPES" \
            --version "$VERSION" "$@" >"$WORK/s.out" 2>&1; then
        ok "$name: app layout, dashboard and alerts over the records' fields"
    else
        not_ok "$name"
        cat "$WORK/s.out"
    fi
    grep -v PROBLEM "$WORK/s.out" | sed 's/^/# /'
}
splunk_check "shipped Splunk app (and hookfwd_app.tgz)" "$DASH/splunk/hookfwd_app" --tgz "$BUILD_DIR/dashboards/hookfwd_app.tgz"
"$HOOKFWD_BIN" dashboard splunk -c "$WORK/hookfwd.yaml" -o "$WORK/splunk" 2>/dev/null
splunk_check "Splunk app adapted to the test config" "$WORK/splunk/hookfwd_app" --index security
"$HOOKFWD_BIN" dashboard splunk -c "$WORK/hookfwd.yaml" >"$WORK/view.xml"
python3 - "$WORK/view.xml" >"$WORK/view.out" <<'PY'
import json, sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
d = json.loads(doc.getElementsByTagName("definition")[0].firstChild.data)
qs = [ds["options"]["query"] for ds in d["dataSources"].values()]
print(sum("`" in q for q in qs), sum(q.startswith('index=security sourcetype="hookfwd:*" ') for q in qs), len(qs))
PY
read -r with_macros from_index nq <"$WORK/view.out"
check_eq "printed, the dashboard's $nq searches have their macros expanded" "0 $nq" "$with_macros $from_index"
mkdir -p "$WORK/bad"
cp -r "$DASH/splunk/hookfwd_app" "$WORK/bad/"
sed -i 's/by data.decision.outcome/by data.decision.outcomes/' "$WORK/bad/hookfwd_app/default/data/ui/views/hookfwd_security.xml"
python3 "$CHECKS/check_splunk.py" --app "$WORK/bad/hookfwd_app" --records "$WORK/records.jsonl" >"$WORK/bad-s.out"
check_eq "the field check refuses a field records do not have (and only that)" \
    "PROBLEM: hookfwd_security.xml ds_decisions: reads field data.decision.outcomes, which no record has and no earlier command made" \
    "$(grep PROBLEM "$WORK/bad-s.out")"

stop_agent
finish
