#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A test sender: posts N uniquely numbered OmegaEngine decisions, signed with
its own HMAC (hashlib, independent of hookfwd), with C concurrent keep-alive
connections. Writes the numbers that got a 2xx (one per line) to --acked,
and with --keys the idempotency keys of those events as the OmegaEngine
profile defines them (decision id, ":", event type).
Connection errors, timeouts (--timeout) and non-2xx answers are retried up
to --retries times (a webhook vendor retries), so the run keeps going
across agent restarts. With --resend-every K, every K-th acknowledged event
is sent once more afterwards (a vendor whose 2xx was lost on the way): the
answer should say duplicate. Prints one JSON line: acked, statuses (every
answer, retries included), errors (timeouts, connection errors), resent,
resent_duplicate (resends answered 200 duplicate), resent_accepted."""
import argparse, hashlib, hmac, http.client, json, socket, threading, time

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
ap.add_argument("--timeout", type=float, default=10, help="seconds to wait for an answer before retrying")
ap.add_argument("--keys", help="write the acknowledged idempotency keys here")
ap.add_argument("--resend-every", type=int, default=0, help="send every K-th acknowledged event once more")
ap.add_argument("--path", default="/webhooks/omega")
args = ap.parse_args()

lock = threading.Lock()
t0 = time.monotonic()
acked, statuses, errors = [], {}, {"timeout": 0, "connection": 0}
resent = {"resent": 0, "resent_duplicate": 0, "resent_accepted": 0}
next_n = [args.start]


def body(n):
    return json.dumps({"event": "decision.blocked", "timestamp": "2026-01-14T12:01:07Z",
                       "decision": {"id": "dec_%08d" % n, "outcome": "BLOCK", "riskScore": 0.97,
                                    "scenario": "crash test " + "x" * args.pad, "policyMatches": ["p"],
                                    "auditId": "aud_%08d" % n}}, separators=(",", ":")).encode()


def idempotency_key(n):
    return "dec_%08d:decision.blocked" % n


def send(conn, b, sig):
    """Sends until a 2xx (or the retries or the deadline run out). Returns
    (connection, status, answer body) with status None when it gave up."""
    for attempt in range(args.retries):
        if time.monotonic() - t0 > args.deadline:
            break  # the agent is gone for good: report what was acked
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
            conn.request("POST", args.path, b, {"X-Omega-Signature": sig, "Content-Type": "application/json"})
            r = conn.getresponse()
            answer = r.read()
            with lock:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            if 200 <= r.status < 300:
                return conn, r.status, answer
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            with lock:
                errors["timeout" if isinstance(e, socket.timeout) else "connection"] += 1
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.02 * min(attempt + 1, 10))  # a vendor's retry back-off
    return conn, None, b""


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
        conn, status, _ = send(conn, b, sig)
        if status is None:
            continue
        with lock:
            acked.append(n)
        if args.resend_every and (n - args.start) % args.resend_every == args.resend_every - 1:
            conn, status, answer = send(conn, b, sig)
            with lock:
                resent["resent"] += 1
                if status == 200 and b'"duplicate"' in answer:
                    resent["resent_duplicate"] += 1
                elif status is not None:
                    resent["resent_accepted"] += 1


threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(args.acked, "w") as f:
    f.write("".join("%d\n" % n for n in sorted(acked)))
if args.keys:
    with open(args.keys, "w") as f:
        f.write("".join(idempotency_key(n) + "\n" for n in sorted(acked)))
out = {"acked": len(acked), "statuses": statuses, "errors": errors}
if args.resend_every:
    out.update(resent)
print(json.dumps(out))
