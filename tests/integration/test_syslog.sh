#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The syslog sink against a real rsyslog (tests/peers/rsyslog_peer.sh): RFC 5424
# over TCP (octet-counting), TCP with newline framing and a summary MSG, RFC 3164
# over UDP, RFC 5424 over UDP truncated to 480 bytes, RFC 5424 over TLS verified
# against the peer's CA, CEF over mutual TLS, LEEF over the unix socket. What
# rsyslog parsed (facility, severity, app name, procid, msgid, structured data,
# message) is compared with the records the file sink wrote for the same
# fixtures, field by field, with SD/CEF/LEEF parsers written from the specs.
# Then rsyslog restarts mid-stream: every event hookfwd accepted must arrive over
# TCP and TLS (duplicates allowed and counted). Also test-sink, TLS verification
# failures, and configuration errors.
# Needs rsyslog (+ rsyslog-openssl), jq, python3, ss; exits 77 without them.
. "$(dirname "$0")/lib.sh"

for tool in jq python3 ss openssl; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool not installed"; exit 77; }
done
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null || { echo "skipped: rsyslogd not installed"; exit 77; }
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] || ls /usr/lib/*/rsyslog/lmnsd_ossl.so >/dev/null 2>&1 ||
    { echo "skipped: rsyslog-openssl not installed"; exit 77; }

export TZ=UTC # RFC 3164 stamps are local time: one zone for hookfwd and rsyslog
PEER=$SOURCE_DIR/tests/peers/rsyslog_peer.sh
RS=$WORK/rsyslog
CHECK=$WORK/syslog_check.py
# the peer goes first, whatever happens: lib.sh's cleanup then removes WORK
trap '"$PEER" stop "$RS" >/dev/null 2>&1; cleanup' EXIT

cat >"$CHECK" <<'PY'
#!/usr/bin/env python3
"""Checks for test_syslog.sh: what a private rsyslog parsed (out.jsonl, one
JSON object per message) against the records hookfwd's file sink wrote for
the same events. The parsers here (RFC 5424 SD, CEF, LEEF) are written from
the specs, independently of hookfwd's encoders.

  syslog_check.py sd    OUT RECORDS APP      SD-PARAMs == record fields
  syslog_check.py json  OUT RECORDS APP PFX  MSG == PFX + record JSON
  syslog_check.py cef   OUT RECORDS APP      CEF header + extensions
  syslog_check.py leef  OUT RECORDS APP      LEEF 2.0 header + attributes
  syslog_check.py ids   OUT APP IDSFILE      every id in IDSFILE arrived; prints dups
  syslog_check.py post  PORT COUNT IDSFILE   posts COUNT signed restart.probe events

Prints one line per problem and exits 1 on any."""
import calendar, hashlib, hmac, http.client, json, re, sys, time

SEV5424 = {"info": 6, "warning": 4, "high": 3, "critical": 2}
SEVCEF = {"info": 3, "warning": 5, "high": 8, "critical": 10}
VENDOR = {"omega": ("OmegaEngine", "Policy Engine"), "sentinelayer": ("Sentinelayer", "Omar Gate")}


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def records(path):
    # numbers stay as their JSON text, as hookfwd forwards them
    with open(path, encoding="utf-8") as f:
        return [json.loads(l, parse_float=str, parse_int=str) for l in f if l.strip()]


def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(text(x) for x in v)
    return str(v)


def event_ms(ts):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$", ts)
    sec = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    return sec * 1000 + (int(round(float(m.group(7)) * 1000)) if m.group(7) else 0)


def parse_sd(sd):
    """RFC 5424 §6.3: [ID name="value" ...]...; returns {id: [(name, value)]}."""
    out, i = {}, 0
    while i < len(sd):
        assert sd[i] == "[", "SD-ELEMENT must start with ["
        j = i + 1
        while sd[j] not in " ]":
            j += 1
        sdid, params, i = sd[i + 1:j], [], j
        while sd[i] == " ":
            eq = sd.index("=", i)
            name = sd[i + 1:eq]
            assert sd[eq + 1] == '"', "PARAM-VALUE must be quoted"
            k, val = eq + 2, []
            while sd[k] != '"':
                if sd[k] == "\\" and sd[k + 1] in '"\\]':
                    val.append(sd[k + 1])
                    k += 2
                else:
                    assert sd[k] != "]" and sd[k] != '"', "unescaped ] in a PARAM-VALUE"
                    val.append(sd[k])
                    k += 1
            params.append((name, "".join(val)))
            i = k + 1
        assert sd[i] == "]", "SD-ELEMENT must end with ]"
        out[sdid] = params
        i += 1
    return out


def find(out, app, rec, key="msgid"):
    """The message of app for rec: same MSGID (unless key is "-") and the
    record's idempotency key somewhere in the raw message."""
    want = rec["event_type"][:32]
    hits = [m for m in out if m.get("app-name") == app and (key == "-" or m.get(key) == want)
            and (rec["idempotency_key"] or "") in m.get("rawmsg", "")]
    return hits[0] if hits else None


def check_sd(out, recs, app):
    bad = []
    for r in recs:
        m = find(out, app, r)
        if not m:
            bad.append("%s: no message" % r["event_type"])
            continue
        want = [("source", r["source"]), ("event_type", r["event_type"])]
        want += [(k, r[k]) for k in ("event_id", "severity", "idempotency_key") if r[k] is not None]
        want += [(k, text(v)) for k, v in r["data"].items() if v is not None]
        try:
            got = parse_sd(m["structured-data"]).get("hookfwd@32473")
        except (AssertionError, IndexError, ValueError) as e:
            bad.append("%s: SD does not parse (%s): %s" % (r["event_type"], e, m["structured-data"]))
            continue
        if got != want:
            bad.append("%s: SD params %r, expected %r" % (r["event_type"], got, want))
        if m["severity"] != SEV5424[r["severity"]]:
            bad.append("%s: severity %s" % (r["event_type"], m["severity"]))
        ts = m["timestamp"]
        if not ts.endswith("Z") or event_ms(ts) != event_ms(r["timestamp"]):
            bad.append("%s: timestamp %s, event at %s" % (r["event_type"], ts, r["timestamp"]))
    return bad


def check_json(out, recs_raw, app, prefix, key):
    bad = []
    for line in recs_raw:
        r = json.loads(line)
        m = find(out, app, r, key)
        if not m:
            bad.append("%s: no message" % r["event_type"])
        elif m["msg"] != prefix + line:
            bad.append("%s: msg %r, expected %r" % (r["event_type"], m["msg"], prefix + line))
        elif m["severity"] != SEV5424[r["severity"]]:
            bad.append("%s: severity %s" % (r["event_type"], m["severity"]))
    return bad


def unescape_cef(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), s)


def parse_cef(line):
    assert line.startswith("CEF:0|")
    fields, cur, i = [], [], 6
    while len(fields) < 6:
        c = line[i]
        if c == "\\":
            cur.append(line[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    ext, keys = line[i:], list(re.finditer(r"(?:^|(?<= ))([A-Za-z0-9]+)=", line[i:]))
    kv = {}
    for n, k in enumerate(keys):
        end = keys[n + 1].start() - 1 if n + 1 < len(keys) else len(ext)
        kv[k.group(1)] = unescape_cef(ext[k.end():end])
    return fields, kv


def check_cef(out, recs, app):
    bad = []
    for r in recs:
        m = find(out, app, r)
        if not m:
            bad.append("%s: no message" % r["event_type"])
            continue
        f, kv = parse_cef(m["msg"])
        vendor, product = VENDOR.get(r["source"], (r["source"], r["source"]))
        exp = {"vendor": vendor, "product": product, "sigid": r["event_type"], "sev": str(SEVCEF[r["severity"]])}
        got = {"vendor": f[0], "product": f[1], "sigid": f[3], "sev": f[5]}
        if got != exp:
            bad.append("%s: CEF header %r, expected %r" % (r["event_type"], got, exp))
        d = r["data"]
        act = d.get("decision.outcome") or d.get("gate_status")
        want = {"rt": str(event_ms(r["timestamp"])), "cat": r["event_type"], "cs6": r["idempotency_key"]}
        if r["event_id"]:
            want["externalId"] = r["event_id"]
        if act:
            want["act"] = act
        for k, v in want.items():
            if kv.get(k) != v:
                bad.append("%s: CEF %s=%r, expected %r" % (r["event_type"], k, kv.get(k), v))
        for n in range(1, 6):
            if ("cs%d" % n in kv) != ("cs%dLabel" % n in kv):
                bad.append("%s: cs%d without its label" % (r["event_type"], n))
    return bad


def check_leef(out, recs, app):
    bad = []
    for r in recs:
        m = find(out, app, r)
        if not m:
            bad.append("%s: no message" % r["event_type"])
            continue
        parts = m["msg"].split("|", 6)
        vendor, product = VENDOR.get(r["source"], (r["source"], r["source"]))
        if parts[0] != "LEEF:2.0" or parts[1:3] != [vendor, product] or parts[4] != r["event_type"] \
                or parts[5] != "^":
            bad.append("%s: LEEF header %r" % (r["event_type"], parts[:6]))
            continue
        attrs = dict(a.split("=", 1) for a in parts[6].split("^"))
        want = {"sev": str(SEVCEF[r["severity"]]), "cat": r["event_type"], "source": r["source"]}
        if r["event_id"]:
            want["eventId"] = r["event_id"]
        for k, v in r["data"].items():
            if v is not None:
                want[k] = text(v).replace("^", " ").replace("\n", " ").replace("\r", " ")
        for k, v in want.items():
            if attrs.get(k) != v:
                bad.append("%s: LEEF %s=%r, expected %r" % (r["event_type"], k, attrs.get(k), v))
    return bad


def check_ids(out, app, idsfile):
    with open(idsfile) as f:
        ids = [l.strip() for l in f if l.strip()]
    seen = {}
    for m in out:
        if m.get("app-name") == app and m.get("msgid") == "restart.probe":
            k = re.search(r'event_id="([^"]+)"', m["structured-data"]).group(1)
            seen[k] = seen.get(k, 0) + 1
    missing = [i for i in ids if i not in seen]
    print("accepted=%d arrived=%d missing=%d duplicates=%d" % (
        len(ids), len(set(seen) & set(ids)), len(missing), sum(v - 1 for v in seen.values())))
    return ["missing: %s" % " ".join(missing[:20])] if missing else []


def post(port, count, idsfile, secret=b"whsec_your_signing_secret"):
    """Signed omega events, one after the other as fast as the agent answers;
    ids that got a 2xx go to idsfile."""
    conn = None
    with open(idsfile, "w") as f:
        for n in range(count):
            body = json.dumps({"event": "restart.probe", "timestamp": "2026-01-14T12:00:00Z",
                               "decision": {"id": "probe_%05d" % n, "outcome": "ALLOW"}},
                              separators=(",", ":")).encode()
            sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            for _ in range(50):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("POST", "/webhooks/omega", body, {"X-Omega-Signature": sig})
                    resp = conn.getresponse()
                    resp.read()
                    if 200 <= resp.status < 300:
                        f.write("probe_%05d\n" % n)
                        f.flush()
                        break
                except OSError:
                    conn = None
                time.sleep(0.05)  # a vendor's retry pause, not a wait for a condition
    return []


def main():
    cmd = sys.argv[1]
    if cmd == "post":
        bad = post(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "ids":
        bad = check_ids(lines(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        out, app = lines(sys.argv[2]), sys.argv[4]
        if cmd == "json":
            with open(sys.argv[3], encoding="utf-8") as f:
                raw = [l.rstrip("\n") for l in f if l.strip()]
            bad = check_json(out, raw, app, sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else "msgid")
        else:
            bad = {"sd": check_sd, "cef": check_cef, "leef": check_leef}[cmd](out, records(sys.argv[3]), app)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
PY

if ! "$PEER" start "$RS" >"$WORK/peer.log" 2>&1; then
    cat "$WORK/peer.log"
    not_ok "rsyslog peer starts"
    finish
fi
. "$RS/ports.env"
VERSION=$("$HOOKFWD_BIN" version | awk 'NR == 1 {print $2}')
RECORDS=$WORK/records.jsonl

common="    hostname: hookfwd-test
    batch: {flush_interval: 20ms}"
fixtures_only="    filter: {events: [\"!restart.probe\"]}"
probes_only="    filter: {events: [\"restart.probe\"]}"
write_config "$WORK/hookfwd.yaml" "  - name: archive
    type: file
    path: $RECORDS
    takes: records
$fixtures_only
    batch: {flush_interval: 20ms}
  - name: s_tcp
    type: syslog
    address: tcp://$ADDR:$TCP_PORT
    app_name: hf-tcp
$common
$fixtures_only
  - name: s_ptcp
    type: syslog
    address: tcp://$ADDR:$PTCP_PORT
    framing: newline
    message: summary
    facility: auth
    app_name: hf-ptcp
$common
$fixtures_only
  - name: s_udp
    type: syslog
    address: udp://$ADDR:$UDP_PORT
    format: rfc3164
    facility: local7
    app_name: hf-udp
$common
$fixtures_only
  - name: s_cut
    type: syslog
    address: udp://$ADDR:$UDP_PORT
    max_message_size: 480
    app_name: hf-cut
$common
$fixtures_only
  - name: s_tls
    type: syslog
    address: tls://localhost:$TLS_PORT
    app_name: hf-tls
    facility: 13
    tls: {ca_file: $CA_FILE}
$common
$fixtures_only
  - name: s_mtls
    type: syslog
    address: tls://$ADDR:$MTLS_PORT
    format: cef
    app_name: hf-mtls
    tls: {ca_file: $CA_FILE, cert: $CLIENT_CERT, key: $CLIENT_KEY}
$common
$fixtures_only
  - name: s_unix
    type: syslog
    address: unix://$UNIX_SOCK
    format: leef
    app_name: hf-unix
$common
$fixtures_only
  - name: r_tcp
    type: syslog
    address: tcp://$ADDR:$TCP_PORT
    app_name: hf-rtcp
$common
$probes_only
  - name: r_tls
    type: syslog
    address: tls://localhost:$TLS_PORT
    app_name: hf-rtls
    tls: {ca_file: $CA_FILE}
$common
$probes_only"

check "check accepts the syslog sinks" "$HOOKFWD_BIN" check -c "$WORK/hookfwd.yaml"
start_agent "$WORK/hookfwd.yaml" || { not_ok "agent starts"; finish; }

# ---- fixtures through every transport ----------------------------------
accepted=0
while IFS='|' read -r file src hdr val key expect; do
    [ "$file" = file ] && continue
    case "$(post_fixture "$file")" in 202*) accepted=$((accepted + 1)) ;; esac
done < <(tr '\t' '|' <"$FIXTURES/signatures.tsv")
check_eq "fixtures accepted" 10 "$accepted"

count_app() { jq -r --arg a "$1" 'select(.["app-name"] == $a) | .pri' "$OUT_FILE" 2>/dev/null | wc -l; }
app_has() { [ "$(count_app "$1")" -ge "$2" ]; } # app_has APP N: N messages of APP arrived
lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
check "the file sink wrote the 10 records" wait_for 20 lines_at_least "$RECORDS" 10
for app in hf-tcp hf-ptcp hf-udp hf-cut hf-tls hf-mtls hf-unix; do
    check "$app: 10 messages reach rsyslog" wait_for 20 app_has $app 10
    check_eq "$app: exactly 10 messages" 10 "$(count_app $app)"
done

# pick FIELD of APP's message for MSGID
field() { jq -r --arg a "$1" --arg m "$2" "select(.[\"app-name\"] == \$a and .msgid == \$m) | $3" "$OUT_FILE" | head -n1; }

# RFC 5424 over TCP, octet-counted: header fields, SD and MSG
check_eq "tcp: input" tcp "$(field hf-tcp decision.escalated .input)"
check_eq "tcp: PRI local0.err for a high event" "131 16 3" \
    "$(field hf-tcp decision.escalated '"\(.pri) \(.facility) \(.severity)"')"
check_eq "tcp: hostname, procid = agent pid" "hookfwd-test $AGENT_PID" \
    "$(field hf-tcp decision.escalated '"\(.hostname) \(.procid)"')"
check_eq "tcp: timestamp is the event time in UTC with ms" 2026-01-14T12:00:00.000Z \
    "$(field hf-tcp decision.escalated .timestamp)"
check_eq "tcp: structured data of decision.escalated" \
    '[hookfwd@32473 source="omega" event_type="decision.escalated" event_id="dec_abc123" severity="high" idempotency_key="dec_abc123:decision.escalated" decision.id="dec_abc123" decision.outcome="ESCALATE" decision.risk_score="0.85" decision.scenario="Transfer $100k to new vendor" decision.policy_matches="high_value_transfer,new_vendor" decision.audit_id="aud_xyz789"]' \
    "$(field hf-tcp decision.escalated '.["structured-data"]')"
check_eq "tcp: quotes and ] escaped in a PARAM-VALUE" \
    'decision.scenario="Delete production database \"orders\" [cleanup\]"' \
    "$(field hf-tcp decision.blocked '.["structured-data"]' | grep -o 'decision.scenario="[^]]*\]"')"
check_eq "tcp: null fields left out of the SD" \
    '[hookfwd@32473 source="sentinelayer" event_type="scan.failed" event_id="run-20260223-002" severity="warning" idempotency_key="run-20260223-002" run_id="run-20260223-002" repo="acme/backend" branch="main" commit_sha="b2c3d4e5f6a7" gate_status="error" error_code="2" error_message="Missing required input: sentinelayer_token" total_findings="0" estimated_cost_usd="0.00"]' \
    "$(field hf-tcp scan.failed '.["structured-data"]')"
check_eq "tcp: severity per record severity (6 4 3 2)" "6 4 3 2" \
    "$(for m in decision.allowed quota.warning calibration.drift fuzz.finding; do field hf-tcp $m .severity; done | xargs)"
check "tcp: SD params equal every record's fields" python3 "$CHECK" sd "$OUT_FILE" "$RECORDS" hf-tcp
check "tcp: MSG is the record JSON, byte for byte" python3 "$CHECK" json "$OUT_FILE" "$RECORDS" hf-tcp ""

# newline framing, summary MSG, facility auth
check_eq "ptcp: input, auth.warning" "ptcp 4 4" "$(field hf-ptcp decision.blocked '"\(.input) \(.facility) \(.severity)"')"
check_eq "ptcp: summary MSG" "omega decision.blocked dec_b7720f severity=warning outcome=BLOCK" \
    "$(field hf-ptcp decision.blocked .msg)"
check_eq "ptcp: summary without an event id" "omega quota.warning - severity=warning" \
    "$(field hf-ptcp quota.warning .msg)"
check "ptcp: SD params equal every record's fields" python3 "$CHECK" sd "$OUT_FILE" "$RECORDS" hf-ptcp

# RFC 3164 over UDP (rsyslog keeps the space after "TAG[pid]:" in msg)
u3164() { jq -r 'select(.["app-name"] == "hf-udp" and (.rawmsg | contains("dec_b7720f:decision.blocked"))) | '"$1" "$OUT_FILE" | head -n1; }
check_eq "udp 3164: input, local7.warning, TAG[pid]" "udp 23 4 hf-udp $AGENT_PID hookfwd-test" \
    "$(u3164 '"\(.input) \(.facility) \(.severity) \(.["app-name"]) \(.procid) \(.hostname)"')"
check_eq "udp 3164: header as sent" "<188>Jan 14 12:01:07 hookfwd-test hf-udp[$AGENT_PID]: {" \
    "$(u3164 .rawmsg | cut -c1-$((45 + ${#AGENT_PID})))"
check_eq "udp 3164: local7.info is <190>, month and day" "<190>Feb 23 08:15:30" \
    "$(jq -r 'select(.["app-name"] == "hf-udp" and (.rawmsg | contains("run-20260223-001"))) | .rawmsg' "$OUT_FILE" | cut -c1-20)"
check "udp 3164: MSG is the record JSON" python3 "$CHECK" json "$OUT_FILE" "$RECORDS" hf-udp " " -
check "udp 3164: no packet over 1024 bytes" test "$(jq -r 'select(.["app-name"] == "hf-udp") | .rawmsg | utf8bytelength' "$OUT_FILE" | sort -n | tail -n1)" -le 1024

# RFC 5424 over UDP cut to 480 bytes
check "udp cut: every datagram within 480 bytes" test "$(jq -r 'select(.["app-name"] == "hf-cut") | .rawmsg | utf8bytelength' "$OUT_FILE" | sort -n | tail -n1)" -le 480
check_eq "udp cut: each MSG is a prefix of its record" 10 "$(python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[2])]
out = [json.loads(l) for l in open(sys.argv[1]) if "\"hf-cut\"" in l]
n = 0
for r in recs:
    line = json.dumps(r, separators=(",", ":"), ensure_ascii=False)
    raw = [l.rstrip("\n") for l in open(sys.argv[2]) if r["idempotency_key"] in l][0]
    m = [m for m in out if ("idempotency_key=\"%s\"" % r["idempotency_key"]) in m["structured-data"]]
    if m and raw.startswith(m[0]["msg"]) and len(m[0]["msg"]) < len(raw):
        n += 1
print(n)' "$OUT_FILE" "$RECORDS")"
check_eq "udp cut: long SD keeps its metadata, drops the data fields" \
    '[hookfwd@32473 source="sentinelayer" event_type="scan.completed" event_id="run-20260223-001" severity="info" idempotency_key="run-20260223-001"]' \
    "$(field hf-cut scan.completed '.["structured-data"]')"
check_eq "udp cut: truncations counted" 10 "$(metric 'hookfwd_sink_truncated_total{sink="s_cut"}')"
check_eq "udp 3164: nothing truncated" 0 "$(metric 'hookfwd_sink_truncated_total{sink="s_udp"}')"
check_eq "tcp: nothing truncated" 0 "$(metric 'hookfwd_sink_truncated_total{sink="s_tcp"}')"

# RFC 5424 over TLS (CA-verified, name localhost), facility 13 (log audit)
check_eq "tls: input, facility 13, crit for fuzz.finding" "tls 13 2" \
    "$(field hf-tls fuzz.finding '"\(.input) \(.facility) \(.severity)"')"
check "tls: SD params equal every record's fields" python3 "$CHECK" sd "$OUT_FILE" "$RECORDS" hf-tls
check "tls: MSG is the record JSON" python3 "$CHECK" json "$OUT_FILE" "$RECORDS" hf-tls ""

# CEF over mutual TLS
check_eq "cef: the blocked decision, escaped" \
    "CEF:0|OmegaEngine|Policy Engine|$VERSION|decision.blocked|Decision blocked|5|rt=1768392067000 cat=decision.blocked act=BLOCK externalId=dec_b7720f msg=omega decision.blocked dec_b7720f severity\\=warning outcome\\=BLOCK cs1Label=scenario cs1=Delete production database \"orders\" [cleanup] cs2Label=policyMatches cs2=destructive_action cs3Label=auditId cs3=aud_b7720f cfp1Label=riskScore cfp1=0.97 cs6Label=idempotencyKey cs6=dec_b7720f:decision.blocked dvchost=hookfwd-test" \
    "$(field hf-mtls decision.blocked .msg)"
check_eq "cef: input mtls, local0.warning" "mtls 132" "$(field hf-mtls decision.blocked '"\(.input) \(.pri)"')"
check "cef: header and extensions of every record" python3 "$CHECK" cef "$OUT_FILE" "$RECORDS" hf-mtls

# LEEF 2.0 over the unix socket
check_eq "leef: the failed scan" \
    "LEEF:2.0|Sentinelayer|Omar Gate|$VERSION|scan.failed|^|devTime=2026-02-23T09:01:12.000Z^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^sev=5^cat=scan.failed^source=sentinelayer^eventId=run-20260223-002^idempotencyKey=run-20260223-002^run_id=run-20260223-002^repo=acme/backend^branch=main^commit_sha=b2c3d4e5f6a7^gate_status=error^error_code=2^error_message=Missing required input: sentinelayer_token^total_findings=0^estimated_cost_usd=0.00" \
    "$(field hf-unix scan.failed .msg)"
check_eq "leef: via imuxsock" imuxsock "$(field hf-unix scan.failed .input)"
check "leef: header and attributes of every record" python3 "$CHECK" leef "$OUT_FILE" "$RECORDS" hf-unix

# ---- rsyslog restarts mid-stream ----------------------------------------
PROBES=3000
python3 "$CHECK" post "$PORT" "$PROBES" "$WORK/probes.ids" &
POSTER=$!
PIDS_TO_KILL+=("$POSTER")
check "probes flowing before the restart" wait_for 30 app_has hf-rtcp 100
check "rsyslog restarts" "$PEER" restart "$RS"
. "$RS/ports.env"
wait "$POSTER"
check_eq "every probe accepted" "$PROBES" "$(wc -l <"$WORK/probes.ids")"
for app in hf-rtcp hf-rtls; do
    check "$app: every accepted probe arrives after the restart" \
        wait_for 60 python3 "$CHECK" ids "$OUT_FILE" "$app" "$WORK/probes.ids"
    echo "# $app: $(python3 "$CHECK" ids "$OUT_FILE" "$app" "$WORK/probes.ids")"
done
check_eq "no probe went to dead letters" 0 "$(metric 'hookfwd_sink_events_total{sink="r_tcp",outcome="dead"}')"

# ---- test-sink ------------------------------------------------------------
check "test-sink delivers over tcp" "$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" s_tcp
has_test_msg() { [ -n "$(field hf-tcp hookfwd.test .msgid)" ]; }
check "test-sink's message arrives" wait_for 10 has_test_msg
check "test-sink delivers over mutual TLS" "$HOOKFWD_BIN" test-sink -c "$WORK/hookfwd.yaml" s_mtls

check "agent stops cleanly" stop_agent

# ---- TLS verification ----------------------------------------------------
tls_sink() { # tls_sink FILE ADDRESS TLS-OPTIONS
    write_config "$1" "  - name: t
    type: syslog
    address: $2
    timeout: 3s
    tls: $3"
}
tls_sink "$WORK/noca.yaml" "tls://localhost:$TLS_PORT" "{verify: true}"
"$HOOKFWD_BIN" test-sink -c "$WORK/noca.yaml" t >"$WORK/noca.out" 2>&1
check_eq "tls: an unknown CA is refused by default" 1 $?
check "tls: ... and says why" grep -q "does not verify" "$WORK/noca.out"
tls_sink "$WORK/name.yaml" "tls://127.0.0.1:$TLS_PORT" "{ca_file: $CA_FILE, server_name: wrong.example.com}"
"$HOOKFWD_BIN" test-sink -c "$WORK/name.yaml" t >"$WORK/name.out" 2>&1
check_eq "tls: a name not in the certificate is refused" 1 $?
check "tls: ... hostname mismatch" grep -q "hostname mismatch" "$WORK/name.out"
tls_sink "$WORK/ip.yaml" "tls://127.0.0.1:$TLS_PORT" "{ca_file: $CA_FILE}"
check "tls: the IP SAN verifies" "$HOOKFWD_BIN" test-sink -c "$WORK/ip.yaml" t
tls_sink "$WORK/nocert.yaml" "tls://localhost:$MTLS_PORT" "{ca_file: $CA_FILE}"
"$HOOKFWD_BIN" test-sink -c "$WORK/nocert.yaml" t >"$WORK/nocert.out" 2>&1
check_eq "mtls: no client certificate, not delivered" 1 $?
tls_sink "$WORK/noverify.yaml" "tls://localhost:$TLS_PORT" "{verify: false}"
"$HOOKFWD_BIN" test-sink -c "$WORK/noverify.yaml" t >"$WORK/noverify.out" 2>&1
check_eq "tls: verify false delivers" 0 $?
check "tls: verify false warns loudly" grep -q "certificate and name are NOT checked" "$WORK/noverify.out"

# ---- configuration errors ------------------------------------------------
bad_config() { # bad_config "description" "grep pattern" sink-options...
    local d=$1 pat=$2
    shift 2
    write_config "$WORK/bad.yaml" "  - name: bad
    type: syslog
$(printf '    %s\n' "$@")"
    # semantic checks run when the sink is built (run, test-sink), not in `check`
    timeout 20 "$HOOKFWD_BIN" run -c "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1
    check_eq "config: $d stops the start" 1 $?
    check "config: $d is explained with its position" grep -qE "bad.yaml:[0-9]+:[0-9]+: .*$pat" "$WORK/bad.out"
}
bad_config "an unknown facility" facility "address: tcp://127.0.0.1:514" "facility: local9"
"$HOOKFWD_BIN" check -c "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1
check_eq "config: check refuses an unknown facility too" 1 $?
bad_config "tls options on tcp://" "tls://" "address: tcp://127.0.0.1:514" "tls: {verify: false}"
bad_config "an unknown scheme" "udp://, tcp://" "address: http://127.0.0.1:514"
bad_config "a port out of range" "port" "address: tcp://127.0.0.1:70000"
bad_config "framing on udp://" framing "address: udp://127.0.0.1:514" "framing: newline"
bad_config "an app_name with a space" app_name "address: udp://127.0.0.1:514" "app_name: 'my app'"
bad_config "a client cert without its key" "go together" "address: tls://127.0.0.1:6514" "tls: {cert: $CLIENT_CERT}"
bad_config "a missing CA file" "CA certificates" "address: tls://127.0.0.1:6514" "tls: {ca_file: $WORK/nope.pem}"

finish
