#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alert-storm benchmark of issue 16: does a burst of alerts hurt the
# rest? Two configurations, each run ROUNDS times, interleaved:
#
#   A  10,000 events/s (open loop, hf_loadgen) into a file sink, and 10 s
#      into the run a burst of 5,000 scan.blocked of one repository (all
#      within about a second), which the file sink takes too
#   B  the same, plus a slack sink taking those scan.blocked while
#      tests/peers/slack_receiver.py rate-limits the webhook at 1 message/s
#      (burst 1)
#
# so the difference between A and B is the slack sink alone.
#
# and prints, per run: the background's achieved rate and latency
# percentiles (from each request's due time), the file sink's delivered
# events/s over the load window (the burst's 5,000 not counted) and its
# batch latency p99 (the first
# hookfwd_sink_batch_seconds bucket holding 99 % of its batches), the
# agent's peak and final RSS; for B also the Slack messages (individual,
# summaries with their text, 429s seen) once the summary is in, and the
# slack sink's delivered/dead counts. The last lines compare B with A
# (medians): throughput and p99 within 10 % is the issue's bar.
#
#   tests/bench/bench_alerts.sh [--rounds N] [--duration S] [--rate R] [--burst N]
#                               [--build-dir DIR] [--no-build] [--keep]
#
# hookfwd runs on core 0 (listen.threads 1, storage memory), the load
# generators and the receiver on core 1. Targets 127.0.0.1 only and stops
# by itself; a run takes about DURATION + 70 s (B waits for the summary).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=2
DURATION=40
RATE=10000
BURST=5000
BURST_AT=10
BUILD=$SRC/build-bench-alerts
DO_BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --burst) BURST=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --no-build) DO_BUILD=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--rounds N] [--duration S] [--rate R] [--burst N] [--build-dir DIR] [--no-build] [--keep]"; exit 2 ;;
    esac
    shift
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-bench-alerts.XXXXXX")
PIDS=()
AGENT=
cleanup() {
    for p in "${PIDS[@]}" $AGENT; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}" $AGENT; do wait "$p" 2>/dev/null; done
    if [ "$KEEP" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
say() { echo "[$(date +%T)] $*" >&2; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { curl -sf "http://127.0.0.1:$ADMIN/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
summary_in() { curl -sf "http://127.0.0.1:$1/_messages" | grep -q 'more scan.blocked'; }
wait_for() { # SECONDS command...
    local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
    shift
    while [ "$(($(date +%s%N) / 1000000))" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ---- build and corpora -----------------------------------------------------------
if [ "$DO_BUILD" = 1 ]; then
    say "building hookfwd (Release, slack plugin) in $BUILD"
    if ! { cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHOOKFWD_PLUGINS="slack" &&
        cmake --build "$BUILD" -j2 --target hookfwd hf_loadgen; } >"$WORK/build.log" 2>&1; then
        tail -30 "$WORK/build.log"
        exit 1
    fi
fi
BIN=$BUILD/hookfwd
LOADGEN=$BUILD/tests/bench/hf_loadgen
if [ ! -x "$BIN" ] || [ ! -x "$LOADGEN" ]; then echo "no $BIN or $LOADGEN (build first, or drop --no-build)"; exit 1; fi
FIXTURES=$SRC/../shared/fixtures
[ -f "$FIXTURES/signatures.tsv" ] || FIXTURES=$SRC/tests/fixtures

say "generating the background corpus (300,000 signed requests) and the burst ($BURST scan.blocked)"
python3 "$SRC/tests/bench/gen_requests.py" --fixtures "$FIXTURES" --count 300000 --out "$WORK/background.req" >/dev/null
python3 - "$BURST" "$WORK/burst.req" <<'PY'
import hashlib, hmac, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "wb") as f:
    for i in range(n):
        body = ('{"event_type":"scan.blocked","run_id":"storm-%07d","timestamp":"2026-02-23T10:20:00Z",'
                '"repo":"storm/repo","branch":"main","commit_sha":"c3d4e5f6a7b8","pr_number":%d,'
                '"gate_status":"blocked","severity_counts":{"P0":1,"P1":0},"total_findings":1,'
                '"artifact_links":{},"estimated_cost_usd":"0.0107"}' % (i, i)).encode()
        sig = hmac.new(b"sl_live_3f9a2c71d04e", body, hashlib.sha256).hexdigest()
        req = ("POST /webhooks/sentinelayer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "X-Sentinelayer-Signature: sha256=%s\r\nContent-Length: %d\r\n\r\n" % (sig, len(body))).encode() + body
        f.write(b"%d\n" % len(req))
        f.write(req)
PY

HOOK=/services/T0HOOKFWD/B0STORM/abcdefghijklmnopqrstuvwx

# wait_quiet: before a run, waits up to QUIET_WAIT seconds for the machine
# to be less than a tenth busy over a second (nothing of ours runs then),
# so runs start on a quiet machine when there is one; it slows nothing
QUIET_WAIT=${QUIET_WAIT:-60}
busy_share() {
    local a b
    a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
    python3 -c "a=[int(x) for x in '$a'.split()]; b=[int(x) for x in '$b'.split()]; print(int(100*(b[0]-a[0])/max(1,b[1]-a[1])))"
}
wait_quiet() {
    local deadline=$(($(date +%s) + QUIET_WAIT)) busy
    while :; do
        busy=$(busy_share)
        [ "$busy" -lt 10 ] && return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "machine still ${busy}% busy with other work; running anyway"
            return 0
        fi
    done
}

# ---- one run -----------------------------------------------------------------------
OFFSET=0
run() { # A|B ROUND
    local kind=$1 round=$2 sp
    PORT=$(free_port)
    ADMIN=$(free_port)
    rm -rf "$WORK/data" "$WORK/out.jsonl"
    wait_quiet
    local slack=""
    if [ "$kind" = B ]; then
        : >"$WORK/slack.port"
        rm -f "$WORK/slack.port"
        taskset -c 1 python3 "$SRC/tests/peers/slack_receiver.py" --port-file "$WORK/slack.port" \
            --hook "$HOOK" --rate-limit 1 --burst 1 >"$WORK/slack.out" 2>&1 &
        SLACK_PID=$!
        PIDS+=("$SLACK_PID")
        wait_for 10 test -s "$WORK/slack.port" || { echo "slack receiver did not start"; exit 1; }
        sp=$(cat "$WORK/slack.port")
        slack="  - name: storm
    type: slack
    url: http://127.0.0.1:$sp$HOOK
    filter: {events: [scan.blocked], match: {repo: {eq: storm/repo}}}"
    fi
    cat >"$WORK/hookfwd.yaml" <<YAML
listen: {address: 127.0.0.1:$PORT, threads: 1}
admin: {address: 127.0.0.1:$ADMIN}
storage: {mode: memory, path: $WORK/data}
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: [whsec_your_signing_secret]}
  - name: sentinelayer
    path: /webhooks/sentinelayer
    profile: sentinelayer
    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: [sl_live_3f9a2c71d04e]}
sinks:
  - name: file
    type: file
    path: $WORK/out.jsonl
    batch: {max_events: 500, flush_interval: 100ms}
$slack
YAML
    taskset -c 0 "$BIN" run -c "$WORK/hookfwd.yaml" >"$WORK/agent.out" 2>"$WORK/agent.err" &
    AGENT=$!
    wait_for 20 curl -sf "http://127.0.0.1:$ADMIN/healthz" || { cat "$WORK/agent.err"; exit 1; }
    # RSS every half second
    (while kill -0 "$AGENT" 2>/dev/null; do
        awk '/^VmRSS/ {print $2}' "/proc/$AGENT/status" 2>/dev/null
        sleep 0.5
    done) >"$WORK/rss.txt" &
    local rss_pid=$!
    local d0 b0 c0 c1
    c0=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
    d0=$(metric 'hookfwd_sink_events_total{sink="file",outcome="delivered"}')
    b0=$(curl -sf "http://127.0.0.1:$ADMIN/metrics" | grep '^hookfwd_sink_batch_seconds_bucket{sink="file"')
    local t0 t1 t_burst=0
    t0=$(date +%s%N)
    taskset -c 1 "$LOADGEN" -f "$WORK/background.req" -a "127.0.0.1:$PORT" -r "$RATE" -d "$DURATION" -c 64 \
        -o "$OFFSET" >"$WORK/load.out" 2>&1 &
    local load_pid=$!
    sleep "$BURST_AT"
    t_burst=$(date +%s%N)
    taskset -c 1 "$LOADGEN" -f "$WORK/burst.req" -a "127.0.0.1:$PORT" -r "$BURST" -d 1 -c 16 >"$WORK/burst.out" 2>&1
    wait "$load_pid"
    t1=$(date +%s%N)
    local load
    load=$(grep '^HFBENCH' "$WORK/load.out")
    OFFSET=$((OFFSET + $(field requests "$load") + 128))
    # the file sink catches up (queue empty), then its count
    wait_for 30 metric_is 'hookfwd_sink_queue_events{sink="file"}' 0
    local d1 secs
    d1=$(metric 'hookfwd_sink_events_total{sink="file",outcome="delivered"}')
    secs=$(python3 -c "print(($t1 - $t0) / 1e9)")
    local b1
    b1=$(curl -sf "http://127.0.0.1:$ADMIN/metrics" | grep '^hookfwd_sink_batch_seconds_bucket{sink="file"')
    local p99_batch
    p99_batch=$(python3 - "$b0" "$b1" <<'PY'
import re, sys
def parse(t):
    out = {}
    for line in t.splitlines():
        m = re.search(r'le="([^"]+)"\}\s+(\S+)', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out
a, b = parse(sys.argv[1]), parse(sys.argv[2])
les = sorted(b, key=lambda x: float("inf") if x == "+Inf" else float(x))
total = b.get("+Inf", 0) - a.get("+Inf", 0)
for le in les:
    if total and (b[le] - a.get(le, 0)) >= 0.99 * total:
        print(le if le == "+Inf" else "%gms" % (float(le) * 1000))
        break
else:
    print("n/a")
PY
)
    local slack_line=""
    if [ "$kind" = B ]; then
        # the summary comes a minute after the burst began
        wait_for 100 summary_in "$sp"
        local t_sum
        t_sum=$(date +%s%N)
        wait_for 30 metric_is 'hookfwd_sink_events_total{sink="storm",outcome="delivered"}' "$BURST"
        slack_line=$(curl -sf "http://127.0.0.1:$sp/_messages" | python3 -c '
import json, sys
msgs = json.load(sys.stdin)["messages"]
summ = [m for m in msgs if "more scan.blocked" in m["message"]["text"]]
print("messages=%d individual=%d summaries=%d" % (len(msgs), len(msgs) - len(summ), len(summ)))
for m in summ:
    print("  summary: %s" % m["message"]["text"][:110])
')
        local stats
        stats=$(curl -sf "http://127.0.0.1:$sp/_stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("slack_429=%d slack_rejected_other=%d" % (s["statuses"].get("429",0), s["rejected"] - s["statuses"].get("429",0)))')
        slack_line="$slack_line
  $stats summary_after_burst=$(python3 -c "print('%.1fs' % (($t_sum - $t_burst) / 1e9))") storm_delivered=$(metric 'hookfwd_sink_events_total{sink="storm",outcome="delivered"}') storm_dead=$(metric 'hookfwd_sink_events_total{sink="storm",outcome="dead"}')"
    fi
    slack_line="$slack_line
  burst: $(grep '^HFBENCH' "$WORK/burst.out" | sed 's/HFBENCH //' | cut -d' ' -f1-6)"
    c1=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
    local hwm
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$AGENT/status")
    local rss_end
    rss_end=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT/status")
    kill "$AGENT"
    wait "$AGENT" 2>/dev/null
    AGENT=
    kill "$rss_pid" 2>/dev/null
    wait "$rss_pid" 2>/dev/null
    if [ "$kind" = B ]; then
        kill "$SLACK_PID"
        wait "$SLACK_PID" 2>/dev/null
    fi
    # the burst's events go to the file sink too: the background's share is
    # what compares with A
    local thr
    thr=$(python3 -c "print(round(($d1 - ${d0:-0} - $BURST) / $secs))")
    echo "$kind round=$round rate=$(field rate "$load") file_delivered_per_s=$thr p50_us=$(field p50_us "$load") p99_us=$(field p99_us "$load") p999_us=$(field p999_us "$load") non2xx=$(field non2xx "$load") s200=$(field s200 "$load") file_batch_p99=$p99_batch rss_peak_kb=$hwm rss_end_kb=$rss_end agent_cpu_s=$(python3 -c "print(($c1 - $c0) / $(getconf CLK_TCK))")" >>"$WORK/results"
    tail -1 "$WORK/results"
    echo "  $slack_line"
}

for r in $(seq "$ROUNDS"); do
    say "round $r: A (file sink only)"
    run A "$r"
    say "round $r: B (file sink + slack storm)"
    run B "$r"
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {"A": [], "B": []}
for line in open(sys.argv[1]):
    kind, *kv = line.split()
    rows[kind].append(dict(x.split("=", 1) for x in kv))
def med(kind, key):
    return statistics.median(float(r[key]) for r in rows[kind])
print()
for key, label in (("file_delivered_per_s", "file sink events/s"), ("p99_us", "request p99 (us)"),
                   ("p50_us", "request p50 (us)"), ("rate", "achieved request rate"),
                   ("rss_peak_kb", "peak RSS (KiB)"), ("agent_cpu_s", "agent CPU (s)")):
    a, b = med("A", key), med("B", key)
    print("%-24s A %10.1f   B %10.1f   B/A %.3f" % (label, a, b, b / a if a else float("nan")))
PY
