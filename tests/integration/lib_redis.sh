# SPDX-License-Identifier: Apache-2.0
# A private redis-server for hookfwd's integration tests (sourced after
# lib.sh): Debian's redis-server on a free 127.0.0.1 port, with its own
# config in the test's work directory, no persistence (no RDB, no AOF), and
# stopped by its PID. A test that needs it and does not find it skips (77).
#
#   redis_start [PASSWORD]   start (again, on the same port after a stop);
#                            sets REDIS_PORT, REDIS_PID, REDIS_URL
#   redis_stop               SIGTERM (after SIGCONT if paused), wait
#   redis_kill               SIGKILL, wait
#   redis_pause / redis_resume   SIGSTOP / SIGCONT: the port still accepts
#                            connections (the kernel's backlog) but nothing
#                            is ever answered, which is what a hung Redis
#                            looks like to a client
#   rcli ARGS...             redis-cli against it (with the password)

REDIS_PORT=
REDIS_PID=
REDIS_PASSWORD=
REDIS_URL=
REDIS_PAUSED=0

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "skipped: redis-server and redis-cli are needed (sh packaging/install-deps.sh)"
    exit 77
fi

rcli() {
    if [ -n "$REDIS_PASSWORD" ]; then
        REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
    else
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
    fi
}

redis_up() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }

redis_start() {
    local d=$WORK/redis
    mkdir -p "$d"
    [ $# -gt 0 ] && REDIS_PASSWORD=$1
    [ -n "$REDIS_PORT" ] || REDIS_PORT=$(free_port)
    {
        echo "bind 127.0.0.1"
        echo "port $REDIS_PORT"
        echo "protected-mode yes"
        echo "daemonize no"
        echo "supervised no"
        echo "dir $d"
        echo "logfile $d/redis.log"
        echo "pidfile $d/redis.pid"
        echo 'save ""'
        echo "appendonly no"
        echo "databases 16"
        [ -n "$REDIS_PASSWORD" ] && echo "requirepass \"$REDIS_PASSWORD\""
    } >"$d/redis.conf"
    redis-server "$d/redis.conf" >>"$d/redis.out" 2>&1 &
    REDIS_PID=$!
    REDIS_PAUSED=0
    PIDS_TO_KILL+=("$REDIS_PID")
    if ! wait_for 10 redis_up; then
        echo "redis-server did not come up on port $REDIS_PORT:"
        tail -20 "$d/redis.log" "$d/redis.out" 2>/dev/null
        return 1
    fi
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}

redis_pause() {
    kill -STOP "$REDIS_PID" && REDIS_PAUSED=1
}

redis_resume() {
    kill -CONT "$REDIS_PID" && REDIS_PAUSED=0
}

redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    [ "$REDIS_PAUSED" = 1 ] && redis_resume
    kill -TERM "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}

redis_kill() {
    [ -n "$REDIS_PID" ] || return 0
    kill -KILL "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
    REDIS_PAUSED=0
}

# lib.sh's cleanup sends SIGTERM and waits: a stopped process would hold
# that wait forever, so it is continued first.
redis_cleanup() {
    [ -n "$REDIS_PID" ] && [ "$REDIS_PAUSED" = 1 ] && kill -CONT "$REDIS_PID" 2>/dev/null
    return 0
}
if ! declare -p CLEANUP_HOOKS >/dev/null 2>&1; then
    CLEANUP_HOOKS=()
    trap 'for h in "${CLEANUP_HOOKS[@]}"; do "$h"; done; cleanup' EXIT
fi
CLEANUP_HOOKS+=(redis_cleanup)
