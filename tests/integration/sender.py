#!/usr/bin/env python3
"""A test sender: posts N uniquely numbered OmegaEngine decisions, signed with
its own HMAC (hashlib, independent of hookfwd), with C concurrent keep-alive
connections. Writes the numbers that got a 2xx (one per line) to --acked.
Connection errors and non-2xx answers are retried up to --retries times
(a webhook vendor retries), so the run keeps going across agent restarts."""
import argparse, hashlib, hmac, http.client, json, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--concurrency", type=int, default=4)
ap.add_argument("--acked", required=True)
ap.add_argument("--retries", type=int, default=200)
ap.add_argument("--secret", default="whsec_your_signing_secret")
ap.add_argument("--pad", type=int, default=0, help="extra bytes of scenario text")
ap.add_argument("--deadline", type=float, default=120, help="give up retrying after this many seconds")
ap.add_argument("--rate", type=float, default=0, help="events per second over all connections (0: as fast as possible)")
args = ap.parse_args()

lock = threading.Lock()
t0 = time.monotonic()
acked, statuses = [], {}
next_n = [args.start]


def body(n):
    return json.dumps({"event": "decision.blocked", "timestamp": "2026-01-14T12:01:07Z",
                       "decision": {"id": "dec_%08d" % n, "outcome": "BLOCK", "riskScore": 0.97,
                                    "scenario": "crash test " + "x" * args.pad, "policyMatches": ["p"],
                                    "auditId": "aud_%08d" % n}}, separators=(",", ":")).encode()


def worker():
    conn = None
    while True:
        with lock:
            n = next_n[0]
            if n >= args.start + args.count:
                return
            next_n[0] += 1
        if args.rate:
            # paced: event k leaves no earlier than k / rate after the start
            delay = t0 + (n - args.start) / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        b = body(n)
        sig = "sha256=" + hmac.new(args.secret.encode(), b, hashlib.sha256).hexdigest()
        for attempt in range(args.retries):
            if time.monotonic() - t0 > args.deadline:
                break  # the agent is gone for good: report what was acked
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                conn.request("POST", "/webhooks/omega", b, {"X-Omega-Signature": sig,
                                                            "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                if 200 <= r.status < 300:
                    with lock:
                        acked.append(n)
                    break
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.02 * min(attempt + 1, 10))  # a vendor's retry back-off


threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(args.acked, "w") as f:
    f.write("".join("%d\n" % n for n in sorted(acked)))
print(json.dumps({"acked": len(acked), "statuses": statuses}))
