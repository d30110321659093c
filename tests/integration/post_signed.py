#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Posts webhook events signed the way the fixture sources sign them
(HMAC-SHA256 with Python's hmac, independent of hookfwd), for the alert sink
tests: one body, or COUNT copies where every "{n}" in the body becomes the
copy's number (so ids and run ids stay unique), over one keep-alive
connection, optionally paced to RATE events a second. Prints one JSON line
{"statuses": {"202": n, ...}, "seconds": s}; exits 1 unless every answer is
2xx.

  post_signed.py --port P --source sentinelayer [--count N] [--start K]
                 [--rate R] BODY"""
import argparse
import hashlib
import hmac
import http.client
import json
import sys
import time

SOURCES = {
    "omega": ("/webhooks/omega", "X-Omega-Signature", b"whsec_your_signing_secret"),
    "sentinelayer": ("/webhooks/sentinelayer", "X-Sentinelayer-Signature", b"sl_live_3f9a2c71d04e"),
}

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--source", choices=sorted(SOURCES), required=True)
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--rate", type=float, default=0)
ap.add_argument("body")
args = ap.parse_args()

path, header, secret = SOURCES[args.source]
conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
statuses = {}
t0 = time.monotonic()
for k in range(args.count):
    if args.rate:
        due = t0 + k / args.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
    body = args.body.replace("{n}", str(args.start + k)).encode()
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    for attempt in range(3):
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json", header: sig})
            resp = conn.getresponse()
            resp.read()
            break
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    else:
        statuses["error"] = statuses.get("error", 0) + 1
        continue
    statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
print(json.dumps({"statuses": statuses, "seconds": round(time.monotonic() - t0, 3)}))
sys.exit(0 if all(s.startswith("2") for s in statuses) else 1)
