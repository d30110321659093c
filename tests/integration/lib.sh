# SPDX-License-Identifier: Apache-2.0
# Shared helpers for hookfwd's integration tests (sourced by test_*.sh).
# Environment from CTest: HOOKFWD_BIN, FIXTURES, SOURCE_DIR, BUILD_DIR.
# Tests never sleep for a fixed time: they poll a condition with a deadline.

set -u
: "${HOOKFWD_BIN:?HOOKFWD_BIN must point to the hookfwd binary}"
: "${FIXTURES:?FIXTURES must point to the fixtures directory}"
export OMEGA_SECRET=whsec_your_signing_secret
export SL_SECRET=sl_live_3f9a2c71d04e

PASS=0
FAIL=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookfwd-test.XXXXXX")
AGENT_PID=
PIDS_TO_KILL=()

cleanup() {
    local p
    for p in "${PIDS_TO_KILL[@]}" $AGENT_PID; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS_TO_KILL[@]}" $AGENT_PID; do
        wait "$p" 2>/dev/null
    done
    if [ "${KEEP_WORK:-0}" = 1 ] || [ "$FAIL" -gt 0 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check "description" command...
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
check_eq() { # check_eq "description" expected actual
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected [$2], got [$3]"; fi
}
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS command...: polls every 50 ms until the command succeeds.
wait_for() {
    local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
    shift
    while [ "$(($(date +%s%N) / 1000000))" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# write_config FILE SINKS_YAML [STORAGE_MODE]: a config with both fixture
# sources on fresh ports; sets PORT and ADMIN_PORT.
write_config() {
    local file=$1 sinks=$2 mode=${3:-memory}
    PORT=$(free_port)
    ADMIN_PORT=$(free_port)
    cat >"$file" <<YAML
listen:
  address: 127.0.0.1:$PORT
  threads: 2
  read_timeout: 5s
admin:
  address: 127.0.0.1:$ADMIN_PORT
storage:
  mode: $mode
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
sinks:
$sinks
YAML
}

# agent_state: what a stuck or vanished agent was doing (its state and
# wait channel, and every thread's stack when gdb is there), for the log.
agent_state() {
    if ! kill -0 "$AGENT_PID" 2>/dev/null; then
        wait "$AGENT_PID" 2>/dev/null
        echo "(the agent had exited with status $?)"
        return 0
    fi
    echo "(the agent is still running: $(grep '^State' /proc/"$AGENT_PID"/status 2>/dev/null)," \
        "waiting in $(cat /proc/"$AGENT_PID"/wchan 2>/dev/null))"
    command -v gdb >/dev/null &&
        timeout 30 gdb -batch -p "$AGENT_PID" -ex "thread apply all bt 12" 2>/dev/null | grep -E '^(Thread|#)'
    return 0
}

# start_agent CONFIG: runs the agent in the background, waits for /healthz.
start_agent() {
    "$HOOKFWD_BIN" run -c "$1" >"$WORK/agent.out" 2>>"$WORK/agent.err" &
    AGENT_PID=$!
    if ! wait_for 20 curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz"; then
        echo "agent did not come up:"
        cat "$WORK/agent.err"
        agent_state
        return 1
    fi
}

# stop_agent [SIGNAL]: signals the agent and waits for it to exit; returns its status.
stop_agent() {
    local sig=${1:-TERM} rc
    [ -n "$AGENT_PID" ] || return 0
    kill -"$sig" "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID"
    rc=$?
    AGENT_PID=
    return $rc
}

# post_fixture FILE: posts a fixture with its signature header from
# signatures.tsv; prints "STATUS BODY".
post_fixture() {
    local file=$1 row src hdr val
    row=$(awk -F'\t' -v f="$file" '$1 == f' "$FIXTURES/signatures.tsv")
    src=$(cut -f2 <<<"$row")
    hdr=$(cut -f3 <<<"$row")
    val=$(cut -f4 <<<"$row")
    local args=()
    [ "$hdr" != "-" ] && args=(-H "$hdr: $val")
    curl -s -o "$WORK/resp.body" -w '%{http_code}' -H 'Content-Type: application/json' "${args[@]}" \
        --data-binary "@$FIXTURES/$file" "http://127.0.0.1:$PORT/webhooks/$src"
    echo " $(cat "$WORK/resp.body")"
}

# metric VALUE of a Prometheus series from the admin endpoint, e.g.
# metric 'hookfwd_sink_events_total{sink="x",outcome="delivered"}'
metric() {
    curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'
}
