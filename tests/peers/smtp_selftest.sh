#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# smtp_selftest.sh - checks the e-mail test peer: the private Exim of
# tests/integration/lib_smtp.sh (plain, STARTTLS required, AUTH PLAIN/LOGIN,
# refused and deferred recipients, switch files) with curl as the client, and
# tests/peers/mail_check.py reading the delivered messages back (a good
# multipart/alternative message passes every rule; bad ones are caught).
# Usage: smtp_selftest.sh            (KEEP=1 keeps the temporary directory)
# Needs: exim4 (exim4-daemon-light), curl, openssl, jq, python3.
# Prints one line per check and finally "N passed, M failed"; exits 0 only if M is 0.

# jq programs are single-quoted on purpose; cleanup runs from the EXIT trap;
# start() sets NAME_PORT, NAME_PID, ... with printf -v.
# shellcheck disable=SC2016,SC2317,SC2154
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib_smtp.sh
. "$HERE/../integration/lib_smtp.sh"
MAILCHECK="$HERE/mail_check.py"

pass=0
fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

for tool in curl openssl jq python3; do
    command -v "$tool" >/dev/null 2>&1 || { bad "required tool $tool missing"; finish; }
done
[ -n "$SMTP_EXIM" ] || { bad "exim4 missing (apt-get install exim4-daemon-light)"; finish; }
if ! smtp_can_run; then
    echo "SKIP: Exim starts a daemon only for root or members of its group"
    exit 77
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/smtp-selftest.XXXXXX")
STARTED=()
cleanup() {
    local p
    for p in "${STARTED[@]}"; do smtp_stop "$p"; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# start NAME OPTIONS...: smtp_start into $DIR/NAME; saves the SMTP_* values
# as NAME_PORT, NAME_PID, NAME_MAILDIR, NAME_LOG, NAME_CA.
start() {
    local name=$1
    shift
    if smtp_start "$DIR/$name" "$@" 2>"$DIR/$name.start.err"; then
        STARTED+=("$SMTP_PID")
        printf -v "${name}_PORT" '%s' "$SMTP_PORT"
        printf -v "${name}_PID" '%s' "$SMTP_PID"
        printf -v "${name}_MAILDIR" '%s' "$SMTP_MAILDIR"
        printf -v "${name}_LOG" '%s' "$SMTP_LOG"
        printf -v "${name}_CA" '%s' "$SMTP_CA"
        ok "$name server started on port $SMTP_PORT (pid $SMTP_PID)"
    else
        bad "$name server did not start: $(cat "$DIR/$name.start.err")"
        finish
    fi
}

# send PORT FILE RCPT [curl options...]: curl's exit status; its stderr in $DIR/curl.err
send() {
    local port=$1 file=$2 rcpt=$3
    shift 3
    curl -sS --max-time 20 --url "smtp://127.0.0.1:$port/selftest.hookfwd.test" \
        --mail-from alerts@hookfwd.test --mail-rcpt "$rcpt" --upload-file "$file" "$@" \
        2>"$DIR/curl.err"
}

# expect_send NAME WANT_RC PORT FILE RCPT [curl options...]
expect_send() {
    local name=$1 want=$2 rc
    shift 2
    send "$@"
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok "$name (curl exit $rc)"
    else
        bad "$name: curl exit $rc, want $want: $(cat "$DIR/curl.err")"
    fi
}

# reply_has CODE NAME: the last curl error names the SMTP reply CODE.
reply_has() {
    if grep -q "$1" "$DIR/curl.err"; then ok "$2"; else bad "$2: $(cat "$DIR/curl.err")"; fi
}

# check_mail NAME MAILDIR JQ-EXPR [jq options]: the last message mail_check.py
# prints for MAILDIR satisfies JQ-EXPR.
check_mail() {
    local name=$1 md=$2 expr=$3 rec
    shift 3
    rec=$(python3 "$MAILCHECK" "$md" | tail -n 1)
    if [ -n "$rec" ] && printf '%s\n' "$rec" | jq -e "$@" "$expr" >/dev/null 2>&1; then
        ok "$name"
    else
        bad "$name: $(printf '%s' "$rec" | head -c 3000) does not satisfy: $expr"
    fi
}

# A well-formed alert the way the e-mail sink must write one, CRLF line ends,
# UTF-8 subject as an RFC 2047 encoded-word, multipart/alternative in QP.
SUBJECT='Blocked scan ✔ acme/api — 2 critical'
SUBJECT_EW="=?UTF-8?B?$(printf '%s' "$SUBJECT" | base64 -w0)?="
good_message() { # good_message FILE MESSAGE-ID
    {
        printf 'From: "Hookfwd Alerts" <alerts@hookfwd.test>\r\n'
        printf 'To: Security Team <sec@example.com>, ops@example.com\r\n'
        printf 'Subject: %s\r\n' "$SUBJECT_EW"
        printf 'Date: %s\r\n' "$(LC_ALL=C date -R)"
        printf 'Message-ID: <%s>\r\n' "$2"
        printf 'MIME-Version: 1.0\r\n'
        printf 'Content-Type: multipart/alternative; boundary="=_hookfwd_b1"\r\n'
        printf '\r\n'
        printf -- '--=_hookfwd_b1\r\n'
        printf 'Content-Type: text/plain; charset=utf-8\r\n'
        printf 'Content-Transfer-Encoding: quoted-printable\r\n\r\n'
        printf 'scan.blocked: 2 =E2=9C=94\r\n.leading dot stays\r\n'
        printf -- '--=_hookfwd_b1\r\n'
        printf 'Content-Type: text/html; charset=utf-8\r\n'
        printf 'Content-Transfer-Encoding: quoted-printable\r\n\r\n'
        printf '<html><body><p>scan.blocked: <b>2</b> =E2=9C=94</p></body></html>\r\n'
        printf -- '--=_hookfwd_b1--\r\n'
    } >"$1"
}

# ---------------------------------------------------------------------------------------------
# Three servers at once: each has its own directory, spool and port.
start plain --reject-rcpt bad@example.com --defer-rcpt later@example.com
start tls --require-tls
AUTH_PASS='p@ss w{o}rd$1'
start auth --require-tls --auth hookfwd "$AUTH_PASS"
if [ "$plain_PORT" != "$tls_PORT" ] && [ "$tls_PORT" != "$auth_PORT" ] &&
        kill -0 "$plain_PID" "$tls_PID" "$auth_PID" 2>/dev/null; then
    ok "three private servers run side by side"
else
    bad "servers share a port or died: $plain_PORT/$tls_PORT/$auth_PORT"
fi

# 1. plain delivery of a good message, read back header by header
good_message "$DIR/good.eml" "20261206.1@hookfwd.test"
expect_send "plain: message accepted" 0 "$plain_PORT" "$DIR/good.eml" sec@example.com
if smtp_wait_count 1 10 "$plain_MAILDIR"; then ok "plain: delivered into the maildir"; else
    bad "plain: nothing in $plain_MAILDIR/new within 10 s"; fi
check_mail "mail_check: headers decoded (From, To, Subject RFC 2047, Date, Message-ID, MIME)" \
    "$plain_MAILDIR" \
    '.from == [{"name": "Hookfwd Alerts", "addr": "alerts@hookfwd.test"}]
     and .to == [{"name": "Security Team", "addr": "sec@example.com"},
                 {"name": "", "addr": "ops@example.com"}]
     and .subject == $s and .subject_raw == $ew
     and (.date_iso | test("^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T.*[+]00:00$"))
     and .message_id == "<20261206.1@hookfwd.test>" and .mime_version == "1.0"
     and .envelope_from == "alerts@hookfwd.test" and .envelope_to == ["sec@example.com"]' \
    --arg s "$SUBJECT" --arg ew "$SUBJECT_EW"
check_mail "mail_check: multipart/alternative text + html, QP decoded, dot-stuffing undone" \
    "$plain_MAILDIR" \
    '.content_type == "multipart/alternative"
     and ([.parts[].content_type] == ["text/plain", "text/html"])
     and ([.parts[].transfer_encoding] == ["quoted-printable", "quoted-printable"])
     and .text == "scan.blocked: 2 ✔\n.leading dot stays"
     and .html_text == "scan.blocked: 2 ✔" and .errors == [] and .defects == []'
if python3 "$MAILCHECK" --strict --require-alternative "$plain_MAILDIR" >/dev/null 2>"$DIR/mc.err"; then
    ok "mail_check --strict --require-alternative passes the good message"
else
    bad "mail_check --strict flags the good message: $(cat "$DIR/mc.err")"
fi

# 2. messages that break the rules: the server takes them, mail_check names each fault
{
    printf 'From: alerts@hookfwd.test\r\nTo: sec@example.com\r\n'
    printf 'Subject: Blocked scan \342\234\224 raw UTF-8\r\nSubject: twice\r\n'
    printf 'Content-Type: text/plain\r\n\r\nplain body\r\n'
} >"$DIR/bad1.eml"
expect_send "plain: message with bad headers still accepted by the server" 0 \
    "$plain_PORT" "$DIR/bad1.eml" sec@example.com
smtp_wait_count 2 10 "$plain_MAILDIR"
check_mail "mail_check: missing Date/Message-ID/MIME-Version, raw 8-bit header, 2 Subjects" \
    "$plain_MAILDIR" \
    '.errors as $e | ["no Date header", "no Message-ID header", "no MIME-Version header",
      "non-ASCII bytes in the header (RFC 2047 encoded-words needed)",
      "2 subject headers (at most one allowed)"] | all(. as $x | $e | index($x))'
{
    printf 'From: alerts@hookfwd.test\r\nTo: sec@example.com\r\nSubject: dates\r\n'
    printf 'Date: Mon, 06 Dec 2026 07:11:09 +0000\r\n'   # 6 Dec 2026 is a Sunday
    printf 'Message-ID: 20261206.2@hookfwd.test\r\nMIME-Version: 1.0\r\n'
    printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
    printf 'caf\303\251\r\n'
} >"$DIR/bad2.eml"
expect_send "plain: message with a wrong weekday and 8-bit body accepted" 0 \
    "$plain_PORT" "$DIR/bad2.eml" sec@example.com
smtp_wait_count 3 10 "$plain_MAILDIR"
check_mail "mail_check: wrong weekday, Message-ID without <>, 8-bit body declared 7bit" \
    "$plain_MAILDIR" \
    '(.errors | map(test("day of the week|is not <left@right>|8-bit data declared 7bit"))
      | map(select(.)) | length) == 3'
if python3 "$MAILCHECK" --strict "$plain_MAILDIR" >/dev/null 2>"$DIR/mc.err"; then
    bad "mail_check --strict passed broken messages"
else
    ok "mail_check --strict exits non-zero on broken messages ($(wc -l <"$DIR/mc.err") faults)"
fi
if python3 "$MAILCHECK" --wait 4 --timeout 0.3 "$plain_MAILDIR" >/dev/null 2>&1; then
    bad "mail_check --wait 4 returned with 3 messages"
else
    ok "mail_check --wait gives up after its timeout (3 of 4 messages)"
fi

# 3. what the server itself refuses
printf 'From: hookfwd\r\nTo: sec@example.com\r\nSubject: x\r\n\r\nbody\r\n' >"$DIR/unqualified.eml"
expect_send "plain: unqualified From: refused after DATA (header syntax)" 8 \
    "$plain_PORT" "$DIR/unqualified.eml" sec@example.com
expect_send "plain: --reject-rcpt address refused" 55 "$plain_PORT" "$DIR/good.eml" bad@example.com
reply_has 550 "plain: the refusal is a 550"
expect_send "plain: --defer-rcpt address deferred" 55 "$plain_PORT" "$DIR/good.eml" later@example.com
reply_has 451 "plain: the deferral is a 451"
touch "$DIR/plain/defer"
expect_send "plain: defer switch on: every recipient deferred" 55 "$plain_PORT" "$DIR/good.eml" sec@example.com
rm -f "$DIR/plain/defer"
touch "$DIR/plain/reject-data"
expect_send "plain: reject-data switch on: 554 after DATA" 8 "$plain_PORT" "$DIR/good.eml" sec@example.com
rm -f "$DIR/plain/reject-data"
expect_send "plain: switches off: accepted again" 0 "$plain_PORT" "$DIR/good.eml" sec@example.com
if smtp_wait_count 4 10 "$plain_MAILDIR" && [ "$(smtp_count "$plain_MAILDIR")" -eq 4 ]; then
    ok "plain: exactly the 4 accepted messages were delivered"
else
    bad "plain: $(smtp_count "$plain_MAILDIR") messages delivered, want 4"
fi
expect_send "plain: --ssl-reqd against a server without STARTTLS fails (USE_SSL_FAILED)" 64 \
    "$plain_PORT" "$DIR/good.eml" sec@example.com --ssl-reqd

# 4. STARTTLS required
expect_send "tls: plain session refused at MAIL FROM" 55 "$tls_PORT" "$DIR/good.eml" sec@example.com
reply_has 530 "tls: the refusal is a 530"
expect_send "tls: the self-signed certificate is not trusted without its CA" 60 \
    "$tls_PORT" "$DIR/good.eml" sec@example.com --ssl-reqd
good_message "$DIR/tls.eml" "20261206.3@hookfwd.test"
expect_send "tls: STARTTLS with the certificate as CA accepted" 0 \
    "$tls_PORT" "$DIR/tls.eml" sec@example.com --ssl-reqd --cacert "$tls_CA"
smtp_wait_count 1 10 "$tls_MAILDIR"
check_mail "tls: delivered message read back" "$tls_MAILDIR" \
    '.message_id == "<20261206.3@hookfwd.test>" and .errors == []'
if grep -q "<= alerts@hookfwd.test .*P=esmtps X=TLS" "$tls_LOG"; then
    ok "tls: Exim's log shows the message came over TLS"
else
    bad "tls: no esmtps reception in $tls_LOG"
fi

# 5. AUTH (offered only after STARTTLS)
ehlo=$( { exec 3<>"/dev/tcp/127.0.0.1/$auth_PORT"
          timeout 5 head -n 1 <&3 >/dev/null
          printf 'EHLO selftest\r\n' >&3
          timeout 5 sed -u '/^250 /q' <&3
          printf 'QUIT\r\n' >&3; exec 3<&- 3>&-; } 2>/dev/null)
if grep -q "STARTTLS" <<<"$ehlo" && ! grep -q "AUTH" <<<"$ehlo"; then
    ok "auth: before STARTTLS the EHLO answer offers STARTTLS and no AUTH"
else
    bad "auth: EHLO before TLS: $ehlo"
fi
expect_send "auth: no credentials refused" 55 "$auth_PORT" "$DIR/good.eml" sec@example.com \
    --ssl-reqd --cacert "$auth_CA"
expect_send "auth: wrong password refused (login denied)" 67 "$auth_PORT" "$DIR/good.eml" \
    sec@example.com --ssl-reqd --cacert "$auth_CA" -u "hookfwd:wrong"
expect_send "auth: AUTH PLAIN with the right password accepted" 0 "$auth_PORT" "$DIR/good.eml" \
    sec@example.com --ssl-reqd --cacert "$auth_CA" -u "hookfwd:$AUTH_PASS" --login-options AUTH=PLAIN
expect_send "auth: AUTH LOGIN with the right password accepted" 0 "$auth_PORT" "$DIR/good.eml" \
    sec@example.com --ssl-reqd --cacert "$auth_CA" -u "hookfwd:$AUTH_PASS" --login-options AUTH=LOGIN
if smtp_wait_count 2 10 "$auth_MAILDIR" && [ "$(grep -c 'A=plain:hookfwd' "$auth_LOG")" -eq 1 ] &&
        [ "$(grep -c 'A=login:hookfwd' "$auth_LOG")" -eq 1 ]; then
    ok "auth: both messages delivered, logged as A=plain:hookfwd and A=login:hookfwd"
else
    bad "auth: $(smtp_count "$auth_MAILDIR") delivered; log: $(grep '<=' "$auth_LOG")"
fi

# 6. stop by PID
for name in plain tls auth; do
    pid_var=${name}_PID port_var=${name}_PORT
    smtp_stop "${!pid_var}"
    if ! kill -0 "${!pid_var}" 2>/dev/null && ! _smtp_listening "${!port_var}"; then
        ok "$name: smtp_stop ended pid ${!pid_var}, port ${!port_var} closed"
    else
        bad "$name: pid ${!pid_var} or port ${!port_var} still there"
    fi
done
STARTED=()

finish
