#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The dogstatsd sink: real datagrams received on a local UDP socket and a
# unix datagram socket, parsed line by line and field by field.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }

# ---- a receiver on both transports, one JSON line per datagram --------------
SOCK="$WORK/dsd.sock"
python3 - "$SOCK" "$WORK/datagrams.jsonl" >"$WORK/dsd.out" 2>"$WORK/dsd.err" <<'PY' &
import json, select, socket, sys
path, out = sys.argv[1], open(sys.argv[2], "a")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
udp.bind(("127.0.0.1", 0))
ux = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ux.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
ux.bind(path)
print("LISTENING", udp.getsockname()[1], flush=True)
while True:
    for s in select.select([udp, ux], [], [])[0]:
        data = s.recv(70000)
        out.write(json.dumps({"via": "udp" if s is udp else "unix", "len": len(data),
                              "data": data.decode("utf-8", "replace")}) + "\n")
        out.flush()
PY
PIDS_TO_KILL+=($!)
wait_for 10 grep -q LISTENING "$WORK/dsd.out" || { echo "receiver did not start"; cat "$WORK/dsd.err"; exit 1; }
UPORT=$(awk '/LISTENING/ {print $2}' "$WORK/dsd.out")

# dsd VIA NAME TYPE [TAG...]: "LINES SUM" over the received lines of that
# metric and type carrying all the TAGs; "bad N" if any line does not parse.
dsd() {
    python3 - "$WORK/datagrams.jsonl" "$@" <<'PY'
import json, re, sys
path, via, name, mtype, *tags = sys.argv[1:]
line_re = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*):(-?[0-9][0-9.e+-]*)\|(c|g|d)(?:\|#([a-z][a-z0-9_\-:./]*(?:,[a-z][a-z0-9_\-:./]*)*))?$")
n, total, bad = 0, 0.0, 0
for rec in map(json.loads, open(path)):
    if rec["via"] != via:
        continue
    for line in rec["data"].split("\n"):
        m = line_re.match(line)
        if not m:
            bad += 1
            continue
        ltags = m.group(4).split(",") if m.group(4) else []
        if m.group(1) == name and m.group(3) == mtype and all(t in ltags for t in tags):
            n += 1
            total += float(m.group(2))
print("bad %d" % bad if bad else "%d %.10g" % (n, total))
PY
}
# shape VIA: "DATAGRAMS LINES MAXLEN"
shape() {
    python3 - "$WORK/datagrams.jsonl" "$1" <<'PY'
import json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r["via"] == sys.argv[2]]
print(len(recs), sum(len(r["data"].split("\n")) for r in recs), max([r["len"] for r in recs] or [0]))
PY
}
lines_are() { [ "$(shape "$1" | cut -d' ' -f2)" = "$2" ]; }

write_config "$WORK/hookfwd.yaml" "  - name: dsd_udp
    type: dogstatsd
    address: udp://127.0.0.1:$UPORT
    tags: [\"Env:Test\"]
    prefix: acme
    batch: {flush_interval: 100ms}
  - name: dsd_unix
    type: dogstatsd
    address: unix://$SOCK
    max_datagram_size: 512
    batch: {flush_interval: 100ms}"
start_agent "$WORK/hookfwd.yaml" || exit 1

for f in sentinelayer/scan.completed sentinelayer/scan.failed sentinelayer/scan.blocked sentinelayer/scan.skipped \
    omega/decision.escalated omega/decision.blocked omega/decision.allowed; do
    check_eq "post $f" 202 "$(post_fixture $f.json | cut -d' ' -f1)"
done
# 23 Sentinelayer points and 9 OmegaEngine points
check "udp: all 32 lines arrive" wait_for 15 lines_are udp 32
check "unix: all 32 lines arrive" wait_for 15 lines_are unix 32
check_eq "udp: delivered" 7 "$(metric 'hookfwd_sink_events_total{sink="dsd_udp",outcome="delivered"}')"
check_eq "unix: delivered" 7 "$(metric 'hookfwd_sink_events_total{sink="dsd_unix",outcome="delivered"}')"

read -r n lines maxlen <<<"$(shape udp)"
check "udp: datagrams within 1432 bytes (max $maxlen)" [ "$maxlen" -le 1432 ]
check "udp: lines packed several to a datagram ($n datagrams)" [ "$n" -lt 32 ]
read -r n lines maxlen <<<"$(shape unix)"
check "unix: datagrams within max_datagram_size 512 (max $maxlen)" [ "$maxlen" -le 512 ]
check "unix: more datagrams than over udp ($n)" [ "$n" -ge 4 ]
check_eq "udp: every line parses; findings{severity:p1,repo:acme/backend} is 2" "1 2" \
    "$(dsd udp acme.sentinelayer.scan.findings g repo:acme/backend severity:p1 source:sentinelayer env:test)"
check_eq "udp: findings{severity:p0,repo:acme/payments}" "1 1" \
    "$(dsd udp acme.sentinelayer.scan.findings g repo:acme/payments severity:p0)"
check_eq "udp: scan.count, a count per scan" "4 4" "$(dsd udp acme.sentinelayer.scan.count c source:sentinelayer)"
check_eq "udp: cost_usd from string amounts" "2 0.0042" "$(dsd udp acme.sentinelayer.scan.cost_usd c repo:acme/backend)"
check_eq "udp: risk_score as a distribution" "1 0.97" "$(dsd udp acme.omega.decision.risk_score d outcome:block)"
check_eq "udp: decision.count with both policy tags" "1 1" \
    "$(dsd udp acme.omega.decision.count c outcome:escalate policy:high_value_transfer policy:new_vendor)"
check_eq "unix: no prefix, no sink tags" "1 2" \
    "$(dsd unix sentinelayer.scan.findings g repo:acme/backend severity:p1 source:sentinelayer)"
check_eq "unix: the udp sink's tag is not here" "0 0" "$(dsd unix sentinelayer.scan.findings g env:test)"
check_eq "unix: every line parses; three omega.events" "3 3" "$(dsd unix omega.events c source:omega)"
check "the exact line of a gauge" grep -q \
    'acme.sentinelayer.scan.total_findings:11|g|#env:test,gate_status:blocked,repo:acme/backend,source:sentinelayer' \
    "$WORK/datagrams.jsonl"
stop_agent
check_eq "agent stops cleanly" 0 "$?"

# ---- test-sink ---------------------------------------------------------------
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" dsd_unix 2>>"$WORK/agent.err")
check_eq "test-sink exits 0 ($out)" 0 "$?"
check "test-sink: the test metric arrived" wait_for 10 grep -q \
    'hookfwd.test_sink:1|c|#event:hookfwd.test,source:hookfwd-test' "$WORK/datagrams.jsonl"
write_config "$WORK/gone.yaml" "  - {name: gone, type: dogstatsd, address: \"unix://$WORK/no-agent.sock\"}"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/gone.yaml" gone 2>>"$WORK/agent.err")
check_eq "test-sink without an Agent exits 1" 1 "$?"
check "... and says why ($out)" grep -q "not delivered: cannot connect to $WORK/no-agent.sock" <<<"$out"

finish
