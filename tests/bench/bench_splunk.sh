#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark for issue 5: events/s delivered through the splunk_hec sink to
# the local HEC receiver (tests/peers/hec_receiver.py), versus the same load
# through the stdout sink (to /dev/null), and the HEC batch sizes seen.
#
#   tests/bench/bench_splunk.sh [HOOKFWD_BIN]     (N=100000 events by default)
#
# The load is N signed OmegaEngine events with unique ids (signed here with
# Python's hmac), posted by wrk with a Lua script when wrk is installed, else
# by a Python loader. The clock runs from the first post to the last record
# settled by the sink (the agent's own counters). Everything, the load
# generator and the receiver included, shares this machine's cores; the
# receiver is single-threaded Python (GIL), so its CPU use is printed too.
# Targets 127.0.0.1 only and stops by itself.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HOOKFWD_BIN=${1:-${HOOKFWD_BIN:-$SRC/build/hookfwd}}
N=${N:-100000}
CONNS=${CONNS:-32}
export OMEGA_SECRET=whsec_your_signing_secret
export HEC_TOKEN=3f0c8e2a-5b7d-4c1e-9a6f-2d8b0e4c7a15
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-bench.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -x "$HOOKFWD_BIN" ] || { echo "no hookfwd binary at $HOOKFWD_BIN (pass it as the first argument)"; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
metric() { curl -sf "http://127.0.0.1:$ADMIN/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

# bodies: one "signature<TAB>body" line per event, ids unique per run
make_bodies() {
    python3 - "$N" "$1" >"$WORK/bodies.tsv" <<'PY'
import hashlib, hmac, os, sys
n, tag = int(sys.argv[1]), sys.argv[2]
key = os.environ["OMEGA_SECRET"].encode()
fixture = ('{"event":"decision.escalated","timestamp":"2026-01-14T12:00:00Z","decision":{"id":"dec_%s_%07d",'
           '"outcome":"ESCALATE","riskScore":0.85,"scenario":"Transfer $100k to new vendor",'
           '"policyMatches":["high_value_transfer","new_vendor"],"auditId":"aud_xyz789"}}')
out = sys.stdout
for i in range(n):
    body = fixture % (tag, i)
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    out.write("sha256=%s\t%s\n" % (sig, body))
PY
}

cat >"$WORK/post.lua" <<'LUA'
-- Each wrk thread posts its share of the pre-signed bodies once, then stops.
local counter = 0
function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end
function init(args)
    local nthreads = tonumber(args[2])
    sigs, bodies, idx, verifying = {}, {}, 0, id == 0
    local i = 0
    for line in io.lines(args[1]) do
        if i % nthreads == id then
            local tab = line:find("\t", 1, true)
            sigs[#sigs + 1] = line:sub(1, tab - 1)
            bodies[#bodies + 1] = line:sub(tab + 1)
        end
        i = i + 1
    end
end
-- Past the end it repeats the last body (a duplicate: answered 200, not
-- forwarded) until every unique one has its 202. wrk calls request() once
-- on thread 0 to check the script before sending: that call consumes nothing.
function request()
    if verifying then
        verifying = false
        return wrk.format("POST", "/webhooks/omega", {}, bodies[1])
    end
    idx = idx + 1
    local k = idx <= #bodies and idx or #bodies
    return wrk.format("POST", "/webhooks/omega",
        {["X-Omega-Signature"] = sigs[k], ["Content-Type"] = "application/json"}, bodies[k])
end
accepted = 0
function response(status)
    if status == 202 then
        accepted = accepted + 1
    end
    if accepted >= #bodies then
        wrk.thread:stop()
    end
end
LUA

cat >"$WORK/post.py" <<'PY'
# Fallback loader when wrk is not installed: threads on kept-alive connections.
import http.client, sys, threading
port, path, nthreads = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lines = open(path).read().splitlines()
def run(k):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for line in lines[k::nthreads]:
        sig, body = line.split("\t", 1)
        c.request("POST", "/webhooks/omega", body, {"X-Omega-Signature": sig, "Content-Type": "application/json"})
        c.getresponse().read()
ts = [threading.Thread(target=run, args=(k,)) for k in range(nthreads)]
[t.start() for t in ts]
[t.join() for t in ts]
PY

write_config() { # write_config SINK_YAML
    PORT=$(free_port)
    ADMIN=$(free_port)
    cat >"$WORK/hookfwd.yaml" <<YAML
listen: {address: 127.0.0.1:$PORT, threads: 2}
admin: {address: 127.0.0.1:$ADMIN}
storage: {mode: memory, path: $WORK/data}
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, secrets: ["\${OMEGA_SECRET}"]}
sinks:
  - name: out
    takes: records
    queue: {max_events: 1000000}
    batch: {max_events: 500, flush_interval: 1s}
$1
YAML
}

# run_load NAME: starts the agent, posts the N bodies, waits until the sink
# settled N records; sets ELAPSED_MS and AGENT_CPU (ticks).
run_load() {
    "$HOOKFWD_BIN" run -c "$WORK/hookfwd.yaml" >/dev/null 2>"$WORK/$1.err" &
    local agent=$!
    PIDS+=("$agent")
    local deadline=$(($(now_ms) + 20000))
    until curl -sf "http://127.0.0.1:$ADMIN/healthz" >/dev/null; do
        [ "$(now_ms)" -lt "$deadline" ] || { echo "agent did not start:"; cat "$WORK/$1.err"; exit 1; }
        sleep 0.05
    done
    local c0 t0 loader
    c0=$(cpu_ticks "$agent")
    t0=$(now_ms)
    if command -v wrk >/dev/null; then
        wrk -t2 -c"$CONNS" -d600s -s "$WORK/post.lua" "http://127.0.0.1:$PORT" -- "$WORK/bodies.tsv" 2 \
            >"$WORK/$1.wrk" 2>&1 &
    else
        python3 "$WORK/post.py" "$PORT" "$WORK/bodies.tsv" "$CONNS" &
    fi
    loader=$!
    PIDS+=("$loader")
    local last=0 stalled_since=$t0 settled=0 accepted_ms=0 settled_at_accept=0
    while :; do
        settled=$(($(metric 'hookfwd_sink_events_total{sink="out",outcome="delivered"}') + 0))
        if [ "$accepted_ms" = 0 ] && [ "$(($(metric 'hookfwd_events_accepted_total{source="omega"}') + 0))" -ge "$N" ]; then
            accepted_ms=$(($(now_ms) - t0))
            settled_at_accept=$settled
        fi
        [ "$settled" -ge "$N" ] && break
        if [ "$settled" != "$last" ]; then
            last=$settled
            stalled_since=$(now_ms)
        elif [ $(($(now_ms) - stalled_since)) -gt 15000 ]; then
            echo "$1: stalled at $settled of $N delivered"
            break
        fi
        sleep 0.02
    done
    ELAPSED_MS=$(($(now_ms) - t0))
    ACCEPTED_MS=$accepted_ms
    # what was still queued when ingest ended, and how fast the sink alone drained it
    BACKLOG=$((N - settled_at_accept))
    DRAIN_MS=$((ELAPSED_MS - accepted_ms))
    SETTLED=$settled
    AGENT_CPU=$(($(cpu_ticks "$agent") - c0))
    [ -n "${DEBUG:-}" ] && curl -sf "http://127.0.0.1:$ADMIN/metrics" | grep -E "requests_total|accepted_total|sink_events"
    kill "$loader" 2>/dev/null
    wait "$loader" 2>/dev/null
    kill "$agent"
    wait "$agent"
}

rate() { python3 -c 'import sys; print("%.0f" % (int(sys.argv[1]) * 1000.0 / int(sys.argv[2])) if int(sys.argv[2]) else "n/a")' "$@"; }
HZ=$(getconf CLK_TCK)
pct() { python3 -c 'import sys; print("%.0f%%" % (int(sys.argv[1]) * 100.0 / int(sys.argv[3]) / (int(sys.argv[2]) / 1000.0)))' "$1" "$2" "$HZ"; }

echo "hookfwd $("$HOOKFWD_BIN" version | head -1 | cut -d' ' -f2), $N events, $CONNS connections, $(nproc) cores," \
    "loader: $(command -v wrk >/dev/null && echo wrk || echo python)"

# ---- splunk_hec ----
python3 "$SRC/tests/peers/hec_receiver.py" --token "$HEC_TOKEN" --port 0 >"$WORK/rcv.out" 2>"$WORK/rcv.err" &
RCV=$!
PIDS+=("$RCV")
for _ in $(seq 100); do grep -qs LISTENING "$WORK/rcv.out" && break; sleep 0.05; done
RPORT=$(awk '/LISTENING/ {print $2}' "$WORK/rcv.out")
write_config "    type: splunk_hec
    url: http://127.0.0.1:$RPORT
    token: \"\${HEC_TOKEN}\"
    gzip: ${GZIP:-true}"
make_bodies splunk
r0=$(cpu_ticks "$RCV")
run_load splunk
RCV_CPU=$(($(cpu_ticks "$RCV") - r0))
SPLUNK_MS=$ELAPSED_MS
SPLUNK_RATE=$(rate "$SETTLED" "$ELAPSED_MS")
SPLUNK_INGEST=$(rate "$N" "$ACCEPTED_MS")
SPLUNK_CPU=$(pct "$AGENT_CPU" "$ELAPSED_MS")
SPLUNK_US=$((AGENT_CPU * 1000000 / HZ / N))
SPLUNK_BACKLOG="$BACKLOG events queued when ingest ended, drained in $DRAIN_MS ms"
curl -sf "http://127.0.0.1:$RPORT/_stats" >"$WORK/stats.json"
kill "$RCV"

# ---- stdout to /dev/null ----
write_config "    type: stdout"
make_bodies stdout
run_load stdout
STDOUT_RATE=$(rate "$SETTLED" "$ELAPSED_MS")
STDOUT_INGEST=$(rate "$N" "$ACCEPTED_MS")
STDOUT_CPU=$(pct "$AGENT_CPU" "$ELAPSED_MS")
STDOUT_US=$((AGENT_CPU * 1000000 / HZ / N))
STDOUT_BACKLOG="$BACKLOG events queued when ingest ended, drained in $DRAIN_MS ms"

python3 - "$WORK/stats.json" <<PY
import json, statistics, sys
s = json.load(open(sys.argv[1]))
sizes = s["batch_sizes"]
splunk, stdout = $SPLUNK_RATE, $STDOUT_RATE
print("splunk_hec : %7d events/s delivered (%d ms; all accepted at %s events/s; agent CPU %s, %d us/event)" %
      (splunk, $SPLUNK_MS, "$SPLUNK_INGEST", "$SPLUNK_CPU", $SPLUNK_US))
print("stdout     : %7d events/s delivered (all accepted at %s events/s; agent CPU %s, %d us/event)" %
      (stdout, "$STDOUT_INGEST", "$STDOUT_CPU", $STDOUT_US))
print("backlog    : splunk_hec %s; stdout %s" % ("$SPLUNK_BACKLOG", "$STDOUT_BACKLOG"))
print("ratio      : splunk_hec / stdout = %.2f" % (splunk / max(stdout, 1)))
print("HEC        : %d requests for %d events (gzip %d): %.2f requests per 500 events" %
      (s["requests"], s["events"], s["gzip_requests"], s["requests"] * 500.0 / max(s["events"], 1)))
if sizes:
    print("batches    : min %d, median %d, max %d; %d of %d full (500)" %
          (min(sizes), statistics.median(sizes), max(sizes), sizes.count(500), len(sizes)))
print("receiver   : %s CPU (one Python thread under the GIL: near 100%% means it is the bottleneck)" % "$(pct "$RCV_CPU" "$SPLUNK_MS")")
PY
