#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the seed corpora in corpus/<target>/ from the fixtures and
the example configurations. The seeds are committed; run this only when the
fixtures or the input layout of a target change:
    python3 tests/fuzz/make_seeds.py [FIXTURES_DIR]"""
import base64, hashlib, hmac, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
FIX = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "tests", "fixtures")
WH_SECRET = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
NOW = 1700000000


def fixtures():
    rows = []
    with open(os.path.join(FIX, "signatures.tsv")) as f:
        next(f)
        for line in f:
            file, source, header, value, _key, expect = line.rstrip("\n").split("\t")
            body = open(os.path.join(FIX, file), "rb").read()
            rows.append((file, source, header, value, expect, body))
    return rows


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def std_sig(msg_id, ts, body):
    mac = hmac.new(WH_SECRET, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def request(path, body, headers, chunked=False):
    h = [f"POST {path} HTTP/1.1", "Host: hookfwd", "Content-Type: application/json"]
    h += [f"{k}: {v}" for k, v in headers]
    if chunked:
        h.append("Transfer-Encoding: chunked")
        mid = len(body) // 2
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:mid], body[mid:]) if p) + b"0\r\n\r\n"
    else:
        h.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(h) + "\r\n\r\n").encode() + payload


def main():
    # regenerate the seeds, keep the regress-* reproducers of fixed bugs
    for t in ("fuzz_http", "fuzz_verify", "fuzz_flatten", "fuzz_config", "fuzz_encoders"):
        d = os.path.join(HERE, "corpus", t)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if not f.startswith("regress-"):
                os.remove(os.path.join(d, f))
    rows = fixtures()
    other = b'{"type":"x.created","id":"evt_1","ts":"2026-01-14T12:00:00Z","data":{"id":"d1","n":3},"value":0.5,"kind":"a","a":{"b":{"c":"deep"}}}'
    for i, (file, source, header, value, expect, body) in enumerate(rows):
        stem = file.replace("/", "_").replace(".json", "")
        hdrs = [] if header == "-" else [(header, value)]
        put("fuzz_http", stem, request(f"/webhooks/{source}", body, hdrs))
        sel = 0 if source == "omega" else 1
        if header == "-":
            sel = 3
        put("fuzz_verify", stem, bytes([sel]) + (value if header != "-" else "").encode() + b"\0\0\0" + body)
        put("fuzz_verify", stem + ".signed", bytes([sel | 4 | (i % 4) << 3]) + b"\0\0\0" + body)
        put("fuzz_flatten", stem, bytes([sel % 3]) + body)
        # encoders: a few variants per body (format, header, limit bits)
        for k in range(3):
            put("fuzz_encoders", f"{stem}.{k}", bytes([sel % 3, (i * 37 + k * 91) & 0xff, (i * 11 + k * 5) & 0xff]) + body)
    omega = dict((r[0], r) for r in rows)["omega/decision.escalated.json"]
    put("fuzz_http", "chunked", request("/webhooks/omega", omega[5], [(omega[2], omega[3])], chunked=True))
    put("fuzz_http", "pipelined", request("/webhooks/omega", omega[5], [(omega[2], omega[3])]) +
        request("/webhooks/omega", b"{}", [("Connection", "close")]))
    put("fuzz_http", "expect", request("/webhooks/sentinelayer", b'{"event":"scan.completed"}',
                                       [("Expect", "100-continue"), ("X-Sentinelayer-Signature", "00" * 32)]))
    put("fuzz_http", "get", b"GET /webhooks/omega?x=1 HTTP/1.0\r\n\r\n")
    # strict framing (INTERFACE.md): shapes llhttp or hookfwd refuse, beside
    # well-framed ones, so the fuzzer starts at the edges
    put("fuzz_http", "framing-chunk-ext-trailer",
        b'POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a="b"\r\n{}\r\n0\r\n'
        b"X-T: 1\r\n\r\nPOST /webhooks/omega HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    put("fuzz_http", "framing-no-host-10-te",
        b"POST /webhooks/omega HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    put("fuzz_http", "framing-obs-fold",
        b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\n{}")
    put("fuzz_http", "framing-te-cl", b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    # a chunk extension with an empty name, and one with an empty value
    # (llhttp lets both through; hookfwd refuses them), each followed by a
    # well-framed request with a quoted-string "" value, which is valid
    for name, ext in (("framing-chunk-ext-empty-name", b"7;="), ("framing-chunk-ext-empty-value", b"7;foo=")):
        put("fuzz_http", name, b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + ext +
            b'\r\n{"a":1}\r\n0\r\n\r\nPOST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'7;foo=""\r\n{"a":1}\r\n0\r\n\r\n')
    sig = std_sig("msg_1", NOW, other)
    put("fuzz_http", "standard", request("/webhooks/other", other,
                                         [("webhook-id", "msg_1"), ("webhook-timestamp", str(NOW)), ("webhook-signature", sig)]))
    put("fuzz_verify", "standard", b"\x02" + sig.encode() + b"\0msg_1\0" + str(NOW).encode() + b"\0" + other)
    put("fuzz_verify", "standard.signed", b"\x06\0msg_2\0" + str(NOW + 10).encode() + b"\0" + other)
    put("fuzz_verify", "standard.stale", b"\x02" + sig.encode() + b"\0msg_1\0" + str(NOW - 301).encode() + b"\0" + other)
    put("fuzz_flatten", "other", b"\x02" + other)
    put("fuzz_flatten", "other.webhook_id", b"\x12" + other)
    for k in range(4):
        put("fuzz_encoders", f"other.{k}", bytes([2, k * 73 & 0xff, k * 29 + 3]) + other)
    put("fuzz_encoders", "escapes", b"\x02\x01\x03" + '{"type":"a|b=c\\\\d]e\\"f^g\\nh","id":"x y=z","msg":"|=\\\\]^\\r\\n\\u0000","k":"\u00e7\u00f8d\u00e9"}'.encode())
    put("fuzz_flatten", "arrays", b'\x02{"type":"x.y","a":[1,"2",true,null,1.5e3],"b":[{"c":1},{"d":[{"e":2}]}],"camelCase":{"innerKey":1}}')
    for f in sorted(os.listdir(os.path.join(SRC, "config", "examples"))):
        put("fuzz_config", f, open(os.path.join(SRC, "config", "examples", f), "rb").read())
    put("fuzz_config", "hookfwd.yaml", open(os.path.join(SRC, "config", "hookfwd.yaml"), "rb").read())
    put("fuzz_config", "anchors.yaml", b"a: &x [1, 2]\nb: *x\nsources: []\nsinks: []\n")
    put("fuzz_config", "standard.yaml", b"""sources:
  - name: other
    path: /webhooks/other
    event_field: type
    signature: {scheme: standard-webhooks, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], tolerance: 5m}
    severity_map: {"a.*": high}
metrics:
  - {name: m, type: gauge, value: v, tags: [k=v.w]}
sinks:
  - {name: s, type: stdout, filter: {match: {x: {in: [a]}, y: {gt: 1}}}}
""")


main()
