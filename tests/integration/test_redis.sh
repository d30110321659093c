#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared dedup (dedup.store: redis) against Debian's redis-server: one
# event through two agents is delivered once, a claim held by another
# agent is answered 503 until it is accepted (then duplicate) or expires;
# Redis stopped: on_unavailable local keeps deduplicating per agent, reject
# answers 503 with Retry-After, both counted and logged once; Redis back:
# dedup is shared again; a stopped (SIGSTOP) Redis: redis.timeout applies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_redis.sh"
. "$(dirname "$0")/lib_ha.sh"

export REDIS_PASSWORD=s3cret-for-the-test
redis_start "$REDIS_PASSWORD" || exit 1
DB=3
TIMEOUT_MS=200

# --- check: the URL is validated where it is written ---
cat >"$WORK/bad.yaml" <<'YAML'
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, secrets: ["x"]}
    dedup: {store: redis, redis: {url: "rediss://redis.example:6380/0"}}
sinks:
  - {name: out, type: stdout}
YAML
out=$("$HOOKFWD_BIN" check -c "$WORK/bad.yaml" 2>&1)
check "check refuses rediss:// at file:line:col and points to stunnel" \
    grep -q "bad.yaml:6:40: rediss:// (TLS) needs hiredis 1.0.*stunnel" <<<"$out"
sed -i 's|rediss://redis.example:6380/0|redis://user:pw@redis.example:6379/0|' "$WORK/bad.yaml"
out=$("$HOOKFWD_BIN" check -c "$WORK/bad.yaml" 2>&1)
check "check refuses a password in the URL" grep -q "bad.yaml:6:40: redis.url must not carry a password" <<<"$out"
sed -i 's|redis://user:pw@redis.example:6379/0|redis://redis.example:6379/x|' "$WORK/bad.yaml"
out=$("$HOOKFWD_BIN" check -c "$WORK/bad.yaml" 2>&1)
check "check refuses a database that is not a number" grep -q "the path is the database number" <<<"$out"

# --- two agents, one Redis: agent 1 falls back to local, agent 2 rejects ---
HA_STORAGE=memory
dedup() {
    echo "{window: 1h, store: redis, redis: {url: \"redis://127.0.0.1:$REDIS_PORT/$DB\", password: \"\${REDIS_PASSWORD}\", timeout: ${TIMEOUT_MS}ms, on_unavailable: $1}}"
}
ha_write_config 1 "$(dedup local)"
ha_write_config 2 "$(dedup reject)"
check "check accepts the shared dedup config" "$HOOKFWD_BIN" check -c "$WORK/a1.yaml"
ha_start_agent 1 || exit 1
ha_start_agent 2 || exit 1

# post AGENT N: a signed decision numbered N; prints "STATUS RETRY-AFTER TIME"
post() {
    local body sig
    body=$(printf '{"event":"decision.blocked","timestamp":"2026-01-14T12:01:07Z","decision":{"id":"dec_%08d","outcome":"BLOCK","riskScore":0.97,"auditId":"aud_%08d"}}' "$2" "$2")
    sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$OMEGA_SECRET" | awk '{print $NF}')"
    curl -s -o "$WORK/resp.body" -D "$WORK/resp.head" -w '%{http_code} %{time_total}' \
        -H "X-Omega-Signature: $sig" --data-binary "$body" "http://127.0.0.1:${HA_PORT[$1]}/webhooks/omega" >"$WORK/resp.code"
    local code t ra
    read -r code t <"$WORK/resp.code"
    ra=$(tr -d '\r' <"$WORK/resp.head" | awk 'tolower($1) == "retry-after:" {print $2}')
    echo "$code ${ra:--} $t"
}
status() { post "$1" "$2" | cut -d' ' -f1,2; }
key() { printf 'hookfwd:dedup:omega:dec_%08d:decision.blocked' "$1"; }
delivered() { # lines of decision N in both agents' sinks
    cat "$WORK"/a1/out.jsonl "$WORK"/a2/out.jsonl 2>/dev/null | grep -c "\"dec_$(printf %08d "$1")\""
}
delivered_is() { [ "$(delivered "$1")" = "$2" ]; }

check_eq "an event through agent 1 is accepted" "202 -" "$(status 1 1)"
check_eq "the same event through agent 2 is a duplicate" "200 -" "$(status 2 1)"
check_eq "and again through agent 1 (its own set answers)" "200 -" "$(status 1 1)"
check "it is delivered once, by one agent" wait_for 10 delivered_is 1 1
check_eq "Redis holds it accepted, in the configured database" "1" "$(rcli -n $DB get "$(key 1)")"
pttl=$(rcli -n $DB pttl "$(key 1)")
check "its ttl is the window (1h), not the claim's" test "$pttl" -gt 3500000 -a "$pttl" -le 3600000
check_eq "claims by result on agent 1" "1 0" \
    "$(ha_metric 1 'hookfwd_dedup_store_claims_total{source="omega",result="new"}') $(ha_metric 1 'hookfwd_dedup_store_claims_total{source="omega",result="duplicate"}')"
check_eq "the duplicate was found in Redis by agent 2" "1" \
    "$(ha_metric 2 'hookfwd_dedup_store_claims_total{source="omega",result="duplicate"}')"
check "the round trip is in the histogram" test "$(ha_metric 2 'hookfwd_dedup_store_seconds_count{source="omega"}')" -ge 1

# another agent's claim ("0"), not yet accepted: 503, then duplicate once accepted
rcli -n $DB set "$(key 2)" 0 PX 60000 >/dev/null
check_eq "an event another agent is accepting: 503 with Retry-After" "503 1" "$(status 1 2)"
rcli -n $DB set "$(key 2)" 1 PX 60000 >/dev/null
check_eq "once that agent has accepted it: duplicate" "200 -" "$(status 1 2)"
check_eq "the in-flight answer was counted" "1" \
    "$(ha_metric 1 'hookfwd_dedup_store_claims_total{source="omega",result="in_flight"}')"

# hookfwd top shows the shared dedup store per source, as /metrics counts it
"$HOOKFWD_BIN" top --admin "127.0.0.1:${HA_ADMIN[1]}" </dev/null >"$WORK/top.out" 2>&1
want=""
for r in new duplicate in_flight unavailable; do
    want="$want $(ha_metric 1 "hookfwd_dedup_store_claims_total{source=\"omega\",result=\"$r\"}")"
done
want="${want# } $(ha_metric 1 'hookfwd_dedup_store_errors_total{source="omega"}')"
check_eq "top: the DEDUP (REDIS) row of omega has its claims by answer and errors" "$want" \
    "$(awk '/^DEDUP \(REDIS\)/ {on = 1; next} on && $1 == "omega" {print $3, $4, $5, $6, $7; exit}' "$WORK/top.out")"
rtt=$(awk '/^DEDUP \(REDIS\)/ {on = 1; next} on && $1 == "omega" {print $NF; exit}' "$WORK/top.out")
check "top: the claim round trip p50/p99 is shown ($rtt)" grep -Eq '^[0-9.]+m?s/>?[0-9.]+m?s$' <<<"$rtt"
sed 's/^/#   /' "$WORK/top.out"

# an agent that died between claim and journal: its claim holds the event
# for a short time only, never for the window
rcli -n $DB set "$(key 3)" 0 PX 1500 >/dev/null
check_eq "a claim left behind: 503 while it lives" "503 1" "$(status 2 3)"
accepted_now() { [ "$(status 2 3)" = "202 -" ]; }
check "after it expires the event is accepted" wait_for 10 accepted_now
check "and delivered once" wait_for 10 delivered_is 3 1

check_eq "every claim was settled: Redis holds accepted keys only" "$(rcli -n $DB dbsize)" \
    "$(rcli -n $DB --scan --pattern 'hookfwd:dedup:omega:*' | while read -r k; do rcli -n $DB get "$k"; done | grep -c '^1$')"

# a failed accept (a full sink queue) releases the claim at once (DEL)
ha_write_config 3 "$(dedup local)"
sed -i "s|path: $WORK/a3/out.jsonl|path: $WORK/missing/out.jsonl|; s|max_events: 100000|max_events: 1|" "$WORK/a3.yaml"
ha_start_agent 3 || exit 1
refused=
for n in 500 501 502 503 504 505; do
    if [ "$(status 3 "$n")" = "503 1" ]; then
        refused=$n
        break
    fi
done
check "a full queue answers 503" test -n "$refused"
check_eq "the refused event's claim is gone from Redis" "0" "$(rcli -n $DB exists "$(key "${refused:-0}")")"
check_eq "another agent takes it at once" "202 -" "$(status 1 "${refused:-0}")"
ha_stop_agent 3 KILL

# --- an agent killed after its journal append, before "accepted" reached
# Redis and before its dedup.log line was written: at start it takes the
# key from the journal entry and marks it accepted in Redis ---
HA_STORAGE=disk ha_write_config 4 "$(dedup local)"
ha_start_agent 4 || exit 1
check_eq "an event through an agent with a journal" "202 -" "$(status 4 600)"
ha_stop_agent 4 KILL
: >"$WORK/a4/data/journal/dedup.log"
rcli -n $DB del "$(key 600)" >/dev/null
ha_start_agent 4 || exit 1
check_eq "after the restart, its own set knows it from the journal entry" "200 -" "$(status 4 600)"
check_eq "and Redis has it accepted again: another agent says duplicate" "200 -" "$(status 1 600)"
check "the start logs the marks" grep -q "1 events accepted just before the last stop marked accepted in Redis" "$WORK/a4.err"
ha_stop_agent 4

# --- Redis closes idle connections (its `timeout`): not an outage ---
rcli config set timeout 1 >/dev/null
only_the_cli_connected() { [ "$(rcli info clients | tr -d '\r' | awk -F: '$1 == "connected_clients" {print $2}')" = 1 ]; }
check "Redis closed the agents' idle connections" wait_for 20 only_the_cli_connected
errs_before=$(ha_metric 1 'hookfwd_dedup_store_errors_total{source="omega"}')
check_eq "after an idle close, an event is accepted" "202 -" "$(status 1 700)"
check_eq "and shared at once" "200 -" "$(status 2 700)"
check_eq "an idle close is no error" "$errs_before" "$(ha_metric 1 'hookfwd_dedup_store_errors_total{source="omega"}')"
check_eq "and no outage in the log" "0" "$(grep -c 'cannot be used' "$WORK/a1.err")"
rcli config set timeout 0 >/dev/null

# --- Redis stopped ---
redis_stop
check_eq "Redis down, on_unavailable local: accepted" "202 -" "$(status 1 10)"
check_eq "Redis down, local: a repeat at the same agent is still a duplicate" "200 -" "$(status 1 10)"
check_eq "Redis down, on_unavailable reject: 503 with Retry-After" "503 1" "$(status 2 11)"
check_eq "and again (no stuck request, no crash)" "503 1" "$(status 2 11)"
for n in 12 13 14; do status 1 "$n" >/dev/null; done
check "errors are counted (agent 1)" test "$(ha_metric 1 'hookfwd_dedup_store_errors_total{source="omega"}')" -ge 4
check_eq "local decisions are counted" "4" "$(ha_metric 1 'hookfwd_dedup_store_fallback_total{source="omega",decision="local"}')"
check_eq "rejections are counted" "2" "$(ha_metric 2 'hookfwd_dedup_store_fallback_total{source="omega",decision="reject"}')"
check_eq "the outage is logged once per agent" "1 1" \
    "$(grep -c 'cannot be used' "$WORK/a1.err") $(grep -c 'cannot be used' "$WORK/a2.err")"
check_eq "agent 2 answers 503 on /webhooks but is alive" "200" \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${HA_ADMIN[2]}/healthz")"

# --- Redis back (empty: no persistence): dedup is shared again ---
redis_start || exit 1
shared_again() {
    local n=$((20 + RANDOM % 100000))
    [ "$(status 1 "$n")" = "202 -" ] && [ "$(status 2 "$n")" = "200 -" ]
}
check "after Redis restarts, dedup is shared again (within the reconnect backoff)" wait_for 20 shared_again
rejected_no_more() { [ "$(status 2 $((200000 + RANDOM)))" = "202 -" ]; }
check "on_unavailable reject accepts again" wait_for 20 rejected_no_more
check "the end of the outage is logged" grep -q "answers again" "$WORK/a1.err"

# --- a Redis that accepts connections but never answers (SIGSTOP) ---
redis_pause
# the first claim on a connection that was up waits for the timeout; a
# thread whose connection was still down since the restart answers at once
waited=
for n in 300 310 320 330; do
    read -r code ra t <<<"$(post 1 "$n")"
    ms=$(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}')
    check_eq "a stopped Redis, local: accepted" "202" "$code"
    if [ "$ms" -ge $((TIMEOUT_MS - 20)) ]; then
        waited=$ms
        break
    fi
done
echo "answer with a stopped Redis: ${waited:-none} ms (timeout ${TIMEOUT_MS} ms)"
check "a claim waits about the timeout (${TIMEOUT_MS} ms), no more" test "${waited:-0}" -ge $((TIMEOUT_MS - 20)) -a "${waited:-0}" -lt 2000
read -r code ra t <<<"$(post 2 301)"
ms=$(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}')
check_eq "a stopped Redis, reject: 503 with Retry-After" "503 1" "$code $ra"
check "within the timeout or at once (${ms} ms)" test "$ms" -lt 2000
# each ingest thread (2) learns of the outage from its own first claim;
# after that, answers do not wait, reconnect probes included
slow=0 times=
for n in 302 303 304 305 306 307 308 309; do
    read -r code ra t <<<"$(post 1 "$n")"
    ms=$(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}')
    times="$times $ms"
    [ "$ms" -ge $((TIMEOUT_MS - 20)) ] && slow=$((slow + 1))
done
echo "answers while Redis is stopped (ms):$times"
check "while it is known down, answers do not wait (at most the other thread's first: $slow)" test "$slow" -le 1
redis_resume
check "after SIGCONT, dedup is shared again" wait_for 20 shared_again

# --- a wrong password: refused, logged with Redis's reason, counted ---
ha_stop_agent 2
REDIS_PASSWORD=wrong ha_start_agent 2 || exit 1
check_eq "wrong password, reject: 503" "503 1" "$(status 2 400)"
check "the log says Redis refused AUTH" grep -q "AUTH answered WRONGPASS" "$WORK/a2.err"

ha_stop_agent 1
check_eq "agent 1 stops cleanly" 0 "$?"
ha_stop_agent 2
check_eq "agent 2 stops cleanly" 0 "$?"
finish
