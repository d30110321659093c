#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes a corpus of signed HTTP requests for tests/bench: the accepted
# fixtures, each copy with its own id so dedup never turns one into a 200.
# Signatures come from Python's hmac module, independent of hookfwd; the
# script first checks that it reproduces every fixture's published
# signature, so a corpus it writes is signed the way the fixtures are.
#
#   gen_requests.py --fixtures DIR --count N --out FILE [--bad-every K] [--host H]
#
# --bad-every K: every K-th request carries a wrong signature (one hex digit
# changed), K=1 makes them all bad. Output: for each request, its length in
# decimal and "\n", then the raw HTTP/1.1 request bytes (read by post.lua
# and hf_loadgen).

import argparse
import hashlib
import hmac
import sys

SECRETS = {"omega": b"whsec_your_signing_secret", "sentinelayer": b"sl_live_3f9a2c71d04e"}

# The quoted value made unique in each copy: the idempotency key where the
# fixture has one, otherwise a string that the MAC-derived key then covers.
UNIQUE = {
    "omega/decision.escalated.json": '"dec_abc123"',
    "omega/decision.blocked.json": '"dec_b7720f"',
    "omega/decision.allowed.json": '"dec_a1000"',
    "omega/fuzz.finding.json": '"fz_9912"',
    "omega/quota.warning.json": '"org_42"',
    "omega/calibration.drift.json": '"risk-v3"',
    "omega/decision.escalated.embedded.json": '"dec_abc123"',
    "sentinelayer/scan.completed.json": '"run-20260223-001"',
    "sentinelayer/scan.failed.json": '"run-20260223-002"',
    "sentinelayer/scan.blocked.json": '"run-20260223-003"',
    "sentinelayer/scan.skipped.json": '"run-20260223-004"',
    "sentinelayer/scan.completed.pretty.json": '"run-20260223-001"',
}
EMBEDDED_MEMBER = b',"signature":"'


def mac(source, body):
    return hmac.new(SECRETS[source], body, hashlib.sha256).hexdigest()


def load_templates(fixtures):
    """(file, source, header, prefix, body_bytes) for each accepted fixture."""
    out = []
    with open(f"{fixtures}/signatures.tsv", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for file, source, header, value, _key, expect in rows:
        if expect != "accept":
            continue
        if file not in UNIQUE:
            sys.exit(f"gen_requests.py: no uniqueness rule for fixture {file}")
        with open(f"{fixtures}/{file}", "rb") as f:
            body = f.read()
        if header == "-":
            # embedded: the signature covers the body without the member
            cut = body.rindex(EMBEDDED_MEMBER)
            plain = body[:cut] + b"}"
            want = body[cut + len(EMBEDDED_MEMBER):].split(b'"')[0].decode()
            if want != "sha256=" + mac(source, plain):
                sys.exit(f"gen_requests.py: cannot reproduce the embedded signature of {file}")
            out.append((file, source, None, "sha256=", plain))
            continue
        prefix = "sha256=" if value.startswith("sha256=") else ""
        if value != prefix + mac(source, body):
            sys.exit(f"gen_requests.py: cannot reproduce the signature of {file}")
        out.append((file, source, header, prefix, body))
    return out


def corrupt(hexsig):
    return ("0" if hexsig[0] != "0" else "1") + hexsig[1:]


def make_request(tpl, n, bad, host):
    file, source, header, prefix, body = tpl
    old = UNIQUE[file].encode()
    if body.count(old) != 1:
        sys.exit(f"gen_requests.py: {old!r} is not unique in {file}")
    body = body.replace(old, old[:-1] + b"-%07d\"" % n)
    sig = mac(source, body)
    if bad:
        sig = corrupt(sig)
    hdrs = [f"POST /webhooks/{source} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
            "User-Agent: hookfwd-bench"]
    if header is None:
        body = body[:-1] + EMBEDDED_MEMBER + f"{prefix}{sig}".encode() + b'"}'
    else:
        hdrs.append(f"{header}: {prefix}{sig}")
    hdrs.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(hdrs) + "\r\n\r\n").encode() + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--count", type=int, default=300000)
    ap.add_argument("--bad-every", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tpls = load_templates(a.fixtures)
    with open(a.out, "wb") as f:
        for n in range(a.count):
            bad = a.bad_every > 0 and n % a.bad_every == a.bad_every - 1
            req = make_request(tpls[n % len(tpls)], n, bad, a.host)
            f.write(b"%d\n" % len(req))
            f.write(req)
    print(f"{a.count} requests from {len(tpls)} fixtures written to {a.out}")


if __name__ == "__main__":
    main()
