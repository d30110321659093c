#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real binary on free ports, fed by curl with the fixtures: every status
# of INTERFACE.md's table, records compared field by field, bad input, the
# admin endpoints, and a SIGTERM drain to the file sink.
. "$(dirname "$0")/lib.sh"

OUT=$WORK/records.jsonl
write_config "$WORK/hookfwd.yaml" "  - name: archive
    type: file
    path: $OUT
    takes: records
    batch: {max_events: 1000, flush_interval: 30s}
  - name: points
    type: file
    path: $WORK/points.jsonl
    takes: metrics
    batch: {max_events: 1, flush_interval: 10ms}"
sed -i 's/^  read_timeout: 5s/  read_timeout: 5s\n  max_body: 8KiB\n  max_header: 4KiB/' "$WORK/hookfwd.yaml"
# two rules that can take no value: text, and a field no event has
cat >>"$WORK/hookfwd.yaml" <<'YAML'
metrics:
  - {name: core.scenario, type: gauge, value: decision.scenario, events: ["decision.*"]}
  - {name: core.absent, type: distribution, value: decision.absent, events: ["decision.*"]}
YAML
LONG_RULE=core.long$(printf '%0130d' 0)
echo "  - {name: $LONG_RULE, type: gauge, value: decision.scenario, events: [\"decision.*\"]}" >>"$WORK/hookfwd.yaml"

check_eq "check prints exactly 'configuration OK'" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml" 2>/dev/null)"
start_agent "$WORK/hookfwd.yaml" || exit 1
timeout 10 "$HOOKFWD_BIN" run -c "$WORK/hookfwd.yaml" >/dev/null 2>"$WORK/second.err"
check_eq "a second agent on the same port refuses to start" 1 "$?"
check "and says why" grep -q "Address already in use (is another hookfwd running?)" "$WORK/second.err"

# every fixture as signatures.tsv says
# (tabs become '|' first: read would merge the empty key column's tabs)
while IFS='|' read -r file src hdr val key expect; do
    [ "$file" = file ] && continue
    got=$(post_fixture "$file" | cut -d' ' -f1)
    case "$file" in
    omega/decision.escalated.embedded.json | sentinelayer/scan.completed.pretty.json) want=200 ;; # duplicates
    *) [ "$expect" = accept ] && want=202 || want=401 ;;
    esac
    check_eq "$file answers $want" "$want" "$got"
done < <(tr '\t' '|' <"$FIXTURES/signatures.tsv")

check_eq "duplicate body says duplicate" '{"status":"duplicate","id":"run-20260223-001"}' "$(cat "$WORK/resp.body")"

url="http://127.0.0.1:$PORT/webhooks/omega"
status() { curl -s -o "$WORK/last.body" -w '%{http_code}' "$@"; }
json_reason() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], bool(d.get("error")))' "$WORK/last.body"; }

check_eq "unknown path is 404" 404 "$(status -d '{}' "http://127.0.0.1:$PORT/webhooks/nope")"
check_eq "404 body is JSON with a reason" "error True" "$(json_reason)"
check_eq "GET is 405" 405 "$(status "$url")"
check_eq "405 body is JSON" "error True" "$(json_reason)"
check_eq "unsigned is 401" 401 "$(status -d @"$FIXTURES/omega/decision.allowed.json" "$url")"
check_eq "401 body is JSON" "error True" "$(json_reason)"
head -c 9000 /dev/zero | tr '\0' a >"$WORK/big.json"
check_eq "body over max_body is 413" 413 "$(status -H 'X-Omega-Signature: sha256=00' --data-binary @"$WORK/big.json" "$url")"
check_eq "413 body is JSON" "error True" "$(json_reason)"
check_eq "headers over max_header are 431" 431 "$(status -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' b)" -d '{}' "$url")"
check_eq "431 body is JSON" "error True" "$(json_reason)"

# signed but not JSON: 400 (the signature is checked first, then the body)
signed_post() { # signed_post FILE: signs with the agent's own sign command
    local h
    h=$("$HOOKFWD_BIN" sign -c "$WORK/hookfwd.yaml" --source omega "$1")
    status -H "$h" --data-binary @"$1" "$url"
}
printf '{"event":"decision.allowed","decision":' >"$WORK/trunc.json"
check_eq "signed truncated JSON is 400" 400 "$(signed_post "$WORK/trunc.json")"
check_eq "400 body is JSON" "error True" "$(json_reason)"
printf '{"event":"decision.allowed","x":"\xff\xfe"}' >"$WORK/utf8.json"
check_eq "signed invalid UTF-8 is 400" 400 "$(signed_post "$WORK/utf8.json")"
python3 -c 'print("{\"event\":\"x\",\"d\":" + "["*200 + "]"*200 + "}", end="")' >"$WORK/deep.json"
check_eq "signed 200-deep nesting is 400" 400 "$(signed_post "$WORK/deep.json")"
: >"$WORK/empty.json"
check_eq "signed empty body is 400" 400 "$(signed_post "$WORK/empty.json")"
printf '{"event":"odd.numbers","decision":{"id":"dec_odd"},"n":1e999,"m":-123456789012345678901234567890,"k":1}' >"$WORK/odd.json"
check_eq "huge numbers are accepted (their exact text is kept)" 202 "$(signed_post "$WORK/odd.json")"
printf '{"event":"odd.numbers","decision":{"id":"dec_dup"},"k":1,"k":2}' >"$WORK/dup.json"
check_eq "signed body with a duplicate key is 400" 400 "$(signed_post "$WORK/dup.json")"
python3 -c 'print("{\"event\":\"x\",\"d\":" + "["*4000 + "]"*4000 + "}", end="")' >"$WORK/deeper.json"
check_eq "signed 4,000-deep nesting (within max_body) is 400" 400 "$(signed_post "$WORK/deeper.json")"
# (scan.failed was already accepted above: a wrong content type changes nothing, it is a duplicate)
check_eq "wrong content type, good signature: judged by signature and key" 200 "$(status -H 'Content-Type: text/plain' \
    -H "$("$HOOKFWD_BIN" sign -c "$WORK/hookfwd.yaml" --source sentinelayer "$FIXTURES/sentinelayer/scan.failed.json" | sed 's/^[^:]*: //;s/^/X-Sentinelayer-Signature: /')" \
    --data-binary @"$FIXTURES/sentinelayer/scan.failed.json" -H 'X-Ignored: 1' "http://127.0.0.1:$PORT/webhooks/sentinelayer")"
python3 - "$PORT" <<'PY' >"$WORK/raw.txt"
import socket, sys
port = int(sys.argv[1])
def raw(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
    except socket.timeout:
        pass
    s.close()
    return out.split(b"\r\n")[0].decode()
print(raw(b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\n{}{}{}"))
print(raw(b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"))
print(raw(b"GARBAGE\r\n\r\n"))
print(raw(b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))
PY
check_eq "conflicting Content-Length is 400" "HTTP/1.1 400 Bad Request" "$(sed -n 1p "$WORK/raw.txt")"
check_eq "bare CR in a header is 400" "HTTP/1.1 400 Bad Request" "$(sed -n 2p "$WORK/raw.txt")"
check_eq "garbage request line is 400" "HTTP/1.1 400 Bad Request" "$(sed -n 3p "$WORK/raw.txt")"
check_eq "chunked body is read (then 401: unsigned)" "HTTP/1.1 401 Unauthorized" "$(sed -n 4p "$WORK/raw.txt")"

# raw exchanges read as a client must: each answer's status line, then for
# an answer to HEAD only its head (Content-Length may state a length, no
# body follows), else its JSON body; then the bytes left over and whether
# the agent closed the connection (a kept one is shown by the answer to a
# last request with Connection: close; one the agent keeps open past its
# answers shows as "kept open" after the 5 s deadline)
python3 - "$PORT" "$ADMIN_PORT" <<'PY' >"$WORK/answers.txt"
import json, socket, sys
port, admin = int(sys.argv[1]), int(sys.argv[2])
def exchange(name, data, heads, to=port):
    """heads[i]: the i-th answer is to a HEAD request"""
    s = socket.create_connection(("127.0.0.1", to), timeout=5)
    s.sendall(data)
    buf, closed = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            buf += b
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    out = []
    for head_only in heads:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            out.append("no answer")
            break
        lines = buf[:end].decode().split("\r\n")
        buf = buf[end + 4:]
        cl = [int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")]
        if head_only:
            out.append(f"{lines[0]}, head only, Content-Length {'stated' if cl and cl[0] > 0 else 'missing'}")
            continue
        body, buf = buf[:cl[0]], buf[cl[0]:]
        try:
            d = json.loads(body)
            out.append(f"{lines[0]}, JSON" + (" with a reason" if d.get("error") else ""))
        except ValueError:
            out.append(f"{lines[0]}, {len(body)} bytes not JSON")
    out.append(f"{len(buf)} bytes more, {'closed' if closed else 'kept open'}")
    print(name + ": " + "; ".join(out))
te = b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
exchange("chunk-ext-empty-name", te + b'7;=\r\n{"a":1}\r\n0\r\n\r\n', [False])
exchange("chunk-ext-empty-value", te + b'7;foo=\r\n{"a":1}\r\n0\r\n\r\n', [False])
last = b"POST /webhooks/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
exchange("chunk-ext-empty-quoted", te + b'7;foo="";bar\r\n{"a":1}\r\n0\r\n\r\n' + last, [False, False])
exchange("head-405", b"HEAD /webhooks/omega HTTP/1.1\r\nHost: x\r\n\r\n", [True])
exchange("get-405", b"GET /webhooks/omega HTTP/1.1\r\nHost: x\r\n\r\n", [False])
exchange("head-404", b"HEAD /webhooks/nope HTTP/1.1\r\nHost: x\r\n\r\n", [True])
exchange("head-400", b"HEAD /webhooks/omega HTTP/1.1\r\n\r\n", [True])
exchange("head-healthz",
         b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         [True, False], admin)
cl2 = b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
exchange("absolute-form", b"POST http://127.0.0.1/webhooks/omega?x=1" + cl2, [False])
exchange("absolute-form-https-404", b"POST https://127.0.0.1/webhooks/nope" + cl2, [False])
exchange("absolute-form-ftp", b"POST ftp://127.0.0.1/webhooks/omega" + cl2, [False])
PY
answer() { sed -n "s/^$1: //p" "$WORK/answers.txt"; }
check_eq "chunk extension with an empty name (7;=) is 400, then closed" \
    "HTTP/1.1 400 Bad Request, JSON with a reason; 0 bytes more, closed" "$(answer chunk-ext-empty-name)"
check_eq "chunk extension with an empty value (7;foo=) is 400, then closed" \
    "HTTP/1.1 400 Bad Request, JSON with a reason; 0 bytes more, closed" "$(answer chunk-ext-empty-value)"
check_eq "chunk extensions with an empty quoted value and without a value are read (then 401: unsigned)" \
    "HTTP/1.1 401 Unauthorized, JSON with a reason; HTTP/1.1 404 Not Found, JSON with a reason; 0 bytes more, closed" \
    "$(answer chunk-ext-empty-quoted)"
check_eq "HEAD is 405 without a body, closed as GET is" \
    "HTTP/1.1 405 Method Not Allowed, head only, Content-Length stated; 0 bytes more, closed" "$(answer head-405)"
check_eq "GET is 405 with a body, closed" \
    "HTTP/1.1 405 Method Not Allowed, JSON with a reason; 0 bytes more, closed" "$(answer get-405)"
check_eq "HEAD on an unknown path is 404 without a body" \
    "HTTP/1.1 404 Not Found, head only, Content-Length stated; 0 bytes more, closed" "$(answer head-404)"
check_eq "HEAD without Host is 400 without a body" \
    "HTTP/1.1 400 Bad Request, head only, Content-Length stated; 0 bytes more, closed" "$(answer head-400)"
check_eq "HEAD /healthz is 200 without a body, and the connection serves the next request" \
    "HTTP/1.1 200 OK, head only, Content-Length stated; HTTP/1.1 200 OK, JSON; 0 bytes more, closed" \
    "$(answer head-healthz)"
check_eq "absolute-form target (http://host/path?query) is routed on its path (then 401: unsigned)" \
    "HTTP/1.1 401 Unauthorized, JSON with a reason; 0 bytes more, closed" "$(answer absolute-form)"
check_eq "absolute-form https:// target is routed on its path (404 for an unknown one)" \
    "HTTP/1.1 404 Not Found, JSON with a reason; 0 bytes more, closed" "$(answer absolute-form-https-404)"
check_eq "absolute-form target with another scheme (ftp://) is 400" \
    "HTTP/1.1 400 Bad Request, JSON with a reason; 0 bytes more, closed" "$(answer absolute-form-ftp)"

# keep-alive: several requests on one connection
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' -H "X-Omega-Signature: sha256=00" \
    -d '{}' "$url" "$url" "$url" | awk '{s += $1} END {print s}')
check_eq "three requests share one connection" 1 "$n"

check "still serving after bad input" wait_for 5 curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz"
check_eq "readyz is 200" 200 "$(status "http://127.0.0.1:$ADMIN_PORT/readyz")"
check_eq "accepted counter omega" 7 "$(metric 'hookfwd_events_accepted_total{source="omega"}')"
check_eq "accepted counter sentinelayer" 4 "$(metric 'hookfwd_events_accepted_total{source="sentinelayer"}')"
# tampered, unsigned, three keep-alive requests, the chunked one, the one
# with chunk extensions and the absolute-form one
check_eq "401 counter for omega" 8 "$(metric 'hookfwd_requests_total{source="omega",status="401"}')"
# four accepted and two duplicates (verified before dedup)
check_eq "key 0 used by sentinelayer" 6 "$(metric 'hookfwd_signature_key_used_total{source="sentinelayer",key="0"}')"
check "metric points are written" wait_for 10 test -s "$WORK/points.jsonl"
# the accepted decisions: escalated, blocked, allowed (the duplicate is not re-flattened)
decisions=$(metric 'hookfwd_metric_rule_skipped_total{metric="core.absent",reason="missing"}')
check "a rule whose field no event has counts each matched event as missing" test "${decisions:-0}" -ge 3
check_eq "a rule on a text field counts the same events as not_a_number" "$decisions 0" \
    "$(metric 'hookfwd_metric_rule_skipped_total{metric="core.scenario",reason="not_a_number"}') $(metric 'hookfwd_metric_rule_skipped_total{metric="core.scenario",reason="missing"}')"
check_eq "a built-in rule that took every value has zero skips" "0 0" \
    "$(metric 'hookfwd_metric_rule_skipped_total{metric="omega.decision.risk_score",reason="missing"}') $(metric 'hookfwd_metric_rule_skipped_total{metric="omega.decision.risk_score",reason="not_a_number"}')"
check_eq "a rule named with 128 characters or more has no series (a cut label could repeat)" 0 \
    "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -c 'metric="core.long')"
check_eq "the text field is logged once, naming the rule and the field" 1 \
    "$(grep -c "metric 'core.scenario': field 'decision.scenario' of a 'decision\.[a-z]*' event from source 'omega' is not a number" "$WORK/agent.err")"

# the records sink holds its batch (30 s interval): SIGTERM must deliver it
stop_agent TERM
check_eq "SIGTERM exits 0 after draining" 0 "$?"
check_eq "records drained on SIGTERM" 11 "$(wc -l <"$OUT")"

python3 - "$OUT" "$WORK/points.jsonl" <<'PY'
import json, sys
recs = {r["event_id"] or r["event_type"]: r for r in map(json.loads, open(sys.argv[1]))}
fails = 0
def expect(name, got, want):
    global fails
    if got != want:
        fails += 1
        print(f"not ok - {name}: expected {want!r}, got {got!r}")
    else:
        print(f"ok - {name}")
r = recs["dec_abc123"]
expect("escalated source", r["source"], "omega")
expect("escalated event_type", r["event_type"], "decision.escalated")
expect("escalated severity", r["severity"], "high")
expect("escalated timestamp", r["timestamp"], "2026-01-14T12:00:00Z")
expect("escalated signature_verified", r["signature_verified"], True)
expect("escalated signature_key", r["signature_key"], 0)
expect("escalated idempotency_key", r["idempotency_key"], "dec_abc123:decision.escalated")
expect("escalated data", r["data"], {"decision.id": "dec_abc123", "decision.outcome": "ESCALATE",
       "decision.risk_score": 0.85, "decision.scenario": "Transfer $100k to new vendor",
       "decision.policy_matches": ["high_value_transfer", "new_vendor"], "decision.audit_id": "aud_xyz789"})
expect("received_at shape", len(r["received_at"]), 24)
b = recs["dec_b7720f"]
expect("blocked scenario keeps quotes and brackets", b["data"]["decision.scenario"], 'Delete production database "orders" [cleanup]')
expect("blocked severity", b["severity"], "warning")
s = recs["run-20260223-001"]
expect("scan severity_counts flattened", s["data"]["severity_counts.P1"], 2)
expect("cost stays a string", s["data"]["estimated_cost_usd"], "0.0042")
expect("pr_number", s["data"]["pr_number"], 142)
f = recs["run-20260223-002"]
expect("failed severity", f["severity"], "warning")
expect("failed null pr", f["data"]["pr_number"], None)
expect("fuzz severity", recs["fz_9912"]["severity"], "critical")
expect("odd numbers kept", recs["dec_odd"]["data"]["k"], 1)
import re
raw = [l for l in open(sys.argv[1]) if '"dec_odd"' in l][0]
expect("an integer past 64 bits keeps its exact text", bool(re.search(r'"m":-123456789012345678901234567890[,}]', raw)), True)
expect("a number past a double keeps its exact text", bool(re.search(r'"n":1e999[,}]', raw)), True)
pts = [json.loads(l) for l in open(sys.argv[2])]
names = sorted({p["metric"] for p in pts})
expect("metric names", names, ["omega.decision.count", "omega.decision.risk_score", "omega.events",
       "sentinelayer.scan.cost_usd", "sentinelayer.scan.count", "sentinelayer.scan.failed",
       "sentinelayer.scan.findings", "sentinelayer.scan.total_findings"])
p1 = [p for p in pts if p["metric"] == "sentinelayer.scan.findings" and "severity:P1" in p["tags"]
      and "repo:acme/backend" in p["tags"]]
expect("findings P1 point", [(p["value"], p["tags"]) for p in p1],
       [(2, ["repo:acme/backend", "severity:P1", "source:sentinelayer"])])
print(f"{fails} field failures")
sys.exit(1 if fails else 0)
PY
check_eq "records match the fixtures field by field" 0 "$?"

# a bad config is refused with file:line:col by check and run
printf 'listen:\n  adress: 1\n' >"$WORK/bad.yaml"
"$HOOKFWD_BIN" check -c "$WORK/bad.yaml" 2>"$WORK/check.err"
check_eq "check exits 1 on a bad config" 1 "$?"
check "check names file:line:col" grep -q "^$WORK/bad.yaml:2:3: configuration: unknown key 'adress'" "$WORK/check.err"
"$HOOKFWD_BIN" run -c "$WORK/bad.yaml" 2>/dev/null
check_eq "run exits 1 on a bad config" 1 "$?"
# every mistake in the file's shape at once, in file order, one per line
sed -e 's/^  read_timeout: 5s/  read_timeout: 5s\n  thread: 2/' -e 's/^    profile: sentinelayer/    profile: sentinelayer\n    colour: red/' \
    -e 's/^    batch: {max_events: 1000, flush_interval: 30s}/    batch: {max_events: lots, flush_interval: 30s}/' \
    "$WORK/hookfwd.yaml" >"$WORK/bad3.yaml"
"$HOOKFWD_BIN" check -c "$WORK/bad3.yaml" 2>"$WORK/check3.err"
check_eq "check exits 1 with several errors" 1 "$?"
check_eq "check names each of them, in file order" \
    "unknown key 'thread'|unknown key 'colour'|sink 'archive' (file): 'max_events' must be" \
    "$(sed -E "s|^$WORK/bad3.yaml:[0-9]+:[0-9]+: (configuration: )?||; s/ \(valid.*//; s/('max_events' must be).*/\1/" "$WORK/check3.err" | paste -sd'|')"

# past the shape, each sink is checked even after one with an error
sed -e 's/^    takes: records/    takes: records\n    filter: {match: {a: {gt: "y"}}}/' \
    -e 's/^    takes: metrics/    takes: metrics\n    filter: {match: {b: {lt: "z"}}}/' "$WORK/hookfwd.yaml" >"$WORK/bad4.yaml"
"$HOOKFWD_BIN" check -c "$WORK/bad4.yaml" 2>"$WORK/check4.err"
check_eq "check exits 1 with two sinks' errors" 1 "$?"
check_eq "check names both sinks' errors, in order" "'gt' compares numbers; 'y' is not a number|'lt' compares numbers; 'z' is not a number" \
    "$(sed -E "s|^$WORK/bad4.yaml:[0-9]+:[0-9]+: ||" "$WORK/check4.err" | paste -sd'|')"

# every shipped example passes check (for the sinks built in)
built=$("$HOOKFWD_BIN" version | sed -n 's/^  sinks: //p')
for ex in "$SOURCE_DIR"/config/examples/*.yaml "$SOURCE_DIR"/config/hookfwd.yaml; do
    # an example is checked when every sink type it uses is built in
    types=$(python3 -c 'import sys, yaml; print(" ".join(s["type"] for s in yaml.safe_load(open(sys.argv[1]))["sinks"]))' "$ex")
    missing=
    for t in $types; do
        case " $built " in *" $t "*) ;; *) missing=$t ;; esac
    done
    [ -z "$missing" ] || continue
    out=$(HEC_TOKEN=t SPLUNK_HEC_TOKEN=t DD_API_KEY=k DATADOG_API_KEY=k KAFKA_PASSWORD=p \
        SLACK_INCIDENTS_URL=https://hooks.slack.com/services/T0/B0/x SLACK_OPS_URL=https://hooks.slack.com/services/T0/B1/x \
        SLACK_SECURITY_URL=https://hooks.slack.com/services/T0/B2/x PAGERDUTY_ROUTING_KEY=0123456789abcdef0123456789abcdef \
        SMTP_PASSWORD=p RELAY_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
        "$HOOKFWD_BIN" check -c "$ex" 2>"$WORK/example.err")
    check_eq "example $(basename "$ex") passes check" "configuration OK" "$out$(grep -v "sources, .* sinks" "$WORK/example.err")"
done

# the sign command agrees with the independently computed fixture signature
want=$(awk -F'\t' '$1=="omega/decision.blocked.json"{print $4}' "$FIXTURES/signatures.tsv")
check_eq "sign reproduces the fixture signature" "X-Omega-Signature: $want" \
    "$("$HOOKFWD_BIN" sign -c "$WORK/hookfwd.yaml" --source omega "$FIXTURES/omega/decision.blocked.json")"

# send-test against a running agent
start_agent "$WORK/hookfwd.yaml" || exit 1
check "send-test omega exits 0" "$HOOKFWD_BIN" send-test -c "$WORK/hookfwd.yaml" --source omega
check "send-test sentinelayer exits 0" "$HOOKFWD_BIN" send-test -c "$WORK/hookfwd.yaml" --source sentinelayer --event scan.blocked
check "test-sink file exits 0" "$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" archive
stop_agent TERM
check "test-sink record reached the file" grep -q '"event_type":"hookfwd.test"' "$OUT"
finish
