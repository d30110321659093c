# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The SMTP_* variables are for the caller; Exim expansions are single-quoted.
# shellcheck disable=SC2034,SC2016
# A real SMTP server for the e-mail sink tests: Debian's Exim
# (exim4-daemon-light) with a private configuration, listening on
# 127.0.0.1:<free port> and delivering every message, for any recipient, into
# a maildir. Sourced by tests (after lib.sh, or on its own):
#
#   . "$SOURCE_DIR/tests/integration/lib_smtp.sh"
#   smtp_start "$WORK/smtp" [--starttls | --require-tls] [--auth USER PASS]
#              [--reject-rcpt ADDR]... [--defer-rcpt ADDR]...
#   ... point the sink at $SMTP_URL (smtp://127.0.0.1:$SMTP_PORT) ...
#   smtp_wait_count 3 10 || not_ok "3 messages within 10 s"
#   python3 "$SOURCE_DIR/tests/peers/mail_check.py" "$SMTP_MAILDIR" | jq ...
#   smtp_stop
#
# After smtp_start (which returns 0 once the port accepts connections):
#   SMTP_DIR      the directory given (configuration, spool, logs, certificate)
#   SMTP_PORT     the port          SMTP_URL   smtp://127.0.0.1:$SMTP_PORT
#   SMTP_PID      the Exim daemon (stop it with smtp_stop, or kill it by this PID)
#   SMTP_MAILDIR  $SMTP_DIR/Maildir; every accepted message lands in new/
#   SMTP_LOG      Exim's main log ("<=" reception lines show P=esmtps with TLS,
#                 A=plain:USER when authenticated)
#   SMTP_CA       (--starttls/--require-tls) the self-signed server certificate
#                 (CN=localhost, SAN DNS:localhost, IP:127.0.0.1); a client
#                 verifies the server with it as its CA file
#   SMTP_USER SMTP_PASS  (--auth) the credentials
#
# Options:
#   --starttls       offer STARTTLS; plain sessions still work
#   --require-tls    offer STARTTLS and refuse MAIL FROM before it:
#                    "530 5.7.0 Must issue a STARTTLS command first"
#   --auth USER PASS offer AUTH PLAIN and LOGIN (after STARTTLS when TLS is on,
#                    as real submission servers do) and refuse MAIL FROM
#                    without it: "530 5.7.0 Authentication required"; a wrong
#                    password gets 535
#   --reject-rcpt A  RCPT TO:<A> answered "550 5.1.1 ... recipient rejected"
#   --defer-rcpt A   RCPT TO:<A> answered "451 4.3.0 ... try again later"
# Switch files, checked per message while the server runs (touch to turn on,
# rm to turn off):
#   $SMTP_DIR/defer        every RCPT answered 451 4.3.0 (a temporary outage)
#   $SMTP_DIR/reject       every RCPT answered 550 5.7.1
#   $SMTP_DIR/reject-data  the message answered 554 5.6.0 after DATA
#
# The server adds Received, Return-path (envelope sender), Envelope-to and
# Delivery-date; it adds no Date or Message-ID and rewrites nothing, so what
# mail_check.py reads is what the client sent. After DATA it checks the
# syntax of the address headers (From, To, Cc, Reply-To, Sender) and that
# header names are ASCII, and refuses a message that fails with 554.
# Delivery into the maildir happens right after the 250 answer to DATA, in a
# separate process: poll with smtp_wait_count.
#
# Runs as root (the daemon drops to Exim's own user, which then owns the
# spool, the logs and the maildir; the way to SMTP_DIR must be searchable by
# that user: smtp_start adds o+x to root's own directories under $TMPDIR,
# default /tmp, such as a mktemp -d work directory) or as a member of Exim's
# group Debian-exim (Exim lets only root and that group start a daemon; it
# then runs entirely as the caller). Anyone else gets a message and status 1;
# smtp_can_run tells beforehand. Several servers can run at once, each with
# its own directory and port.

SMTP_EXIM=${SMTP_EXIM:-}
if [ -z "$SMTP_EXIM" ]; then
    for _smtp_c in exim4 /usr/sbin/exim4 exim /usr/sbin/exim; do
        if command -v "$_smtp_c" >/dev/null 2>&1; then
            SMTP_EXIM=$(command -v "$_smtp_c")
            break
        fi
    done
    unset _smtp_c
fi

SMTP_DIR='' SMTP_PORT='' SMTP_URL='' SMTP_PID='' SMTP_MAILDIR='' SMTP_LOG='' SMTP_CA=''
SMTP_USER='' SMTP_PASS=''

_smtp_now_ms() { date +%s%3N; }

_smtp_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# _smtp_escape STRING: STRING as literal text inside an Exim expansion
# (backslash before \ $ { and }).
_smtp_escape() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\$/\\\$}
    s=${s//\{/\\\{}
    s=${s//\}/\\\}}
    printf '%s' "$s"
}

# _smtp_addr_list ADDR...: an Exim address list (colon-separated, colons doubled).
_smtp_addr_list() {
    local a out=''
    for a in "$@"; do
        out="${out:+$out : }${a//:/::}"
    done
    printf '%s' "$out"
}

# _smtp_listening PORT: true when something accepts TCP connections on it.
_smtp_listening() {
    { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    exec 9<&- 9>&-
    return 0
}

_smtp_alive() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
        [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]
}

# smtp_can_run: true when smtp_start can work here (Exim installed; root or
# a member of Exim's group). Tests skip (exit 77) when it is false.
smtp_can_run() {
    [ -n "$SMTP_EXIM" ] || return 1
    [ "$(id -u)" -eq 0 ] && return 0
    local g
    g=$("$SMTP_EXIM" -C /dev/null -bP exim_group 2>/dev/null | sed -n 's/^exim_group = //p')
    id -Gn | tr ' ' '\n' | grep -qx "${g:-Debian-exim}"
}

# smtp_start DIR [options]: see the top of this file. Prints the reason and
# returns 1 on failure (no server left running).
smtp_start() {
    local dir=$1 tls=off auth_user='' auth_pass='' rejects=() defers=()
    shift || { echo "smtp_start: DIR required" >&2; return 1; }
    while [ $# -gt 0 ]; do
        case $1 in
            --starttls) tls=offer ;;
            --require-tls) tls=require ;;
            --auth)
                [ $# -ge 3 ] || { echo "smtp_start: --auth USER PASS" >&2; return 1; }
                auth_user=$2 auth_pass=$3
                shift 2 ;;
            --reject-rcpt) rejects+=("$2"); shift ;;
            --defer-rcpt) defers+=("$2"); shift ;;
            *) echo "smtp_start: unknown option $1" >&2; return 1 ;;
        esac
        shift
    done
    if [ -z "$SMTP_EXIM" ]; then
        echo "smtp_start: exim4 not found (apt-get install exim4-daemon-light)" >&2
        return 1
    fi
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir/spool" "$dir/log" "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"

    # Who Exim runs as: with a private configuration (-C) it keeps root only
    # to drop to its compiled-in user; as anyone else it runs as the caller.
    local run_user user_conf
    if [ "$(id -u)" -eq 0 ]; then
        run_user=$("$SMTP_EXIM" -C /dev/null -bP exim_user 2>/dev/null | sed -n 's/^exim_user = //p')
        run_user=${run_user:-Debian-exim}
        if ! id -u "$run_user" >/dev/null 2>&1; then
            echo "smtp_start: Exim's user $run_user does not exist" >&2
            return 1
        fi
        # The daemon must reach DIR: make the caller's own directories under
        # $TMPDIR (default /tmp) on the way searchable, nothing else.
        local d=$dir tmp
        tmp=$(cd "${TMPDIR:-/tmp}" && pwd)
        while [ "$d" != / ] && ! runuser -u "$run_user" -- test -x "$d" 2>/dev/null; do
            case $d in
                "$tmp"/*) [ "$(stat -c %u "$d")" = 0 ] && chmod o+x "$d" ;;
            esac
            d=$(dirname "$d")
        done
        if ! runuser -u "$run_user" -- test -x "$dir"; then
            echo "smtp_start: $run_user cannot reach $dir (a parent is not searchable)" >&2
            return 1
        fi
        chown -R "$run_user:" "$dir/spool" "$dir/log" "$dir/Maildir"
        user_conf=''
    else
        # Exim starts a daemon only for root and its admin group; with a
        # private configuration it then runs as the caller.
        local exim_group
        exim_group=$("$SMTP_EXIM" -C /dev/null -bP exim_group 2>/dev/null | sed -n 's/^exim_group = //p')
        exim_group=${exim_group:-Debian-exim}
        if ! id -Gn | tr ' ' '\n' | grep -qx "$exim_group"; then
            echo "smtp_start: Exim starts a daemon only for root or members of group $exim_group" >&2
            return 1
        fi
        user_conf="exim_user = $(id -un)
exim_group = $(id -gn)"
    fi

    local tls_conf='' auth_conf='' mail_acl='' cert=$dir/cert.pem key=$dir/key.pem
    if [ "$tls" != off ]; then
        if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$key" -out "$cert" \
                -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
                >"$dir/openssl.log" 2>&1; then
            echo "smtp_start: openssl failed: $(cat "$dir/openssl.log")" >&2
            return 1
        fi
        chmod 600 "$key"
        [ -n "${run_user:-}" ] && chown "$run_user:" "$key"
        tls_conf="tls_advertise_hosts = *
tls_certificate = $cert
tls_privatekey = $key"
        if [ "$tls" = require ]; then
            mail_acl="  deny    message = 530 5.7.0 Must issue a STARTTLS command first
          !encrypted = *
"
        fi
    else
        tls_conf="tls_advertise_hosts ="
    fi
    if [ -n "$auth_user" ]; then
        local adv=''
        [ "$tls" != off ] && adv='  server_advertise_condition = ${if def:tls_in_cipher}'
        local cond
        cond="\${if and{{eq{\$auth2}{$(_smtp_escape "$auth_user")}}{eq{\$auth3}{$(_smtp_escape "$auth_pass")}}}}"
        local cond_login
        cond_login="\${if and{{eq{\$auth1}{$(_smtp_escape "$auth_user")}}{eq{\$auth2}{$(_smtp_escape "$auth_pass")}}}}"
        auth_conf="begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = $cond
  server_set_id = \$auth2
$adv

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = \"Username:: : Password::\"
  server_condition = $cond_login
  server_set_id = \$auth1
$adv
"
        mail_acl="$mail_acl  deny    message = 530 5.7.0 Authentication required
          !authenticated = *
"
    fi
    local rcpt_acl="  defer   message = 451 4.3.0 Temporary failure, try again later (test switch)
          condition = \${if exists{$dir/defer}}
  deny    message = 550 5.7.1 Rejected by policy (test switch)
          condition = \${if exists{$dir/reject}}
"
    if [ ${#defers[@]} -gt 0 ]; then
        rcpt_acl="$rcpt_acl  defer   message = 451 4.3.0 <\$local_part@\$domain>: try again later
          recipients = $(_smtp_addr_list "${defers[@]}")
"
    fi
    if [ ${#rejects[@]} -gt 0 ]; then
        rcpt_acl="$rcpt_acl  deny    message = 550 5.1.1 <\$local_part@\$domain>: recipient rejected
          recipients = $(_smtp_addr_list "${rejects[@]}")
"
    fi

    local port _try
    for _try in 1 2 3; do
        port=$(_smtp_free_port)
        cat >"$dir/exim.conf" <<EOF
# Private Exim configuration written by tests/integration/lib_smtp.sh
$user_conf
primary_hostname = smtp-sink.test
qualify_domain = smtp-sink.test
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/spool/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = $port
host_lookup =
rfc1413_hosts =
keep_environment =
message_size_limit = 50M
smtp_accept_max = 50
smtp_receive_timeout = 30s
deliver_drop_privilege = true
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
$tls_conf

begin acl

acl_mail:
${mail_acl}  accept

acl_rcpt:
${rcpt_acl}  accept

acl_data:
  deny    message = 554 5.6.0 Message refused (test switch)
          condition = \${if exists{$dir/reject-data}}
  deny    message = 554 5.6.0 Bad header syntax: \$acl_verify_message
          !verify = header_syntax
  deny    message = 554 5.6.0 Non-ASCII header name: \$acl_verify_message
          !verify = header_names_ascii
  accept

begin routers

everyone:
  driver = accept
  transport = to_maildir

begin transports

to_maildir:
  driver = appendfile
  directory = $dir/Maildir
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add

$auth_conf
EOF
        if ! "$SMTP_EXIM" -C "$dir/exim.conf" -bV >"$dir/check.log" 2>&1; then
            echo "smtp_start: Exim refuses the configuration: $(cat "$dir/check.log")" >&2
            return 1
        fi
        # -bdf: daemon in the foreground, so $! is the daemon itself.
        "$SMTP_EXIM" -C "$dir/exim.conf" -bdf -oX "$port" >>"$dir/exim.out" 2>&1 &
        SMTP_PID=$!
        local deadline=$(($(_smtp_now_ms) + 15000))
        while _smtp_alive "$SMTP_PID" && ! _smtp_listening "$port"; do
            [ "$(_smtp_now_ms)" -lt "$deadline" ] || break
            sleep 0.05
        done
        if _smtp_alive "$SMTP_PID" && _smtp_listening "$port"; then
            break
        fi
        kill "$SMTP_PID" 2>/dev/null
        wait "$SMTP_PID" 2>/dev/null
        SMTP_PID=''
        # a lost race for the port is retried; anything else is reported
        grep -qi "address already in use" "$dir/log/paniclog" "$dir/exim.out" 2>/dev/null || break
    done
    if [ -z "$SMTP_PID" ]; then
        echo "smtp_start: Exim did not come up:" >&2
        cat "$dir/exim.out" "$dir/log/paniclog" "$dir/log/mainlog" 2>/dev/null >&2
        return 1
    fi
    if declare -p PIDS_TO_KILL >/dev/null 2>&1; then
        PIDS_TO_KILL+=("$SMTP_PID")   # lib.sh's cleanup stops it too
    fi
    SMTP_DIR=$dir
    SMTP_PORT=$port
    SMTP_URL=smtp://127.0.0.1:$port
    SMTP_MAILDIR=$dir/Maildir
    SMTP_LOG=$dir/log/mainlog
    SMTP_CA=
    [ "$tls" != off ] && SMTP_CA=$cert
    SMTP_USER=$auth_user
    SMTP_PASS=$auth_pass
    return 0
}

# smtp_stop [PID]: stop the daemon (default $SMTP_PID) and wait until it is
# gone (at most 10 s). Mail already accepted stays in the maildir.
smtp_stop() {
    local pid=${1:-$SMTP_PID} deadline
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    deadline=$(($(_smtp_now_ms) + 10000))
    while _smtp_alive "$pid" && [ "$(_smtp_now_ms)" -lt "$deadline" ]; do
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
    if _smtp_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    if [ "$pid" = "$SMTP_PID" ]; then SMTP_PID=''; fi
    return 0
}

# smtp_count [MAILDIR]: the number of delivered messages.
smtp_count() {
    local md=${1:-$SMTP_MAILDIR}
    find "$md/new" "$md/cur" -type f 2>/dev/null | wc -l
}

# smtp_wait_count N [SECONDS [MAILDIR]]: poll until at least N messages were
# delivered (default 10 s).
smtp_wait_count() {
    local n=$1 secs=${2:-10} md=${3:-$SMTP_MAILDIR}
    local deadline=$(($(_smtp_now_ms) + secs * 1000))
    while [ "$(smtp_count "$md")" -lt "$n" ]; do
        [ "$(_smtp_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
