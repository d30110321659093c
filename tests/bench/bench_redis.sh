#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What shared dedup (dedup.store: redis) costs one agent, measured against
# local dedup in the same run: the p99 at 10,000 events/s (open loop,
# hf_loadgen, latency from each request's due time) and the throughput at
# saturation (wrk). The agent (listen.threads 1, setup 1 of tests/bench/run:
# memory storage, a file sink) runs on core 0; the load generator and a
# private redis-server (no persistence) on core 1. Each round measures
# local, then redis (the next round the other way round), every run on a
# fresh agent and an empty Redis, so no key repeats within a run and every
# answer must be 202. On a machine other work shares, compare the two rows
# of one round, not numbers across machines or runs.
#
#   tests/bench/bench_redis.sh [--rounds N] [--duration S] [--sat-duration S] [--rate R] [--connections N]
#                              [--bodies N] [--timeout DURATION] [--quiet-wait S]
#                              [--build-dir DIR] [--keep]
#
# redis.timeout is 1s here (--timeout): a claim that falls back to local
# dedup makes the run INVALID, since it would measure the fallback, not
# Redis. Before each measured run it waits up to --quiet-wait seconds (60)
# for other processes to use less than a tenth of the machine.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FIXTURES=$SRC/tests/fixtures
[ -f "$SRC/../shared/fixtures/signatures.tsv" ] && FIXTURES=$(cd "$SRC/../shared/fixtures" && pwd)
ROUNDS=3 DURATION=10 SAT_DURATION=5 RATE=10000 CONNS=64 BODIES=400000 BUILD=$SRC/build-bench KEEP=0 TIMEOUT=1s QUIET_WAIT=60
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --sat-duration) SAT_DURATION=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --bodies) BODIES=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --quiet-wait) QUIET_WAIT=$2; shift ;;
    --keep) KEEP=1 ;;
    *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift
done
for tool in cmake wrk redis-server redis-cli python3 taskset curl; do
    command -v "$tool" >/dev/null || { echo "bench_redis.sh: $tool is missing (sh packaging/install-deps.sh)"; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench_redis.sh: needs two cores"; exit 2; }

export OMEGA_SECRET=whsec_your_signing_secret SL_SECRET=sl_live_3f9a2c71d04e
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-bench-redis.XXXXXX")
TCK=$(getconf CLK_TCK)
PIDS=()
AGENT_PID= REDIS_PID=
FAILED=0
cleanup() {
    for p in $AGENT_PID $REDIS_PID "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in $AGENT_PID $REDIS_PID "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ "$KEEP" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sys_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.05
    done
}
# wait_quiet: up to QUIET_WAIT seconds until other processes use less than
# a tenth of the machine over a second (nothing is slowed or stopped for it)
wait_quiet() {
    local deadline=$(($(date +%s) + QUIET_WAIT)) s0 s1 a0 a1 r0 r1
    while :; do
        s0=$(sys_ticks) a0=$(proc_ticks "$AGENT_PID") r0=$(proc_ticks "$REDIS_PID")
        sleep 1
        s1=$(sys_ticks) a1=$(proc_ticks "$AGENT_PID") r1=$(proc_ticks "$REDIS_PID")
        [ $(((s1 - s0) - (a1 - a0) - (r1 - r0))) -lt $((TCK * 2 / 10)) ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && return 0
    done
}
metric() { curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

say "building hookfwd (Release) in $BUILD"
if ! { cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHOOKFWD_PLUGINS="" &&
    cmake --build "$BUILD" -j2 --target hookfwd hf_loadgen; } >"$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log"
    exit 1
fi
say "generating $BODIES signed requests"
python3 "$HERE/gen_requests.py" --fixtures "$FIXTURES" --count "$BODIES" --out "$WORK/good.req" >/dev/null ||
    { echo "bench_redis.sh: cannot generate the corpus"; exit 1; }

REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
printf 'bind 127.0.0.1\nport %s\ndaemonize no\ndir %s\nlogfile %s\nsave ""\nappendonly no\n' \
    "$REDIS_PORT" "$WORK/redis" "$WORK/redis/redis.log" >"$WORK/redis/redis.conf"
taskset -c 1 redis-server "$WORK/redis/redis.conf" &
REDIS_PID=$!
redis_up() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
wait_for 10 redis_up || { echo "redis-server did not start"; cat "$WORK/redis/redis.log"; exit 1; }

start_agent() { # start_agent local|redis
    local dedup=""
    [ "$1" = redis ] && dedup="    dedup: {store: redis, redis: {url: \"redis://127.0.0.1:$REDIS_PORT/0\", timeout: $TIMEOUT, on_unavailable: local}}"
    PORT=$(free_port)
    ADMIN_PORT=$(free_port)
    rm -rf "$WORK/out.jsonl"
    cat >"$WORK/agent.yaml" <<EOF
listen:
  address: 127.0.0.1:$PORT
  threads: 1
  read_timeout: 10s
admin:
  address: 127.0.0.1:$ADMIN_PORT
storage:
  mode: memory
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: ["\${OMEGA_SECRET}"]}
$dedup
  - name: sentinelayer
    path: /webhooks/sentinelayer
    profile: sentinelayer
    signature: {scheme: hmac-sha256, header: X-Sentinelayer-Signature, secrets: ["\${SL_SECRET}"]}
$dedup
sinks:
  - name: file
    type: file
    path: $WORK/out.jsonl
    takes: both
    queue: {max_events: 100000}
    batch: {max_events: 500, flush_interval: 100ms}
EOF
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    taskset -c 0 "$BUILD/hookfwd" run -c "$WORK/agent.yaml" >"$WORK/agent.out" 2>>"$WORK/agent.err" &
    AGENT_PID=$!
    wait_for 20 curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz" || { echo "the agent did not start"; cat "$WORK/agent.err"; exit 1; }
}
stop_agent() {
    kill "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=
}

# the agent's own view: duplicates and store errors must stay 0
agent_checks() { # agent_checks MODE -> "s200 errors fallback new"
    local s200=0 errs=0 fb=0 new=0 src v
    for src in omega sentinelayer; do
        v=$(metric "hookfwd_requests_total{source=\"$src\",status=\"200\"}")
        s200=$((s200 + ${v:-0}))
        if [ "$1" = redis ]; then
            v=$(metric "hookfwd_dedup_store_errors_total{source=\"$src\"}")
            errs=$((errs + ${v:-0}))
            v=$(metric "hookfwd_dedup_store_fallback_total{source=\"$src\",decision=\"local\"}")
            fb=$((fb + ${v:-0}))
            v=$(metric "hookfwd_dedup_store_claims_total{source=\"$src\",result=\"new\"}")
            new=$((new + ${v:-0}))
        fi
    done
    echo "$s200 $errs $fb $new"
}

# open_loop MODE ROUND: warm-up and one open-loop run at RATE on a fresh agent
open_loop() {
    local mode=$1 round=$2 out c0 c1 r0 r1 s0 s1 w0 w1 chk
    start_agent "$mode"
    taskset -c 1 "$BUILD/tests/bench/hf_loadgen" -f "$WORK/good.req" -a "127.0.0.1:$PORT" -r "$RATE" -d 2 \
        -c "$CONNS" -o $((BODIES - RATE * 2)) >/dev/null
    wait_quiet
    c0=$(proc_ticks "$AGENT_PID") r0=$(proc_ticks "$REDIS_PID") s0=$(sys_ticks) w0=$(date +%s%N)
    out=$(taskset -c 1 "$BUILD/tests/bench/hf_loadgen" -f "$WORK/good.req" -a "127.0.0.1:$PORT" -r "$RATE" \
        -d "$DURATION" -c "$CONNS" -o 0)
    c1=$(proc_ticks "$AGENT_PID") r1=$(proc_ticks "$REDIS_PID") s1=$(sys_ticks) w1=$(date +%s%N)
    read -r d200 errs fb new <<<"$(agent_checks "$mode")"
    stop_agent
    local why=""
    [ "$(field non2xx "$out")" = 0 ] || why="$why non-2xx;"
    [ "$(field s200 "$out")" = 0 ] && [ "$d200" = 0 ] || why="$why duplicates;"
    [ "$errs" = 0 ] && [ "$fb" = 0 ] || why="$why store errors $errs, local fallbacks $fb;"
    awk -v m="$mode" -v r="$round" -v l="$out" -v agent=$((c1 - c0)) -v redis=$((r1 - r0)) -v sys=$((s1 - s0)) \
        -v tck="$TCK" -v win=$(((w1 - w0) / 1000)) -v new="$new" -v why="${why:--}" 'BEGIN {
        n = split(l, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); f[p[1]] = p[2] }
        other = sys - agent - redis; if (other < 0) other = 0
        printf "kind=open mode=%s round=%d rate=%.0f p50=%.3f p99=%.3f p999=%.3f max=%.3f agent_cpu_us=%.1f redis_cpu_us=%.1f other_cpu=%.0f claims=%d why=%s\n",
            m, r, f["rate"], f["p50_us"] / 1000, f["p99_us"] / 1000, f["p999_us"] / 1000, f["max_us"] / 1000,
            agent / tck * 1e6 / f["requests"], redis / tck * 1e6 / f["requests"],
            100 * other / tck / (2 * win / 1e6), new, why }' | tee -a "$WORK/results" >&2
    [ -z "$why" ] || FAILED=1
}

# saturation MODE ROUND: wrk, CONNS connections, on a fresh agent
saturation() {
    local mode=$1 round=$2 line c0 c1 r0 r1 s0 s1 w0 w1
    start_agent "$mode"
    wait_quiet
    c0=$(proc_ticks "$AGENT_PID") r0=$(proc_ticks "$REDIS_PID") s0=$(sys_ticks) w0=$(date +%s%N)
    HF_BENCH_REQUESTS=$WORK/good.req HF_BENCH_OFFSET=0 HF_BENCH_THREADS=1 \
        taskset -c 1 wrk -t1 -c"$CONNS" -d"${SAT_DURATION}s" --latency --timeout 5s -s "$HERE/post.lua" \
        "http://127.0.0.1:$PORT/" >"$WORK/wrk.out" 2>&1
    c1=$(proc_ticks "$AGENT_PID") r1=$(proc_ticks "$REDIS_PID") s1=$(sys_ticks) w1=$(date +%s%N)
    line=$(grep '^HFBENCH' "$WORK/wrk.out")
    read -r d200 errs fb new <<<"$(agent_checks "$mode")"
    stop_agent
    local why=""
    [ -n "$line" ] || { why=" wrk failed;"; line="HFBENCH requests=1 duration_us=1"; }
    [ "$(field non2xx "$line")" = 0 ] || why="$why non-2xx;"
    [ "$d200" = 0 ] || why="$why duplicates (corpus too small for this rate: --bodies);"
    [ "$errs" = 0 ] && [ "$fb" = 0 ] || why="$why store errors $errs, local fallbacks $fb;"
    awk -v m="$mode" -v r="$round" -v l="$line" -v agent=$((c1 - c0)) -v redis=$((r1 - r0)) -v sys=$((s1 - s0)) \
        -v tck="$TCK" -v win=$(((w1 - w0) / 1000)) -v why="${why:--}" 'BEGIN {
        n = split(l, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); f[p[1]] = p[2] }
        other = sys - agent - redis; if (other < 0) other = 0
        printf "kind=sat mode=%s round=%d rps=%.0f p99=%.3f agent_cpu_us=%.1f agent_util=%.0f redis_cpu_us=%.1f other_cpu=%.0f why=%s\n",
            m, r, f["requests"] / (f["duration_us"] / 1e6), f["p99_us"] / 1000,
            agent / tck * 1e6 / f["requests"], 100 * agent / tck / (win / 1e6), redis / tck * 1e6 / f["requests"],
            100 * other / tck / (2 * win / 1e6), why }' | tee -a "$WORK/results" >&2
    [ -z "$why" ] || FAILED=1
}

for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="local redis"; else order="redis local"; fi
    for m in $order; do
        say "round $r: $m dedup, open loop at $RATE/s for ${DURATION}s"
        open_loop "$m" "$r"
    done
    for m in $order; do
        say "round $r: $m dedup, saturation (wrk, $CONNS connections) for ${SAT_DURATION}s"
        saturation "$m" "$r"
    done
done

echo
python3 - "$WORK/results" "$RATE" "$DURATION" "$CONNS" "$TIMEOUT" "$(nproc)" "$SAT_DURATION" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    head, _, why = line.partition(" why=")
    f = dict(kv.split("=", 1) for kv in head.split())
    f["why"] = why.strip()
    rows[(f["kind"], f["mode"], int(f["round"]))] = f
rate, dur, conns, timeout, cores, sat = sys.argv[2:]
print("Shared dedup (Redis, redis.timeout %s) against local dedup: one agent (listen.threads 1) on core 0;" % timeout)
print("hf_loadgen or wrk and redis-server on core 1. Open loop: %s events/s for %ss, %s connections, latency from"
      % (rate, dur, conns))
print("each request's due time; saturation: wrk, %s connections, %ss. %s cores shared with other work: compare"
      % (conns, sat, cores))
print("within a round ('other' is everyone else's share of both cores during the run).")
print()
print("%-5s | %-26s | %-26s | %-8s | %-15s | %-6s | %s" % ("round", "open loop local p99 (p50)", "open loop redis p99 (p50)",
      "Δp99 ms", "sat req/s l / r", "ratio", "agent CPU µs/event l / r (sat); other% l / r"))
deltas, ratios = [], []
for r in sorted({k[2] for k in rows}):
    try:
        lo, ro = rows[("open", "local", r)], rows[("open", "redis", r)]
        ls, rs = rows[("sat", "local", r)], rows[("sat", "redis", r)]
    except KeyError:
        continue
    if any(x["why"] != "-" for x in (lo, ro, ls, rs)):
        print("%-5d | INVALID: %s" % (r, "; ".join(x["why"] for x in (lo, ro, ls, rs) if x["why"] != "-")))
        continue
    d = float(ro["p99"]) - float(lo["p99"])
    q = float(rs["rps"]) / float(ls["rps"])
    deltas.append(d)
    ratios.append(q)
    print("%-5d | %-26s | %-26s | %+8.3f | %-15s | %6.3f | %s / %s; %s%%/%s%% open, %s%%/%s%% sat" % (
        r, "%s ms (%s)" % (lo["p99"], lo["p50"]), "%s ms (%s)" % (ro["p99"], ro["p50"]), d,
        "%s / %s" % (ls["rps"], rs["rps"]), q, ls["agent_cpu_us"], rs["agent_cpu_us"],
        lo["other_cpu"], ro["other_cpu"], ls["other_cpu"], rs["other_cpu"]))
if deltas:
    md, mq = statistics.median(deltas), statistics.median(ratios)
    print()
    print("median of %d rounds: Δp99 %+.3f ms (target <= 0.5 ms: %s); saturation ratio %.3f (target >= 0.9: %s)"
          % (len(deltas), md, "met" if md <= 0.5 else "NOT met", mq, "met" if mq >= 0.9 else "NOT met"))
PY
[ "$FAILED" = 0 ] || echo "some runs were INVALID (see 'why=' above)"
exit "$FAILED"
