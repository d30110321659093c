#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Active /readyz checks for a stock nginx (which has passive checks only).

Polls each backend's admin /readyz every --interval seconds; when the set of
ready backends changes, rewrites the upstream include file (a not-ready
backend is marked `down`) and sends SIGHUP to the nginx master, which
reloads gracefully. Backends are INGEST_PORT=ADMIN_PORT on 127.0.0.1.
With --write-only: writes the file with every backend up, and exits.
Logs one line per change: "<unix time> ready=PORT,PORT reload"."""
import argparse, http.client, os, signal, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--upstream", required=True, help="the file nginx's upstream block includes")
ap.add_argument("--nginx-pid", type=int, help="the nginx master to reload")
ap.add_argument("--interval", type=float, default=0.2)
ap.add_argument("--timeout", type=float, default=0.5, help="a /readyz slower than this counts as not ready")
ap.add_argument("--max-fails", type=int, default=1)
ap.add_argument("--fail-timeout", default="2s")
ap.add_argument("--write-only", action="store_true")
ap.add_argument("backends", nargs="+", help="INGEST_PORT=ADMIN_PORT")
args = ap.parse_args()

backends = []
for b in args.backends:
    ingest, admin = b.split("=")
    backends.append((int(ingest), int(admin)))


def write(ready):
    lines = []
    for ingest, _ in backends:
        lines.append("server 127.0.0.1:%d max_fails=%d fail_timeout=%s%s;\n"
                     % (ingest, args.max_fails, args.fail_timeout, "" if ingest in ready else " down"))
    tmp = args.upstream + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(lines))
    os.replace(tmp, args.upstream)


def is_ready(admin):
    try:
        c = http.client.HTTPConnection("127.0.0.1", admin, timeout=args.timeout)
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except (OSError, http.client.HTTPException):
        return False


if args.write_only:
    write({ingest for ingest, _ in backends})
    sys.exit(0)

running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
current = {ingest for ingest, _ in backends}  # what the file says now
while running:
    ready = {ingest for ingest, admin in backends if is_ready(admin)}
    if ready != current:
        write(ready)
        current = ready
        if args.nginx_pid:
            try:
                os.kill(args.nginx_pid, signal.SIGHUP)
            except ProcessLookupError:
                break
        print("%.3f ready=%s reload" % (time.time(), ",".join(str(p) for p in sorted(ready)) or "-"), flush=True)
    time.sleep(args.interval)
