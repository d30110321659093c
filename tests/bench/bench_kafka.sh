#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (issue 7): records/s through the whole agent (HTTP ingest,
# signature check, flatten, sink) into the kafka sink on librdkafka's mock
# cluster, against the same load into the stdout sink (to /dev/null). One
# run each, the same wrk load of pre-signed requests with unique ids
# (tests/bench/gen_requests.py + post.lua), then Kafka is read back to
# check that every delivered record is really there.
#
#   tests/bench/bench_kafka.sh [BUILD_DIR]     (default: $BUILD_DIR or ./build)
#
# Environment: DURATION (s, default 10), CONNECTIONS (default 32), THREADS
# (wrk threads, default 2), STORAGE (memory|disk, default memory),
# FIXTURES (default ../shared/fixtures, else tests/fixtures).
# Everything runs on 127.0.0.1 and stops by itself. Without wrk a Python
# loop (keep-alive, one connection per thread) makes the load instead.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${1:-${BUILD_DIR:-$SRC/build}}
BIN=$BUILD/hookfwd
MOCK=$BUILD/tests/peers/kafka_mock
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
STORAGE=${STORAGE:-memory}
FIXTURES=${FIXTURES:-$SRC/../shared/fixtures}
[ -f "$FIXTURES/signatures.tsv" ] || FIXTURES=$SRC/tests/fixtures
export OMEGA_SECRET=whsec_your_signing_secret SL_SECRET=sl_live_3f9a2c71d04e

for f in "$BIN" "$MOCK"; do
    [ -x "$f" ] || { echo "bench_kafka: $f not built (cmake --build $BUILD)"; exit 2; }
done
"$BIN" version | grep -q '^  sinks:.* kafka' || { echo "bench_kafka: hookfwd built without the kafka sink"; exit 2; }
WRK=$(command -v wrk || true)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_for() { # wait_for SECONDS command...
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
metric_sum() { # metric_sum NAME_PREFIX: sum of every series whose name starts so
    curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v k="$1" 'index($1, k) == 1 {s += $2} END {printf "%d\n", s}'
}

# ---- the load -------------------------------------------------------------------
# unique ids, enough that wrk rarely comes back to one within the dedup
# window (a repeat is a 200 duplicate, not a record); ~1 KiB each on disk
COUNT=${COUNT:-400000}
echo "generating $COUNT signed requests..."
python3 "$HERE/gen_requests.py" --fixtures "$FIXTURES" --count "$COUNT" --out "$WORK/requests.bin" >/dev/null || exit 2

cat >"$WORK/pyload.py" <<'PY'
# Fallback load without wrk: THREADS keep-alive connections for DURATION s.
import http.client, sys, threading, time
port, path, threads, duration = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
data = open(path, "rb").read()
reqs, p = [], 0
while p < len(data):
    nl = data.index(b"\n", p)
    n = int(data[p:nl])
    head, body = data[nl + 1:nl + 1 + n].split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = dict(l.split(": ", 1) for l in lines[1:])
    reqs.append((lines[0].split(" ")[1], hdrs, body))
    p = nl + 1 + n
done, non2xx = [0] * threads, [0] * threads
def run(t):
    c = http.client.HTTPConnection("127.0.0.1", port)
    i, end = t, time.time() + duration
    while time.time() < end and i < len(reqs):
        u, h, b = reqs[i]
        c.request("POST", u, b, h)
        r = c.getresponse(); r.read()
        done[t] += 1
        non2xx[t] += not (200 <= r.status < 300)
        i += threads
ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print("HFBENCH requests=%d duration_us=%d non2xx=%d" % (sum(done), int(duration * 1e6), sum(non2xx)))
PY

load() { # load PORT: prints the HFBENCH line
    if [ -n "$WRK" ]; then
        HF_BENCH_REQUESTS=$WORK/requests.bin HF_BENCH_THREADS=$THREADS HF_BENCH_OFFSET=0 \
            "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/post.lua" \
            "http://127.0.0.1:$1" 2>&1 | grep '^HFBENCH'
    else
        python3 "$WORK/pyload.py" "$1" "$WORK/requests.bin" "$THREADS" "$DURATION"
    fi
}

# ---- one run ----------------------------------------------------------------------
# run NAME SINK_YAML: starts a fresh agent, loads it, waits until the sink has
# settled every accepted record; sets RESULT.
run() {
    local name=$1 sink=$2
    PORT=$(free_port)
    ADMIN_PORT=$(free_port)
    rm -rf "$WORK/data"
    cat >"$WORK/$name.yaml" <<YAML
listen: {address: 127.0.0.1:$PORT, threads: 2}
admin: {address: 127.0.0.1:$ADMIN_PORT}
storage: {mode: $STORAGE, path: $WORK/data}
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: ["\${OMEGA_SECRET}"]}
  - name: sentinelayer
    path: /webhooks/sentinelayer
    profile: sentinelayer
    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: ["\${SL_SECRET}"]}
sinks:
$sink
YAML
    "$BIN" run -c "$WORK/$name.yaml" >/dev/null 2>"$WORK/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    wait_for 20 curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz" || { echo "agent did not start"; cat "$WORK/$name.err"; exit 1; }
    local t0 t1 line accepted delivered
    t0=$(now_ms)
    line=$(load "$PORT")
    accepted=$(metric_sum hookfwd_events_accepted_total)
    # done when the sink has delivered (or given up on) every accepted record
    settled() {
        local d
        d=$(($(metric_sum "hookfwd_sink_events_total{sink=\"out\",outcome=\"delivered\"") +
            $(metric_sum "hookfwd_sink_events_total{sink=\"out\",outcome=\"dead\"")))
        [ "$d" -ge "$accepted" ]
    }
    wait_for 120 settled || echo "warning: $name did not settle within 120 s"
    t1=$(now_ms)
    delivered=$(metric_sum "hookfwd_sink_events_total{sink=\"out\",outcome=\"delivered\"")
    local dead
    dead=$(metric_sum "hookfwd_sink_events_total{sink=\"out\",outcome=\"dead\"")
    kill "$pid"
    wait "$pid"
    RESULT="$name: $delivered records delivered ($dead dead) in $((t1 - t0)) ms" 
    RESULT="$RESULT = $((delivered * 1000 / (t1 - t0))) records/s end to end; load: $line"
    DELIVERED=$delivered
}

batch="    batch: {max_events: 1000, max_bytes: 4MiB, flush_interval: 50ms}
    queue: {max_events: 100000}"

echo "run 1: stdout sink (to /dev/null)"
run stdout "  - name: out
    type: stdout
    takes: records
$batch"
R1=$RESULT
echo "  $R1"

mkfifo "$WORK/mock.in"
"$MOCK" 3 <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
PIDS+=("$!")
exec 7>"$WORK/mock.in"
wait_for 15 grep -q '^BOOTSTRAP ' "$WORK/mock.out" || { echo "mock cluster did not start"; exit 1; }
BOOT=$(awk '/^BOOTSTRAP/ {print $2; exit}' "$WORK/mock.out")

echo "run 2: kafka sink (mock cluster, 3 brokers)"
run kafka "  - name: out
    type: kafka
    takes: records
    brokers: \"$BOOT\"
    topic: \"bench.\${source}\"
$batch"
R2=$RESULT
echo "  $R2"

# every delivered record is really in Kafka: the partitions' end offsets (the
# mock keeps only the newest few MB of each partition, so reading them all
# back would undercount)
if command -v kcat >/dev/null; then
    inkafka=0
    for t in bench.omega bench.sentinelayer; do
        np=$(kcat -L -b "$BOOT" -t "$t" 2>/dev/null | grep -c '^    partition ')
        args=()
        for ((p = 0; p < np; p++)); do args+=(-t "$t:$p:-1"); done
        n=$(kcat -Q -b "$BOOT" "${args[@]}" 2>/dev/null | awk '{s += $4} END {print s + 0}')
        inkafka=$((inkafka + n))
    done
    R2="$R2; messages in Kafka (end offsets): $inkafka"
    echo "  messages in Kafka (end offsets): $inkafka, delivered: $DELIVERED"
fi

echo
echo "=== bench_kafka ($(nproc) cores, storage $STORAGE, ${DURATION}s of load, $CONNECTIONS connections) ==="
echo "$R1"
echo "$R2"
