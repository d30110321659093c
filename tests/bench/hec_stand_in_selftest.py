#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Self-test of hf_hec_stand_in (tests/bench/hec_stand_in.c), the C Splunk HEC
# endpoint of tests/bench/run's setup 3: every request is sent both to it and
# to tests/peers/hec_receiver.py, and the two must answer alike (status and
# JSON body) as well as give the expected HEC code, text and
# invalid-event-number. Then the counters: /_stats, and the line printed at
# SIGTERM, must equal what was sent.
#
#   python3 tests/bench/hec_stand_in_selftest.py build/tests/bench/hf_hec_stand_in
#
# No sleeps: every wait is a poll with a deadline. Standard library only.

import gzip
import http.client
import json
import os
import re
import select
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PY_RECEIVER = os.path.join(HERE, "..", "peers", "hec_receiver.py")
TOKEN = "12345678-1234-1234-1234-1234567890AB"
CHANNEL = "0c9f1f8e-4a2b-4d0e-9a51-6f3e2b7d1c20"
DEADLINE = 15.0
EVENT_PATH = "/services/collector/event"

HEC_TEXT = {0: "Success", 2: "Token is required", 3: "Invalid authorization",
            4: "Invalid token", 5: "No data", 6: "Invalid data format",
            11: "Invalid data channel", 12: "Event field is required",
            13: "Event field cannot be blank", 15: "Error in handling indexed fields",
            16: "Query string authorization is not enabled", 17: "HEC is healthy"}
AUTH = {"Authorization": "Splunk " + TOKEN}
GOOD = ('{"time":1700000000.123,"host":"agent01","source":"webhook-agent",'
        '"sourcetype":"_json","index":"webhooks","event":{"id":"msg_1","type":"push"},'
        '"fields":{"provider":"github","n":3,"club":["glee","chess"]}}')
WIDE = "{" + ",".join('"k%d":%d' % (i, i) for i in range(20))  # > 8 keys: the hashed check


class Server:
    def __init__(self, argv):
        self.proc = subprocess.Popen(argv + ["--token", TOKEN, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        line = self.read_line()
        match = re.fullmatch(r"LISTENING (\d+)", line)
        if not match:
            raise RuntimeError("%s: unexpected first line %r" % (argv[-1], line))
        self.port = int(match.group(1))

    def read_line(self):
        """The next stdout line, waited for with a deadline."""
        deadline = time.monotonic() + DEADLINE
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no line on stdout within %.0f s" % DEADLINE)
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError("exited with %s: %r" % (self.proc.wait(), self.proc.stderr.read()))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def request(self, method, path, body=None, headers=None, chunks=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        try:
            if chunks is not None:
                conn.request(method, path, body=iter(chunks), headers=headers or {}, encode_chunked=True)
            else:
                conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def gz(data):
    return gzip.compress(data.encode() if isinstance(data, str) else data)


# (name, body, extra headers, path, status, code, invalid-event-number, events accepted)
def cases():
    gzh = {"Content-Encoding": "gzip"}
    batch = "\n".join('{"event":{"n":%d},"time":%d.%03d}' % (i, 1700000000 + i, i % 1000) for i in range(1000))
    return [
        ("one good event", GOOD, {}, EVENT_PATH, 200, 0, None, 1),
        ("alias /services/collector", GOOD, {}, "/services/collector", 200, 0, None, 1),
        ("alias /event/1.0", GOOD, {}, "/services/collector/event/1.0", 200, 0, None, 1),
        ("concatenated, no separator", GOOD + GOOD + ' \r\n\t' + GOOD, {}, EVENT_PATH, 200, 0, None, 3),
        ("pretty-printed object", json.dumps(json.loads(GOOD), indent=2), {}, EVENT_PATH, 200, 0, None, 1),
        ("time forms", '{"event":"a","time":1700000000}{"event":"b","time":1700000000.5}'
         '{"event":"c","time":1700000000.500}{"event":"d","time":0}{"event":"e","time":-0}'
         '{"event":"f","time":1.2345e2}{"event":"g","time":17E8}', {}, EVENT_PATH, 200, 0, None, 7),
        ("event of any JSON type", '{"event":0}{"event":false}{"event":[]}{"event":{}}{"event":1e400}',
         {}, EVENT_PATH, 200, 0, None, 5),
        ("metric events", '{"event":"metric","fields":{"metric_name:a":1,"metric_name:b":2.5,"env":"x"}}'
         '{"event":"metric","fields":{"metric_name":"a","_value":3}}', {}, EVENT_PATH, 200, 0, None, 2),
        ("unicode", '{"event":"caf\u00e9 \\u00e9 \\ud83d\\ude00 \U0001f600"}', {}, EVENT_PATH, 200, 0, None, 1),
        ("wide event object", '{"event":' + WIDE + "}}", {}, EVENT_PATH, 200, 0, None, 1),
        ("channel header", GOOD, {"X-Splunk-Request-Channel": CHANNEL}, EVENT_PATH, 200, 0, None, 1),
        ("channel in the query", GOOD, {}, EVENT_PATH + "?channel=" + CHANNEL, 200, 0, None, 1),
        ("gzip, 1000 events", gz(batch), gzh, EVENT_PATH, 200, 0, None, 1000),
        ("gzip, two members", gz(GOOD) + gz(GOOD), gzh, EVENT_PATH, 200, 0, None, 2),
        ("identity encoding", GOOD, {"Content-Encoding": " Identity "}, EVENT_PATH, 200, 0, None, 1),
        # auth and request-level errors
        ("no Authorization", GOOD, {"Authorization": None}, EVENT_PATH, 401, 2, None, 0),
        ("token in the query", GOOD, {"Authorization": None}, EVENT_PATH + "?token=" + TOKEN, 400, 16, None, 0),
        ("Bearer scheme", GOOD, {"Authorization": "Bearer " + TOKEN}, EVENT_PATH, 401, 3, None, 0),
        ("lower-case scheme", GOOD, {"Authorization": "splunk " + TOKEN}, EVENT_PATH, 401, 3, None, 0),
        ("scheme only", GOOD, {"Authorization": "Splunk"}, EVENT_PATH, 401, 2, None, 0),
        ("wrong token", GOOD, {"Authorization": "Splunk 00000000-0000-0000-0000-000000000000"},
         EVENT_PATH, 403, 4, None, 0),
        ("token prefix", GOOD, {"Authorization": "Splunk " + TOKEN[:-1]}, EVENT_PATH, 403, 4, None, 0),
        ("bad channel", GOOD, {"X-Splunk-Request-Channel": "not-a-guid"}, EVENT_PATH, 400, 11, None, 0),
        ("bad channel in the query", GOOD, {}, EVENT_PATH + "?channel=abc", 400, 11, None, 0),
        ("empty body", "", {}, EVENT_PATH, 400, 5, None, 0),
        ("whitespace body", " \n\t\r ", {}, EVENT_PATH, 400, 5, None, 0),
        ("empty gzip body", b"", gzh, EVENT_PATH, 400, 5, None, 0),
        ("gzip of whitespace", gz("  \n"), gzh, EVENT_PATH, 400, 5, None, 0),
        ("not gzip", b"this is not gzip", gzh, EVENT_PATH, 400, 6, None, 0),
        ("truncated gzip", gz(GOOD)[:-6], gzh, EVENT_PATH, 400, 6, None, 0),
        ("gzip then garbage", gz(GOOD) + b"xx", gzh, EVENT_PATH, 400, 6, None, 0),
        ("deflate", GOOD, {"Content-Encoding": "Deflate"}, EVENT_PATH, 415, 6, None, 0),
        ("invalid UTF-8", b'{"event":"\xff"}', {}, EVENT_PATH, 400, 6, None, 0),
        ("invalid UTF-8 after a bad object", b'{"host":"h"}{"event":"\xc3\x28"}', {}, EVENT_PATH, 400, 6, None, 0),
        ("surrogate in UTF-8", b'{"event":"\xed\xa0\x80"}', {}, EVENT_PATH, 400, 6, None, 0),
        ("BOM", b'\xef\xbb\xbf' + GOOD.encode(), {}, EVENT_PATH, 400, 6, 0, 0),
        # per-object errors, with the objects before the bad one counted
        ("missing event", GOOD + '{"host":"agent01"}' + GOOD, {}, EVENT_PATH, 400, 12, 1, 1),
        ("null event", '{"event":null}', {}, EVENT_PATH, 400, 13, 0, 0),
        ("empty event", GOOD + GOOD + '{"event":""}', {}, EVENT_PATH, 400, 13, 2, 2),
        ("time as string", '{"event":"x","time":"1700000000.123"}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("time with 4 decimals", '{"event":"x","time":1700000000.1230}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("time 1.5e-3", '{"event":"x","time":1.5e-3}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("time negative", '{"event":"x","time":-1}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("time negative decimal", '{"event":"x","time":-0.5}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("time boolean", '{"event":"x","time":true}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("host number", '{"event":"x","host":7}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("source null", '{"event":"x","source":null}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("index list", '{"event":"x","index":["main"]}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("unknown key", '{"event":"x","severity":"high"}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("unknown key, no event", '{"severity":"high"}', {}, EVENT_PATH, 400, 12, 0, 0),
        ("top-level array", '[{"event":"x"}]', {}, EVENT_PATH, 400, 6, 0, 0),
        ("top-level string", GOOD + '"just a string"', {}, EVENT_PATH, 400, 6, 1, 1),
        ("top-level number", '17', {}, EVENT_PATH, 400, 6, 0, 0),
        ("NaN", '{"event":"x","time":NaN}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("Infinity in event", '{"event":[-Infinity]}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("trailing comma", '{"event":"x",}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("comment", '{"event":"x"/* c */}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("single quotes", "{'event':'x'}", {}, EVENT_PATH, 400, 6, 0, 0),
        ("leading zero", '{"event":01}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("raw control char", '{"event":"a\tb"}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("duplicate key", '{"event":"x","event":"y"}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("nested duplicate key", GOOD + '{"event":{"a":{"b":1,"b":2}}}', {}, EVENT_PATH, 400, 6, 1, 1),
        ("duplicate in a wide object", '{"event":' + WIDE + ',"k7":0}}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("syntax error", GOOD + '{"event":"x"', {}, EVENT_PATH, 400, 6, 1, 1),
        ("comma between objects", '{"event":"x"},{"event":"y"}', {}, EVENT_PATH, 400, 6, 1, 1),
        ("garbage after objects", '{"event":"a"}{"event":"b"} garbage', {}, EVENT_PATH, 400, 6, 2, 2),
        ("fields not an object", '{"event":"x","fields":["a"]}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("fields nested", '{"event":"x","fields":{"a":{"b":"c"}}}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("fields list of numbers", '{"event":"x","fields":{"a":["x",1]}}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("fields boolean", '{"event":"x","fields":{"a":true}}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("fields empty key", '{"event":"x","fields":{"":"v"}}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("metric without fields", '{"event":"metric"}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("metric _value string", '{"event":"metric","fields":{"metric_name":"a","_value":"1"}}',
         {}, EVENT_PATH, 400, 6, 0, 0),
        ("metric empty name", '{"event":"metric","fields":{"metric_name:":1}}', {}, EVENT_PATH, 400, 6, 0, 0),
        ("multi-metric boolean", '{"event":"metric","fields":{"metric_name:a":true}}', {}, EVENT_PATH, 400, 15, 0, 0),
        ("bad object in gzip", gz(GOOD + '{"event":null}'), gzh, EVENT_PATH, 400, 13, 1, 1),
    ]


def encode_body(body):
    return body.encode() if isinstance(body, str) else body


def with_auth(extra):
    headers = dict(AUTH)
    headers.update(extra)
    return {k: v for k, v in headers.items() if v is not None}


def expect(reply, status, code, number, what):
    got_status, raw = reply
    check(got_status == status, "%s: want HTTP %d, got %d %r" % (what, status, got_status, raw))
    body = json.loads(raw)
    check(body.get("code") == code, "%s: want code %d, got %r" % (what, code, body))
    text = "Unsupported Content-Encoding: deflate" if status == 415 else HEC_TEXT[code]
    check(body.get("text") == text, "%s: text %r" % (what, body))
    if number is None:
        check("invalid-event-number" not in body, "%s: unexpected number in %r" % (what, body))
    else:
        check(body.get("invalid-event-number") == number, "%s: want number %d, got %r" % (what, number, body))
    check(set(body) <= {"text", "code", "invalid-event-number"}, "%s: keys of %r" % (what, body))
    return body


def same(c_reply, py_reply, what):
    check(c_reply[0] == py_reply[0] and json.loads(c_reply[1]) == json.loads(py_reply[1]),
          "%s: stand-in %r, hec_receiver.py %r" % (what, c_reply, py_reply))


def run(c, py):
    want = {"requests": 0, "events": 0, "gzip_requests": 0, "rejected": 0}
    failures = 0
    for name, body, extra, path, status, code, number, events in cases():
        try:
            headers = with_auth(extra)
            c_reply = c.request("POST", path, encode_body(body), headers)
            py_reply = py.request("POST", path, encode_body(body), headers)
            expect(c_reply, status, code, number, name)
            same(c_reply, py_reply, name)
            print("ok  %s" % name)
        except Exception:
            failures += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()))
        want["requests"] += 1
        want["events"] += events
        want["gzip_requests"] += headers.get("Content-Encoding") == "gzip"
        want["rejected"] += status != 200

    def step(name, fn):
        nonlocal failures
        try:
            fn()
            print("ok  %s" % name)
        except Exception:
            failures += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()))

    def chunked():
        for srv in (c, py):
            expect(srv.request("POST", EVENT_PATH, headers=AUTH, chunks=[b'{"event":', b'"chunked"}', GOOD.encode()]),
                   200, 0, None, "chunked")
        want["requests"] += 1
        want["events"] += 2

    def keep_alive():
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=DEADLINE)
        sock = None
        for body, status in ((GOOD, 200), ('{"event":""}', 400), ("", 400), (GOOD, 200)):
            conn.request("POST", EVENT_PATH, body=body, headers=AUTH)
            resp = conn.getresponse()
            data = resp.read()
            check(resp.status == status, (resp.status, data))
            check(resp.getheader("Content-Length") == str(len(data)), resp.getheaders())
            check(resp.getheader("Content-Type", "").startswith("application/json"), resp.getheaders())
            sock = sock or conn.sock
            check(conn.sock is sock, "connection was not kept alive")
        conn.close()
        want["requests"] += 4
        want["events"] += 2
        want["rejected"] += 2

    def no_content_length():
        for srv in (c, py):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=DEADLINE)
            conn.putrequest("POST", EVENT_PATH)
            conn.putheader("Authorization", AUTH["Authorization"])
            conn.endheaders()
            resp = conn.getresponse()
            check(resp.status == 411, (resp.status, resp.read()))
            conn.close()

    def other_paths():
        for srv in (c, py):
            expect(srv.request("GET", "/services/collector/health"), 200, 17, None, "health")
            expect(srv.request("GET", "/services/collector/health?ack=true"), 200, 17, None, "health")
        for method, path in (("POST", "/services/collector/raw"), ("POST", "/services/collector/event/"),
                             ("GET", EVENT_PATH), ("POST", "/services/collector/health"), ("GET", "/")):
            c_reply = c.request(method, path, GOOD.encode() if method == "POST" else None, AUTH)
            check(c_reply[0] == 404, (method, path, c_reply))
            same(c_reply, py.request(method, path, GOOD.encode() if method == "POST" else None, AUTH), path)

    def deep_nesting():  # stand-in only: Python's json recurses and gives up
        depth = 200000
        body = '{"event":' + "[" * depth + "]" * depth + "}"
        expect(c.request("POST", EVENT_PATH, body.encode(), AUTH), 200, 0, None, "deep nesting")

    step("chunked request body", chunked)
    step("keep-alive, answers with Content-Length", keep_alive)
    step("no Content-Length: 411", no_content_length)
    step("health, 404 paths", other_paths)

    def stats_match_python():
        c_stats = json.loads(c.request("GET", "/_stats")[1])
        py_stats = json.loads(py.request("GET", "/_stats")[1])
        py_stats["requests"] += 4  # the keep-alive step went to the stand-in only
        py_stats["events"] += 2
        py_stats["rejected"] += 2
        check(c_stats == {k: py_stats[k] for k in c_stats} == want, (c_stats, py_stats, want))

    step("/_stats equal to hec_receiver.py's and to what was sent", stats_match_python)
    step("deeply nested event", deep_nesting)
    want["requests"] += 1
    want["events"] += 1

    def sigterm_counters():
        c.proc.terminate()
        line = c.read_line()
        check(c.proc.wait(timeout=DEADLINE) == 0, "exit status")
        expected = "EVENTS %d REQUESTS %d REJECTED %d" % (want["events"], want["requests"], want["rejected"])
        check(line == expected, "printed %r, want %r" % (line, expected))

    step("counters printed at SIGTERM", sigterm_counters)
    return failures


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: hec_stand_in_selftest.py PATH/TO/hf_hec_stand_in")
    c = py = None
    try:
        c = Server([sys.argv[1]])
        py = Server([sys.executable, PY_RECEIVER])
        failures = run(c, py)
    finally:
        for srv in (c, py):
            if srv:
                srv.stop()
    print("hec_stand_in_selftest: %s" % ("%d failed" % failures if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
