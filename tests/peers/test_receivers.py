#!/usr/bin/env python3
# Self-test for the test peers (hec_receiver.py, datadog_receiver.py): starts
# each as a subprocess, sends good and bad requests, and checks that they are
# as strict as the real Splunk HEC and Datadog intake are documented to be.
#
#   python3 tests/peers/test_receivers.py      -> "N passed, 0 failed", exit 0
#
# No sleeps: every wait is a poll with a deadline. Standard library only.

import gzip
import http.client
import json
import os
import re
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "12345678-1234-1234-1234-1234567890AB"
CHANNEL = "0c9f1f8e-4a2b-4d0e-9a51-6f3e2b7d1c20"
CHANNEL_2 = "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF"
API_KEY = "0123456789abcdef0123456789abcdef"
START_TIMEOUT = 15.0


# ---- harness -------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:200])


def call(method, url, body=None, headers=None, context=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def read_listening(proc, timeout):
    """Wait, with a deadline, for the peer's "LISTENING <port>" line."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError("no LISTENING line within %.0f s" % timeout)
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                raise RuntimeError("peer exited with %s before listening" % proc.wait())
            buf += chunk
    line = buf.split(b"\n")[0].decode()
    match = re.fullmatch(r"LISTENING (\d+)", line)
    if not match:
        raise RuntimeError("unexpected first line %r" % line)
    return int(match.group(1))


class Peer:
    def __init__(self, script, name, args, tmpdir, scheme="http"):
        self.out = os.path.join(tmpdir, name + ".jsonl")
        self.stderr = open(os.path.join(tmpdir, name + ".stderr"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port", "0", "--out", self.out] + args,
            stdout=subprocess.PIPE, stderr=self.stderr)
        self.mark = 0
        self.port = read_listening(self.proc, START_TIMEOUT)
        self.base = "%s://127.0.0.1:%d" % (scheme, self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()

    def control(self, obj):
        reply = call("POST", self.base + "/_control", obj)
        assert reply.status == 200, reply
        return reply.json

    def reset(self):
        self.control({"reset": True})
        self.mark = len(self.all_lines())

    def stats(self):
        return call("GET", self.base + "/_stats").json

    def all_lines(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as fh:
            return fh.read().splitlines()

    def lines(self):
        """Lines written to --out since the last reset()."""
        return self.all_lines()[self.mark:]


TESTS = []


def test(fn):
    TESTS.append((fn.__name__, fn))
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# ---- HEC helpers ---------------------------------------------------------

HEC_TEXT = {0: "Success", 2: "Token is required", 3: "Invalid authorization",
            4: "Invalid token", 5: "No data", 6: "Invalid data format",
            7: "Incorrect index", 8: "Internal server error", 9: "Server is busy",
            10: "Data channel is missing", 11: "Invalid data channel",
            12: "Event field is required", 13: "Event field cannot be blank",
            14: "ACK is disabled", 15: "Error in handling indexed fields",
            16: "Query string authorization is not enabled", 17: "HEC is healthy"}


def hec_post(peer, body, path="/services/collector/event", gz=False, auth="Splunk " + TOKEN,
             channel=None, query="", headers=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {}
    if auth is not None:
        hdrs["Authorization"] = auth
    if channel is not None:
        hdrs["X-Splunk-Request-Channel"] = channel
    if gz:
        body = gzip.compress(body)
        hdrs["Content-Encoding"] = "gzip"
    hdrs.update(headers or {})
    return call("POST", peer.base + path + query, body, hdrs)


def expect_hec(reply, status, code, event_number=None, extra_keys=()):
    check(reply.status == status, "want HTTP %d, got %r" % (status, reply))
    body = reply.json
    check(body.get("code") == code, "want code %d, got %r" % (code, reply))
    if code in HEC_TEXT:
        check(body.get("text") == HEC_TEXT[code], "text for code %d: %r" % (code, body))
    if event_number is None:
        check("invalid-event-number" not in body, "unexpected event number: %r" % body)
    else:
        check(body.get("invalid-event-number") == event_number,
              "want invalid-event-number %d, got %r" % (event_number, body))
    allowed = {"text", "code", "invalid-event-number"} | set(extra_keys)
    check(set(body) <= allowed, "unexpected keys in %r" % body)
    return body


def hec_ack_query(peer, ids, channel=CHANNEL):
    reply = hec_post(peer, {"acks": ids}, path="/services/collector/ack", channel=channel)
    check(reply.status == 200, "ack query: %r" % reply)
    return reply.json["acks"]


GOOD_EVENT = {"time": 1700000000.123, "host": "agent01", "source": "webhook-agent",
              "sourcetype": "_json", "index": "webhooks",
              "event": {"id": "msg_1", "type": "push"}, "fields": {"provider": "github"}}


# ---- HEC: auth, encoding, envelope --------------------------------------

@test
def hec_health(p):
    reply = call("GET", p.hec.base + "/services/collector/health")
    expect_hec(reply, 200, 17)


@test
def hec_unknown_path_is_404(p):
    reply = hec_post(p.hec, GOOD_EVENT, path="/services/collector/raw")
    check(reply.status == 404, reply)
    reply = hec_post(p.hec, GOOD_EVENT, path="/services/collector/event/")
    check(reply.status == 404, reply)


@test
def hec_auth_missing(p):
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth=None), 401, 2)


@test
def hec_auth_wrong_token(p):
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth="Splunk 00000000-0000-0000-0000-000000000000"), 403, 4)


@test
def hec_auth_wrong_scheme(p):
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth="Bearer " + TOKEN), 401, 3)
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth="splunk " + TOKEN), 401, 3)


@test
def hec_auth_query_string_not_enabled(p):
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth=None, query="?token=" + TOKEN), 400, 16)


@test
def hec_good_event_recorded_exactly(p):
    raw = '{"time": 1700000000.123, "host":"agent01",  "event": {"id": "msg_1"}}'
    expect_hec(hec_post(p.hec, raw), 200, 0)
    check(p.hec.lines() == [raw], "out file: %r" % p.hec.lines())
    events = call("GET", p.hec.base + "/_events").json["events"]
    check(events == [json.loads(raw)], "/_events: %r" % events)


@test
def hec_alias_endpoints(p):
    for path in ("/services/collector", "/services/collector/event/1.0"):
        expect_hec(hec_post(p.hec, GOOD_EVENT, path=path), 200, 0)
    check(len(p.hec.lines()) == 2, p.hec.lines())


@test
def hec_concatenated_batch(p):
    objs = ['{"event":"a"}', '{"event":"b","time":1700000001}', '{"event":{"n":3}}',
            '{"event":"d"}']
    body = objs[0] + objs[1] + "\n" + objs[2] + " \r\n\t" + objs[3] + "\n"
    expect_hec(hec_post(p.hec, body), 200, 0)
    check(p.hec.lines() == objs, p.hec.lines())
    check(p.hec.stats()["batch_sizes"] == [4], p.hec.stats())


@test
def hec_multiline_object_kept_on_one_line(p):
    pretty = json.dumps(GOOD_EVENT, indent=2)
    expect_hec(hec_post(p.hec, pretty), 200, 0)
    lines = p.hec.lines()
    check(len(lines) == 1 and json.loads(lines[0]) == GOOD_EVENT, lines)


@test
def hec_gzip(p):
    body = json.dumps(GOOD_EVENT) + "\n" + json.dumps({"event": "second"})
    expect_hec(hec_post(p.hec, body, gz=True), 200, 0)
    stats = p.hec.stats()
    check(stats["gzip_requests"] == 1 and stats["events"] == 2, stats)


@test
def hec_bad_gzip(p):
    reply = hec_post(p.hec, b"this is not gzip", headers={"Content-Encoding": "gzip"})
    expect_hec(reply, 400, 6)
    truncated = gzip.compress(json.dumps(GOOD_EVENT).encode())[:-6]
    expect_hec(hec_post(p.hec, truncated, headers={"Content-Encoding": "gzip"}), 400, 6)
    check(p.hec.lines() == [], p.hec.lines())


@test
def hec_deflate_is_415(p):
    body = zlib.compress(json.dumps(GOOD_EVENT).encode())
    reply = hec_post(p.hec, body, headers={"Content-Encoding": "deflate"})
    check(reply.status == 415, reply)


@test
def hec_empty_body(p):
    expect_hec(hec_post(p.hec, b""), 400, 5)
    expect_hec(hec_post(p.hec, b" \n\t "), 400, 5)
    expect_hec(hec_post(p.hec, b"", gz=True), 400, 5)


@test
def hec_event_required(p):
    expect_hec(hec_post(p.hec, {"host": "agent01"}), 400, 12, 0)


@test
def hec_event_blank(p):
    expect_hec(hec_post(p.hec, {"event": ""}), 400, 13, 0)
    expect_hec(hec_post(p.hec, {"event": None}), 400, 13, 0)


HEC_BAD_FORMAT = [
    ("time as string", '{"event":"x","time":"1700000000.123"}'),
    ("time with 4 decimals", '{"event":"x","time":1700000000.1234}'),
    ("time boolean", '{"event":"x","time":true}'),
    ("time negative", '{"event":"x","time":-1}'),
    ("host number", '{"event":"x","host":7}'),
    ("source null", '{"event":"x","source":null}'),
    ("sourcetype object", '{"event":"x","sourcetype":{}}'),
    ("index list", '{"event":"x","index":["main"]}'),
    ("unknown top-level key", '{"event":"x","severity":"high"}'),
    ("top-level array", '[{"event":"x"}]'),
    ("top-level string", '"just a string"'),
    ("NaN", '{"event":"x","time":NaN}'),
    ("NaN inside event", '{"event":{"v":NaN}}'),
    ("Infinity inside event", '{"event":[-Infinity]}'),
    ("duplicate key", '{"event":"x","event":"y"}'),
    ("syntax error", '{"event":"x"'),
    ("metric without metric_name", '{"event":"metric","fields":{"provider":"github"}}'),
    ("metric without fields", '{"event":"metric"}'),
    ("metric _value string", '{"event":"metric","fields":{"metric_name":"a","_value":"1"}}'),
    ("metric_name without _value", '{"event":"metric","fields":{"metric_name":"a"}}'),
    ("multi-metric string value", '{"event":"metric","fields":{"metric_name:a":"1"}}'),
    ("multi-metric empty name", '{"event":"metric","fields":{"metric_name:":1}}'),
]


# Not code 6 at object 0: (name, body, code, invalid-event-number).
HEC_BAD_OTHER = [
    ("comma between objects", '{"event":"x"},{"event":"y"}', 6, 1),
    ("multi-metric boolean", '{"event":"metric","fields":{"metric_name:a":true}}', 15, 0),
]


def make_bad_format_test(name, raw, code=6, number=0):
    def run(p):
        expect_hec(hec_post(p.hec, raw), 400, code, number)
    return "hec_invalid_format: " + name, run


for _case in HEC_BAD_FORMAT + HEC_BAD_OTHER:
    TESTS.append(make_bad_format_test(*_case))


@test
def hec_time_forms_accepted(p):
    body = ('{"event":"a","time":1700000000}{"event":"b","time":1700000000.5}'
            '{"event":"c","time":1700000000.500}{"event":"d","time":0}')
    expect_hec(hec_post(p.hec, body), 200, 0)
    check(len(p.hec.lines()) == 4, p.hec.lines())


@test
def hec_index_allow_list(p):
    expect_hec(hec_post(p.hec, dict(GOOD_EVENT, index="secret")), 400, 7, 0)


@test
def hec_fields(p):
    good = {"event": "x", "fields": {"provider": "github", "n": 3, "r": 0.5,
                                     "club": ["glee", "chess"]}}
    expect_hec(hec_post(p.hec, good), 200, 0)
    for bad in ({"nested": {"a": "b"}}, {"list": ["a", 1]}, {"flag": True},
                {"none": None}, {"deep": [["a"]]}):
        expect_hec(hec_post(p.hec, {"event": "x", "fields": bad}), 400, 15, 0)
    expect_hec(hec_post(p.hec, {"event": "x", "fields": ["a"]}), 400, 15, 0)
    check(len(p.hec.lines()) == 1, p.hec.lines())


@test
def hec_metric_events(p):
    multi = {"time": 1700000000, "event": "metric", "host": "agent01", "index": "metrics",
             "fields": {"provider": "github", "metric_name:webhook.received": 1,
                        "metric_name:webhook.latency_ms": 12.5}}
    single = {"event": "metric", "index": "metrics",
              "fields": {"metric_name": "webhook.received", "_value": 3, "env": "prod"}}
    expect_hec(hec_post(p.hec, json.dumps(multi) + json.dumps(single)), 200, 0)
    check(len(p.hec.lines()) == 2, p.hec.lines())


@test
def hec_partial_batch_accepts_objects_before_the_bad_one(p):
    objs = ['{"event":"first"}', '{"event":"second"}', '{"host":"no event"}',
            '{"event":"after"}']
    expect_hec(hec_post(p.hec, "\n".join(objs)), 400, 12, 2)
    check(p.hec.lines() == objs[:2], p.hec.lines())
    stats = p.hec.stats()
    check(stats["events"] == 2 and stats["rejected"] == 1 and stats["batch_sizes"] == [], stats)
    expect_hec(hec_post(p.hec, '{"event":"a"}{"event":"b"} garbage'), 400, 6, 2)


@test
def hec_keep_alive(p):
    conn = http.client.HTTPConnection("127.0.0.1", p.hec.port, timeout=10)
    hdrs = {"Authorization": "Splunk " + TOKEN}
    sock = None
    for body, status in ((b'{"event":"k1"}', 200), (b'{"event":""}', 400),
                         (b"", 400), (b'{"event":"k2"}', 200)):
        conn.request("POST", "/services/collector/event", body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        check(resp.status == status, (resp.status, data))
        check(resp.version == 11 and resp.getheader("Content-Length") == str(len(data)),
              resp.getheaders())
        check(resp.getheader("Connection", "").lower() != "close", resp.getheaders())
        sock = sock or conn.sock
        check(conn.sock is sock, "connection was not kept alive")
    conn.close()


@test
def hec_chunked_request_body(p):
    conn = http.client.HTTPConnection("127.0.0.1", p.hec.port, timeout=10)
    conn.request("POST", "/services/collector/event",
                 body=iter([b'{"event":', b'"chunked"}', b'{"event":"two"}']),
                 headers={"Authorization": "Splunk " + TOKEN}, encode_chunked=True)
    resp = conn.getresponse()
    check(resp.status == 200, resp.read())
    resp.read()
    conn.close()
    check(p.hec.lines() == ['{"event":"chunked"}', '{"event":"two"}'], p.hec.lines())


# ---- HEC: fault injection -----------------------------------------------

@test
def hec_injected_failures_then_success(p):
    check(p.hec.control({"fail": [{"status": 503, "code": 9}, {"status": 500, "code": 8},
                                  {"code": 9}]})["pending_faults"] == 3, "pending")
    expect_hec(hec_post(p.hec, {"event": "try1"}), 503, 9)
    expect_hec(hec_post(p.hec, {"event": "try2"}, gz=True), 500, 8)
    expect_hec(hec_post(p.hec, {"event": "try3"}), 503, 9)
    expect_hec(hec_post(p.hec, {"event": "try4"}), 200, 0)
    check(p.hec.lines() == ['{"event": "try4"}'], p.hec.lines())
    stats = p.hec.stats()
    check(stats["requests"] == 4 and stats["rejected"] == 3 and stats["events"] == 1
          and stats["gzip_requests"] == 1 and stats["batch_sizes"] == [1], stats)


@test
def hec_injected_fault_needs_valid_auth(p):
    p.hec.control({"fail": [{"code": 9}]})
    expect_hec(hec_post(p.hec, GOOD_EVENT, auth=None), 401, 2)
    expect_hec(hec_post(p.hec, GOOD_EVENT), 503, 9)


@test
def hec_injected_invalid_event_number(p):
    p.hec.control({"fail": [{"status": 400, "code": 6, "invalid_event_number": 3}]})
    expect_hec(hec_post(p.hec, GOOD_EVENT), 400, 6, 3)


@test
def hec_injected_2xx_warning_still_indexes(p):
    p.hec.control({"fail": [{"status": 200, "code": 24, "text": "queue near capacity"}]})
    reply = hec_post(p.hec, {"event": "warned"})
    check(reply.status == 200 and reply.json == {"text": "queue near capacity", "code": 24}, reply)
    check(p.hec.lines() == ['{"event": "warned"}'], p.hec.lines())


@test
def hec_injected_connection_drop_and_delay(p):
    p.hec.control({"fail": [{"close": True}, {"code": 9, "delay_ms": 100}]})
    try:
        reply = hec_post(p.hec, {"event": "dropped"})
        raise AssertionError("expected a dropped connection, got %r" % reply)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError):
        pass
    started = time.monotonic()
    expect_hec(hec_post(p.hec, {"event": "slow"}), 503, 9)
    check(time.monotonic() - started >= 0.1, "delay_ms not honoured")
    check(p.hec.lines() == [], p.hec.lines())


@test
def hec_poison(p):
    p.hec.control({"poison_field": "marker", "poison_value": "x"})
    body = (json.dumps({"event": {"data": {"marker": "ok"}}}) +
            json.dumps({"event": {"data": {"marker": "x"}}}) +
            json.dumps({"event": "after"}))
    expect_hec(hec_post(p.hec, body), 400, 6, 1)
    check(len(p.hec.lines()) == 1, p.hec.lines())
    expect_hec(hec_post(p.hec, {"event": "a"}, gz=True), 200, 0)
    expect_hec(hec_post(p.hec, '{"event":"a"}{"event":{"marker":"x"}}', gz=True), 400, 6, 1)
    p.hec.control({"poison_field": None, "poison_value": None})
    expect_hec(hec_post(p.hec, {"event": {"data": {"marker": "x"}}}), 200, 0)


@test
def hec_control_is_strict_and_atomic(p):
    for bad in ({"fial": []}, {"fail": [{"status": 503}]}, {"fail": [{"code": "9"}]},
                {"fail": [{"code": 9}, {"code": 99}]}, {"poison_field": "m"},
                {"drop_acks": "yes"}, ["reset"]):
        reply = call("POST", p.hec.base + "/_control", bad)
        check(reply.status == 400, "control %r: %r" % (bad, reply))
    check(p.hec.stats()["pending_faults"] == 0, "a rejected control was applied")


@test
def hec_reset_clears_stats(p):
    hec_post(p.hec, GOOD_EVENT)
    p.hec.control({"reset": True, "fail": [{"code": 8}]})
    stats = p.hec.stats()
    check(stats == {"requests": 0, "events": 0, "gzip_requests": 0, "rejected": 0,
                    "batch_sizes": [], "ack_queries": 0, "acks_true": 0,
                    "pending_faults": 1}, stats)


# ---- HEC: channels and indexer acknowledgement --------------------------

@test
def hec_ack_disabled_is_14(p):
    reply = hec_post(p.hec, {"acks": [0]}, path="/services/collector/ack", channel=CHANNEL)
    expect_hec(reply, 400, 14)


@test
def hec_no_channel_needed_by_default(p):
    reply = hec_post(p.hec, GOOD_EVENT)
    check("ackId" not in reply.json, reply)
    expect_hec(reply, 200, 0)
    expect_hec(hec_post(p.hec, GOOD_EVENT, channel="not-a-guid"), 400, 11)


@test
def hec_require_channel(p):
    peer = p.hec_chan
    expect_hec(hec_post(peer, GOOD_EVENT), 400, 10)
    expect_hec(hec_post(peer, GOOD_EVENT, channel="not-a-guid"), 400, 11)
    expect_hec(hec_post(peer, GOOD_EVENT, channel=CHANNEL[:-1]), 400, 11)
    expect_hec(hec_post(peer, GOOD_EVENT, query="?channel=" + CHANNEL), 200, 0)
    reply = hec_post(peer, GOOD_EVENT, channel=CHANNEL_2)
    expect_hec(reply, 200, 0)


@test
def hec_ack_flow(p):
    peer = p.hec_ack
    expect_hec(hec_post(peer, GOOD_EVENT), 400, 10)
    for want in (0, 1, 2):
        body = expect_hec(hec_post(peer, GOOD_EVENT, channel=CHANNEL), 200, 0, extra_keys=["ackId"])
        check(body["ackId"] == want, body)
    body = expect_hec(hec_post(peer, GOOD_EVENT, query="?channel=" + CHANNEL_2), 200, 0,
                      extra_keys=["ackId"])
    check(body["ackId"] == 0, "ack ids are per channel: %r" % body)
    acks = hec_ack_query(peer, [0, 1, 7])
    check(acks == {"0": True, "1": True, "7": False}, acks)
    acks = hec_ack_query(peer, [0, 1, 2])
    check(acks == {"0": False, "1": False, "2": True}, "acked ids are forgotten: %r" % acks)
    check(hec_ack_query(peer, [0], channel=CHANNEL_2) == {"0": True}, "channel 2")
    stats = peer.stats()
    check(stats["acks_true"] == 4 and stats["ack_queries"] == 3 and stats["events"] == 4, stats)


@test
def hec_ack_query_errors(p):
    peer = p.hec_ack
    ack = "/services/collector/ack"
    expect_hec(hec_post(peer, {"acks": [0]}, path=ack), 400, 10)
    expect_hec(hec_post(peer, {"acks": [0]}, path=ack, channel="bogus"), 400, 11)
    expect_hec(hec_post(peer, {"acks": [0]}, path=ack, channel=CHANNEL, auth=None), 401, 2)
    expect_hec(hec_post(peer, {"acks": [0]}, path=ack, channel=CHANNEL, auth="Splunk x"), 403, 4)
    expect_hec(hec_post(peer, b"", path=ack, channel=CHANNEL), 400, 5)
    for bad in ({"acks": "0"}, {"acks": [-1]}, {"acks": [1.0]}, {"ack": [0]},
                {"acks": [0], "more": 1}, [0]):
        expect_hec(hec_post(peer, bad, path=ack, channel=CHANNEL), 400, 6)


@test
def hec_lost_ack(p):
    peer = p.hec_ack
    first = hec_post(peer, {"event": "lost"}, channel=CHANNEL).json["ackId"]
    peer.control({"drop_acks": True})
    second = hec_post(peer, {"event": "later"}, channel=CHANNEL).json["ackId"]
    for _ in range(3):
        check(hec_ack_query(peer, [first]) == {str(first): False}, "dropped ack came back")
    check(hec_ack_query(peer, [second]) == {str(second): True}, "new ids are unaffected")
    # The events of a lost ack were received: a resend makes a duplicate.
    check(len(peer.lines()) == 2, peer.lines())


@test
def hec_lose_next_acks_and_slow_acks(p):
    peer = p.hec_ack
    peer.control({"lose_next_acks": 1, "ack_after_polls": 2})
    lost = hec_post(peer, {"event": "a"}, channel=CHANNEL).json["ackId"]
    slow = hec_post(peer, {"event": "b"}, channel=CHANNEL).json["ackId"]
    check((lost, slow) == (0, 1), (lost, slow))
    check(hec_ack_query(peer, [0, 1]) == {"0": False, "1": False}, "poll 1")
    check(hec_ack_query(peer, [0, 1]) == {"0": False, "1": False}, "poll 2")
    check(hec_ack_query(peer, [0, 1]) == {"0": False, "1": True}, "poll 3")


@test
def hec_failed_post_gets_no_ack_id(p):
    peer = p.hec_ack
    peer.control({"fail": [{"code": 9}]})
    expect_hec(hec_post(peer, GOOD_EVENT, channel=CHANNEL), 503, 9)
    expect_hec(hec_post(peer, {"event": ""}, channel=CHANNEL), 400, 13, 0)
    body = hec_post(peer, GOOD_EVENT, channel=CHANNEL).json
    check(body.get("ackId") == 0, body)


@test
def hec_tls(p):
    if p.tls_files is None:
        raise Skip("openssl not available")
    cert, key = p.tls_files
    peer = Peer("hec_receiver.py", "hec_tls",
                ["--token", TOKEN, "--tls-cert", cert, "--tls-key", key],
                p.tmpdir, scheme="https")
    try:
        ctx = ssl.create_default_context(cafile=cert)
        reply = call("POST", peer.base + "/services/collector/event", json.dumps(GOOD_EVENT),
                     {"Authorization": "Splunk " + TOKEN}, context=ctx)
        expect_hec(reply, 200, 0)
    finally:
        peer.stop()


# ---- Datadog helpers -----------------------------------------------------

DROP = object()


def dd_series(**changes):
    series = {"metric": "webhook.received", "type": 1, "interval": 10,
              "points": [{"timestamp": int(time.time()), "value": 3}],
              "tags": ["provider:github", "env:prod"],
              "resources": [{"name": "agent01", "type": "host"}], "unit": "request"}
    series.update(changes)
    return {k: v for k, v in series.items() if v is not DROP}


def dd_post(peer, payload, encoding=None, key=API_KEY, ctype="application/json",
            path="/api/v2/series"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    hdrs = {}
    if key is not None:
        hdrs["DD-API-KEY"] = key
    if ctype is not None:
        hdrs["Content-Type"] = ctype
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    if encoding is not None:
        hdrs["Content-Encoding"] = encoding
    return call("POST", peer.base + path, body, hdrs)


def expect_dd(reply, status):
    check(reply.status == status, "want HTTP %d, got %r" % (status, reply))
    body = reply.json
    check(set(body) == {"errors"} and isinstance(body["errors"], list), body)
    check((status == 202) == (body["errors"] == []), body)
    return body


# ---- Datadog tests -------------------------------------------------------

@test
def dd_accepts_good_payload(p):
    payload = {"series": [dd_series(), dd_series(metric="webhook.queue_depth", type=3,
                                                 interval=DROP, unit=DROP, tags=["env:prod"])]}
    expect_dd(dd_post(p.dd, payload), 202)
    lines = [json.loads(line) for line in p.dd.lines()]
    check(lines == payload["series"], lines)
    stats = p.dd.stats()
    check(stats["series"] == 2 and stats["points"] == 2 and stats["requests"] == 1
          and stats["encodings"] == {"identity": 1}, stats)


@test
def dd_gzip_and_deflate(p):
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, encoding="gzip"), 202)
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, encoding="deflate"), 202)
    stats = p.dd.stats()
    check(stats["encodings"] == {"gzip": 1, "deflate": 1} and stats["series"] == 2, stats)


@test
def dd_bad_encodings(p):
    good = json.dumps({"series": [dd_series()]}).encode()
    raw_deflate = zlib.compressobj(wbits=-15)
    raw_deflate = raw_deflate.compress(good) + raw_deflate.flush()
    for body, enc, status in ((b"not gzip", "gzip", 400), (raw_deflate, "deflate", 400),
                              (gzip.compress(good)[:-4], "gzip", 400),
                              (gzip.compress(good) * 2, "gzip", 400),
                              (good, "br", 415), (good, "zstd1", 415)):
        reply = call("POST", p.dd.base + "/api/v2/series", body,
                     {"DD-API-KEY": API_KEY, "Content-Type": "application/json",
                      "Content-Encoding": enc})
        expect_dd(reply, status)


@test
def dd_api_key(p):
    for key in (None, "wrong", API_KEY.upper()):
        reply = dd_post(p.dd, {"series": [dd_series()]}, key=key)
        check(reply.status == 403 and reply.json == {"errors": ["Forbidden"]}, reply)
    check(p.dd.lines() == [], p.dd.lines())


@test
def dd_content_type(p):
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, ctype=None), 400)  # urllib's form type
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, ctype="text/plain"), 400)
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, ctype="application/json; charset=utf-8"), 202)


@test
def dd_size_limits(p):
    good = json.dumps({"series": [dd_series()]}).encode()
    expect_dd(dd_post(p.dd, good + b" " * (512000 - len(good))), 202)
    expect_dd(dd_post(p.dd, good + b" " * (512001 - len(good))), 413)
    noise = gzip.compress(os.urandom(520000))
    reply = call("POST", p.dd.base + "/api/v2/series", noise,
                 {"DD-API-KEY": API_KEY, "Content-Type": "application/json",
                  "Content-Encoding": "gzip"})
    expect_dd(reply, 413)
    big = good + b" " * (5242880 - len(good))
    expect_dd(dd_post(p.dd, big, encoding="gzip"), 202)
    expect_dd(dd_post(p.dd, big + b" ", encoding="gzip"), 413)
    expect_dd(dd_post(p.dd, big + b" ", encoding="deflate"), 413)
    stats = p.dd.stats()
    check(stats["max_compressed"] == len(noise) and stats["max_decompressed"] == 5242880, stats)


def bad_series_cases():
    now = int(time.time())
    pt = {"timestamp": now, "value": 1}
    yield "top-level extra key", {"series": [dd_series()], "host": "agent01"}
    yield "series not a list", {"series": dd_series()}
    yield "empty series", {"series": []}
    yield "top-level list", [dd_series()]
    yield "metric missing", {"series": [dd_series(metric=DROP)]}
    yield "metric empty", {"series": [dd_series(metric="")]}
    yield "metric starts with digit", {"series": [dd_series(metric="1webhook")]}
    yield "metric has dash", {"series": [dd_series(metric="webhook-received")]}
    yield "metric 201 chars", {"series": [dd_series(metric="m" * 201)]}
    yield "type 4", {"series": [dd_series(type=4)]}
    yield "type string", {"series": [dd_series(type="count")]}
    yield "type boolean", {"series": [dd_series(type=True)]}
    yield "count without interval", {"series": [dd_series(interval=DROP)]}
    yield "interval zero", {"series": [dd_series(interval=0)]}
    yield "interval float", {"series": [dd_series(interval=10.0)]}
    yield "points missing", {"series": [dd_series(points=DROP)]}
    yield "points empty", {"series": [dd_series(points=[])]}
    yield "points as v1 tuples", {"series": [dd_series(points=[[now, 1]])]}
    yield "timestamp float", {"series": [dd_series(points=[{"timestamp": now + 0.0, "value": 1}])]}
    yield "timestamp string", {"series": [dd_series(points=[{"timestamp": str(now), "value": 1}])]}
    yield "value string", {"series": [dd_series(points=[{"timestamp": now, "value": "1"}])]}
    yield "value boolean", {"series": [dd_series(points=[{"timestamp": now, "value": True}])]}
    yield "value null", {"series": [dd_series(points=[{"timestamp": now, "value": None}])]}
    yield "point extra key", {"series": [dd_series(points=[dict(pt, tags=[])])]}
    yield "timestamp over 1 h old", {"series": [dd_series(points=[pt, {"timestamp": now - 3660, "value": 1}])]}
    yield "timestamp 11 min ahead", {"series": [dd_series(points=[{"timestamp": now + 660, "value": 1}])]}
    yield "tag upper case", {"series": [dd_series(tags=["Env:prod"])]}
    yield "tag ends with colon", {"series": [dd_series(tags=["env:"])]}
    yield "tag starts with digit", {"series": [dd_series(tags=["1env:prod"])]}
    yield "tag with space", {"series": [dd_series(tags=["env:pr od"])]}
    yield "tag 201 chars", {"series": [dd_series(tags=["t" * 201])]}
    yield "tag not string", {"series": [dd_series(tags=[1])]}
    yield "tags not list", {"series": [dd_series(tags="env:prod")]}
    yield "resource missing type", {"series": [dd_series(resources=[{"name": "agent01"}])]}
    yield "resource extra key", {"series": [dd_series(resources=[{"name": "a", "type": "host", "x": 1}])]}
    yield "unknown series key", {"series": [dd_series(host="agent01")]}
    yield "unit not string", {"series": [dd_series(unit=5)]}
    yield "second series bad", {"series": [dd_series(), dd_series(metric="bad metric")]}
    yield "NaN value", ('{"series":[{"metric":"m","points":[{"timestamp":%d,"value":NaN}]}]}'
                        % now).encode()
    yield "Infinity in metadata", ('{"series":[{"metric":"m","points":[{"timestamp":%d,"value":1}],'
                                   '"metadata":{"x":Infinity}}]}' % now).encode()
    yield "duplicate key", ('{"series":[{"metric":"m","metric":"n","points":[{"timestamp":%d,'
                            '"value":1}]}]}' % now).encode()
    yield "not JSON", b"series=1"


def make_bad_series_test(name):
    def run(p):
        payload = dict(bad_series_cases())[name]
        body = expect_dd(dd_post(p.dd, payload), 400)
        check(body["errors"] and all(isinstance(e, str) and e for e in body["errors"]), body)
        check(p.dd.lines() == [] and p.dd.stats()["series"] == 0, "bad payload was recorded")
    return "dd_rejects: " + name, run


for _name, _ in bad_series_cases():
    TESTS.append(make_bad_series_test(_name))


@test
def dd_edge_values_accepted(p):
    now = int(time.time())
    payload = {"series": [
        dd_series(metric="m" * 200, tags=["t" * 200, "a/b.c-d_e:f:g"], type=2,
                  points=[{"timestamp": now - 3500, "value": 1.5},
                          {"timestamp": now + 500, "value": -2}]),
        dd_series(type=DROP, interval=DROP, tags=DROP, resources=DROP, unit=DROP,
                  source_type_name="hookfwd", metadata={"origin": {"product": 1}}),
        dd_series(type=0, resources=[])]}
    expect_dd(dd_post(p.dd, payload), 202)
    check(p.dd.stats()["points"] == 4, p.dd.stats())


@test
def dd_no_time_check(p):
    payload = {"series": [dd_series(points=[{"timestamp": 1700000000, "value": 1}])]}
    expect_dd(dd_post(p.dd, payload), 400)
    expect_dd(dd_post(p.dd_nt, payload), 202)


@test
def dd_paths_and_methods(p):
    reply = dd_post(p.dd, {"series": [dd_series()]}, path="/api/v1/series")
    check(reply.status == 404, reply)
    check(call("GET", p.dd.base + "/api/v2/series").status == 405, "GET series")


@test
def dd_injected_faults(p):
    p.dd.control({"fail": [{"status": 429, "retry_after": 1}, {"status": 408}, {"status": 500},
                           {"status": 400}, {"status": 403}, {"status": 413}]})
    payload = {"series": [dd_series()]}
    first = dd_post(p.dd, payload)
    expect_dd(first, 429)
    for name, value in (("Retry-After", "1"), ("X-RateLimit-Remaining", "0"),
                        ("X-RateLimit-Reset", "1")):
        check(first.headers.get(name) == value, "%s: %r" % (name, first.headers.items()))
    for name in ("X-RateLimit-Limit", "X-RateLimit-Period", "X-RateLimit-Name"):
        check(first.headers.get(name), "missing " + name)
    for status in (408, 500, 400, 403, 413):
        expect_dd(dd_post(p.dd, payload, encoding="gzip"), status)
    expect_dd(dd_post(p.dd, payload), 202)
    check(len(p.dd.lines()) == 1, p.dd.lines())
    stats = p.dd.stats()
    check(stats["requests"] == 7 and stats["rejected"] == 6 and stats["series"] == 1, stats)


@test
def dd_fault_needs_valid_key_and_control_is_strict(p):
    p.dd.control({"fail": [{"status": 500}]})
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}, key="wrong"), 403)
    expect_dd(dd_post(p.dd, {"series": [dd_series()]}), 500)
    for bad in ({"fail": [{"status": 200}]}, {"fail": [{"code": 9}]}, {"boom": 1},
                {"fail": [{"status": 429, "retry_after": "1"}]}):
        check(call("POST", p.dd.base + "/_control", bad).status == 400, bad)
    check(p.dd.stats()["pending_faults"] == 0, "rejected control applied")


@test
def dd_series_endpoint_and_reset(p):
    now = int(time.time())
    for value in (3, 4):
        expect_dd(dd_post(p.dd, {"series": [
            dd_series(points=[{"timestamp": now, "value": value}]),
            dd_series(metric="other", type=3, interval=DROP)]}), 202)
    got = call("GET", p.dd.base + "/_series?metric=webhook.received").json["series"]
    check(sum(pt["value"] for s in got for pt in s["points"]) == 7, got)
    check(len(call("GET", p.dd.base + "/_series").json["series"]) == 4, "all series")
    p.dd.control({"reset": True})
    check(call("GET", p.dd.base + "/_series").json == {"series": []}, "reset")
    stats = p.dd.stats()
    check(stats["requests"] == 0 and stats["encodings"] == {} and stats["max_compressed"] == 0,
          stats)


@test
def dd_keep_alive(p):
    conn = http.client.HTTPConnection("127.0.0.1", p.dd.port, timeout=10)
    sock = None
    good = json.dumps({"series": [dd_series()]})
    for body, key, status in ((good, API_KEY, 202), (good, "nope", 403),
                              ('{"series":[]}', API_KEY, 400), (good, API_KEY, 202)):
        conn.request("POST", "/api/v2/series", body=body,
                     headers={"DD-API-KEY": key, "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        check(resp.status == status, (resp.status, data))
        check(resp.getheader("Content-Length") == str(len(data)), resp.getheaders())
        sock = sock or conn.sock
        check(conn.sock is sock, "connection was not kept alive")
    conn.close()


# ---- runner --------------------------------------------------------------

class Skip(Exception):
    pass


class Peers:
    """All peers the tests share, started once."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.started = []
        self.hec = self.start("hec_receiver.py", "hec",
                              ["--token", TOKEN, "--indexes", "main,webhooks,metrics"])
        self.hec_chan = self.start("hec_receiver.py", "hec_chan", ["--token", TOKEN, "--require-channel"])
        self.hec_ack = self.start("hec_receiver.py", "hec_ack", ["--token", TOKEN, "--ack"])
        self.dd = self.start("datadog_receiver.py", "dd", ["--api-key", API_KEY])
        self.dd_nt = self.start("datadog_receiver.py", "dd_nt", ["--api-key", API_KEY, "--no-time-check"])
        self.tls_files = self.make_cert()

    def start(self, script, name, args):
        peer = Peer(script, name, args, self.tmpdir)
        self.started.append(peer)
        return peer

    def make_cert(self):
        if shutil.which("openssl") is None:
            return None
        cert = os.path.join(self.tmpdir, "cert.pem")
        key = os.path.join(self.tmpdir, "key.pem")
        result = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (cert, key) if result.returncode == 0 else None

    def reset(self):
        for peer in self.started:
            peer.reset()

    def stop(self):
        for peer in self.started:
            peer.stop()


def main():
    only = sys.argv[1:]
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="hookfwd-peers-") as tmpdir:
        peers = Peers(tmpdir)
        try:
            for name, fn in TESTS:
                if only and not any(word in name for word in only):
                    continue
                try:
                    peers.reset()
                    fn(peers)
                    passed += 1
                except Skip as why:
                    skipped += 1
                    print("SKIP %s: %s" % (name, why))
                except Exception:
                    failed += 1
                    print("FAIL %s" % name)
                    traceback.print_exc(file=sys.stdout)
        finally:
            peers.stop()
        for peer in peers.started:
            if peer.proc.returncode not in (0, -15):
                failed += 1
                print("FAIL peer %s exited with %s" % (peer.out, peer.proc.returncode))
    suffix = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, suffix))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
