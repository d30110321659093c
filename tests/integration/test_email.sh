#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The email sink against a real SMTP server (Debian's Exim, private, from
# lib_smtp.sh), messages read back with Python's MIME parser
# (tests/peers/mail_check.py) and checked header by header:
#   - each: STARTTLS required and AUTH; From, To, Subject (RFC 2047, CR/LF
#     from a field), Date, Message-ID, MIME; the text;
#   - starttls: required against a server without STARTTLS is not sent;
#     a 550 recipient goes to dead letters, a 451 deferral is retried;
#   - digest with storage.mode disk: events posted, the agent SIGKILLed
#     before the digest is due and restarted; the one digest that goes out
#     at its time holds exactly what was posted (counts by type and
#     severity, the newest max_items); a digest due while the agent was
#     down goes out at start; after a delivered digest the journal has
#     nothing left for the sink;
#   - digest with memory storage: SIGTERM sends the held digest early;
#   - test-sink for both modes; check refusals.
# Digest periods are a few seconds (digest.every: 6s), and the tests wait for
# the clock to enter a known phase of the period instead of sleeping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_smtp.sh"

MAILCHECK="$SOURCE_DIR/tests/peers/mail_check.py"
[ -n "$SMTP_EXIM" ] || { echo "exim4 not installed: skipped"; exit 77; }

smtp_start "$WORK/smtp" --require-tls --auth hookfwd 'pa ss:w0rd' --reject-rcpt refused@example.com ||
    { echo "cannot start the SMTP server"; exit 1; }
export SMTP_PASSWORD=$SMTP_PASS

# sentinelayer events signed here with Python's hmac: post_sl EVENT RUN_ID [GATE] [EXTRA_JSON_MEMBERS]
post_sl() {
    python3 - "$PORT" "$SL_SECRET" "$@" <<'PY'
import hashlib, hmac, json, sys, urllib.request
port, secret, event, run = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
gate = sys.argv[5] if len(sys.argv) > 5 else "passed"
extra = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
body = {"event_type": event, "run_id": run, "timestamp": "2026-02-23T10:20:00Z", "repo": "acme/payments",
        "branch": "main", "commit_sha": "d4e5f6a7b8c9", "pr_number": None, "gate_status": gate,
        "severity_counts": {}, "total_findings": 0, "artifact_links": {}, "estimated_cost_usd": "0.00"}
body.update(extra)
data = json.dumps(body).encode()
sig = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
req = urllib.request.Request("http://127.0.0.1:%s/webhooks/sentinelayer" % port, data=data,
                             headers={"X-Sentinelayer-Signature": "sha256=" + sig, "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
mail_json() { python3 "$MAILCHECK" "$1" "${@:2}"; }
count_in() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }
sink_metric() { metric "hookfwd_sink_events_total{sink=\"$1\",outcome=\"$2\"}"; }
sink_metric_ge() { [ "$(sink_metric "$1" "$2")" -ge "$3" ] 2>/dev/null; }
# wait_phase PERIOD_MS LO HI: until the wall clock is LO..HI ms into a period
wait_phase() {
    wait_for 20 python3 -c 'import sys, time
p, lo, hi = map(int, sys.argv[1:])
sys.exit(0 if lo <= int(time.time() * 1000) % p <= hi else 1)' "$1" "$2" "$3"
}

# ---------------------------------------------------------------- each ----
MD=$SMTP_MAILDIR
write_config "$WORK/each.yaml" "  - name: alerts
    type: email
    url: $SMTP_URL
    username: $SMTP_USER
    password: \"\${SMTP_PASSWORD}\"
    from: \"Sécurité Alerts <alerts@example.com>\"
    to: [ops@example.com, \"Security, On Call <oncall@example.com>\"]
    subject: \"[\${severity}] \${event_type} on \${data.repo:-no repo}: \${data.title:-}\"
    tls: {ca_file: $SMTP_CA}
    filter: {events: [\"scan.*\"]}
    batch: {flush_interval: 50ms}
  - name: refused
    type: email
    url: $SMTP_URL
    username: $SMTP_USER
    password: \"\${SMTP_PASSWORD}\"
    from: alerts@example.com
    to: [refused@example.com]
    tls: {ca_file: $SMTP_CA}
    filter: {events: [\"scan.failed\"]}
    batch: {flush_interval: 50ms}
    retry: {initial: 200ms, max: 1s}"
check_eq "each config passes check" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/each.yaml" 2>/dev/null)"
start_agent "$WORK/each.yaml" || exit 1

check_eq "scan.blocked fixture accepted" 202 "$(post_fixture sentinelayer/scan.blocked.json | cut -d' ' -f1)"
check_eq "scan.skipped with CR/LF and UTF-8 in a field accepted" 202 \
    "$(post_sl scan.skipped run-crlf passed '{"title": "Ünïcödé ✓\r\nBcc: attacker@evil.example\r\n\r\nX"}')"
# two recipients each: four files
smtp_wait_count 4 15 "$MD"
check_eq "two messages to two recipients delivered" 4 "$(count_in "$MD")"
mail_json "$MD" --strict >"$WORK/each.json" 2>"$WORK/each.strict"
check_eq "mail_check finds no RFC 5322/MIME rule broken" 0 "$?"
python3 - "$WORK/each.json" <<'PY'
import json, re, sys, datetime
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 4, len(msgs)
by_subject = {}
for m in msgs:
    by_subject.setdefault(m["subject"], []).append(m)
want_blocked = "[high] scan.blocked on acme/payments: "
want_crlf = "[info] scan.skipped on acme/payments: Ünïcödé ✓  Bcc: attacker@evil.example    X"
assert set(by_subject) == {want_blocked, want_crlf}, list(by_subject)
for subject, ms in by_subject.items():
    assert sorted(a for m in ms for a in m["envelope_to"]) == ["oncall@example.com", "ops@example.com"], ms
    m = ms[0]
    assert m["from"] == [{"name": "Sécurité Alerts", "addr": "alerts@example.com"}], m["from"]
    assert m["to"] == [{"name": "", "addr": "ops@example.com"},
                       {"name": "Security, On Call", "addr": "oncall@example.com"}], m["to"]
    assert m["envelope_from"] == "alerts@example.com", m["envelope_from"]
    assert m["subject_raw"].isascii(), m["subject_raw"]
    assert "\n" not in m["subject_raw"].replace("\r\n ", "").replace("\n ", ""), m["subject_raw"]
    assert "bcc" not in m["headers"] and "Bcc" not in m["header_names"], m["header_names"]
    d = datetime.datetime.fromisoformat(m["date_iso"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - d).total_seconds()) < 120, m["date_iso"]
    assert re.fullmatch(r"<hookfwd\.[0-9a-f]{16}\.[0-9a-f]+@example\.com>", m["message_id"]), m["message_id"]
    assert m["mime_version"] == "1.0"
    assert (m["content_type"], m["charset"], m["transfer_encoding"]) == ("text/plain", "utf-8", "quoted-printable")
    assert m["headers"]["auto-submitted"] == ["auto-generated"]
    assert m["errors"] == [] and m["defects"] == [], (m["errors"], m["defects"])
    # both copies are one message
    assert len({x["message_id"] for x in ms}) == 1
blocked = by_subject[want_blocked][0]["text"]
for line in ("scan.blocked (high) from sentinelayer", "Event id: run-20260223-003", "repo: acme/payments",
             "branch: fix/ledger", "gate_status: blocked", "total_findings: 1", "severity_counts.P0: 1"):
    assert line in blocked, (line, blocked)
crlf = by_subject[want_crlf][0]["text"]
assert "title: Ünïcödé ✓\r\nBcc: attacker@evil.example" in crlf.replace("\n", "\r\n") or \
       "title: Ünïcödé ✓\nBcc: attacker@evil.example" in crlf, crlf
PY
check_eq "each: headers one by one (From, To, Subject, Date, Message-ID, MIME) and text" 0 "$?"
check "the session used TLS and AUTH" grep -q "P=esmtpsa .*A=plain:hookfwd\|P=esmtpsa .*A=login:hookfwd" "$SMTP_LOG"

# a 550 recipient: dead letters with the server's words; a 451: retried
check_eq "scan.failed accepted" 202 "$(post_sl scan.failed run-refused error '{"error_code": 2}')"
wait_for 15 test -s "$WORK/data/dead-letter/refused.jsonl"
check "550 goes to dead letters with the server's reply" \
    grep -q '"reason":"SMTP server refused the message: 550 5.1.1 <refused@example.com>: recipient rejected' \
    "$WORK/data/dead-letter/refused.jsonl"
before=$(count_in "$MD")
touch "$SMTP_DIR/defer"
check_eq "scan.skipped accepted while the server defers" 202 "$(post_sl scan.skipped run-deferred)"
wait_for 15 sink_metric_ge alerts retried 1
check "451 is retried" sink_metric_ge alerts retried 1
check_eq "nothing delivered while deferred" "$before" "$(count_in "$MD")"
rm -f "$SMTP_DIR/defer"
smtp_wait_count $((before + 2)) 20 "$MD"
check_eq "delivered once the server takes it" $((before + 2)) "$(count_in "$MD")"

out=$("$HOOKFWD_BIN" test-sink -c "$WORK/each.yaml" alerts)
check_eq "test-sink (each) is delivered" "sink alerts (email): delivered" "$out"
smtp_wait_count $((before + 4)) 10 "$MD"
check "the test-sink message arrived" grep -lq "hookfwd.test" "$MD"/new/*
stop_agent TERM

# starttls: required against a server that offers none: not sent
smtp_start "$WORK/smtp-plain" || exit 1
PLAIN_URL=$SMTP_URL
cat >"$WORK/plain.yaml" <<YAML
storage: {mode: memory, path: $WORK/plain}
sources:
  - {name: s, path: /s, signature: {scheme: hmac-sha256, header: X-S, secrets: [x]}}
sinks:
  - {name: m, type: email, url: "$PLAIN_URL", from: a@example.com, to: [b@example.com]}
  - {name: m_off, type: email, url: "$PLAIN_URL", starttls: "off", from: a@example.com, to: [b@example.com]}
YAML
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/plain.yaml" m)
check "starttls required: not delivered without STARTTLS" grep -q "not delivered: the server offers no STARTTLS" <<<"$out"
check_eq "nothing reached the plain server" 0 "$(count_in "$SMTP_MAILDIR")"
out=$("$HOOKFWD_BIN" test-sink -c "$WORK/plain.yaml" m_off)
check_eq "starttls off sends in clear" "sink m_off (email): delivered" "$out"
smtp_stop

# -------------------------------------------------------------- digest ----
# A private server per part keeps the counts simple.
smtp_start "$WORK/smtp-digest" --starttls || exit 1
DMD=$SMTP_MAILDIR
PERIOD_MS=6000
write_config "$WORK/digest.yaml" "  - name: daily
    type: email
    url: $SMTP_URL
    from: \"hookfwd <hookfwd@example.com>\"
    to: [digest@example.com]
    tls: {ca_file: $SMTP_CA}
    mode: digest
    digest: {every: 6s, max_items: 3}
    filter: {events: [\"scan.*\", \"decision.*\"]}
    batch: {flush_interval: 50ms}" disk
check_eq "digest config passes check" "configuration OK" "$("$HOOKFWD_BIN" check -c "$WORK/digest.yaml" 2>/dev/null)"
rm -rf "$WORK/data"
start_agent "$WORK/digest.yaml" || exit 1

# 300..1500 ms into a period: the events land well before its end
wait_phase $PERIOD_MS 300 1500
ok_posts=0
for r in 1 2 3; do [ "$(post_sl scan.skipped "run-skip-$r")" = 202 ] && ok_posts=$((ok_posts + 1)); done
[ "$(post_sl scan.failed run-fail-1 error '{"error_code": 2}')" = 202 ] && ok_posts=$((ok_posts + 1))
[ "$(post_fixture omega/decision.blocked.json | cut -d' ' -f1)" = 202 ] && ok_posts=$((ok_posts + 1))
[ "$(post_sl scan.blocked run-block-1 blocked '{"total_findings": 4}')" = 202 ] && ok_posts=$((ok_posts + 1))
check_eq "six events accepted (on disk)" 6 "$ok_posts"
stop_agent KILL
check_eq "no digest before its time" 0 "$(count_in "$DMD")"
start_agent "$WORK/digest.yaml" || exit 1
check "the restarted agent re-queued the held events" grep -q "re-queued 6 records" "$WORK/agent.err"
smtp_wait_count 1 "$((PERIOD_MS / 1000 + 8))" "$DMD"
check_eq "one digest after the restart" 1 "$(count_in "$DMD")"
mail_json "$DMD" --strict --require-alternative >"$WORK/digest.json" 2>"$WORK/digest.strict"
check_eq "the digest breaks no MIME rule and is multipart/alternative" 0 "$?"
python3 - "$WORK/digest.json" <<'PY'
import json, re, sys
[m] = [json.loads(l) for l in open(sys.argv[1])]
assert m["content_type"] == "multipart/alternative", m["content_type"]
assert [p["content_type"] for p in m["parts"]] == ["text/plain", "text/html"], m["parts"]
assert m["subject"] == "[hookfwd] daily digest: 6 events, highest severity high", m["subject"]
t = m["text"]
assert "daily): 6 events received from" in t, t
def row(name, info, warning, high, critical, total):
    return "%-28s %8d %8d %8d %8d %8d" % (name, info, warning, high, critical, total)
# what was posted: 3 skipped (info), 1 failed (warning), 1 decision.blocked (warning), 1 scan.blocked (high)
for r in (row("scan.skipped", 3, 0, 0, 0, 3), row("scan.failed", 0, 1, 0, 0, 1),
          row("decision.blocked", 0, 1, 0, 0, 1), row("scan.blocked", 0, 0, 1, 0, 1),
          row("All", 3, 2, 1, 0, 6)):
    assert r in t, (r, t)
# max_items 3: the three newest, newest first
listed = re.findall(r"^- \S+  (\S+)  \S+  \S+  (\S+)$", t, re.M)
assert listed == [("scan.blocked", "run-block-1"), ("decision.blocked", "dec_b7720f"),
                  ("scan.failed", "run-fail-1")], listed
assert "(3 older events not listed)" in t
assert "repo: acme/payments" in t and "decision.outcome: BLOCK" in t and "error_code: 2" in t
h = m["html_text"]
assert "scan.skipped 3 0 0 0 3" in h and "All 3 2 1 0 6" in h, h
assert "3 older events not listed" in h
PY
check_eq "the digest holds exactly what was posted (counts, newest 3)" 0 "$?"

# positions: after the digest the journal has nothing left for the sink
wait_for 10 grep -q "digest of 6 events sent" "$WORK/agent.err"
stop_agent TERM
: >"$WORK/agent.err"
start_agent "$WORK/digest.yaml" || exit 1
check "the journal is open again" grep -q "component=journal msg=.*next sequence 7\"" "$WORK/agent.err"
check "a restart after the digest re-queues nothing" bash -c "! grep -q 're-queued [1-9]' '$WORK/agent.err'"

# a digest that fell due while the agent was down goes out at start
wait_phase $PERIOD_MS 300 1500
period=$(($(date +%s%3N) / PERIOD_MS))
check_eq "scan.skipped accepted" 202 "$(post_sl scan.skipped run-late-1)"
check_eq "scan.failed accepted" 202 "$(post_sl scan.failed run-late-2 error '{"error_code": 7}')"
stop_agent KILL
# into the next period: the digest's time passed while the agent was down
past_period() { [ $(($(date +%s%3N) / PERIOD_MS)) -gt "$1" ]; }
wait_for 20 past_period "$period"
wait_phase $PERIOD_MS 300 3000
check_eq "no digest was sent before the kill" 1 "$(count_in "$DMD")"
t0=$(date +%s%3N)
start_agent "$WORK/digest.yaml" || exit 1
smtp_wait_count 2 5 "$DMD"
check_eq "the overdue digest goes out at start" 2 "$(count_in "$DMD")"
elapsed=$(($(date +%s%3N) - t0))
check "within 3 s of the restart, not a period later ($elapsed ms)" [ "$elapsed" -lt 3000 ]
mail_json "$DMD" | tail -1 >"$WORK/late.json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["subject"].startswith("[hookfwd] daily digest: 2 events"), m["subject"]; assert "run-late-1" in m["text"] and "run-late-2" in m["text"]' "$WORK/late.json"
check_eq "the overdue digest holds the two events" 0 "$?"

out=$("$HOOKFWD_BIN" test-sink -c "$WORK/digest.yaml" daily)
check_eq "test-sink (digest) sends a digest now" "sink daily (email): delivered" "$out"
smtp_wait_count 3 10 "$DMD"
stop_agent TERM

# memory storage: SIGTERM sends what is held rather than lose it
sed 's/^  mode: disk$/  mode: memory/; s/every: 6s/every: 24h/' "$WORK/digest.yaml" >"$WORK/digest-mem.yaml"
rm -rf "$WORK/data"
start_agent "$WORK/digest-mem.yaml" || exit 1
check_eq "scan.skipped accepted (memory)" 202 "$(post_sl scan.skipped run-mem-1)"
n_before=$(count_in "$DMD")
stop_agent TERM
check_eq "SIGTERM exits cleanly" 0 "$?"
smtp_wait_count $((n_before + 1)) 10 "$DMD"
check_eq "memory storage: the held digest is sent at SIGTERM" $((n_before + 1)) "$(count_in "$DMD")"
check "the agent said why" grep -q "stopping: sending the digest of 1 held events now" "$WORK/agent.err"
smtp_stop

finish
