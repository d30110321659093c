# SPDX-License-Identifier: Apache-2.0
# Several agents behind a real nginx (sourced after lib.sh): the HA
# deployment of README "Running several agents", on free 127.0.0.1 ports in
# the test's work directory.
#
#   ha_write_config I DEDUP_YAML  agent I's config: own ports, own disk
#                                 journal ($WORK/aI/data), a file sink
#                                 ($WORK/aI/out.jsonl); the omega source
#                                 with DEDUP_YAML as its `dedup:` value
#   ha_start_agent I / ha_stop_agent I [SIGNAL]
#   ha_metric I SERIES            a Prometheus value from agent I
#   ha_start_lb I...              nginx over agents I..., plus the /readyz
#                                 checker (lb_health.py); sets LB_PORT
#   ha_stop_lb
#
# Health checks: open-source nginx (nginx-light here) has passive checks
# only: `max_fails`/`fail_timeout` mark a server failed after errors, and
# `proxy_next_upstream` sends the request to the next server. Active checks
# (nginx Plus `health_check`) are not in it, so lb_health.py polls each
# agent's /readyz, marks a not-ready agent `down` in the upstream file and
# reloads nginx (SIGHUP), as a checker beside a stock nginx would.

HA_HERE=$(dirname "${BASH_SOURCE[0]}")
declare -a HA_PORT HA_ADMIN HA_PID
LB_PORT=
LB_PID=
LB_HEALTH_PID=

if ! command -v nginx >/dev/null 2>&1; then
    echo "skipped: nginx is needed (sh packaging/install-deps.sh)"
    exit 77
fi

ha_write_config() {
    local i=$1 dedup=$2
    mkdir -p "$WORK/a$i"
    [ -n "${HA_PORT[$i]:-}" ] || HA_PORT[$i]=$(free_port)
    [ -n "${HA_ADMIN[$i]:-}" ] || HA_ADMIN[$i]=$(free_port)
    cat >"$WORK/a$i.yaml" <<YAML
listen:
  address: 127.0.0.1:${HA_PORT[$i]}
  threads: 2
  read_timeout: 5s
admin:
  address: 127.0.0.1:${HA_ADMIN[$i]}
storage:
  mode: ${HA_STORAGE:-disk}
  path: $WORK/a$i/data
sources:
  - name: omega
    path: /webhooks/omega
    profile: omegaengine
    signature: {scheme: hmac-sha256, header: X-Omega-Signature, embedded: signature, secrets: ["\${OMEGA_SECRET}"]}
    dedup: $dedup
sinks:
  - name: archive
    type: file
    path: $WORK/a$i/out.jsonl
    takes: records
    queue: {max_events: 100000}
    retry: {initial: 50ms, max: 200ms}
    batch: {max_events: 200, flush_interval: 20ms}
YAML
}

ha_healthy() { curl -sf "http://127.0.0.1:${HA_ADMIN[$1]}/healthz" >/dev/null; }

ha_start_agent() {
    local i=$1
    "$HOOKFWD_BIN" run -c "$WORK/a$i.yaml" >>"$WORK/a$i.out" 2>>"$WORK/a$i.err" &
    HA_PID[$i]=$!
    if ! wait_for 20 ha_healthy "$i"; then
        echo "agent $i did not come up:"
        tail -20 "$WORK/a$i.err"
        return 1
    fi
}

ha_stop_agent() {
    local i=$1 sig=${2:-TERM} rc
    [ -n "${HA_PID[$i]:-}" ] || return 0
    kill -"$sig" "${HA_PID[$i]}" 2>/dev/null
    wait "${HA_PID[$i]}"
    rc=$?
    HA_PID[$i]=
    return $rc
}

ha_metric() {
    curl -sf "http://127.0.0.1:${HA_ADMIN[$1]}/metrics" | awk -v k="$2" '$1 == k {print $2}'
}

ha_start_lb() {
    local d=$WORK/nginx i backends=()
    mkdir -p "$d/logs"
    [ -n "$LB_PORT" ] || LB_PORT=$(free_port)
    for i in "$@"; do
        backends+=("${HA_PORT[$i]}=${HA_ADMIN[$i]}")
    done
    # every server up until the checker has looked
    python3 "$HA_HERE/lb_health.py" --upstream "$d/upstream.conf" --write-only "${backends[@]}" || return 1
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format lb '\$msec \$status \$upstream_addr \$upstream_status \$request_time';
    access_log $d/logs/access.log lb;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    client_max_body_size 1m;
    upstream hookfwd {
        include $d/upstream.conf;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$LB_PORT;
        location /webhooks/ {
            proxy_pass http://hookfwd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # a POST whose agent died before answering goes to the other
            # one: it may be on the first agent's disk already, which the
            # shared dedup set answers as a duplicate
            proxy_next_upstream error timeout http_502 http_504 non_idempotent;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;
        }
    }
}
EOF
    nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" &
    LB_PID=$!
    PIDS_TO_KILL+=("$LB_PID")
    if ! wait_for 10 test -s "$d/nginx.pid"; then
        echo "nginx did not start:"
        cat "$d/logs/error.log"
        return 1
    fi
    python3 "$HA_HERE/lb_health.py" --upstream "$d/upstream.conf" --nginx-pid "$LB_PID" --interval 0.2 \
        "${backends[@]}" >>"$d/health.log" 2>&1 &
    LB_HEALTH_PID=$!
    PIDS_TO_KILL+=("$LB_HEALTH_PID")
    wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$LB_PORT/webhooks/omega"
}

ha_stop_lb() {
    [ -n "$LB_HEALTH_PID" ] && kill "$LB_HEALTH_PID" 2>/dev/null && wait "$LB_HEALTH_PID" 2>/dev/null
    [ -n "$LB_PID" ] && kill -QUIT "$LB_PID" 2>/dev/null && wait "$LB_PID" 2>/dev/null
    LB_PID=
    LB_HEALTH_PID=
}

# every agent still running at exit is stopped by lib.sh's cleanup
ha_cleanup() {
    local p
    for p in "${HA_PID[@]}"; do
        [ -n "$p" ] && PIDS_TO_KILL+=("$p")
    done
    return 0
}
if ! declare -p CLEANUP_HOOKS >/dev/null 2>&1; then
    CLEANUP_HOOKS=()
    trap 'for h in "${CLEANUP_HOOKS[@]}"; do "$h"; done; cleanup' EXIT
fi
CLEANUP_HOOKS+=(ha_cleanup)
