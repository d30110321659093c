#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `hookfwd top` in a real terminal (tmux): after signed events are posted,
# the screen shows the counts /metrics shows (requests, accepted, 401s,
# signature keys, sink outcomes and queue), a request rate while events
# arrive, and `q` ends it with status 0. Without a terminal it prints plain
# frames (no escape sequences); an admin endpoint that does not answer is a
# clear error.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || { echo "tmux missing (packaging/install-deps.sh)"; exit 77; }

write_config "$WORK/hookfwd.yaml" "  - name: out
    type: file
    takes: records
    path: $WORK/records.jsonl
    batch: {flush_interval: 100ms}"
start_agent "$WORK/hookfwd.yaml" || exit 1

TMUX_SOCK="$WORK/tmux.sock"
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
# the pane's shell keeps top's exit status, then waits to be killed
tmx -f /dev/null new-session -d -s top -x 132 -y 30 \
    "env TERM=xterm '$HOOKFWD_BIN' top --admin 127.0.0.1:$ADMIN_PORT; echo \$? >'$WORK/top.status'; exec sleep 600"
TMUX_PID=$(tmx display-message -p -t top '#{pid}')
PIDS_TO_KILL+=("$TMUX_PID")
screen() { tmx capture-pane -p -t top; }
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p -t top | grep -q '^SOURCE'" || not_ok "top draws its screen"

# ---- signed events: the fixtures, a repeat, a forged one ---------------------------
while IFS=$'\t' read -r file _; do
    [ "$file" = file ] && continue
    post_fixture "$file" >/dev/null
done <"$FIXTURES/signatures.tsv"
post_fixture sentinelayer/scan.blocked.json >/dev/null

# row NAME COLUMN: a column (1-based, after the name) of NAME's row on screen
row() { screen | awk -v n="$1" -v c="$2" '$1 == n { print $(c + 1); exit }'; }
keys_on_screen() { screen | awk -v n="$1" '$1 == n { for (i = 9; i <= NF; i++) printf "%s%s", (i > 9 ? " " : ""), $i; exit }'; }
keys_in_metrics() {
    curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v s="$1" -F'[{}" ]+' \
        '$1 == "hookfwd_signature_key_used_total" && $3 == s { printf "%s%s:%s", (n++ ? " " : ""), $5, $6 }'
}
requests_in_metrics() {
    curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v s="$1" -F'[{}" ]+' \
        '$1 == "hookfwd_requests_total" && $3 == s { t += $6 } END { print t + 0 }'
}
# screen_matches: every count on screen equals /metrics
screen_matches() {
    local src
    for src in omega sentinelayer; do
        [ "$(row $src 5)" = "$(requests_in_metrics $src)" ] || return 1
        [ "$(row $src 6)" = "$(metric "hookfwd_events_accepted_total{source=\"$src\"}")" ] || return 1
        [ "$(row $src 7)" = "$(metric "hookfwd_requests_total{source=\"$src\",status=\"401\"}")" ] || return 1
        [ "$(keys_on_screen $src)" = "$(keys_in_metrics $src)" ] || return 1
    done
    [ "$(row out 5)" = "$(metric 'hookfwd_sink_events_total{sink="out",outcome="delivered"}')" ] || return 1
    [ "$(row out 6)" = "$(metric 'hookfwd_sink_events_total{sink="out",outcome="retried"}')" ] || return 1
    [ "$(row out 7)" = "$(metric 'hookfwd_sink_events_total{sink="out",outcome="dead"}')" ] || return 1
    [ "$(row out 4)" = "$(metric 'hookfwd_sink_queue_events{sink="out"}')" ] || return 1
}
# all delivered first, so that the numbers stand still while compared
wait_for 10 sh -c "[ \"\$(curl -sf http://127.0.0.1:$ADMIN_PORT/metrics | awk '/^hookfwd_sink_events_total\\{sink=\"out\",outcome=\"delivered\"\\}/ {print \$2}')\" = 10 ]" ||
    not_ok "the file sink delivered the 10 records"
if wait_for 5 screen_matches; then
    ok "the screen shows the counts of /metrics"
else
    not_ok "the screen shows the counts of /metrics"
    screen
    curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -v '^#' | grep -v _bucket
fi
check_eq "omega: 8 requests, 6 accepted, 1 rejected (401), key 0 verified 7" "8 6 1 0:7" \
    "$(row omega 5) $(row omega 6) $(row omega 7) $(keys_on_screen omega)"
check_eq "sink out: 10 delivered, 0 retried, 0 dead, queue 0" "10 0 0 0" \
    "$(row out 5) $(row out 6) $(row out 7) $(row out 4)"
screen >"$WORK/top-screen.txt"
sed 's/^/#   /' "$WORK/top-screen.txt" | sed '/^#   $/d'

# while events arrive, the rate column moves
rate_seen() { [ "$(row omega 1 | tr -d .0)" != "" ]; }
rate_zero() { [ "$(row omega 1)" = "0.0" ]; }
wait_for 5 rate_zero || not_ok "REQ/S falls back to 0.0 when nothing arrives"
for _ in 1 2 3 4 5 6 7 8; do
    post_fixture omega/decision.escalated.embedded.json >/dev/null
done
if wait_for 3 rate_seen; then ok "REQ/S shows requests arriving ($(row omega 1)/s)"; else not_ok "REQ/S shows requests arriving"; screen; fi

# ---- q quits, with status 0 ------------------------------------------------------
tmx send-keys -t top q
wait_for 5 test -s "$WORK/top.status" || not_ok "q ends top"
check_eq "top exits 0 after q" 0 "$(cat "$WORK/top.status" 2>/dev/null)"
tmx kill-server 2>/dev/null

# ---- no terminal: plain frames; a dumb terminal gets no escape sequences ---------
TERM=dumb "$HOOKFWD_BIN" top --admin "127.0.0.1:$ADMIN_PORT" </dev/null >"$WORK/plain.out" 2>&1
check_eq "without a terminal, stdin at its end: one frame, exit 0" 0 "$?"
check "the frame has the sources and the sink" grep -q '^out ' "$WORK/plain.out"
check "no escape sequences" sh -c "! grep -q \$'\\033' '$WORK/plain.out'"
printf 'q\n' | "$HOOKFWD_BIN" top -c "$WORK/hookfwd.yaml" >"$WORK/cfg.out" 2>&1
check_eq "-c FILE finds the admin address; q on stdin quits with 0" "0 1" \
    "$? $(grep -c "127.0.0.1:$ADMIN_PORT/metrics" "$WORK/cfg.out")"

# ---- unreachable ------------------------------------------------------------------
DEAD_PORT=$(free_port)
"$HOOKFWD_BIN" top --admin "127.0.0.1:$DEAD_PORT" </dev/null >"$WORK/dead.out" 2>&1
check_eq "an admin endpoint that does not answer: exit 1" 1 "$?"
check "the error names the URL and what to check" grep -q "cannot read http://127.0.0.1:$DEAD_PORT/metrics.*" "$WORK/dead.out"
sed 's/^/#   /' "$WORK/dead.out"

stop_agent
finish
