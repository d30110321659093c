#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kafka sink against librdkafka's mock cluster (tests/peers/kafka_mock),
# read back with real consumers (tests/peers/kafka_consume, kcat): the
# fixtures' keys, headers and values, metric points, `check` and
# `test-sink`; then injected Produce errors, brokers down and back, refused
# messages into the dead letters, a full producer queue, a fatal producer
# error, and a shutdown with brokers down that leaves events in the journal.
. "$(dirname "$0")/lib.sh"

for tool in python3 jq; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing"; exit 77; }
done
"$HOOKFWD_BIN" version | grep -q '^  sinks:.* kafka' || { echo "SKIP: built without the kafka sink"; exit 77; }

MOCK=${BUILD_DIR:-}/tests/peers/kafka_mock
CONSUME=${BUILD_DIR:-}/tests/peers/kafka_consume
if [ ! -x "$MOCK" ] || [ ! -x "$CONSUME" ]; then
    # the peers' own build line (see their header comments)
    MOCK=$WORK/kafka_mock
    CONSUME=$WORK/kafka_consume
    for t in kafka_mock kafka_consume; do
        # shellcheck disable=SC2046
        cc -std=c11 -Wall -Wextra -Werror -o "$WORK/$t" "$SOURCE_DIR/tests/peers/$t.c" \
            $(pkg-config --cflags --libs rdkafka) || { echo "SKIP: cannot build $t"; exit 77; }
    done
fi
KCAT=$(command -v kcat || true)

# ---- helpers ---------------------------------------------------------------

# The mock reads commands from a fifo held open on fd 7; each answers one line.
mkfifo "$WORK/mock.in"
"$MOCK" 3 <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
PIDS_TO_KILL+=("$!")
exec 7>"$WORK/mock.in"
wait_for 15 grep -q '^BOOTSTRAP ' "$WORK/mock.out" || { echo "mock cluster did not start"; cat "$WORK/mock.err"; exit 1; }
BOOT=$(awk '/^BOOTSTRAP/ {print $2; exit}' "$WORK/mock.out")
MOCK_LINES=1
mock_answered() { [ "$(wc -l <"$WORK/mock.out")" -ge "$MOCK_LINES" ]; }
mock_cmd() { # mock_cmd COMMAND...: succeeds when the mock answers OK
    echo "$*" >&7
    MOCK_LINES=$((MOCK_LINES + 1))
    wait_for 10 mock_answered || return 1
    sed -n "${MOCK_LINES}p" "$WORK/mock.out" | grep -q '^OK'
}

# ksink NAME TOPIC [EXTRA_YAML]: a kafka sink block for write_config.
ksink() {
    cat <<YAML
  - name: $1
    type: kafka
    brokers: "$BOOT"
    topic: "$2"
    batch: {max_events: 50, flush_interval: 20ms}
    retry: {initial: 100ms, max: 1s}
${3:-}
YAML
}

start_or_fail() { # start_or_fail CONFIG: a failed start ends the test, counted
    start_agent "$1" && return 0
    not_ok "agent starts with $1"
    finish
}

count() { # count SINK OUTCOME
    local v
    v=$(metric "hookfwd_sink_events_total{sink=\"$1\",outcome=\"$2\"}")
    echo "${v:-0}"
}
count_is() { [ "$(count "$1" "$2")" = "$3" ]; }
count_gt() { [ "$(count "$1" "$2")" -gt "$3" ]; }

# Signed Sentinelayer events with unique run ids: post PREFIX N [PAD_BYTES];
# prints "run_id status" lines.
cat >"$WORK/post.py" <<'PY'
import hashlib, hmac, http.client, json, sys
port, prefix, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(n):
    run = "%s-%06d" % (prefix, i)
    body = json.dumps({"event_type": "scan.completed", "run_id": run, "timestamp": "2026-02-23T08:15:30Z",
                       "repo": "acme/backend", "branch": "main", "gate_status": "passed",
                       "total_findings": 0, "pad": "x" * pad}).encode()
    sig = hmac.new(b"sl_live_3f9a2c71d04e", body, hashlib.sha256).hexdigest()
    conn.request("POST", "/webhooks/sentinelayer", body,
                 {"Content-Type": "application/json", "X-Sentinelayer-Signature": "sha256=" + sig})
    r = conn.getresponse()
    r.read()
    print(run, r.status)
PY
post() { python3 "$WORK/post.py" "$PORT" "$@"; }

# keys TOPIC: every message key in the topic, sorted; reads to the end of
# every partition (kcat -e) so nothing is waited for once it is all there.
keys() {
    if [ -n "$KCAT" ]; then
        "$KCAT" -C -b "$BOOT" -t "$1" -e -q -f '%k\n' 2>>"$WORK/kcat.err" | sort
    else
        "$CONSUME" -b "$BOOT" -t "$1" -n 0 -T 3000 2>>"$WORK/consume.err" | jq -r .key | sort
    fi
}
# exactly_once TOPIC ACCEPTED_FILE: "missing=M extra=E" against the run ids
# that got 202 ("run_id status" lines).
exactly_once() {
    keys "$1" >"$WORK/got.keys"
    awk '$2 == 202 {print $1}' "$2" | sort >"$WORK/want.keys"
    echo "missing=$(comm -23 "$WORK/want.keys" "$WORK/got.keys" | wc -l)" \
        "extra=$(comm -13 "$WORK/want.keys" "$WORK/got.keys" | wc -l)"
}

# pyreport SCRIPT ARGS...: runs a Python check printing "ok - ..." and
# "not ok - ..." lines and counts them.
pyreport() {
    local out line
    out=$(python3 "$@" 2>&1)
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) PASS=$((PASS + 1)) ;;
        "not ok - "*) FAIL=$((FAIL + 1)) ;;
        *) line="# $line" ;;
        esac
        echo "$line"
    done <<<"$out"
}

# ---- 1. the fixtures, read back ----------------------------------------------

brokers_list="[$(sed 's/[^,]*/"&"/g; s/,/, /g' <<<"$BOOT")]"
write_config "$WORK/rt.yaml" "$(ksink k 'rt.${source}' "    takes: records")
  - name: km
    type: kafka
    takes: metrics
    brokers: $brokers_list
    topic: rt.metrics
    compression: lz4
  - name: f
    type: file
    path: $WORK/rt.jsonl"
check "check accepts the kafka config" "$HOOKFWD_BIN" check -c "$WORK/rt.yaml"
start_or_fail "$WORK/rt.yaml"
: >"$WORK/rt.accepted"
while IFS='|' read -r file src _ _ key _; do
    [ "$file" = file ] && continue
    status=$(post_fixture "$file" | cut -d' ' -f1)
    [ "$status" = 202 ] && printf '%s\t%s\t%s\n' "$file" "$src" "$key" >>"$WORK/rt.accepted"
done < <(tr '\t' '|' <"$FIXTURES/signatures.tsv")
check_eq "10 fixtures accepted (2 duplicates, 1 bad signature)" 10 "$(wc -l <"$WORK/rt.accepted")"
check "kafka sink delivered the 10 records" wait_for 20 count_is k delivered 10
npoints=$(wait_for 10 count_is f delivered 10 && jq -c 'select(.metric)' "$WORK/rt.jsonl" | wc -l)
check "metric points were produced ($npoints)" test "$npoints" -gt 10
check "kafka sink delivered the records with points" wait_for 20 count_is km delivered 10
"$CONSUME" -b "$BOOT" -t rt.omega -n 6 -T 20000 >"$WORK/rt.kafka" 2>>"$WORK/consume.err"
check "6 omega records read back" test $? = 0
"$CONSUME" -b "$BOOT" -t rt.sentinelayer -n 4 -T 20000 >>"$WORK/rt.kafka" 2>>"$WORK/consume.err"
check "4 sentinelayer records read back" test $? = 0
"$CONSUME" -b "$BOOT" -t rt.metrics -n "$npoints" -T 20000 >"$WORK/rt.metrics" 2>>"$WORK/consume.err"
check "$npoints metric points read back" test $? = 0

cat >"$WORK/compare.py" <<'PY'
# Kafka messages against the file sink's lines (the same records) and
# against what the fixtures themselves say (source, event, keys).
import collections, json, os, sys
fixtures, accepted, filesink, kafka, metrics = sys.argv[1:6]
lines = [l.rstrip("\n") for l in open(filesink)]
records = {json.loads(l)["idempotency_key"]: l for l in lines if '"event_type"' in l and not l.startswith('{"metric"')}
points = [l for l in lines if l.startswith('{"metric"')]
msgs = [json.loads(l) for l in open(kafka)]
pmsgs = [json.loads(l) for l in open(metrics)]
def report(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what + ("" if ok else ": " + detail))

by_event = {}
for m in msgs:
    v = json.loads(m["value"])
    by_event[(v["source"], v["event_type"])] = (m, v)
report(len(by_event) == len(msgs) == 10, "10 distinct record messages", "%d messages" % len(msgs))
bad = collections.defaultdict(list)
for row in open(accepted):
    file, src, tsv_key = row.rstrip("\n").split("\t")
    body = json.load(open(os.path.join(fixtures, file)))
    event = body.get("event") or body.get("event_type")
    got = by_event.get((src, event))
    if not got:
        bad["every accepted fixture is in Kafka"].append(file)
        continue
    m, v = got
    # the key: the idempotency key, derived here from the fixture itself
    if src == "sentinelayer":
        want_key = tsv_key
    elif "decision" in body or "finding" in body:
        want_key = "%s:%s" % ((body.get("decision") or body.get("finding"))["id"], event)
    else:  # content-hashed keys: the core's own, with the event prefix
        want_key = v["idempotency_key"] if v["idempotency_key"].startswith(event + ":") else "?"
    if m["key"] != want_key or v["idempotency_key"] != want_key:
        bad["key is the idempotency key"].append("%s: %r" % (file, m["key"]))
    if m["topic"] != "rt." + src:
        bad["topic from the ${source} template"].append("%s: %s" % (file, m["topic"]))
    want_h = {"source": src, "event_type": event}
    if v["event_id"] is not None:
        want_h["event_id"] = v["event_id"]
    if m["headers"] != want_h:
        bad["headers source, event_type, event_id"].append("%s: %r" % (file, m["headers"]))
    if m["value"] != records.get(want_key):
        bad["value is the record JSON, byte for byte"].append(file)
    fl = json.loads(records.get(want_key, "{}"))
    for k in ("source", "event_type", "event_id", "severity", "timestamp", "received_at", "signature_verified",
              "signature_key", "idempotency_key", "data"):
        if v.get(k) != fl.get(k):
            bad["value fields equal the file sink's"].append("%s: %s" % (file, k))
for what in ("every accepted fixture is in Kafka", "key is the idempotency key", "topic from the ${source} template",
             "headers source, event_type, event_id", "value is the record JSON, byte for byte",
             "value fields equal the file sink's"):
    report(not bad[what], what, "; ".join(bad[what][:5]))

# metric points: the same JSON as the file sink, with their record's key and headers
report(sorted(m["value"] for m in pmsgs) == sorted(points), "metric point values equal the file sink's points",
       "%d vs %d" % (len(pmsgs), len(points)))
rec_by_id = {}
for l in records.values():
    r = json.loads(l)
    rec_by_id[(r["source"], r["event_type"], r["received_at"])] = r
pbad = []
for m in pmsgs:
    p = json.loads(m["value"])
    r = rec_by_id.get((p["source"], m["headers"].get("event_type"), p["timestamp"]))
    want_h = {"source": p["source"], "event_type": r and r["event_type"], "metric": p["metric"]}
    if r and r["event_id"] is not None:
        want_h["event_id"] = r["event_id"]
    if not r or m["key"] != r["idempotency_key"] or m["headers"] != want_h or m["topic"] != "rt.metrics":
        pbad.append(m["value"][:80])
report(not pbad, "metric messages carry their record's key and headers (and metric)", "; ".join(pbad[:3]))
PY
pyreport "$WORK/compare.py" "$FIXTURES" "$WORK/rt.accepted" "$WORK/rt.jsonl" "$WORK/rt.kafka" "$WORK/rt.metrics"
stop_agent
check_eq "agent stops cleanly" 0 $?

# ---- 2. check and test-sink ---------------------------------------------------

write_config "$WORK/bad.yaml" "$(ksink badprops 'x' "    properties:
      linger.ms: 5
      no.such.prop: 1")"
out=$("$HOOKFWD_BIN" check -c "$WORK/bad.yaml" 2>&1)
check_eq "check refuses an unknown librdkafka property" 1 $?
line=$(grep -n 'no.such.prop' "$WORK/bad.yaml" | cut -d: -f1)
check_eq "with file:line:col and librdkafka's message" \
    "$WORK/bad.yaml:$line:7: sink 'badprops' (kafka): librdkafka property 'no.such.prop': No such configuration property: \"no.such.prop\"" \
    "$out"
"$HOOKFWD_BIN" run -c "$WORK/bad.yaml" >/dev/null 2>&1
check_eq "run refuses it too" 1 $?
write_config "$WORK/bad2.yaml" "$(ksink acks 'x' "    properties: {acks: 1}")"
check_eq "acks=1 is refused" 1 "$("$HOOKFWD_BIN" check -c "$WORK/bad2.yaml" >/dev/null 2>&1; echo $?)"

write_config "$WORK/ts.yaml" "$(ksink ts 'ts.${source}')"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/ts.yaml" ts 2>"$WORK/ts.err")
check_eq "test-sink exits 0" 0 $?
check_eq "test-sink says delivered" "sink ts (kafka): delivered" "$out"
"$CONSUME" -b "$BOOT" -t ts.hookfwd-test -n 1 -T 10000 >"$WORK/ts.kafka" 2>>"$WORK/consume.err"
check_eq "test-sink's record is in Kafka" "hookfwd.test hookfwd-test" \
    "$(jq -r '(.value | fromjson | .event_type) + " " + .headers.source' "$WORK/ts.kafka")"

# ---- 3. injected Produce errors: retried inside librdkafka, once each --------

write_config "$WORK/e.yaml" "$(ksink e 'err.${source}')"
start_or_fail "$WORK/e.yaml"
check "push LEADER_NOT_AVAILABLE and REQUEST_TIMED_OUT on Produce" \
    mock_cmd push_errors 0 5 7 5 7 LEADER_NOT_AVAILABLE REQUEST_TIMED_OUT
post err 60 >"$WORK/e.posted"
check_eq "60 events accepted" 60 "$(grep -c ' 202$' "$WORK/e.posted")"
check "60 delivered" wait_for 30 count_is e delivered 60
check_eq "each exactly once in Kafka" "missing=0 extra=0" "$(exactly_once err.sentinelayer "$WORK/e.posted")"
check_eq "no dead letters" 0 "$(count e dead)"
stop_agent

# ---- 4. all brokers down for a while, then back -------------------------------

write_config "$WORK/d.yaml" "$(ksink d 'down.${source}')"
start_or_fail "$WORK/d.yaml"
check "brokers down" mock_cmd broker_down -1
post down 30 >"$WORK/d.posted"
check_eq "30 events accepted while down" 30 "$(grep -c ' 202$' "$WORK/d.posted")"
check "the sink notices all brokers are down" wait_for 30 grep -q 'all brokers are down' "$WORK/agent.err"
check_eq "nothing delivered while down" 0 "$(count d delivered)"
check "brokers up" mock_cmd broker_up -1
check "30 delivered after the outage" wait_for 60 count_is d delivered 30
check_eq "each exactly once" "missing=0 extra=0" "$(exactly_once down.sentinelayer "$WORK/d.posted")"
stop_agent

# longer than message_timeout: librdkafka gives the messages back, the
# runtime retries them, and they still arrive once
write_config "$WORK/d2.yaml" "$(ksink d2 'down2.${source}' "    message_timeout: 1s")"
start_or_fail "$WORK/d2.yaml"
check "brokers down again" mock_cmd broker_down -1
post down2 20 >"$WORK/d2.posted"
check "timed-out messages go back to the runtime's retry" wait_for 30 count_gt d2 retried 0
check "brokers up again" mock_cmd broker_up -1
check "20 delivered after the long outage" wait_for 60 count_is d2 delivered 20
check_eq "each exactly once" "missing=0 extra=0" "$(exactly_once down2.sentinelayer "$WORK/d2.posted")"
check_eq "none dead" 0 "$(count d2 dead)"
stop_agent

# ---- 5. refused messages: dead letters, one record at a time -----------------

write_config "$WORK/big.yaml" "$(ksink big 'big.${source}' "    properties: {message.max.bytes: 2000}")"
start_or_fail "$WORK/big.yaml"
check "push MSG_SIZE_TOO_LARGE on Produce" mock_cmd push_errors 0 10
post big 1 >"$WORK/big.posted"
check "the refused record is dead" wait_for 30 count_is big dead 1
DLQ=$WORK/data/dead-letter/big.jsonl
check_eq "dead letter holds the record and the broker's reason" "big-000000 true" \
    "$(jq -r '(.record.data.run_id) + " " + (.reason | test("MSG_SIZE_TOO_LARGE") | tostring)' "$DLQ" 2>&1)"
# a record over message.max.bytes fails in produce itself, alone among good ones
python3 "$WORK/post.py" "$PORT" bigok 1 >>"$WORK/big.posted"
python3 "$WORK/post.py" "$PORT" bighuge 1 3000 >>"$WORK/big.posted"
python3 "$WORK/post.py" "$PORT" bigok2 1 >>"$WORK/big.posted"
check "the oversized record is dead too" wait_for 30 count_is big dead 2
check "the others are delivered" wait_for 30 count_is big delivered 2
check_eq "dead letters: the injected and the oversized one" "big-000000 bighuge-000000" \
    "$(jq -r .record.data.run_id "$DLQ" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "Kafka has only the good ones" "bigok-000000 bigok2-000000" "$(keys big.sentinelayer | tr '\n' ' ' | sed 's/ $//')"
stop_agent

# ---- 6. a producer queue that fills up ---------------------------------------

write_config "$WORK/q.yaml" "$(ksink q 'queue.${source}' "    properties: {queue.buffering.max.messages: 5}")"
sed -i 's/max_events: 50,/max_events: 200,/' "$WORK/q.yaml"
start_or_fail "$WORK/q.yaml"
check "slow brokers" mock_cmd rtt -1 20
post queue 300 >"$WORK/q.posted"
check "300 delivered through a 5-message queue" wait_for 60 count_is q delivered 300
check_eq "each exactly once" "missing=0 extra=0" "$(exactly_once queue.sentinelayer "$WORK/q.posted")"
check "brokers fast again" mock_cmd rtt -1 0
stop_agent

# ---- 7. a fatal producer error -------------------------------------------------

write_config "$WORK/fat.yaml" "$(ksink fat 'fatal.${source}')"
# the next InitProducerId (the new agent's) is refused: fatal for an idempotent producer
check "push CLUSTER_AUTHORIZATION_FAILED on InitProducerId" mock_cmd push_errors 22 31
start_or_fail "$WORK/fat.yaml"
post fatal 10 >"$WORK/fat.posted"
check "10 delivered after the producer is replaced" wait_for 30 count_is fat delivered 10
check "the fatal error is logged" grep -q 'FATAL producer error CLUSTER_AUTHORIZATION_FAILED' "$WORK/agent.err"
check "a new producer is created" grep -q 'new producer created after a fatal error' "$WORK/agent.err"
check_eq "each exactly once" "missing=0 extra=0" "$(exactly_once fatal.sentinelayer "$WORK/fat.posted")"
stop_agent

# ---- 8. shutdown with the brokers down: the journal keeps the events ------------

write_config "$WORK/j.yaml" "$(ksink j 'journal.${source}')" disk
start_or_fail "$WORK/j.yaml"
check "brokers down before shutdown" mock_cmd broker_down -1
post journal 10 >"$WORK/j.posted"
check_eq "10 accepted on disk" 10 "$(grep -c ' 202$' "$WORK/j.posted")"
check_eq "nothing delivered before the shutdown" 0 "$(count j delivered)"
stop_agent
check_eq "agent stops within its drain deadline" 0 $?
check "brokers up for the restart" mock_cmd broker_up -1
start_or_fail "$WORK/j.yaml"
check "the journal's 10 events are delivered after the restart" wait_for 60 count_is j delivered 10
check_eq "each exactly once" "missing=0 extra=0" "$(exactly_once journal.sentinelayer "$WORK/j.posted")"
stop_agent

if [ "$FAIL" -gt 0 ]; then
    echo "# agent log (last lines):"
    tail -n 30 "$WORK/agent.err" | sed 's/^/# /'
fi
finish
