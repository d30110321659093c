#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile clients for test_hostile.sh, all against 127.0.0.1 and all
stopping by themselves:

  slowloris PORT N SECONDS READY_FILE   N connections dribbling header bytes
  good PORT SECONDS                     signed requests, one connection each; latency
  maxconn PORT N                        N idle connections at once; counts 503s
  nested PORT PID                       500,000 nested arrays: 401 time and VmRSS
  dribble PORT PID                      900 KB of 1-byte chunks in small writes: agent CPU
  corpus PORT PID FIXTURES N            N malformed requests; the three numbers
  replay PORT                           Standard Webhooks tolerance and dedup
  framing PORT                          strict HTTP/1.1 framing: each malformed shape, signed

Each prints one JSON object on its last line. Signatures are computed here
with Python's hmac, independently of the agent; `signed()` is the oracle
that decides whether an accepted request really carried a valid signature.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import statistics
import sys
import time

SECRETS = {"omega": [b"whsec_your_signing_secret"], "sentinelayer": [b"sl_live_3f9a2c71d04e"],
           "other": [base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]}
SIG_HEADER = {"omega": "X-Omega-Signature", "sentinelayer": "X-Sentinelayer-Signature"}
PATHS = {"/webhooks/omega": "omega", "/webhooks/sentinelayer": "sentinelayer", "/webhooks/other": "other"}
READ_TIMEOUT = 2.0  # the agent's listen.read_timeout in the test's config


# ---- signing (independent of the agent) ----

def mac(source, data, k=0):
    return hmac.new(SECRETS[source][k], data, hashlib.sha256).digest()


def sign_header(source, body):
    return SIG_HEADER[source], "sha256=" + mac(source, body).hex()


def sign_standard(body, msg_id, ts):
    sig = base64.b64encode(mac("other", f"{msg_id}.{ts}.".encode() + body)).decode()
    return [("webhook-id", msg_id), ("webhook-timestamp", str(ts)), ("webhook-signature", "v1," + sig)]


def request(path, body, headers, method="POST", version="HTTP/1.1", cl=None):
    lines = [f"{method} {path} {version}".encode(), b"Host: 127.0.0.1"]
    for k, v in headers:
        lines.append(k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()))
    if cl is not False:
        lines.append(b"Content-Length: " + str(len(body) if cl is None else cl).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# ---- the oracle: was this request validly signed? ----

def decodes_to(sig, want):
    """sig names the MAC `want` in any spelling the agent may accept."""
    s = sig.strip(" \t\r\n\v\f")
    if len(s) > 7 and s[:7].lower() == "sha256=":
        s = s[7:]
    if len(s) == 64:
        try:
            return bytes.fromhex(s) == want
        except ValueError:
            return False
    s = s.rstrip("=").replace("-", "+").replace("_", "/")
    if not re.fullmatch(r"[A-Za-z0-9+/]*", s):
        return False
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4))[:33] == want
    except ValueError:
        return False


def embedded_ok(source, body):
    for m in re.finditer(rb'"signature"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\]|\\.)*)"', body):
        i, end = m.start(), m.end()
        cuts = []
        b = i
        while b > 0 and body[b - 1:b] in (b" ", b"\t", b"\r", b"\n"):
            b -= 1
        if b > 0 and body[b - 1:b] == b",":
            cuts.append((b - 1, end))
        a = end
        while a < len(body) and body[a:a + 1] in (b" ", b"\t", b"\r", b"\n"):
            a += 1
        if a < len(body) and body[a:a + 1] == b",":
            a += 1
            while a < len(body) and body[a:a + 1] in (b" ", b"\t", b"\r", b"\n"):
                a += 1
        cuts.append((i, a))
        sig = m.group(1).decode("latin-1")
        for lo, hi in cuts:
            for k in range(len(SECRETS[source])):
                if decodes_to(sig, mac(source, body[:lo] + body[hi:], k)):
                    return True
    return False


def signed(source, headers, body):
    """headers: list of (lowercase name, value str) as the agent saw them."""
    def first(name):
        for k, v in headers:
            if k == name:
                return v
        return None
    if source == "other":
        mid, ts, sig = first("webhook-id"), first("webhook-timestamp"), first("webhook-signature")
        if mid is None or ts is None or sig is None:
            return False
        want = mac("other", f"{mid}.{ts}.".encode("latin-1") + body)
        return any(e.startswith("v1,") and decodes_to(e[3:], want) for e in sig.split(" "))
    h = first(SIG_HEADER[source].lower())
    if h is not None and any(decodes_to(h, mac(source, body, k)) for k in range(len(SECRETS[source]))):
        return True
    return source == "omega" and embedded_ok(source, body)


def parse_requests(raw):
    """Splits raw bytes into requests as leniently as the agent could:
    [(source or None, headers, body)]; stops at the first it cannot frame."""
    out = []
    while raw:
        # RFC 9112 2.2: empty lines before a request-line are ignored
        raw = raw.lstrip(b"\r\n")
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            break
        head, rest = raw[:end].decode("latin-1"), raw[end + 4:]
        lines = head.replace("\r\n", "\n").split("\n")
        parts = lines[0].split(" ")
        if len(parts) < 3:
            break
        path = parts[1].split("\x00")[0].split("?")[0]
        # RFC 9112 3.2.2: the absolute-form is routed on its path
        m = re.fullmatch(r"(?i)https?://[^/@]+(/.*)?", path)
        if m:
            path = m.group(1) or "/"
        headers, cl, chunked = [], 0, False
        for ln in lines[1:]:
            ln = ln.rstrip("\r")
            if ":" not in ln:
                continue
            k, v = ln.split(":", 1)
            v = v.split("\x00")[0].strip(" \t")
            headers.append((k.lower(), v))
            if k.lower() == "content-length":
                m = re.fullmatch(r"\s*[+-]?\d+", v)
                if m:
                    cl = int(v)
            elif k.lower() == "transfer-encoding":
                chunked = True
        if chunked:
            body, i = b"", 0
            ok = False
            while True:
                nl = rest.find(b"\n", i)
                if nl < 0:
                    break
                try:
                    size = int(rest[i:nl].split(b";")[0].strip(), 16)
                except ValueError:
                    break
                i = nl + 1
                if size == 0:
                    t = rest.find(b"\r\n\r\n", i - 2)
                    rest = rest[t + 4:] if t >= 0 else b""
                    ok = True
                    break
                body += rest[i:i + size]
                i += size + 2
            if not ok:
                out.append((PATHS.get(path), headers, body))
                break
        else:
            if cl < 0:
                break
            body, rest = rest[:cl], rest[cl:]
        out.append((PATHS.get(path), headers, body))
        raw = rest
    return out


def legit_count(raw):
    n = 0
    for src, headers, body in parse_requests(raw):
        if src and signed(src, headers, body):
            n += 1
    return n


# ---- async HTTP client pieces ----

async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    m = re.search(rb"\r\nContent-Length: (\d+)", head)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, body


async def exchange(port, payload, expect=1, timeout=READ_TIMEOUT + 3):
    """Sends payload on a fresh connection; returns the statuses read (up to
    `expect` final answers, or until the agent closes)."""
    statuses = []
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        writer.write(payload)
        try:
            await writer.drain()
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while len([s for s in statuses if s != 100]) < expect:
            left = deadline - time.monotonic()
            if left <= 0:
                statuses.append("timeout")
                break
            try:
                st, _ = await asyncio.wait_for(read_response(reader), left)
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
                break
            except asyncio.TimeoutError:
                statuses.append("timeout")
                break
            statuses.append(st)
    finally:
        writer.transport.abort()
    return statuses


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return not re.search(r"^State:\s+Z", f.read(), re.M)
    except OSError:
        return False


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


# ---- slowloris ----

async def slowloris(port, n, seconds, ready_file):
    stats = {"connects": 0, "answered": {}, "refused": 0, "open_now": 0, "open_min": None, "open_max": 0}
    samples = []
    deadline = time.monotonic() + seconds
    ramped = asyncio.Event()

    async def one(i):
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                stats["refused"] += 1
                await asyncio.sleep(0.2)
                continue
            stats["connects"] += 1
            stats["open_now"] += 1
            if stats["open_now"] >= n:
                ramped.set()
            try:
                writer.write(b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                while time.monotonic() < deadline:
                    # one byte, then wait: each byte would reset a naive per-read timeout
                    try:
                        line = await asyncio.wait_for(reader.readline(), 1.5 + random.random())
                    except asyncio.TimeoutError:
                        writer.write(b"a")
                        continue
                    if line.startswith(b"HTTP/1.1 "):
                        code = line[9:12].decode()
                        stats["answered"][code] = stats["answered"].get(code, 0) + 1
                    break  # answered or closed: come back, as an attacker would
            except OSError:
                pass
            finally:
                stats["open_now"] -= 1
                writer.transport.abort()

    async def sample():
        await ramped.wait()
        with open(ready_file, "w") as f:
            f.write("ready\n")
        while time.monotonic() < deadline - 0.5:
            o = stats["open_now"]
            stats["open_min"] = o if stats["open_min"] is None else min(stats["open_min"], o)
            stats["open_max"] = max(stats["open_max"], o)
            samples.append(o)
            await asyncio.sleep(0.1)

    await asyncio.gather(sample(), *(one(i) for i in range(n)))
    del stats["open_now"]
    stats["open_avg"] = round(sum(samples) / max(1, len(samples)))
    return stats


# ---- a good sender ----

def good(port, seconds):
    lat, codes = [], {}
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        body = json.dumps({"event": "decision.allowed", "decision": {"id": f"good-{os.getpid()}-{n}-{time.time_ns()}",
                                                                     "outcome": "ALLOW", "riskScore": 0.1}}).encode()
        payload = request("/webhooks/omega", body, [sign_header("omega", body), ("Connection", "close")])
        t0 = time.monotonic()
        status = None
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(payload)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 "):
                    status = int(data[9:12])
        except OSError:
            status = "error"
        lat.append((time.monotonic() - t0) * 1000)
        codes[str(status)] = codes.get(str(status), 0) + 1
    lat.sort()
    return {"requests": n, "codes": codes, "ms_p50": round(statistics.median(lat), 1),
            "ms_p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1), "ms_max": round(lat[-1], 1)}


# ---- the connection cap ----

async def maxconn(port, n):
    conns = []
    for _ in range(n):
        try:
            conns.append(await asyncio.open_connection("127.0.0.1", port))
        except OSError:
            conns.append(None)
    busy = 0
    closed_silently = 0

    async def look(c):
        nonlocal busy, closed_silently
        if c is None:
            return
        try:
            line = await asyncio.wait_for(c[0].readline(), 1.0)
            if line.startswith(b"HTTP/1.1 503"):
                busy += 1
            elif not line:
                closed_silently += 1
        except (asyncio.TimeoutError, OSError):
            pass

    await asyncio.gather(*(look(c) for c in conns))
    for c in conns:
        if c:
            c[1].transport.abort()
    return {"opened": sum(1 for c in conns if c), "answered_503": busy, "closed_without_answer": closed_silently}


# ---- 500,000 nested arrays ----

def nested(port, pid):
    deep = b"[" * 500000 + b"]" * 500000
    in_object = b'{"event":"decision.allowed","d":' + deep + b"}"
    cases = [("unsigned", deep, []), ("wrong signature", deep, [("X-Omega-Signature", "sha256=" + "0" * 64)]),
             ("unsigned, inside an object", in_object, [])]

    def post(body, headers):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(request("/webhooks/omega", body, headers + [("Connection", "close")]))
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return int(data[9:12]), data.split(b"\r\n\r\n", 1)[1].decode(), (time.monotonic() - t0) * 1000

    for _ in range(4):  # warm the allocator of each ingest thread first
        post(deep, [])
    rss0 = vmrss_kib(pid)
    res = {"rss_before_kib": rss0, "cases": []}
    for name, body, headers in cases:
        for _ in range(10):
            st, answer, ms = post(body, headers)
        res["cases"].append({"case": name, "bytes": len(body), "status": st, "answer": answer, "ms_last": round(ms, 1)})
    res["rss_after_kib"] = vmrss_kib(pid)
    body = b'{"event":"decision.allowed","d":' + deep + b"}"
    st, answer, ms = post(body, [sign_header("omega", body)])
    res["signed"] = {"status": st, "answer": answer, "ms": round(ms, 1)}
    res["rss_after_signed_kib"] = vmrss_kib(pid)
    return res


# ---- a chunked body dribbled in 1-byte chunks ----

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dribble(port, pid):
    """Each read of a chunked body must cost the agent only the new bytes:
    480 KB of 1-byte chunks in 240-byte writes, inside the 2 s deadline."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"POST /webhooks/omega HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"1\r\nX\r\n" * 40
        for _ in range(480_000 // len(piece)):
            s.sendall(piece)
            time.sleep(0.0004)
        s.sendall(b"0\r\n\r\n")
        status = int(s.recv(64)[9:12])
    return {"status": status, "wall_s": round(time.monotonic() - t0, 2), "agent_cpu_s": round(cpu_seconds(pid) - c0, 2)}


# ---- the hostile corpus ----

def fixtures(fixdir):
    out = []
    with open(os.path.join(fixdir, "signatures.tsv")) as f:
        next(f)
        for line in f:
            file, source, header, value, _key, expect = line.rstrip("\n").split("\t")
            body = open(os.path.join(fixdir, file), "rb").read()
            hdrs = [] if header == "-" else [(header, value)]
            out.append((source, hdrs, body, expect == "accept"))
    return out


def flip(data, rnd, bits=None):
    b = bytearray(data)
    for _ in range(bits or rnd.randint(1, 3)):
        i = rnd.randrange(len(b))
        b[i] ^= 1 << rnd.randrange(8)
    return bytes(b)


def gen_corpus(fixdir, n, seed=11):
    """Yields (category, payload, expected answers). Deterministic."""
    rnd = random.Random(seed)
    fx = fixtures(fixdir)
    good = [f for f in fx if f[3]]
    now = int(time.time())

    def fixture_req(f, body=None, headers=None, **kw):
        src, hdrs, b, _ = f
        return request(f"/webhooks/{src}", b if body is None else body, hdrs if headers is None else headers, **kw)

    def signed_req(src, body):
        if src == "other":
            return request("/webhooks/other", body, sign_standard(body, f"msg_{rnd.getrandbits(48)}", now))
        return request(f"/webhooks/{src}", body, [sign_header(src, body)])

    def unsigned_req(src, body):
        return request(f"/webhooks/{src}", body, [(SIG_HEADER.get(src, "webhook-signature"),
                                                   "sha256=" + os.urandom(32).hex())])

    def odd_bodies():
        ev = rnd.choice(['"event":"decision.allowed"', '"event_type":"scan.completed"', '"type":"x.y","id":"i"'])
        num = rnd.choice(["1e999999", "-1e-999999", "123456789012345678901234567890", "-0", "0e0", "1.7976931348623157e309",
                          "NaN", "Infinity", "-Infinity", "0x10", "01", "1.", ".5", "+1", "9" * 400])
        bad = rnd.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80", b"\xfe\xfe"])
        key = rnd.choice(["a", "decision", "event", "run_id", "type", "id"])
        return rnd.choice([
            ("absurd number", ("{" + ev + ',"n":' + num + "}").encode()),
            ("invalid UTF-8", b"{" + ev.encode() + b',"s":"x' + bad + b'y"}'),
            ("invalid UTF-8 key", b"{" + ev.encode() + b',"' + bad + b'":1}'),
            ("duplicated keys", ("{" + ev + f',"{key}":1,"{key}":{{"a":2}},"{key}":[3]' + "}").encode()),
            ("duplicated keys", ("{" + ev + "," + ev + "}").encode()),
            ("deep nesting", ("{" + ev + ',"d":' + "[" * rnd.randint(60, 3000) + "]" * rnd.randint(0, 3000) + "}").encode()),
            ("huge string", ("{" + ev + ',"s":"' + "A" * rnd.randint(1000, 60000) + '"}').encode()),
            ("many keys", ("{" + ev + "," + ",".join(f'"k{i}":{i}' for i in range(rnd.randint(100, 6000))) + "}").encode()),
            ("not an object", rnd.choice([b"[]", b'"x"', b"1", b"null", b"", b" ", b"{", b"}"])),
            ("control bytes", b"{" + ev.encode() + b',"s":"a\x00b\x01c"}'),
            ("trailing data", ("{" + ev + "} {}").encode()),
        ])

    def chunked(body, sizes=None):
        parts, i = [], 0
        while i < len(body):
            k = rnd.randint(1, max(1, len(body) // 3))
            parts.append(body[i:i + k])
            i += k
        return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"

    cats = []

    def add(cat, payload, expect=1):
        cats.append((cat, payload, expect))

    # controls: untouched fixtures with their own signatures (may be accepted)
    for f in fx:
        add("fixture as signed", fixture_req(f))
    while len(cats) < n:
        f = rnd.choice(fx)
        src, hdrs, body, _ = f
        kind = rnd.randrange(16)
        if kind == 0:  # truncated body, original signature, honest length
            cut = rnd.randrange(len(body))
            add("truncation", fixture_req(f, body=body[:cut]))
        elif kind == 1:  # truncated body, Content-Length still the original: the read deadline answers
            if rnd.random() < 0.05:
                add("truncation, short of Content-Length", fixture_req(f, body=body[:rnd.randrange(len(body))], cl=len(body)))
            else:
                add("truncation", fixture_req(f, body=body[: len(body) - rnd.randint(1, 20)]))
        elif kind in (2, 3):  # bit flips of the body, original signature
            add("body bit flip", fixture_req(f, body=flip(body, rnd)))
        elif kind == 4:  # bit flips of the signature value
            if hdrs:
                add("signature bit flip", fixture_req(f, headers=[(hdrs[0][0], flip(hdrs[0][1].encode(), rnd))]))
            else:
                i = body.find(b'"signature":"') + 13
                b = bytearray(body)
                b[i + rnd.randrange(71)] ^= 1 << rnd.randrange(8)
                add("embedded signature bit flip", fixture_req(f, body=bytes(b)))
        elif kind == 5:  # bit flips anywhere in the raw request
            add("raw request bit flip", flip(fixture_req(f), rnd, rnd.randint(1, 6)))
        elif kind == 6:  # wrong signatures
            other = rnd.choice(good)
            name = SIG_HEADER.get(src, "X-Omega-Signature")
            val = rnd.choice(["", "sha256=", "sha256=" + "0" * 64, "sha256=" + os.urandom(32).hex(),
                              "sha256=" + os.urandom(31).hex(), "sha256=" + os.urandom(33).hex(),
                              base64.b64encode(os.urandom(32)).decode(), "x" * rnd.randint(1, 6000),
                              other[1][0][1] if other[1] else "sha256=00", "sha256=" + "g" * 64, "sha256 =" + "0" * 64,
                              "md5=" + os.urandom(16).hex()])
            hdr = [(name, val)]
            if hdrs and rnd.random() < 0.3:  # a wrong one first, the right one second: the first counts
                hdr = [(name, val)] + hdrs
            add("wrong signature", fixture_req(f, headers=hdr))
        elif kind == 7:  # hostile JSON, unsigned, and signed so it reaches the parser
            cat, b = odd_bodies()
            target = rnd.choice(["omega", "sentinelayer", "other"])
            if rnd.random() < 0.25:
                add(cat + " (signed)", signed_req(target, b))
            else:
                add(cat, unsigned_req(target, b))
        elif kind == 8:  # CR and LF in headers
            name = hdrs[0][0] if hdrs else "X-Omega-Signature"
            val = hdrs[0][1] if hdrs else "sha256=" + "0" * 64
            hv = rnd.choice([
                [(name, val + "\rX-Injected: 1")], [(name, val + "\nX-Injected: 1")],
                [(name, "\r\n" + val)], [(name, val), (" folded", "continuation")], [(name, val + "\x00junk")],
                [("X-A\rB", "1")] + hdrs, [("X A", "1")] + hdrs, [("X-A", "1\r")] + hdrs, [("", "empty name")] + hdrs,
                [("X-A", "\x7f\x01")] + hdrs, [(name + " ", val)], [("X-Omega-Signature\r\nX-Omega-Signature", val)],
                [("Content-Length", "5\r\nContent-Length: 6")] + hdrs,
            ])
            add("CR/LF in headers", fixture_req(f, headers=hv))
        elif kind == 9:  # oversized header blocks
            if rnd.random() < 0.5:
                add("oversized header", fixture_req(f, headers=hdrs + [("X-Big", "b" * rnd.randint(9000, 40000))]))
            else:
                add("too many headers", fixture_req(f, headers=[(f"X-{i}", "v") for i in range(rnd.randint(101, 400))] + hdrs))
        elif kind == 10:  # bad Content-Length
            cl = rnd.choice(["-1", "-0", "+%d" % len(body), " %d" % len(body), "%d %d" % (len(body), len(body)), "0x10",
                             "1e3", "99999999999999999999", "9223372036854775807", "9223372036854775808",
                             "18446744073709551617", "", "abc", str(len(body) + 1)])
            extra = rnd.choice([[], [("Content-Length", str(len(body)))], [("Transfer-Encoding", "chunked")]])
            add("bad Content-Length", fixture_req(f, headers=hdrs + [("Content-Length", cl)] + extra, cl=False))
        elif kind == 11:  # bad chunked bodies
            good_chunks = chunked(body)
            bad = rnd.choice([
                b"ffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n", b"1\r\na\r\nffffffffffffffff\r\nxxxx\r\n0\r\n\r\n",
                b"1\r\na\r\nfffffffffffffffe\r\nxx\r\n0\r\n\r\n", b"-1\r\nx\r\n0\r\n\r\n", b"0x10\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n",
                b" 5\r\naaaaa\r\n0\r\n\r\n", b"+5\r\naaaaa\r\n0\r\n\r\n", b"zz\r\n", b"5\r\naaaaaaaaaa\r\n0\r\n\r\n",
                b"5\r\naaa\r\n0\r\n\r\n", b"5;ext=1\r\naaaaa\r\n0\r\nTrailer: x\r\n\r\n", b"5\naaaaa\n0\n\n",
                b"%x\r\n" % (1 << 40) + b"a\r\n", b"1" * 70 + b"\r\n", good_chunks[:-5], good_chunks + b"garbage",
                flip(good_chunks, rnd),
            ])
            te = rnd.choice(["chunked", "chunked", "gzip", "chunked, chunked", "identity", "Chunked"])
            add("bad chunked body", fixture_req(f, body=bad, headers=hdrs + [("Transfer-Encoding", te)], cl=False))
        elif kind == 12:  # pipelined requests and garbage
            reqs = [fixture_req(rnd.choice(fx)) for _ in range(rnd.randint(1, 4))]
            garbage = rnd.choice([os.urandom(rnd.randint(1, 200)), b"\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                                  b"POST /webhooks/omega HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
                                  flip(reqs[0], rnd), reqs[0][: rnd.randrange(len(reqs[0]))]])
            pos = rnd.randrange(len(reqs) + 1)
            seq = reqs[:pos] + [garbage] + reqs[pos:]
            add("pipelined with garbage", b"".join(seq), expect=len(seq))
        elif kind == 13:  # random bytes and request-line oddities
            add("odd request line", rnd.choice([
                os.urandom(rnd.randint(1, 3000)),
                fixture_req(f).replace(b"POST", rnd.choice([b"GET", b"PUT", b"post", b"POST POST", b"", b"\x00"]), 1),
                fixture_req(f).replace(b"HTTP/1.1", rnd.choice([b"HTTP/2.0", b"HTTP/1.2", b"HTTP/1", b"http/1.1", b"HTTP/1.1 x", b""]), 1),
                fixture_req(f).replace(b"/webhooks/", rnd.choice([b"/webhooks//", b"http://x/webhooks/", b"*", b"/%77ebhooks/",
                                                                   b"/webhooks/../webhooks/", b"/" * 5000]), 1),
            ]))
        elif kind == 14:  # Standard Webhooks: stale, future, malformed
            body = b'{"type":"x.y","id":"evt_%d"}' % rnd.getrandbits(32)
            mid = f"msg_{rnd.getrandbits(40)}"
            ts = rnd.choice([now - 301, now + 301, now - 86400, 0, -1, 2 ** 63 - 1, -(2 ** 63), 10 ** 30])
            hdr = sign_standard(body, mid, ts)
            v = rnd.randrange(6)
            if v == 1:
                hdr = [h for h in hdr if h[0] != rnd.choice(["webhook-id", "webhook-timestamp", "webhook-signature"])]
            elif v == 2:
                hdr = sign_standard(body, mid, now)
                hdr[1] = ("webhook-timestamp", rnd.choice([" %d" % now, "%d.0" % now, "0x10", "", "%d" % (now + 1)]))
            elif v == 3:
                hdr = sign_standard(body, mid, now)
                hdr[2] = ("webhook-signature", rnd.choice(["v2," + hdr[2][1][3:], "v1," + "A" * 44, "v1,", "v1a," + hdr[2][1][3:],
                                                          " ".join(["v1,xyz"] * 200), hdr[2][1][:-2]]))
            elif v == 4:
                hdr = sign_standard(body, mid, now)
                body = body.replace(b"x.y", b"x.z")
            add("standard webhooks", request("/webhooks/other", body, hdr))
        else:  # bodies past max_body, and headers promising one
            if rnd.random() < 0.5:
                add("body over max_body", fixture_req(f, headers=hdrs, body=b"x" * 100, cl=rnd.choice([2 * 1024 * 1024 + 1, 10 ** 12])))
            else:
                add("CR/LF in body", fixture_req(f, body=body.replace(b",", b",\r\n\r\n", 1)))
    return cats


async def corpus(port, pid, fixdir, n):
    cases = gen_corpus(fixdir, n)
    sem = asyncio.Semaphore(48)
    res = {"requests": len(cases), "crashes": 0, "unsigned_accepted": 0, "accepted_202": 0, "statuses": {},
           "by_category": {}, "violations": [], "signed_malformed_accepted": 0}
    stop = False

    async def run(cat, payload, expect):
        nonlocal stop
        async with sem:
            if stop:
                return
            statuses = await exchange(port, payload, expect)
            if statuses is None:
                if not alive(pid):
                    # one death; the request that killed it is among those in flight
                    stop = True
                    res["crashes"] = 1
                    res["violations"].append({"in_flight_at_crash": cat, "payload": payload[:300].decode("latin-1")})
                return
        ok2xx = [s for s in statuses if isinstance(s, int) and 200 <= s < 300]
        res["accepted_202"] += sum(1 for s in statuses if s == 202)
        for s in statuses:
            res["statuses"][str(s)] = res["statuses"].get(str(s), 0) + 1
        c = res["by_category"].setdefault(cat, {})
        for s in statuses or ["closed"]:
            c[str(s)] = c.get(str(s), 0) + 1
        if ok2xx:
            legit = legit_count(payload)
            if len(ok2xx) > legit:
                res["unsigned_accepted"] += len(ok2xx) - legit
                res["violations"].append({"category": cat, "statuses": statuses, "payload": payload[:400].decode("latin-1")})
            if cat.startswith("invalid UTF-8") and "(signed)" in cat:
                res["signed_malformed_accepted"] += len(ok2xx)

    t0 = time.monotonic()
    await asyncio.gather(*(run(*c) for c in cases))
    res["seconds"] = round(time.monotonic() - t0, 1)
    if not alive(pid):
        res["crashes"] = max(res["crashes"], 1)
    res["violations"] = res["violations"][:10]
    return res


# ---- Standard Webhooks replay protection ----

async def replay(port):
    now = int(time.time())
    out = {}

    async def post(name, body, hdr):
        st = await exchange(port, request("/webhooks/other", body, hdr))
        out[name] = st[0] if st else None

    body = b'{"type":"x.created","id":"evt_replay_1","data":{"n":1}}'
    await post("fresh", body, sign_standard(body, "msg_replay_1", now))
    await post("same webhook-id again", body, sign_standard(body, "msg_replay_1", now))
    body2 = b'{"type":"x.created","id":"evt_replay_2","data":{"n":2}}'
    await post("same webhook-id, other body", body2, sign_standard(body2, "msg_replay_1", now))
    for name, ts in (("6 minutes old", now - 360), ("6 minutes ahead", now + 360), ("a day old", now - 86400)):
        b = b'{"type":"x.created","id":"evt_%s"}' % name.replace(" ", "_").encode()
        await post(name, b, sign_standard(b, "msg_" + name.replace(" ", "_"), ts))
    b = b'{"type":"x.created","id":"evt_edge"}'
    await post("4 minutes old", b, sign_standard(b, "msg_edge", now - 240))
    hdr = sign_standard(body, "msg_replay_1", now)
    hdr[2] = ("webhook-signature", "v1," + base64.b64encode(os.urandom(32)).decode())
    await post("wrong signature", body, hdr)
    return out



# ---- strict framing (INTERFACE.md): every case signed, so a lenient reader would accept ----

def framing_cases():
    """(name, raw request, statuses allowed). The body of each is signed for
    the omega source over the bytes a lenient reader would take as the body,
    and a correctly framed, signed request follows on the same connection:
    were the framing accepted, the answers would be 202s."""
    n = [0]

    def body():
        n[0] += 1
        return b'{"event":"decision.allowed","decision":{"id":"dec_framing_%d_%d","outcome":"ALLOW"}}' % (
            os.getpid(), n[0])

    def head(b, extra, version=b"HTTP/1.1", host=True, eol=b"\r\n"):
        name, value = sign_header("omega", b)
        lines = [b"POST /webhooks/omega " + version]
        if host:
            lines.append(b"Host: 127.0.0.1")
        lines.append(name.encode() + b": " + value.encode())
        return eol.join(lines + extra) + eol

    def chunked(b, size_line=None, eol=b"\r\n"):
        return (size_line if size_line is not None else b"%x" % len(b)) + eol + b + eol + b"0" + eol + eol

    cases = []

    def add(name, raw, allowed=(400,)):
        cases.append((name, raw, allowed))

    b = body(); add("Content-Length with a plus sign (+N)", head(b, [b"Content-Length: +%d" % len(b)]) + b"\r\n" + b)
    b = body(); add("Content-Length not only digits (N N)", head(b, [b"Content-Length: %d %d" % (len(b), len(b))]) + b"\r\n" + b)
    b = body(); add("two different Content-Length values",
                    head(b, [b"Content-Length: %d" % len(b), b"Content-Length: %d" % (len(b) + 1)]) + b"\r\n" + b + b" ")
    b = body(); add("Transfer-Encoding with Content-Length",
                    head(b, [b"Content-Length: %d" % len(b), b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b))
    b = body(); add("Transfer-Encoding: chunked sent twice",
                    head(b, [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b))
    b = body(); add("Transfer-Encoding: chunked, chunked",
                    head(b, [b"Transfer-Encoding: chunked, chunked"]) + b"\r\n" + chunked(b))
    b = body(); add("Transfer-Encoding: chunked not last",
                    head(b, [b"Transfer-Encoding: chunked, identity"]) + b"\r\n" + chunked(b))
    b = body(); add("Transfer-Encoding: gzip, chunked (a coding hookfwd does not implement)",
                    head(b, [b"Transfer-Encoding: gzip, chunked"]) + b"\r\n" + chunked(b), (400, 501))
    b = body(); add("Transfer-Encoding on HTTP/1.0",
                    head(b, [b"Transfer-Encoding: chunked"], version=b"HTTP/1.0") + b"\r\n" + chunked(b))
    b = body(); add("bare CR as a line ending in the header block",
                    head(b, [b"X-A: 1\rX-B: 2", b"Content-Length: %d" % len(b)]) + b"\r\n" + b)
    b = body(); add("bare LF as the line ending of every header line",
                    head(b, [b"Content-Length: %d" % len(b)], eol=b"\n") + b"\n" + b)
    b = body(); add("bare LF blank line ending the header block",
                    head(b, [b"Content-Length: %d" % len(b)]) + b"\n" + b)
    b = body(); add("obs-fold (a header continued on the next line)",
                    head(b, [b"X-Folded: a", b" b", b"Content-Length: %d" % len(b)]) + b"\r\n" + b)
    b = body(); add("malformed chunk size (0x prefix)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"0x%x" % len(b)))
    b = body(); add("malformed chunk size (trailing space)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"%x " % len(b)))
    b = body(); add("bare CR inside a chunk extension",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"%x;a=b\rc" % len(b)))
    b = body(); add("chunk extension with an empty name (;=)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"%x;=" % len(b)))
    b = body(); add("chunk extension with an empty value (;foo=)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"%x;foo=" % len(b)))
    b = body(); add("chunk extension without a name (;)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b"%x;" % len(b)))
    b = body(); add("chunk extension with an unterminated quoted value",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, b'%x;a="b' % len(b)))
    b = body(); add("bare LF line endings in a chunked body",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + chunked(b, eol=b"\n"))
    b = body(); add("malformed trailer (a line without a colon, ended by a bare LF)",
                    head(b, [b"Transfer-Encoding: chunked"]) + b"\r\n" + b"%x\r\n" % len(b) + b + b"\r\n0\r\nx\n\r\n")
    b = body(); add("HTTP/1.1 request without Host",
                    head(b, [b"Content-Length: %d" % len(b)], host=False) + b"\r\n" + b)
    b = body(); add("HTTP/1.1 request with two Host headers",
                    head(b, [b"Host: other.example", b"Content-Length: %d" % len(b)]) + b"\r\n" + b)
    b = body(); add("absolute-form target with a scheme other than http(s) (ftp://)",
                    head(b, [b"Content-Length: %d" % len(b)]).replace(b"POST /", b"POST ftp://127.0.0.1/", 1) + b"\r\n" + b)
    b = body(); add("HTTP version hookfwd does not speak (HTTP/2.0 in a request line)",
                    head(b, [b"Content-Length: %d" % len(b)], version=b"HTTP/2.0") + b"\r\n" + b, (400, 505))
    # controls: the same requests, correctly framed, are accepted
    # (with Connection: close, so the agent closes once it has answered)
    b = body(); add("control: Content-Length, signed",
                    head(b, [b"Content-Length: %d" % len(b), b"Connection: close"]) + b"\r\n" + b, (202,))
    b = body(); add("control: chunked with an extension and a trailer, signed",
                    head(b, [b"Transfer-Encoding: chunked", b"Connection: close"]) + b"\r\n" + b"%x;ext=1\r\n" % len(b) + b +
                    b"\r\n0\r\nX-Trailer: t\r\n\r\n", (202,))
    b = body(); add("control: absolute-form target (http://127.0.0.1/webhooks/omega?x=1), signed",
                    head(b, [b"Content-Length: %d" % len(b), b"Connection: close"]).replace(
                        b"POST /webhooks/omega", b"POST http://127.0.0.1/webhooks/omega?x=1", 1) + b"\r\n" + b, (202,))
    b = body(); add("control: chunked with extensions without a value and with an empty quoted value, signed",
                    head(b, [b"Transfer-Encoding: chunked", b"Connection: close"]) + b"\r\n" +
                    chunked(b, b'%x;a;b="";c=d' % len(b)), (202,))
    return cases


def framing(port):
    """Each case on its own connection, followed by a well-framed signed
    request: the answer to the case, whether the agent then closed the
    connection (EOF within the deadline), and how many answers came."""
    out = []
    for name, raw, allowed in framing_cases():
        follow_body = b'{"event":"decision.allowed","decision":{"id":"dec_follow_%d_%d"}}' % (os.getpid(), len(out))
        n, v = sign_header("omega", follow_body)
        follow = request("/webhooks/omega", follow_body, [(n, v)])
        control = allowed == (202,)
        s = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT + 3)
        s.sendall(raw + (b"" if control else follow))
        data, closed = b"", False
        deadline = time.monotonic() + READ_TIMEOUT + 2
        try:
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
        out.append({"case": name, "status": statuses[0] if statuses else 0, "answers": len(statuses), "statuses": statuses,
                    "closed": closed, "ok": bool(statuses) and statuses[0] in allowed and closed and len(statuses) == 1})
    return {"cases": out}


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "slowloris":
        r = asyncio.run(slowloris(port, int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]))
    elif cmd == "good":
        r = good(port, float(sys.argv[3]))
    elif cmd == "maxconn":
        r = asyncio.run(maxconn(port, int(sys.argv[3])))
    elif cmd == "nested":
        r = nested(port, int(sys.argv[3]))
    elif cmd == "dribble":
        r = dribble(port, int(sys.argv[3]))
    elif cmd == "corpus":
        r = asyncio.run(corpus(port, int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
    elif cmd == "framing":
        r = framing(port)
    elif cmd == "replay":
        r = asyncio.run(replay(port))
    else:
        sys.exit(f"unknown command {cmd}")
    print(json.dumps(r, sort_keys=True))


if __name__ == "__main__":
    main()
