#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile input against the real binary (issue 11): Standard Webhooks replay
# protection, 500,000 nested arrays answered 401 before any parsing with flat
# RSS, a chunked body dribbled in 1-byte chunks at bounded CPU, slowloris
# (1,000 dribbling connections) beside a good sender, the connection cap
# (503), and a corpus of >= 10,000 malformed requests with three numbers:
# crashes, unsigned bodies accepted, good requests served afterwards. The
# clients are in hostile.py; they sign with Python's hmac.
. "$(dirname "$0")/lib.sh"

HOSTILE="python3 $(dirname "$0")/hostile.py"
CORPUS_SIZE=${HOSTILE_CORPUS_SIZE:-10000}
SLOW_CONNS=1000
MAX_CONNS=1100

if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((MAX_CONNS + SLOW_CONNS + 200)) ]; then
    echo "skipped: the open-file limit ($(ulimit -Hn)) is too low for $MAX_CONNS connections"
    exit 77
fi
ulimit -n $((MAX_CONNS * 2 + 500))

PORT=$(free_port)
ADMIN_PORT=$(free_port)
OUT=$WORK/records.jsonl
cat >"$WORK/hookfwd.yaml" <<YAML
listen:
  address: 127.0.0.1:$PORT
  threads: 2
  read_timeout: 2s
  max_connections: $MAX_CONNS
  max_body: 2MiB
  max_header: 8KiB
admin:
  address: 127.0.0.1:$ADMIN_PORT
storage:
  mode: memory
  path: $WORK/data
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: ["\${OMEGA_SECRET}"]}
  - name: sentinelayer
    path: /webhooks/sentinelayer
    profile: sentinelayer
    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: ["\${SL_SECRET}"]}
  - name: other
    path: /webhooks/other
    event_field: type
    id_field: id
    signature: {scheme: standard-webhooks, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], tolerance: 5m}
    dedup: {window: 1h}
sinks:
  - name: archive
    type: file
    path: $OUT
    takes: records
    batch: {max_events: 1000, flush_interval: 100ms}
YAML

# RSS is compared below; under ASan the quarantine would hold every freed
# 1 MB body and look like growth (no effect on other builds)
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0"
start_agent "$WORK/hookfwd.yaml" || exit 1
PID=$AGENT_PID
# fields FILE EXPR...: one line per Python expression over the JSON in FILE (as d)
fields() {
    python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    print(eval(e, {"json": json}, {"d": d}))
PY
}
fds() { ls "/proc/$PID/fd" 2>/dev/null | wc -l; }
ACCEPTED=0 # 202 answers, to compare with the records the sink wrote

echo "--- ${SECONDS}s: replay protection"
# ---- (d) replay protection: tolerance 5m, dedup on webhook-id ----
$HOSTILE replay "$PORT" | tail -n 1 >"$WORK/replay.json"
cases=("fresh" "same webhook-id again" "same webhook-id, other body" "6 minutes old" "6 minutes ahead" "a day old"
    "4 minutes old" "wrong signature")
want=(202 200 200 401 401 401 202 401)
exprs=()
for c in "${cases[@]}"; do exprs+=("d[\"$c\"]"); done
mapfile -t got < <(fields "$WORK/replay.json" "${exprs[@]}")
for i in "${!cases[@]}"; do
    check_eq "standard webhooks: ${cases[$i]} is ${want[$i]}" "${want[$i]}" "${got[$i]:-}"
done
ACCEPTED=$((ACCEPTED + 2))

echo "--- ${SECONDS}s: strict framing"
# ---- strict HTTP/1.1 framing (INTERFACE.md): each malformed shape, signed,
# with a well-framed signed request behind it on the same connection: 400
# (501/505 where the contract allows), one answer, then the agent closes ----
$HOSTILE framing "$PORT" | tail -n 1 >"$WORK/framing.json"
while IFS='|' read -r fcase fstatus fanswers fclosed fok; do
    case $fcase in
    control:*) what="framing $fcase: 202, one answer, then closed" ;;
    *) what="framing: $fcase is refused with one answer and the connection closed" ;;
    esac
    if [ "$fok" = True ]; then ok "$what ($fstatus)"; else not_ok "$what: got $fstatus, $fanswers answer(s), closed $fclosed"; fi
done < <(python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    print("|".join(str(x) for x in (c["case"], c["status"], c["answers"], c["closed"], c["ok"])))' "$WORK/framing.json")
# every 202 (the controls', and any a lenient reader gave) made a record
ACCEPTED=$((ACCEPTED + $(fields "$WORK/framing.json" 'sum(s == 202 for c in d["cases"] for s in c["statuses"])')))

echo "--- ${SECONDS}s: signature before parse"
# ---- (b) signature before parse: 500,000 nested arrays ----
$HOSTILE nested "$PORT" "$PID" | tail -n 1 >"$WORK/nested.json"
mapfile -t nv < <(fields "$WORK/nested.json" \
    'd["cases"][0]["case"]' 'd["cases"][0]["status"]' 'd["cases"][0]["ms_last"]' \
    'd["cases"][1]["case"]' 'd["cases"][1]["status"]' 'd["cases"][1]["ms_last"]' \
    'd["cases"][2]["case"]' 'd["cases"][2]["status"]' 'd["cases"][2]["ms_last"]' \
    'json.loads(d["cases"][0]["answer"])["error"]' 'json.loads(d["cases"][1]["answer"])["error"]' \
    'd["rss_before_kib"]' 'd["rss_after_kib"]' 'd["signed"]["status"]' 'd["signed"]["answer"]' 'd["signed"]["ms"]' \
    'd["rss_after_signed_kib"]')
for i in 0 1 2; do
    name=${nv[$((i * 3))]} st=${nv[$((i * 3 + 1))]} ms=${nv[$((i * 3 + 2))]}
    check_eq "nested arrays ($name, 10 requests of 1,000,000 bytes): 401" 401 "$st"
    check "nested arrays ($name): answered in under 1 s ($ms ms)" awk -v ms="$ms" 'BEGIN {exit !(ms < 1000)}'
done
check_eq "nested arrays unsigned: the reason is the signature, not the JSON" "missing signature" "${nv[9]}"
check_eq "nested arrays, wrong signature: the reason is the signature" "signature does not match the body" "${nv[10]}"
rss0=${nv[11]} rss1=${nv[12]}
echo "VmRSS before 30 nested-array requests: $rss0 KiB, after: $rss1 KiB (growth $((rss1 - rss0)) KiB)"
check "RSS stays flat over 30 nested-array requests (growth under 4 MiB)" test $((rss1 - rss0)) -lt 4096
check_eq "signed nested arrays reach the parser and are 400" 400 "${nv[13]}"
echo "signed 500,000-deep body: ${nv[14]} in ${nv[15]} ms; VmRSS after it ${nv[16]} KiB"

# a chunked body in 1-byte chunks, a few hundred bytes per read: the
# agent must not re-read the whole body on every read (that was O(n^2):
# seconds of CPU for one such upload)
$HOSTILE dribble "$PORT" "$PID" | tail -n 1 >"$WORK/dribble.json"
mapfile -t dv < <(fields "$WORK/dribble.json" 'd["status"]' 'd["agent_cpu_s"]' 'd["wall_s"]')
echo "480 KB of 1-byte chunks over ${dv[2]} s cost the agent ${dv[1]} s of CPU"
check_eq "chunked dribble (unsigned) is 401" 401 "${dv[0]}"
check "chunked dribble costs the agent under 0.5 s of CPU (${dv[1]} s)" awk -v c="${dv[1]}" 'BEGIN {exit !(c < 0.5)}'

echo "--- ${SECONDS}s: slowloris"
# ---- (a) slowloris beside a good sender ----
base_fds=$(fds)
$HOSTILE slowloris "$PORT" $SLOW_CONNS 16 "$WORK/slow.ready" >"$WORK/slow.json" 2>"$WORK/slow.err" &
SLOW_PID=$!
PIDS_TO_KILL+=("$SLOW_PID")
check "slowloris: $SLOW_CONNS connections open" wait_for 15 test -s "$WORK/slow.ready"
check "slowloris: the agent holds them (fds >= $SLOW_CONNS)" wait_for 5 test "$(fds)" -ge $SLOW_CONNS
echo "agent fds during slowloris: $(fds) (before: $base_fds)"
$HOSTILE good "$PORT" 10 | tail -n 1 >"$WORK/good.json"
wait "$SLOW_PID"
cat "$WORK/good.json" "$WORK/slow.json"
mapfile -t gv < <(fields "$WORK/good.json" 'd["requests"]' 'd["codes"].get("202", 0)' 'd["ms_p50"]' 'd["ms_p99"]' 'd["ms_max"]')
mapfile -t sv < <(fields "$WORK/slow.json" 'd["open_avg"]' 'd["open_min"]' 'd["answered"].get("408", 0)' 'sorted(d["answered"])')
echo "good sender during slowloris: ${gv[0]} requests, p50 ${gv[2]} ms, p99 ${gv[3]} ms, max ${gv[4]} ms"
check "good sender: some requests were made (${gv[0]})" test "${gv[0]}" -ge 10
check_eq "good sender: every request answered 202 during slowloris" "${gv[0]}" "${gv[1]}"
check "good sender: p99 latency under 1 s (${gv[3]} ms)" awk -v ms="${gv[3]}" 'BEGIN {exit !(ms < 1000)}'
check "slowloris: ~$SLOW_CONNS connections open on average (${sv[0]}, min ${sv[1]})" \
    awk -v n="${sv[0]}" -v want=$((SLOW_CONNS * 8 / 10)) 'BEGIN {exit !(n >= want)}'
check "slowloris: the read deadline answered 408 and closed dribbling requests (${sv[2]})" test "${sv[2]}" -ge $SLOW_CONNS
check_eq "slowloris: nothing else answered them" "['408']" "${sv[3]}"
ACCEPTED=$((ACCEPTED + gv[1]))

echo "--- ${SECONDS}s: connection cap"
# connections over max_connections: an immediate 503
check "connections drain after slowloris" wait_for 10 test "$(fds)" -le $((base_fds + 5))
$HOSTILE maxconn "$PORT" $((MAX_CONNS + 100)) | tail -n 1 >"$WORK/maxconn.json"
cat "$WORK/maxconn.json"
check_eq "connections past max_connections ($MAX_CONNS) get 503" 100 "$(fields "$WORK/maxconn.json" 'd["answered_503"]')"
check "connections drain after the cap test" wait_for 10 test "$(fds)" -le $((base_fds + 5))

echo "--- ${SECONDS}s: hostile corpus"
# ---- (c) the hostile corpus ----
$HOSTILE corpus "$PORT" "$PID" "$FIXTURES" "$CORPUS_SIZE" | tail -n 1 >"$WORK/corpus.json"
mapfile -t cv < <(fields "$WORK/corpus.json" 'd["requests"]' 'd["crashes"]' 'd["unsigned_accepted"]' 'd["accepted_202"]' \
    'd["signed_malformed_accepted"]' 'd["seconds"]' 'd["statuses"]' 'd["violations"]')
fields "$WORK/corpus.json" '"\n".join(f"  {k}: {v}" for k, v in sorted(d["by_category"].items()))'
echo "statuses: ${cv[6]}; ${cv[5]} s"
[ "${cv[7]}" = "[]" ] || echo "violations: ${cv[7]}"
requests=${cv[0]} crashes=${cv[1]} unsigned=${cv[2]}
kill -0 "$PID" 2>/dev/null || crashes=$((crashes > 0 ? crashes : 1))
good_n=20
good_ok=0
for i in $(seq 1 $good_n); do
    body="{\"event\":\"decision.allowed\",\"decision\":{\"id\":\"after-$i-$$\",\"outcome\":\"ALLOW\"}}"
    sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$OMEGA_SECRET" -r | cut -d' ' -f1)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Omega-Signature: sha256=$sig" --data-binary "$body" \
        "http://127.0.0.1:$PORT/webhooks/omega")
    [ "$code" = 202 ] && good_ok=$((good_ok + 1))
done
echo "malformed requests sent: $requests"
echo "crashes: $crashes"
echo "accepted without a valid signature: $unsigned"
echo "good requests served afterwards: $good_ok/$good_n"
check "at least 10,000 malformed requests" test "$requests" -ge 10000
check_eq "crashes" 0 "$crashes"
check_eq "accepted without a valid signature" 0 "$unsigned"
check_eq "good requests served afterwards" "$good_n/$good_n" "$good_ok/$good_n"
check_eq "signed bodies with invalid UTF-8 (overlong, surrogates too) accepted" 0 "${cv[4]}"
ACCEPTED=$((ACCEPTED + cv[3] + good_ok))

echo "--- ${SECONDS}s: drain"
# everything answered 202 reached the sink once, nothing else did, and every
# record is strict UTF-8 JSON whatever the bodies held
stop_agent TERM
check_eq "agent exits 0 after all that" 0 "$?"
check_eq "records written equal the 202 answers" "$ACCEPTED" "$(wc -l <"$OUT")"
check "every record is strict UTF-8 JSON" python3 -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    json.loads(line.decode("utf-8", errors="strict"))' "$OUT"
check "no sanitizer report in the agent's log" sh -c "! grep -q 'Sanitizer' '$WORK/agent.err'"
finish
