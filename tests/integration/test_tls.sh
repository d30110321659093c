#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Optional TLS on the ingest listener: a verified HTTPS post is accepted,
# plain HTTP on the TLS port is refused, a bad certificate path is a clear
# start-up error.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
write_config "$WORK/hookfwd.yaml" "  - {name: out, type: file, path: $WORK/out.jsonl, batch: {flush_interval: 10ms}}"
sed -i "s|^  threads: 2|  threads: 2\n  tls: {cert: $WORK/tls.crt, key: $WORK/tls.key}|" "$WORK/hookfwd.yaml"
start_agent "$WORK/hookfwd.yaml" || exit 1

code=$(curl -s -o "$WORK/body" -w '%{http_code}' --cacert "$WORK/tls.crt" \
    -H 'X-Omega-Signature: sha256=233f82cbdcce38bd8d042c05d7ffff58cec6500ea1c4568f79a8db505203e0c6' \
    --data-binary @"$FIXTURES/omega/decision.escalated.json" "https://localhost:$PORT/webhooks/omega")
check_eq "HTTPS post with a verified certificate is accepted" 202 "$code"
check_eq "answer body" '{"status":"accepted","id":"dec_abc123"}' "$(cat "$WORK/body")"
check_eq "keep-alive over TLS: two requests, one connection" 1 "$(curl -s --cacert "$WORK/tls.crt" -o /dev/null -o /dev/null \
    -w '%{num_connects}\n' -d '{}' "https://localhost:$PORT/webhooks/omega" "https://localhost:$PORT/webhooks/omega" |
    awk '{s += $1} END {print s}')"
check "plain HTTP to the TLS port gets no HTTP answer" bash -c "! curl -s -m 5 -o /dev/null -d '{}' http://127.0.0.1:$PORT/webhooks/omega"
check_eq "still serving TLS after the plain attempt" 202 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/tls.crt" \
    -H 'X-Omega-Signature: sha256=e07112850aefd9f4c2cfcd0c43a95824e9c03487956c949da533c968848c5174' \
    --data-binary @"$FIXTURES/omega/decision.allowed.json" "https://localhost:$PORT/webhooks/omega")"
check_eq "the record was delivered" 1 "$(wait_for 5 test -s "$WORK/out.jsonl"; grep -c dec_abc123 "$WORK/out.jsonl")"
"$HOOKFWD_BIN" send-test -c "$WORK/hookfwd.yaml" --source omega >"$WORK/st0.out" 2>&1
check_eq "send-test to a self-signed listener without --ca: not verified, exit 1" 1 "$?"
"$HOOKFWD_BIN" send-test -c "$WORK/hookfwd.yaml" --source omega --ca "$WORK/tls.crt" >"$WORK/st1.out" 2>&1
check_eq "send-test --ca: verified, accepted, exit 0" "0 1" "$? $(grep -c '^202' "$WORK/st1.out")"
stop_agent TERM

sed -i "s|$WORK/tls.key|$WORK/missing.key|" "$WORK/hookfwd.yaml"
"$HOOKFWD_BIN" run -c "$WORK/hookfwd.yaml" 2>"$WORK/err.txt"
check_eq "a missing TLS key stops the start" 1 "$?"
check "and says which file" grep -q "missing.key" "$WORK/err.txt"
finish
