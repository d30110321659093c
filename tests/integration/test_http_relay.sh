#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The http sink between two real hookfwd agents: agent A relays what it
# accepts to agent B's standard-webhooks source (B verifies the signature
# and drops the repeat of a webhook-id as a duplicate), to B's hmac-sha256
# source, and with a wrong secret (B answers 401, A dead-letters). Then A
# against a scripted endpoint (tests/peers/http_receiver.py): 410 to dead
# letters with "endpoint gone" logged once, 400 to dead letters, 503, 429
# (Retry-After) and a timeout retried until delivered, ndjson and array
# batches, PUT, templated headers with CR/LF in a field, and test-sink.
. "$(dirname "$0")/lib.sh"

export RELAY_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export WRONG_SECRET=whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY
export HMAC_SECRET=relay-hmac-secret-0123456789
export OTHER_SECRET=other-secret

# ---- agent B: the receiving hookfwd ----
B_PORT=$(free_port)
B_ADMIN=$(free_port)
cat >"$WORK/b.yaml" <<YAML
listen: {address: 127.0.0.1:$B_PORT, threads: 1, read_timeout: 5s}
admin: {address: 127.0.0.1:$B_ADMIN}
storage: {mode: memory, path: $WORK/b-data}
sources:
  - name: relayed
    path: /in/sw
    event_field: event_type
    id_field: event_id
    signature: {scheme: standard-webhooks, secrets: ["\${RELAY_SECRET}"]}
  - name: relayed_hmac
    path: /in/hmac
    event_field: event_type
    id_field: event_id
    signature: {scheme: hmac-sha256, header: X-Hookfwd-Signature, secrets: ["\${HMAC_SECRET}"]}
sinks:
  - {name: got, type: file, path: $WORK/b-got.jsonl, batch: {flush_interval: 50ms}}
YAML
"$HOOKFWD_BIN" run -c "$WORK/b.yaml" >"$WORK/b.out" 2>"$WORK/b.err" &
B_PID=$!
PIDS_TO_KILL+=("$B_PID")
wait_for 20 curl -sf "http://127.0.0.1:$B_ADMIN/healthz" || { echo "agent B did not start"; cat "$WORK/b.err"; exit 1; }
b_metric() { curl -sf "http://127.0.0.1:$B_ADMIN/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
b_metric_is() { [ "$(b_metric "$1")" = "$2" ]; }

# ---- the scripted endpoint ----
python3 "$SOURCE_DIR/tests/peers/http_receiver.py" --port 0 --log "$WORK/rcv.jsonl" --fail 1 --delay 3 \
    >"$WORK/rcv.out" 2>"$WORK/rcv.err" &
PIDS_TO_KILL+=("$!")
wait_for 10 grep -q '^LISTENING' "$WORK/rcv.out" || { echo "receiver did not start"; exit 1; }
RPORT=$(awk '/^LISTENING/ {print $2}' "$WORK/rcv.out")
R=http://127.0.0.1:$RPORT

# ---- agent A: the relaying hookfwd ----
PORT=$(free_port)
ADMIN_PORT=$(free_port)
fast='batch: {flush_interval: 50ms}
    retry: {initial: 200ms, max: 1s}'
cat >"$WORK/a.yaml" <<YAML
listen: {address: 127.0.0.1:$PORT, threads: 1, read_timeout: 5s}
admin: {address: 127.0.0.1:$ADMIN_PORT}
storage: {mode: memory, path: $WORK/data}
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    dedup: {enabled: false}       # so A relays a repeat and B has to drop it
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: ["\${OMEGA_SECRET}"]}
  - name: other
    path: /webhooks/other
    event_field: type
    id_field: id
    signature: {scheme: hmac-sha256, header: X-Other-Signature, secrets: ["\${OTHER_SECRET}"]}
sinks:
  - name: relay
    type: http
    url: http://127.0.0.1:$B_PORT/in/sw
    filter: {events: ["decision.*"]}
    signature: {scheme: standard-webhooks, secret: "\${RELAY_SECRET}"}
    $fast
  - name: relay_bad
    type: http
    url: http://127.0.0.1:$B_PORT/in/sw
    filter: {events: ["decision.*"]}
    signature: {scheme: standard-webhooks, secret: "\${WRONG_SECRET}"}
    $fast
  - name: relay_hmac
    type: http
    url: http://127.0.0.1:$B_PORT/in/hmac
    filter: {events: ["decision.*"]}
    signature: {scheme: hmac-sha256, secret: "\${HMAC_SECRET}"}
    $fast
  - name: gone
    type: http
    url: $R/gone/x
    filter: {events: ["decision.*"]}
    $fast
  - name: refuse
    type: http
    url: $R/refuse/x
    filter: {events: ["decision.*"]}
    $fast
  - name: flaky
    type: http
    url: $R/flaky/x
    filter: {events: ["decision.escalated"]}
    $fast
  - name: throttle
    type: http
    url: $R/throttle/x
    filter: {events: ["decision.escalated"]}
    $fast
  - name: slow
    type: http
    url: $R/slow/x
    timeout: 1s
    filter: {events: ["decision.escalated"]}
    $fast
  - name: batch_nd
    type: http
    url: $R/ok/ndjson
    format: ndjson
    method: PUT
    filter: {events: ["batch.*"]}
    batch: {max_events: 3, flush_interval: 5s}
  - name: batch_arr
    type: http
    url: $R/ok/array
    format: array
    filter: {events: ["batch.*"]}
    batch: {max_events: 3, flush_interval: 5s}
  - name: hdr
    type: http
    url: $R/ok/headers
    filter: {events: ["note.*"]}
    headers:
      X-Note: "\${data.note}"
      X-Repo: "\${data.repo:-unknown} from \${source}"
    signature: {scheme: hmac-sha256, secret: "\${HMAC_SECRET}", header: X-Sig}
    $fast
YAML
check_eq "agent A's config passes check" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/a.yaml" 2>/dev/null)"
start_agent "$WORK/a.yaml" || exit 1

a_sink() { metric "hookfwd_sink_events_total{sink=\"$1\",outcome=\"$2\"}"; }
a_sink_is() { [ "$(a_sink "$1" "$2")" = "$3" ]; }
dead_has() { [ -f "$WORK/data/dead-letter/$1.jsonl" ] && [ "$(wc -l <"$WORK/data/dead-letter/$1.jsonl")" -ge "$2" ]; }

# --- standard-webhooks relay: accepted once, the repeat is B's duplicate ---
check_eq "A accepts decision.blocked" "202" "$(post_fixture omega/decision.blocked.json | cut -d' ' -f1)"
wait_for 10 b_metric_is 'hookfwd_requests_total{source="relayed",status="202"}' 1
check_eq "B accepted the relayed event (202)" "1" "$(b_metric 'hookfwd_requests_total{source="relayed",status="202"}')"
wait_for 10 a_sink_is relay delivered 1
check_eq "A counts the relay delivered" "1" "$(a_sink relay delivered)"
check_eq "A accepts the same event again (its dedup is off)" "202" \
    "$(post_fixture omega/decision.blocked.json | cut -d' ' -f1)"
wait_for 10 b_metric_is 'hookfwd_requests_total{source="relayed",status="200"}' 1
check_eq "B drops the repeat as a duplicate (200)" "1" \
    "$(b_metric 'hookfwd_requests_total{source="relayed",status="200"}')"
wait_for 10 a_sink_is relay delivered 2
check_eq "a duplicate answer counts as delivered at A" "2" "$(a_sink relay delivered)"

# what B wrote is A's record: same idempotency key (webhook-id), same data
wait_for 10 grep -q '"source":"relayed"' "$WORK/b-got.jsonl"
python3 - "$WORK/b-got.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
sw = [r for r in recs if r["source"] == "relayed"]
assert len(sw) == 1, "B forwarded %d relayed records, want 1" % len(sw)
r = sw[0]
assert r["signature_verified"] is True, r
assert r["idempotency_key"] == "dec_b7720f:decision.blocked", r["idempotency_key"]
assert r["event_type"] == "decision.blocked", r
d = r["data"]
assert d["source"] == "omega" and d["event_id"] == "dec_b7720f", d
assert d["data.decision.risk_score"] == 0.97, d
assert d["data.decision.scenario"] == 'Delete production database "orders" [cleanup]', d
PY
check_eq "B's record carries A's record and idempotency key" 0 "$?"

# --- wrong secret: B says 401, A dead-letters ---
wait_for 10 dead_has relay_bad 2
check "a wrong secret is dead-lettered by A" dead_has relay_bad 2
check "the dead letter says B answered 401" grep -q '"reason":"HTTP 401' "$WORK/data/dead-letter/relay_bad.jsonl"
check_eq "B counted the 401s" "2" "$(b_metric 'hookfwd_requests_total{source="relayed",status="401"}')"
check_eq "relay_bad delivered nothing" "" "$(a_sink relay_bad delivered | grep -v '^0$')"

# --- hmac-sha256 to B's hmac source ---
wait_for 10 b_metric_is 'hookfwd_requests_total{source="relayed_hmac",status="202"}' 2
check_eq "B's hmac-sha256 source accepted both relays" "2" \
    "$(b_metric 'hookfwd_requests_total{source="relayed_hmac",status="202"}')"

# --- 410: dead letters, "endpoint gone" logged once ---
wait_for 10 dead_has gone 2
check "410 goes to dead letters" dead_has gone 2
check "the dead letter says endpoint gone" grep -q '"reason":"endpoint gone (HTTP 410)' "$WORK/data/dead-letter/gone.jsonl"
check_eq "endpoint gone is logged once for two events" "1" "$(grep -c 'endpoint gone:' "$WORK/agent.err")"

# --- other 4xx: dead letters ---
wait_for 10 dead_has refuse 2
check "400 goes to dead letters with the status" grep -q '"reason":"HTTP 400: {\\"error\\":\\"bad request\\"}' \
    "$WORK/data/dead-letter/refuse.jsonl"

# --- 503, 429 and a timeout: retried, then delivered ---
check_eq "A accepts decision.escalated" "202" "$(post_fixture omega/decision.escalated.json | cut -d' ' -f1)"
for s in flaky throttle slow; do
    wait_for 15 a_sink_is "$s" delivered 1
    check_eq "$s: delivered after a retry" "1" "$(a_sink "$s" delivered)"
    check "$s: the retry was counted" [ "$(a_sink "$s" retried)" -ge 1 ]
done
check_eq "flaky endpoint saw the request twice" "2" "$(grep -c '"path": "/flaky/x"' "$WORK/rcv.jsonl")"
python3 - "$WORK/rcv.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
t = [r for r in reqs if r["path"] == "/throttle/x"]
assert len(t) == 2, len(t)
# retry.initial is 200ms, so only Retry-After: 1 explains a second's wait
assert t[1]["t"] - t[0]["t"] >= 0.95, t[1]["t"] - t[0]["t"]
PY
check_eq "the 429 was retried after its Retry-After (1 s)" 0 "$?"

# --- batches: ndjson over PUT, array over POST ---
post_other() { # BODY: a generic event signed with Python's hmac
    local sig
    sig=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' \
        "$OTHER_SECRET" "$1")
    curl -s -o /dev/null -w '%{http_code}' -H "X-Other-Signature: sha256=$sig" --data-binary "$1" \
        "http://127.0.0.1:$PORT/webhooks/other"
}
n=0
for i in 1 2 3; do
    [ "$(post_other "{\"type\":\"batch.item\",\"id\":\"b$i\",\"n\":$i}")" = 202 ] && n=$((n + 1))
done
check_eq "three batch events accepted" 3 "$n"
wait_for 10 a_sink_is batch_nd delivered 3
wait_for 10 a_sink_is batch_arr delivered 3
python3 - "$WORK/rcv.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
nd = [r for r in reqs if r["path"] == "/ok/ndjson"]
ar = [r for r in reqs if r["path"] == "/ok/array"]
assert len(nd) == 1 and len(ar) == 1, (len(nd), len(ar))
assert nd[0]["method"] == "PUT", nd[0]["method"]
h = {k.lower(): v for k, v in nd[0]["headers"]}
assert h["content-type"] == "application/x-ndjson", h
lines = nd[0]["body"].split("\n")
assert lines[-1] == "" and len(lines) == 4, lines
ids = [json.loads(l)["event_id"] for l in lines[:3]]
assert ids == ["b1", "b2", "b3"], ids
assert ar[0]["method"] == "POST"
arr = json.loads(ar[0]["body"])
assert [r["event_id"] for r in arr] == ["b1", "b2", "b3"], arr
assert {k.lower(): v for k, v in ar[0]["headers"]}["content-type"] == "application/json"
PY
check_eq "ndjson (PUT) and array (POST) carry the batch in order" 0 "$?"

# --- templated headers: CR/LF from a field cannot add a header ---
check_eq "note event accepted" 202 \
    "$(post_other '{"type":"note.x","id":"n1","note":"first\r\nX-Injected: yes\r\n\r\nbody","repo":"acme/api"}')"
check_eq "note event without repo accepted" 202 "$(post_other '{"type":"note.y","id":"n2","note":"plain"}')"
headers_seen() { [ "$(grep -c '"/ok/headers"' "$WORK/rcv.jsonl")" -ge 2 ]; }
wait_for 10 headers_seen
python3 - "$WORK/rcv.jsonl" "$HMAC_SECRET" <<'PY'
import hashlib, hmac, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"/ok/headers"' in l]
assert len(reqs) == 2, len(reqs)
reqs.sort(key=lambda q: json.loads(q["body"])["event_id"])
h2 = {k.lower(): v for k, v in reqs[1]["headers"]}
assert h2["x-repo"] == "unknown from other", h2["x-repo"]   # a missing field takes its default
assert h2["x-note"] == "plain", h2
r = reqs[0]
names = [k.lower() for k, _ in r["headers"]]
h = {k.lower(): v for k, v in r["headers"]}
assert "x-injected" not in names, names
assert h["x-note"] == "first  X-Injected: yes    body", repr(h["x-note"])
assert h["x-repo"] == "acme/api from other", h["x-repo"]
want = "sha256=" + hmac.new(sys.argv[2].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
assert h["x-sig"] == want, (h["x-sig"], want)
assert json.loads(r["body"])["event_id"] == "n1"
PY
check_eq "CR/LF in a field become spaces, a missing field its default; X-Sig is right" 0 "$?"

# --- test-sink through the real endpoints ---
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/a.yaml" relay_hmac)
check_eq "test-sink relay_hmac is delivered" "sink relay_hmac (http): delivered" "$out"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/a.yaml" relay_bad)
check "test-sink relay_bad prints the refusal" grep -q "rejected: HTTP 401" <<<"$out"
"$HOOKFWD_BIN" test-sink -c "$WORK/a.yaml" gone >/dev/null
check_eq "test-sink exits 1 for a gone endpoint" 1 "$?"

# --- check refuses what cannot work ---
bad() { # DESCRIPTION EXPECTED-MESSAGE SINK-YAML
    cat >"$WORK/bad.yaml" <<YAML
storage: {mode: memory, path: $WORK/bad}
sources:
  - {name: s, path: /s, signature: {scheme: hmac-sha256, header: X-S, secrets: [x]}}
sinks:
$3
YAML
    "$HOOKFWD_BIN" check -c "$WORK/bad.yaml" >/dev/null 2>"$WORK/bad.err"
    check "check refuses $1" grep -q "$2" "$WORK/bad.err"
}
bad "a signature without secret" "signature: a signature needs a secret" \
    "  - {name: h, type: http, url: 'http://x/', signature: {scheme: hmac-sha256}}"
bad "a standard-webhooks secret that is not whsec_ base64" "^$WORK/bad.yaml:5:.*whsec_ followed by base64" \
    "  - {name: h, type: http, url: 'http://x/', signature: {scheme: standard-webhooks, secret: 'not base64!'}}"
bad "an ftp URL" "url: the scheme must be" "  - {name: h, type: http, url: 'ftp://x/'}"
bad "a header name with a space" "is not a header name" "  - {name: h, type: http, url: 'http://x/', headers: {'X A': v}}"
bad "a Content-Length header" "is set by the HTTP client" \
    "  - {name: h, type: http, url: 'http://x/', headers: {Content-Length: '5'}}"
bad "an unknown name in a header template" "^$WORK/bad.yaml:5:.*nope.x is not set" \
    "  - {name: h, type: http, url: 'http://x/', headers: {X-A: '\${nope.x}'}}"
bad "a malformed header template" "^$WORK/bad.yaml:5:.*'headers.X-A': unknown name" \
    "  - {name: h, type: http, url: 'http://x/', headers: {X-A: 'a \${data.}'}}"

stop_agent TERM
kill "$B_PID" 2>/dev/null
wait "$B_PID" 2>/dev/null
finish
