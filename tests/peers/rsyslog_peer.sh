#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rsyslog_peer.sh - a private rsyslogd used as the real peer for the syslog sink tests.
#
# Usage:
#   rsyslog_peer.sh DIR            start a peer in DIR (also: rsyslog_peer.sh start DIR)
#   rsyslog_peer.sh stop DIR       stop the rsyslogd whose PID is in DIR/ports.env (only that PID)
#   rsyslog_peer.sh restart DIR    stop it and start it again on the same ports, same CA/certs
#
# It never touches /etc/rsyslog.conf, /dev/log or the system service: it runs
#   rsyslogd -n -f DIR/rsyslog.conf -i DIR/rsyslogd.pid
# in the background with its own work directory (DIR/work), SysSock.Use="off"
# and NOTIFY_SOCKET/LISTEN_FDS removed from its environment. No privilege drop,
# so it works as root in a sandbox and as an ordinary user alike.
#
# Listeners (all bound to $RSYSLOG_PEER_ADDR, default 127.0.0.1; input name in brackets):
#   TCP_PORT   imtcp, plain                       [tcp]   octet-counted and LF framing (autodetected)
#   PTCP_PORT  imptcp, plain                      [ptcp]  octet-counted and LF framing
#   UDP_PORT   imudp                              [udp]   one message per datagram
#   TLS_PORT   imtcp + ossl driver, authMode anon [tls]   server cert CN=localhost,
#              SAN DNS:localhost,IP:127.0.0.1, signed by DIR/ca.pem; client cert not requested
#   MTLS_PORT  imtcp + ossl driver, x509/certvalid[mtls]  like TLS_PORT but a client certificate
#              signed by the same CA is required (DIR/client.pem + DIR/client.key)
#   UNIX_SOCK  imuxsock datagram socket DIR/log.sock    [imuxsock] (imuxsock has no name= option)
#              (useSpecialParser off, so RFC 5424 is parsed; message timestamps kept)
#
# Ports are picked race-free by the kernel (port="0"; imtcp/imptcp write listenPortFileName,
# the UDP port is read back with ss). Any of them can be fixed through the environment:
#   RSYSLOG_PEER_TCP_PORT, RSYSLOG_PEER_PTCP_PORT, RSYSLOG_PEER_UDP_PORT,
#   RSYSLOG_PEER_TLS_PORT, RSYSLOG_PEER_MTLS_PORT, RSYSLOG_PEER_ADDR (default 127.0.0.1),
#   RSYSLOG_PEER_MAX_MSG (rsyslog maxMessageSize, default 64k),
#   RSYSLOG_PEER_TIMEOUT (seconds to wait for start/stop, default 15).
#
# Once every listener is up it writes DIR/ports.env (shell syntax, sourceable):
#   TCP_PORT= PTCP_PORT= UDP_PORT= TLS_PORT= MTLS_PORT= UNIX_SOCK= CA_FILE= CLIENT_CERT= CLIENT_KEY=
#   OUT_FILE= ADDR= PID=        (paths absolute; one KEY=value per line, no quoting needed)
# and exits 0 with rsyslogd still running. On failure it prints rsyslogd's stderr and exits 1.
#
# Every message received on any listener is appended to DIR/out.jsonl, one JSON object per line
# (rsyslog's option.jsonf writes ", " between fields), kept across restarts:
#   {"pri":134, "facility":16, "severity":6, "timestamp":"2024-05-01T12:34:56.789Z",
#    "hostname":"...", "app-name":"...", "procid":"...", "msgid":"...",
#    "structured-data":"[id@32473 k=\"v\"]", "msg":"...", "input":"tcp", "rawmsg":"..."}
# pri/facility/severity are numbers, everything else strings. RFC 5424 nil fields come out as
# "-", except timestamp: rsyslog substitutes the reception time for a nil TIMESTAMP. Structured
# data is the raw SD string, escapes (\" \\ \]) kept as sent. Control characters are NOT escaped
# by rsyslog (parser.escapeControlCharactersOnReceive="off"), so an LF inside an octet-counted
# frame shows up as "\n" in msg. For RFC 3164 input rsyslog keeps the space before the message
# text in msg (" text").
# rsyslogd's own internal messages go to DIR/rsyslogd.log / DIR/rsyslogd.stderr, never out.jsonl.
# Files in DIR: rsyslog.conf ca.pem ca.key server.pem server.key client.pem client.key
#               out.jsonl ports.env rsyslogd.pid rsyslogd.stderr rsyslogd.log work/

set -eu
set -o pipefail

die() { echo "rsyslog_peer: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 [start] DIR | stop DIR | restart DIR" >&2
    exit 2
}

RSYSLOGD=${RSYSLOGD:-}
if [ -z "$RSYSLOGD" ]; then
    RSYSLOGD=$(command -v rsyslogd || true)
    [ -n "$RSYSLOGD" ] || { [ -x /usr/sbin/rsyslogd ] && RSYSLOGD=/usr/sbin/rsyslogd; } || true
fi
TIMEOUT=${RSYSLOG_PEER_TIMEOUT:-15}

now_ms() { date +%s%3N; }

# pid_is_ours PID DIR: true if PID is alive and is an rsyslogd running DIR's config.
pid_is_ours() {
    local pid=$1 dir=$2 cmd
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    cmd=$( { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null) || return 1
    case "$cmd" in
        *rsyslogd*" -f $dir/rsyslog.conf "*) return 0 ;;
    esac
    return 1
}

env_pid() {   # PID from DIR/ports.env, or from the pidfile
    local dir=$1 pid=""
    if [ -r "$dir/ports.env" ]; then
        pid=$(sed -n 's/^PID=//p' "$dir/ports.env" | tail -n1)
    fi
    if [ -z "$pid" ] && [ -r "$dir/rsyslogd.pid" ]; then
        pid=$(head -n1 "$dir/rsyslogd.pid")
    fi
    echo "$pid"
}

gen_certs() {
    local dir=$1
    [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] \
        && [ -s "$dir/client.pem" ] && [ -s "$dir/client.key" ] && return 0
    command -v openssl >/dev/null || die "openssl not found"
    (
        cd "$dir"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout ca.key -out ca.pem -subj "/CN=hookfwd test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
            -subj "/CN=localhost"
        printf '%s\n' "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
        openssl x509 -req -sha256 -days 3650 -in server.csr -CA ca.pem -CAkey ca.key \
            -set_serial 2 -out server.pem -extfile server.ext
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout client.key -out client.csr \
            -subj "/CN=hookfwd-client"
        printf '%s\n' "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=clientAuth" > client.ext
        openssl x509 -req -sha256 -days 3650 -in client.csr -CA ca.pem -CAkey ca.key \
            -set_serial 3 -out client.pem -extfile client.ext
        rm -f server.csr client.csr server.ext client.ext
        chmod 644 ca.pem server.pem client.pem
    ) > "$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "certificate generation failed"; }
}

write_conf() {
    local dir=$1 addr=$2 tcp=$3 ptcp=$4 udp=$5 tls=$6 mtls=$7 maxmsg=$8
    cat > "$dir/rsyslog.conf" <<EOF
# generated by rsyslog_peer.sh - private test instance, do not use as a system config
global(
    workDirectory="$dir/work"
    maxMessageSize="$maxmsg"
    net.enableDNS="off"
    parser.escapeControlCharactersOnReceive="off"
    defaultNetstreamDriverCAFile="$dir/ca.pem"
    defaultNetstreamDriverCertFile="$dir/server.pem"
    defaultNetstreamDriverKeyFile="$dir/server.key"
)
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp" maxSessions="1000")
module(load="imptcp")
module(load="imudp")

template(name="peer_jsonl" type="list" option.jsonf="on") {
    property(outname="pri" name="pri" format="jsonf" datatype="number")
    property(outname="facility" name="syslogfacility" format="jsonf" datatype="number")
    property(outname="severity" name="syslogseverity" format="jsonf" datatype="number")
    property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
    property(outname="hostname" name="hostname" format="jsonf")
    property(outname="app-name" name="app-name" format="jsonf")
    property(outname="procid" name="procid" format="jsonf")
    property(outname="msgid" name="msgid" format="jsonf")
    property(outname="structured-data" name="structured-data" format="jsonf")
    property(outname="msg" name="msg" format="jsonf")
    property(outname="input" name="inputname" format="jsonf")
    property(outname="rawmsg" name="rawmsg" format="jsonf")
}

ruleset(name="peer") {
    action(type="omfile" file="$dir/out.jsonl" template="peer_jsonl")
}

input(type="imtcp" name="tcp" address="$addr" port="$tcp"
      listenPortFileName="$dir/work/tcp.port" ruleset="peer")
input(type="imptcp" name="ptcp" address="$addr" port="$ptcp"
      listenPortFileName="$dir/work/ptcp.port" ruleset="peer")
input(type="imudp" name="udp" address="$addr" port="$udp" ruleset="peer")
input(type="imtcp" name="tls" address="$addr" port="$tls"
      listenPortFileName="$dir/work/tls.port" ruleset="peer"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon"
      streamDriver.CAFile="$dir/ca.pem" streamDriver.CertFile="$dir/server.pem"
      streamDriver.KeyFile="$dir/server.key")
input(type="imtcp" name="mtls" address="$addr" port="$mtls"
      listenPortFileName="$dir/work/mtls.port" ruleset="peer"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid"
      streamDriver.CAFile="$dir/ca.pem" streamDriver.CertFile="$dir/server.pem"
      streamDriver.KeyFile="$dir/server.key")
input(type="imuxsock" Socket="$dir/log.sock" CreatePath="on" useSpecialParser="off"
      parseHostname="on" ignoreTimestamp="off" rateLimit.interval="0" ruleset="peer")

# default ruleset: rsyslogd's internal messages, kept out of out.jsonl
*.* action(type="omfile" file="$dir/rsyslogd.log")
EOF
}

tcp_listening() {  # PORT PID: PID has a TCP listener on PORT
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"
}

udp_port_of_pid() {  # PID -> first UDP port the process has bound
    ss -Hulnp 2>/dev/null | awk -v pid="pid=$1," '
        index($0, pid) { n = split($4, a, ":"); print a[n]; exit }'
}

do_start() {
    local dir=$1
    mkdir -p "$dir" || die "cannot create $dir"
    dir=$(cd "$dir" && pwd -P)
    if [ -z "$RSYSLOGD" ] || [ ! -x "$RSYSLOGD" ]; then
        die "rsyslogd not found (apt-get install rsyslog rsyslog-openssl)"
    fi
    command -v ss >/dev/null || die "ss (iproute2) not found"
    local old
    old=$(env_pid "$dir")
    if pid_is_ours "$old" "$dir"; then
        die "already running in $dir (PID $old); use stop or restart"
    fi

    local addr=${RSYSLOG_PEER_ADDR:-127.0.0.1}
    local tcp=${RSYSLOG_PEER_TCP_PORT:-0} ptcp=${RSYSLOG_PEER_PTCP_PORT:-0}
    local udp=${RSYSLOG_PEER_UDP_PORT:-0} tls=${RSYSLOG_PEER_TLS_PORT:-0}
    local mtls=${RSYSLOG_PEER_MTLS_PORT:-0} maxmsg=${RSYSLOG_PEER_MAX_MSG:-64k}

    # sun_path holds 108 bytes including the NUL
    [ "${#dir}" -le 99 ] || die "directory path too long for a unix socket: $dir"
    mkdir -p "$dir/work"
    gen_certs "$dir"
    rm -f "$dir/ports.env" "$dir/rsyslogd.pid" "$dir/work/"*.port "$dir/log.sock"
    write_conf "$dir" "$addr" "$tcp" "$ptcp" "$udp" "$tls" "$mtls" "$maxmsg"

    if ! "$RSYSLOGD" -N1 -f "$dir/rsyslog.conf" > "$dir/rsyslogd.check" 2>&1; then
        cat "$dir/rsyslogd.check" >&2
        die "rsyslogd rejected $dir/rsyslog.conf"
    fi

    # Foreground mode (-n) in the background: $! is rsyslogd itself. Same process group as
    # the caller, so a harness that kills its group also ends the peer.
    env -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
        "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" \
        < /dev/null > "$dir/rsyslogd.stderr" 2>&1 &
    local pid=$!

    # imtcp/imptcp write listenPortFileName only for port="0" (checked on 8.2302): a fixed
    # port is known already, so put it in the file ourselves.
    local name val
    for name in tcp ptcp tls mtls; do
        eval "val=\$$name"
        [ "$val" = 0 ] || echo "$val" > "$dir/work/$name.port"
    done

    local deadline=$(( $(now_ms) + TIMEOUT * 1000 )) ready=0 p
    while [ "$(now_ms)" -lt "$deadline" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        ready=1
        for p in tcp ptcp tls mtls; do
            if [ ! -s "$dir/work/$p.port" ]; then ready=0; break; fi
            tcp_listening "$(cat "$dir/work/$p.port")" "$pid" || { ready=0; break; }
        done
        [ "$ready" = 1 ] && [ -S "$dir/log.sock" ] || ready=0
        if [ "$ready" = 1 ]; then
            if [ "$udp" = 0 ]; then
                p=$(udp_port_of_pid "$pid")
                [ -n "$p" ] || ready=0
            else
                p=$udp
                ss -Hulnp "sport = :$p" 2>/dev/null | grep -q "pid=$pid," || ready=0
            fi
        fi
        if [ "$ready" = 1 ]; then
            udp=$p
            break
        fi
        sleep 0.05   # poll interval, bounded by the deadline above
    done
    if [ "$ready" != 1 ]; then
        echo "rsyslog_peer: rsyslogd did not become ready within ${TIMEOUT}s; stderr:" >&2
        cat "$dir/rsyslogd.stderr" >&2 || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        exit 1
    fi

    {
        echo "TCP_PORT=$(cat "$dir/work/tcp.port")"
        echo "PTCP_PORT=$(cat "$dir/work/ptcp.port")"
        echo "UDP_PORT=$udp"
        echo "TLS_PORT=$(cat "$dir/work/tls.port")"
        echo "MTLS_PORT=$(cat "$dir/work/mtls.port")"
        echo "UNIX_SOCK=$dir/log.sock"
        echo "CA_FILE=$dir/ca.pem"
        echo "CLIENT_CERT=$dir/client.pem"
        echo "CLIENT_KEY=$dir/client.key"
        echo "OUT_FILE=$dir/out.jsonl"
        echo "ADDR=$addr"
        echo "PID=$pid"
    } > "$dir/ports.env.tmp"
    mv "$dir/ports.env.tmp" "$dir/ports.env"
}

do_stop() {
    local dir=$1
    [ -d "$dir" ] || die "no such directory: $dir"
    dir=$(cd "$dir" && pwd -P)
    local pid
    pid=$(env_pid "$dir")
    if [ -z "$pid" ] || ! pid_is_ours "$pid" "$dir"; then
        echo "rsyslog_peer: not running in $dir" >&2
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while pid_is_ours "$pid" "$dir"; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            echo "rsyslog_peer: PID $pid ignored SIGTERM for ${TIMEOUT}s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$(( $(now_ms) + 5000 ))
        fi
        sleep 0.05   # poll interval, bounded by the deadline above
    done
    # reap it if it is our child (it is not, normally: the starting script has exited)
    wait "$pid" 2>/dev/null || true
}

do_restart() {
    local dir=$1
    [ -r "$dir/ports.env" ] || die "no $dir/ports.env; start it first"
    local TCP_PORT PTCP_PORT UDP_PORT TLS_PORT MTLS_PORT ADDR
    TCP_PORT=$(sed -n 's/^TCP_PORT=//p' "$dir/ports.env")
    PTCP_PORT=$(sed -n 's/^PTCP_PORT=//p' "$dir/ports.env")
    UDP_PORT=$(sed -n 's/^UDP_PORT=//p' "$dir/ports.env")
    TLS_PORT=$(sed -n 's/^TLS_PORT=//p' "$dir/ports.env")
    MTLS_PORT=$(sed -n 's/^MTLS_PORT=//p' "$dir/ports.env")
    ADDR=$(sed -n 's/^ADDR=//p' "$dir/ports.env")
    do_stop "$dir"
    RSYSLOG_PEER_TCP_PORT=$TCP_PORT RSYSLOG_PEER_PTCP_PORT=$PTCP_PORT \
    RSYSLOG_PEER_UDP_PORT=$UDP_PORT RSYSLOG_PEER_TLS_PORT=$TLS_PORT \
    RSYSLOG_PEER_MTLS_PORT=$MTLS_PORT RSYSLOG_PEER_ADDR=${ADDR:-127.0.0.1} \
        do_start "$dir"
}

case "${1:-}" in
    start)   [ $# -eq 2 ] || usage; do_start "$2" ;;
    stop)    [ $# -eq 2 ] || usage; do_stop "$2" ;;
    restart) [ $# -eq 2 ] || usage; do_restart "$2" ;;
    ""|-h|--help) usage ;;
    *)       [ $# -eq 1 ] || usage; do_start "$1" ;;
esac
