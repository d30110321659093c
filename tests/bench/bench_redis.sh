#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What shared dedup (dedup.store: redis) costs one agent, against local
# dedup in the same run: the p99 at 10,000 events/s (open loop, hf_loadgen,
# latency from each request's due time) and the throughput at saturation
# (wrk). The agent (listen.threads 1, setup 1 of tests/bench/run: memory
# storage, a file sink) runs on core 0; the load generator and a private
# redis-server (no persistence) on core 1.
#
# The machine is shared with other work, whose bursts come and go, so the
# two modes are measured in short interleaved slices (local, redis, then
# redis, local, ...) and compared by their medians: a burst spoils a slice
# or two of either mode, not one mode's whole run.
#   open loop   a local agent and a redis agent, both started once; each
#               slice loads one of them at RATE for SLICE seconds, with
#               requests it has not seen before
#   saturation  each slice on a fresh agent (and an empty Redis), wrk with
#               CONNS connections for SLICE seconds
# Every answer must be 202 (no duplicate, no error) and the redis agent
# must never have fallen back to local dedup (redis.timeout is 1s here, so
# a slow Redis shows as latency, not as a fallback); otherwise the slice is
# INVALID and the command exits 1.
#
#   tests/bench/bench_redis.sh [--slices N] [--slice S] [--rate R] [--connections N]
#                              [--bodies N] [--timeout DURATION] [--build-dir DIR] [--keep]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FIXTURES=$SRC/tests/fixtures
[ -f "$SRC/../shared/fixtures/signatures.tsv" ] && FIXTURES=$(cd "$SRC/../shared/fixtures" && pwd)
SLICES=10 SLICE=3 RATE=10000 CONNS=64 BODIES=400000 BUILD=$SRC/build-bench KEEP=0 TIMEOUT=1s
while [ $# -gt 0 ]; do
    case $1 in
    --slices) SLICES=$2; shift ;;
    --slice) SLICE=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --bodies) BODIES=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --keep) KEEP=1 ;;
    *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift
done
for tool in cmake wrk redis-server redis-cli python3 taskset curl; do
    command -v "$tool" >/dev/null || { echo "bench_redis.sh: $tool is missing (sh packaging/install-deps.sh)"; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench_redis.sh: needs two cores"; exit 2; }
WARM=$((RATE * 2))
if [ $((SLICES * SLICE * RATE + WARM)) -gt "$BODIES" ]; then
    echo "bench_redis.sh: $SLICES slices of ${SLICE}s at $RATE/s need more than --bodies $BODIES requests"
    exit 2
fi

export OMEGA_SECRET=whsec_your_signing_secret SL_SECRET=sl_live_3f9a2c71d04e
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-bench-redis.XXXXXX")
TCK=$(getconf CLK_TCK)
declare -A PID PORT ADMIN
REDIS_PID=
FAILED=0
cleanup() {
    local p
    for p in "${PID[@]}" $REDIS_PID; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "${PID[@]}" $REDIS_PID; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
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
metric() { # metric MODE SERIES
    curl -sf "http://127.0.0.1:${ADMIN[$1]}/metrics" | awk -v k="$2" '$1 == k {print $2}'
}

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
    local m=$1 dedup=""
    [ "$m" = redis ] && dedup="    dedup: {store: redis, redis: {url: \"redis://127.0.0.1:$REDIS_PORT/0\", timeout: $TIMEOUT, on_unavailable: local}}"
    PORT[$m]=$(free_port)
    ADMIN[$m]=$(free_port)
    rm -f "$WORK/out-$m.jsonl"
    cat >"$WORK/$m.yaml" <<EOF
listen:
  address: 127.0.0.1:${PORT[$m]}
  threads: 1
  read_timeout: 10s
admin:
  address: 127.0.0.1:${ADMIN[$m]}
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
    path: $WORK/out-$m.jsonl
    takes: both
    queue: {max_events: 100000}
    batch: {max_events: 500, flush_interval: 100ms}
EOF
    taskset -c 0 "$BUILD/hookfwd" run -c "$WORK/$m.yaml" >"$WORK/$m.out" 2>>"$WORK/$m.err" &
    PID[$m]=$!
    wait_for 20 curl -sf "http://127.0.0.1:${ADMIN[$m]}/healthz" || { echo "the $m agent did not start"; cat "$WORK/$m.err"; exit 1; }
}
stop_agent() {
    kill "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
    PID[$1]=
}

# the agent's own counters: "duplicates errors local-fallbacks"
agent_counts() {
    local m=$1 dup=0 errs=0 fb=0 src v
    for src in omega sentinelayer; do
        v=$(metric "$m" "hookfwd_requests_total{source=\"$src\",status=\"200\"}")
        dup=$((dup + ${v:-0}))
        if [ "$m" = redis ]; then
            v=$(metric "$m" "hookfwd_dedup_store_errors_total{source=\"$src\"}")
            errs=$((errs + ${v:-0}))
            v=$(metric "$m" "hookfwd_dedup_store_fallback_total{source=\"$src\",decision=\"local\"}")
            fb=$((fb + ${v:-0}))
        fi
    done
    echo "$dup $errs $fb"
}

# record KIND MODE SLICE LINE AGENT_TICKS REDIS_TICKS SYS_TICKS WINDOW_US COUNTS_BEFORE COUNTS_AFTER
record() {
    local why="" b a
    read -ra b <<<"${9}"
    read -ra a <<<"${10}"
    [ "$(field non2xx "$4")" = 0 ] || why="$why $(field non2xx "$4") non-2xx;"
    [ $((a[0] - b[0])) = 0 ] || why="$why $((a[0] - b[0])) duplicates;"
    [ $((a[1] - b[1] + a[2] - b[2])) = 0 ] || why="$why store errors or fallbacks;"
    [ "$(field requests "$4")" -gt 0 ] 2>/dev/null || why="$why no requests;"
    awk -v k="$1" -v m="$2" -v i="$3" -v l="$4" -v agent="$5" -v redis="$6" -v sys="$7" -v win="$8" \
        -v tck="$TCK" -v why="${why:--}" 'BEGIN {
        n = split(l, kv, " "); for (j = 2; j <= n; j++) { split(kv[j], p, "="); f[p[1]] = p[2] }
        req = f["requests"] > 0 ? f["requests"] : 1
        other = sys - agent - redis; if (other < 0) other = 0
        printf "kind=%s mode=%s slice=%d rps=%.0f p50=%.3f p99=%.3f p999=%.3f agent_cpu_us=%.1f redis_cpu_us=%.1f other_cpu=%.0f why=%s\n",
            k, m, i, req / (f["duration_us"] / 1e6), f["p50_us"] / 1000, f["p99_us"] / 1000, f["p999_us"] / 1000,
            agent / tck * 1e6 / req, redis / tck * 1e6 / req, 100 * other / tck / (2 * win / 1e6), why }' |
        tee -a "$WORK/results" >&2
    [ -z "$why" ] || FAILED=1
}

order() { if [ $(($1 % 2)) = 1 ]; then echo "local redis"; else echo "redis local"; fi; }

# ---- open loop: both agents up, slices alternate ----
redis-cli -p "$REDIS_PORT" flushall >/dev/null
start_agent local
start_agent redis
declare -A OFF=([local]=0 [redis]=0)
for m in local redis; do # warm-up, from the corpus' end
    taskset -c 1 "$BUILD/tests/bench/hf_loadgen" -f "$WORK/good.req" -a "127.0.0.1:${PORT[$m]}" -r "$RATE" -d 2 \
        -c "$CONNS" -o $((BODIES - WARM)) >/dev/null
done
say "open loop: $SLICES slices of ${SLICE}s per mode at $RATE events/s"
for i in $(seq "$SLICES"); do
    for m in $(order "$i"); do
        c0=$(agent_counts "$m")
        a0=$(proc_ticks "${PID[$m]}") r0=$(proc_ticks "$REDIS_PID") s0=$(sys_ticks) w0=$(date +%s%N)
        out=$(taskset -c 1 "$BUILD/tests/bench/hf_loadgen" -f "$WORK/good.req" -a "127.0.0.1:${PORT[$m]}" -r "$RATE" \
            -d "$SLICE" -c "$CONNS" -o "${OFF[$m]}")
        a1=$(proc_ticks "${PID[$m]}") r1=$(proc_ticks "$REDIS_PID") s1=$(sys_ticks) w1=$(date +%s%N)
        OFF[$m]=$((OFF[$m] + $(field requests "$out")))
        record open "$m" "$i" "$out" $((a1 - a0)) $((r1 - r0)) $((s1 - s0)) $(((w1 - w0) / 1000)) "$c0" "$(agent_counts "$m")"
    done
done
stop_agent local
stop_agent redis

# ---- saturation: a fresh agent per slice ----
say "saturation: $SLICES slices of ${SLICE}s per mode, wrk with $CONNS connections"
for i in $(seq "$SLICES"); do
    for m in $(order "$i"); do
        redis-cli -p "$REDIS_PORT" flushall >/dev/null
        start_agent "$m"
        c0=$(agent_counts "$m")
        a0=$(proc_ticks "${PID[$m]}") r0=$(proc_ticks "$REDIS_PID") s0=$(sys_ticks) w0=$(date +%s%N)
        HF_BENCH_REQUESTS=$WORK/good.req HF_BENCH_OFFSET=0 HF_BENCH_THREADS=1 \
            taskset -c 1 wrk -t1 -c"$CONNS" -d"${SLICE}s" --latency --timeout 5s -s "$HERE/post.lua" \
            "http://127.0.0.1:${PORT[$m]}/" >"$WORK/wrk.out" 2>&1
        a1=$(proc_ticks "${PID[$m]}") r1=$(proc_ticks "$REDIS_PID") s1=$(sys_ticks) w1=$(date +%s%N)
        line=$(grep '^HFBENCH' "$WORK/wrk.out" || echo "HFBENCH requests=0 duration_us=1 non2xx=0")
        record sat "$m" "$i" "$line" $((a1 - a0)) $((r1 - r0)) $((s1 - s0)) $(((w1 - w0) / 1000)) "$c0" "$(agent_counts "$m")"
        stop_agent "$m"
    done
done

echo
python3 - "$WORK/results" "$RATE" "$SLICE" "$SLICES" "$CONNS" "$TIMEOUT" "$(nproc)" <<'PY'
import statistics as st, sys
rows = []
for line in open(sys.argv[1]):
    head, _, why = line.partition(" why=")
    f = dict(kv.split("=", 1) for kv in head.split())
    f["why"] = why.strip()
    rows.append(f)
rate, sl, n, conns, timeout, cores = sys.argv[2:]
bad = [r for r in rows if r["why"] != "-"]
ok = [r for r in rows if r["why"] == "-"]
def col(kind, mode, key):
    return [float(r[key]) for r in ok if r["kind"] == kind and r["mode"] == mode]
def med(v):
    return st.median(v) if v else float("nan")
print("Shared dedup (Redis) against local dedup, one agent (listen.threads 1) on core 0, hf_loadgen or wrk and")
print("redis-server (redis.timeout %s) on core 1, %s cores shared with other work; %s interleaved slices of %ss per"
      % (timeout, cores, n, sl))
print("mode; medians over the slices ('other' is everyone else's share of both cores during a slice).")
print()
print("open loop at %s events/s, %s connections, latency from each request's due time:" % (rate, conns))
print("  %-6s %9s %9s %9s %14s %8s" % ("", "p50 ms", "p99 ms", "p99.9 ms", "agent µs/event", "other %"))
for m in ("local", "redis"):
    print("  %-6s %9.3f %9.3f %9.3f %14.1f %8.0f" % (m, med(col("open", m, "p50")), med(col("open", m, "p99")),
          med(col("open", m, "p999")), med(col("open", m, "agent_cpu_us")), med(col("open", m, "other_cpu"))))
print("  p99 of each slice, local:", " ".join("%.2f" % v for v in col("open", "local", "p99")))
print("  p99 of each slice, redis:", " ".join("%.2f" % v for v in col("open", "redis", "p99")))
dp99 = med(col("open", "redis", "p99")) - med(col("open", "local", "p99"))
print()
print("saturation, wrk with %s connections, a fresh agent per slice:" % conns)
print("  %-6s %9s %14s %14s %8s" % ("", "req/s", "agent µs/event", "redis µs/event", "other %"))
for m in ("local", "redis"):
    print("  %-6s %9.0f %14.1f %14.1f %8.0f" % (m, med(col("sat", m, "rps")), med(col("sat", m, "agent_cpu_us")),
          med(col("sat", m, "redis_cpu_us")), med(col("sat", m, "other_cpu"))))
print("  req/s of each slice, local:", " ".join("%.0f" % v for v in col("sat", "local", "rps")))
print("  req/s of each slice, redis:", " ".join("%.0f" % v for v in col("sat", "redis", "rps")))
ratio = med(col("sat", "redis", "rps")) / med(col("sat", "local", "rps"))
cpu_ratio = med(col("sat", "local", "agent_cpu_us")) / med(col("sat", "redis", "agent_cpu_us"))
print()
print("Redis adds %+.3f ms to the median slice p99 at %s events/s (target <= 0.5 ms: %s)"
      % (dp99, rate, "met" if dp99 <= 0.5 else "NOT met"))
print("saturation throughput redis/local %.3f (target >= 0.9: %s); from the agent's CPU per event: %.3f"
      % (ratio, "met" if ratio >= 0.9 else "NOT met", cpu_ratio))
if bad:
    print("%d INVALID slices (left out): %s" % (len(bad), "; ".join("%s %s %s:%s" % (r["kind"], r["mode"], r["slice"], r["why"]) for r in bad)))
PY
[ "$FAILED" = 0 ] || echo "some slices were INVALID (see 'why=' above)"
exit "$FAILED"
