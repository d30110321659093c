#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Self-test for the test peers (hec_receiver.py, datadog_receiver.py,
# slack_receiver.py, pagerduty_receiver.py): starts each as a subprocess, sends
# good and bad requests, and checks that they are as strict as the real Splunk
# HEC, Datadog intake, Slack incoming webhooks and PagerDuty Events API v2 are
# documented to be.
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
import urllib.parse
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


# ---- Slack helpers -------------------------------------------------------

HOOK = "/services/T0HOOKFWD/B0ALERTS/abcdefghijklmnopqrstuvwx"
HOOK_2 = "/services/T0HOOKFWD/B0OPS/zyxwvutsrqponmlkjihgfedc"
HOOK_3 = "/services/T0HOOKFWD/B0OTHER/000000000000000000000000"


def slack_post(peer, message, hook=HOOK, ctype="application/json"):
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    hdrs = {} if ctype is None else {"Content-Type": ctype}
    return call("POST", peer.base + hook, body, hdrs)


def expect_slack(reply, status, token):
    check(reply.status == status and reply.body == token.encode(),
          "want %d %s, got %r (%s)" % (status, token, reply, reply.headers.get("X-Peer-Detail")))
    check(reply.headers.get("Content-Type", "").startswith("text/plain"),
          "Slack answers bare text: %r" % reply.headers.get("Content-Type"))


def mrkdwn(text):
    return {"type": "mrkdwn", "text": text}


def plain(text):
    return {"type": "plain_text", "text": text}


def section(text=None, fields=None, **extra):
    block = {"type": "section"}
    if text is not None:
        block["text"] = mrkdwn(text)
    if fields is not None:
        block["fields"] = [mrkdwn(f) for f in fields]
    block.update(extra)
    return block


GOOD_BLOCKS = [
    {"type": "header", "text": plain(":rotating_light: scan.blocked acme/api", ), "block_id": "h"},
    section("*Gate* blocked on `main`", fields=["*Repo*\nacme/api", "*Branch*\nmain",
                                                  "*Critical*\n2", "*High*\n5"]),
    {"type": "divider"},
    {"type": "context", "elements": [mrkdwn("commit `4f2a9c1`"),
                                     {"type": "image", "image_url": "https://example.com/i.png",
                                      "alt_text": "logo"}]},
    {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "chart",
     "title": plain("Findings")},
    {"type": "actions", "elements": [{"type": "button", "text": plain("Open report"),
                                      "url": "https://example.com/r/1", "action_id": "open"}]},
    {"type": "markdown", "text": "**Findings** by severity"},
    {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                        "elements": [{"type": "text", "text": "hi"}]}]},
]


# ---- Slack tests ---------------------------------------------------------

@test
def slack_text_message_recorded(p):
    reply = slack_post(p.slack, {"text": "scan.blocked on acme/api"})
    expect_slack(reply, 200, "ok")
    recs = [json.loads(line) for line in p.slack.lines()]
    check(len(recs) == 1 and recs[0]["hook"] == HOOK and recs[0]["seq"] == 1 and
          recs[0]["message"] == {"text": "scan.blocked on acme/api"} and
          isinstance(recs[0]["time"], float), recs)
    got = call("GET", p.slack.base + "/_messages").json["messages"]
    check(got == recs, got)


@test
def slack_block_kit_message_accepted(p):
    message = {"text": "scan.blocked acme/api", "blocks": GOOD_BLOCKS}
    expect_slack(slack_post(p.slack, message), 200, "ok")
    check(json.loads(p.slack.lines()[0])["message"] == message, p.slack.lines())
    check(p.slack.stats()["blocks_without_text"] == 0, p.slack.stats())


@test
def slack_blocks_without_text_accepted_and_counted(p):
    expect_slack(slack_post(p.slack, {"blocks": [section("only blocks")]}), 200, "ok")
    check(p.slack.stats()["blocks_without_text"] == 1, p.slack.stats())


@test
def slack_limits_exactly_at_the_edge_accepted(p):
    for message in (
            {"text": "t", "blocks": [section("x" * 3000)]},
            {"text": "t", "blocks": [{"type": "header", "text": plain("h" * 150)}]},
            {"text": "t", "blocks": [section(fields=["f%d" % i for i in range(10)])]},
            {"text": "t", "blocks": [section(fields=["f" * 2000])]},
            {"text": "t", "blocks": [{"type": "divider"}] * 50},
            {"text": "t", "blocks": [{"type": "context", "elements": [mrkdwn("c")] * 10}]},
            {"text": "t", "blocks": [section("x", block_id="b" * 255)]},
            {"text": "t", "blocks": [section("x" * 3000)] * 4},           # 12,000 in all
            {"text": "t", "blocks": [{"type": "markdown", "text": "m" * 12000}]},
            {"text": "t", "attachments": [{"text": "a"}] * 100},
            {"text": "x" * 40000}):
        expect_slack(slack_post(p.slack, message), 200, "ok")
    check(len(p.slack.lines()) == 11, len(p.slack.lines()))


def bad_slack_cases():
    long_block_id = "b" * 256
    yield "not JSON", b"payload=%7B%7D", "invalid_payload"
    yield "JSON array", [{"text": "x"}], "invalid_payload"
    yield "JSON string", "hello", "invalid_payload"
    yield "NaN", b'{"text": NaN}', "invalid_payload"
    yield "duplicate key", b'{"text": "a", "text": "b"}', "invalid_payload"
    yield "not UTF-8", b'{"text": "\xff"}', "invalid_payload"
    yield "text is a number", {"text": 5}, "invalid_payload"
    yield "mrkdwn not boolean", {"text": "x", "mrkdwn": "yes"}, "invalid_payload"
    yield "username not string", {"text": "x", "username": 1}, "invalid_payload"
    yield "empty object", {}, "no_text"
    yield "empty text", {"text": ""}, "no_text"
    yield "blank text", {"text": "  \n"}, "no_text"
    yield "empty blocks, no text", {"blocks": []}, "no_text"
    yield "blocks is a string", {"text": "x", "blocks": json.dumps([section("a")])}, \
        "invalid_blocks_format"
    yield "block is not an object", {"text": "x", "blocks": ["section"]}, "invalid_blocks_format"
    yield "51 blocks", {"text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"
    yield "unknown block type", {"text": "x", "blocks": [{"type": "banner"}]}, "invalid_blocks"
    yield "block without type", {"text": "x", "blocks": [{"text": mrkdwn("a")}]}, "invalid_blocks"
    yield "input block in a message", {"text": "x", "blocks": [
        {"type": "input", "label": plain("l"), "element": {"type": "plain_text_input"}}]}, \
        "invalid_blocks"
    yield "section without text or fields", {"text": "x", "blocks": [section()]}, "invalid_blocks"
    yield "section text 3001", {"text": "x", "blocks": [section("x" * 3001)]}, "invalid_blocks"
    yield "section text empty", {"text": "x", "blocks": [section("")]}, "invalid_blocks"
    yield "section text is a bare string", {"text": "x", "blocks": [
        {"type": "section", "text": "hello"}]}, "invalid_blocks"
    yield "text object type markdown", {"text": "x", "blocks": [
        {"type": "section", "text": {"type": "markdown", "text": "a"}}]}, "invalid_blocks"
    yield "text object extra key", {"text": "x", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "a", "style": "bold"}}]}, \
        "invalid_blocks"
    yield "emoji on mrkdwn", {"text": "x", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "a", "emoji": True}}]}, \
        "invalid_blocks"
    yield "11 fields", {"text": "x", "blocks": [section(fields=["f"] * 11)]}, "invalid_blocks"
    yield "field 2001", {"text": "x", "blocks": [section(fields=["f" * 2001])]}, "invalid_blocks"
    yield "fields empty", {"text": "x", "blocks": [section(fields=[])]}, "invalid_blocks"
    yield "header 151", {"text": "x", "blocks": [{"type": "header", "text": plain("h" * 151)}]}, \
        "invalid_blocks"
    yield "header mrkdwn", {"text": "x", "blocks": [{"type": "header", "text": mrkdwn("h")}]}, \
        "invalid_blocks"
    yield "header with fields", {"text": "x", "blocks": [
        {"type": "header", "text": plain("h"), "fields": [mrkdwn("f")]}]}, "invalid_blocks"
    yield "divider with text", {"text": "x", "blocks": [{"type": "divider", "text": plain("d")}]}, \
        "invalid_blocks"
    yield "block_id 256", {"text": "x", "blocks": [section("a", block_id=long_block_id)]}, \
        "invalid_blocks"
    yield "duplicate block_id", {"text": "x", "blocks": [section("a", block_id="s"),
                                                         section("b", block_id="s")]}, \
        "invalid_blocks"
    yield "context 11 elements", {"text": "x", "blocks": [
        {"type": "context", "elements": [mrkdwn("c")] * 11}]}, "invalid_blocks"
    yield "context empty", {"text": "x", "blocks": [{"type": "context", "elements": []}]}, \
        "invalid_blocks"
    yield "image without alt_text", {"text": "x", "blocks": [
        {"type": "image", "image_url": "https://example.com/i.png"}]}, "invalid_blocks"
    yield "image url not http", {"text": "x", "blocks": [
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "a"}]}, "invalid_blocks"
    yield "button text 76", {"text": "x", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "text": plain("b" * 76), "action_id": "a"}]}]}, "invalid_blocks"
    yield "26 actions", {"text": "x", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "text": plain("b"), "action_id": "a%d" % i} for i in range(26)]}]}, \
        "invalid_blocks"
    yield "markdown blocks over 12000", {"text": "x", "blocks": [
        {"type": "markdown", "text": "m" * 6000}, {"type": "markdown", "text": "m" * 6001}]}, \
        "invalid_blocks"
    yield "blocks carry over 12000 characters", {"text": "x", "blocks": [
        section("x" * 2500)] * 5}, "msg_blocks_too_long"
    yield "101 attachments", {"text": "x", "attachments": [{"text": "a"}] * 101}, \
        "too_many_attachments"
    yield "attachments not a list", {"text": "x", "attachments": {"text": "a"}}, "invalid_payload"


def make_bad_slack_test(name):
    def run(p):
        message, token = {n: (m, t) for n, m, t in bad_slack_cases()}[name]
        reply = slack_post(p.slack, message)
        expect_slack(reply, 400, token)
        check(reply.headers.get("X-Peer-Detail"), "no X-Peer-Detail on a rejection")
        check(p.slack.lines() == [] and p.slack.stats()["accepted"] == 0, "bad message recorded")
        check(p.slack.stats()["errors"] == {token: 1}, p.slack.stats())
    return "slack_rejects: " + name, run


for _name, _, _ in bad_slack_cases():
    TESTS.append(make_bad_slack_test(_name))


@test
def slack_content_type(p):
    expect_slack(slack_post(p.slack, {"text": "x"}, ctype=None), 400, "invalid_payload")
    expect_slack(slack_post(p.slack, {"text": "x"}, ctype="text/plain"), 400, "invalid_payload")
    expect_slack(slack_post(p.slack, {"text": "x"}, ctype="application/x-www-form-urlencoded"),
                 400, "invalid_payload")
    expect_slack(slack_post(p.slack, {"text": "x"}, ctype="application/json; charset=latin-1"),
                 400, "invalid_payload")
    expect_slack(slack_post(p.slack, {"text": "x"}, ctype="application/json; charset=utf-8"),
                 200, "ok")
    check(len(p.slack.lines()) == 1, p.slack.lines())


@test
def slack_paths_and_methods(p):
    for path in ("/services/T1/B1", "/services/t1/b1/x", "/api/chat.postMessage", "/"):
        expect_slack(slack_post(p.slack, {"text": "x"}, hook=path), 404, "no_service")
    reply = call("GET", p.slack.base + HOOK)
    check(reply.status == 405 and reply.headers.get("Allow") == "POST", reply)
    check(p.slack.lines() == [], p.slack.lines())


@test
def slack_configured_hooks(p):
    expect_slack(slack_post(p.slack_hooks, {"text": "x"}, hook=HOOK), 200, "ok")
    expect_slack(slack_post(p.slack_hooks, {"text": "x"}, hook=HOOK_2), 410, "channel_is_archived")
    expect_slack(slack_post(p.slack_hooks, {"text": "x"}, hook=HOOK_3), 403, "invalid_token")
    p.slack_hooks.control({"hooks": {HOOK_2: None}})
    expect_slack(slack_post(p.slack_hooks, {"text": "x"}, hook=HOOK_2), 200, "ok")
    p.slack_hooks.reset()   # back to the --hook states
    expect_slack(slack_post(p.slack_hooks, {"text": "x"}, hook=HOOK_2), 410, "channel_is_archived")


@test
def slack_hook_states_from_control(p):
    for token, status in (("channel_not_found", 404), ("no_service", 404),
                          ("no_active_hooks", 404), ("invalid_token", 403),
                          ("action_prohibited", 403), ("channel_is_archived", 410),
                          ("posting_to_general_channel_denied", 403)):
        p.slack.control({"hooks": {HOOK: token}})
        for _ in range(2):  # a state holds until changed
            expect_slack(slack_post(p.slack, {"text": "x"}), status, token)
        expect_slack(slack_post(p.slack, {"text": "x"}, hook=HOOK_2), 200, "ok")
    p.slack.control({"hooks": {HOOK: "ok"}})
    expect_slack(slack_post(p.slack, {"text": "x"}), 200, "ok")
    check(len(p.slack.lines()) == 8, len(p.slack.lines()))


@test
def slack_forced_answers_in_order(p):
    p.slack.control({"fail": [{"error": "rate_limited", "retry_after": 3}, {"status": 500},
                              {"error": "invalid_token"}, {"status": 503, "body": "upstream"},
                              {"error": "channel_is_archived", "count": 2}]})
    first = slack_post(p.slack, {"text": "x"})
    expect_slack(first, 429, "rate_limited")
    check(first.headers.get("Retry-After") == "3", first.headers.items())
    expect_slack(slack_post(p.slack, {"text": "x"}), 500, "rollup_error")
    expect_slack(slack_post(p.slack, {"text": "x"}), 403, "invalid_token")
    expect_slack(slack_post(p.slack, {"text": "x"}), 503, "upstream")
    expect_slack(slack_post(p.slack, {"text": "x"}), 410, "channel_is_archived")
    expect_slack(slack_post(p.slack, {"text": "x"}), 410, "channel_is_archived")
    expect_slack(slack_post(p.slack, {"text": "x"}), 200, "ok")
    stats = p.slack.stats()
    check(stats["statuses"] == {"429": 1, "500": 1, "403": 1, "503": 1, "410": 2, "200": 1}
          and stats["pending_faults"] == 0 and len(p.slack.lines()) == 1, stats)


@test
def slack_forced_answer_for_one_hook(p):
    p.slack.control({"fail": [{"error": "channel_not_found", "hook": HOOK_2}]})
    expect_slack(slack_post(p.slack, {"text": "x"}, hook=HOOK), 200, "ok")
    expect_slack(slack_post(p.slack, {"text": "x"}, hook=HOOK_2), 404, "channel_not_found")
    expect_slack(slack_post(p.slack, {"text": "x"}, hook=HOOK_2), 200, "ok")


@test
def slack_forced_close_and_delay(p):
    p.slack.control({"fail": [{"close": True}, {"status": 500, "delay_ms": 100}]})
    try:
        reply = slack_post(p.slack, {"text": "x"})
        raise AssertionError("expected a dropped connection, got %r" % reply)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError):
        pass
    started = time.monotonic()
    expect_slack(slack_post(p.slack, {"text": "x"}), 500, "rollup_error")
    check(time.monotonic() - started >= 0.1, "delay_ms not honoured")


@test
def slack_rate_limit_per_hook(p):
    expect_slack(slack_post(p.slack_rl, {"text": "1"}), 200, "ok")
    limited = slack_post(p.slack_rl, {"text": "2"})
    expect_slack(limited, 429, "rate_limited")
    check(limited.headers.get("Retry-After") == "1", limited.headers.items())
    expect_slack(slack_post(p.slack_rl, {"text": "other hook"}, hook=HOOK_2), 200, "ok")
    deadline = time.monotonic() + 3
    while True:  # the bucket refills at 1/s: poll until it lets the next one through
        reply = slack_post(p.slack_rl, {"text": "3"})
        if reply.status == 200:
            break
        expect_slack(reply, 429, "rate_limited")
        check(time.monotonic() < deadline, "rate limit did not let a message through in 3 s")
        time.sleep(0.1)
    texts = [json.loads(line)["message"]["text"] for line in p.slack_rl.lines()]
    check(texts == ["1", "other hook", "3"], texts)
    check(p.slack_rl.stats()["rate_limited"] >= 1, p.slack_rl.stats())


@test
def slack_rate_limit_from_control(p):
    p.slack.control({"rate_limit": {"per_second": 0.5, "burst": 3}})
    for i in range(3):
        expect_slack(slack_post(p.slack, {"text": str(i)}), 200, "ok")
    limited = slack_post(p.slack, {"text": "4"})
    expect_slack(limited, 429, "rate_limited")
    check(limited.headers.get("Retry-After") == "2", limited.headers.items())
    p.slack.control({"rate_limit": None})
    expect_slack(slack_post(p.slack, {"text": "5"}), 200, "ok")


@test
def slack_markup_report(p):
    raw = {"text": "<!channel> deploy & <https://example.com/r/1|report> <@U123ABC>",
           "blocks": [section("*repo* <!here>"), {"type": "header", "text": plain("<!everyone>")}]}
    escaped = {"text": "&lt;!channel&gt; deploy &amp; co", "blocks": [section("a &lt; b &gt; c")]}
    expect_slack(slack_post(p.slack, raw), 200, "ok")
    expect_slack(slack_post(p.slack, escaped), 200, "ok")
    first, second = [json.loads(line)["markup"] for line in p.slack.lines()]
    check(sorted(first["mentions"]) == ["<!channel>", "<!here>", "<@U123ABC>"] and
          first["links"] == ["https://example.com/r/1"] and first["raw_ampersands"] == 1, first)
    check(second == {"mentions": [], "links": [], "raw_ampersands": 0}, second)


@test
def slack_messages_by_hook_and_reset(p):
    expect_slack(slack_post(p.slack, {"text": "a"}, hook=HOOK), 200, "ok")
    expect_slack(slack_post(p.slack, {"text": "b"}, hook=HOOK_2), 200, "ok")
    got = call("GET", p.slack.base + "/_messages?hook=" + HOOK_2).json["messages"]
    check([m["message"]["text"] for m in got] == ["b"], got)
    p.slack.control({"reset": True})
    check(call("GET", p.slack.base + "/_messages").json == {"messages": []}, "reset")
    check(p.slack.stats()["requests"] == 0, p.slack.stats())


@test
def slack_control_is_strict_and_atomic(p):
    for bad in ({"fial": []}, {"fail": [{"error": "no_such_error"}]}, {"fail": [{"status": 200}]},
                {"fail": [{"error": "rate_limited"}, {"status": 302}]},
                {"fail": [{"status": 500, "count": 0}]}, {"hooks": {"/x": "invalid_token"}},
                {"hooks": {HOOK: "nope"}}, {"rate_limit": {"per_second": 0}},
                {"rate_limit": {"per_second": 1, "burst": 0}}, {"reset": 1}):
        check(call("POST", p.slack.base + "/_control", bad).status == 400, bad)
    check(p.slack.stats()["pending_faults"] == 0, "a refused control body was applied")
    expect_slack(slack_post(p.slack, {"text": "x"}), 200, "ok")


@test
def slack_keep_alive(p):
    conn = http.client.HTTPConnection("127.0.0.1", p.slack.port, timeout=10)
    sock = None
    for body, status in (('{"text":"a"}', 200), ('{}', 400), ('{"blocks":"x"}', 400),
                         ('{"text":"b"}', 200)):
        conn.request("POST", HOOK, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        check(resp.status == status, (resp.status, data))
        check(resp.getheader("Content-Length") == str(len(data)), resp.getheaders())
        sock = sock or conn.sock
        check(conn.sock is sock, "connection was not kept alive")
    conn.close()


@test
def slack_port_file(p):
    port_file = os.path.join(p.tmpdir, "slack.port")
    peer = Peer("slack_receiver.py", "slack_pf", ["--port-file", port_file], p.tmpdir)
    try:
        with open(port_file, encoding="ascii") as fh:
            check(fh.read() == "%d\n" % peer.port, "port file does not hold the port")
        expect_slack(slack_post(peer, {"text": "x"}), 200, "ok")
    finally:
        peer.stop()


# ---- PagerDuty helpers ---------------------------------------------------

RKEY = "R0123456789abcdef0123456789abcde"
RKEY_2 = "R2222222222222222222222222222222"
PD_INVALID = {"status": "invalid event", "message": "Event object is invalid"}


def pd_event(action="trigger", dedup=DROP, **payload_changes):
    payload = {"summary": "scan.blocked acme/api main: 2 critical", "source": "acme/api",
               "severity": "critical", "timestamp": "2024-05-01T12:34:56.789Z",
               "component": "main", "group": "acme", "class": "scan.blocked",
               "custom_details": {"repo": "acme/api", "findings": {"critical": 2}}}
    payload.update(payload_changes)
    event = {"routing_key": RKEY, "event_action": action,
             "payload": {k: v for k, v in payload.items() if v is not DROP},
             "links": [{"href": "https://example.com/artifacts/1", "text": "report"}],
             "images": [{"src": "https://example.com/chart.png", "href": "https://example.com",
                         "alt": "chart"}],
             "client": "hookfwd", "client_url": "https://example.com/hookfwd"}
    if dedup is not DROP:
        event["dedup_key"] = dedup
    if action != "trigger":
        event = {"routing_key": RKEY, "event_action": action, "dedup_key": dedup}
    return event


def pd_post(peer, event, ctype="application/json", path="/v2/enqueue"):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return call("POST", peer.base + path, body, {} if ctype is None else {"Content-Type": ctype})


def expect_pd_ok(reply, dedup_key=None):
    check(reply.status == 202, "want 202, got %r (%s)" % (reply, reply.headers.get("X-Peer-Detail")))
    body = reply.json
    check(set(body) == {"status", "message", "dedup_key"} and body["status"] == "success" and
          body["message"] == "Event processed", body)
    if dedup_key is not None:
        check(body["dedup_key"] == dedup_key, body)
    return body["dedup_key"]


def expect_pd_invalid(reply, *errors):
    check(reply.status == 400, "want 400, got %r" % reply)
    body = reply.json
    check({k: body.get(k) for k in PD_INVALID} == PD_INVALID and isinstance(body.get("errors"), list)
          and body["errors"], body)
    for err in errors:
        check(err in body["errors"], "want error %r in %r" % (err, body["errors"]))
    return body["errors"]


def pd_incident(peer, dedup_key, routing_key=None):
    query = "?dedup_key=" + urllib.parse.quote(dedup_key)
    if routing_key:
        query += "&routing_key=" + routing_key
    return call("GET", peer.base + "/_incident" + query)


# ---- PagerDuty tests -----------------------------------------------------

@test
def pd_trigger_accepted_and_recorded(p):
    event = pd_event(dedup="acme/api:main:scan.blocked")
    expect_pd_ok(pd_post(p.pd, event), "acme/api:main:scan.blocked")
    recs = [json.loads(line) for line in p.pd.lines()]
    check(len(recs) == 1 and recs[0]["event"] == event and recs[0]["event_action"] == "trigger"
          and recs[0]["dedup_key"] == "acme/api:main:scan.blocked" and not recs[0]["matched"]
          and recs[0]["incident"] == {"number": 1, "state": "triggered"}, recs)
    inc = pd_incident(p.pd, "acme/api:main:scan.blocked").json
    check(inc["open"] and inc["state"] == "triggered" and inc["severity"] == "critical" and
          inc["routing_key"] == RKEY and inc["alerts"] == 1, inc)


@test
def pd_trigger_without_dedup_key_gets_one(p):
    key = expect_pd_ok(pd_post(p.pd, pd_event()))
    check(re.fullmatch(r"[0-9a-f]{32}", key), key)
    check(pd_incident(p.pd, key).json["open"], "no incident for the generated key")


@test
def pd_incident_lifecycle(p):
    key = "acme/api:main"
    expect_pd_ok(pd_post(p.pd, pd_event(dedup=key)), key)
    expect_pd_ok(pd_post(p.pd, pd_event(dedup=key)), key)          # deduplicated
    inc = pd_incident(p.pd, key).json
    check(inc["number"] == 1 and inc["alerts"] == 2 and inc["state"] == "triggered", inc)
    expect_pd_ok(pd_post(p.pd, pd_event("acknowledge", dedup=key)), key)
    check(pd_incident(p.pd, key).json["state"] == "acknowledged", "not acknowledged")
    expect_pd_ok(pd_post(p.pd, pd_event("resolve", dedup=key)), key)
    inc = pd_incident(p.pd, key).json
    check(inc["state"] == "resolved" and not inc["open"] and inc["resolved_at"], inc)
    check([h["action"] for h in inc["history"]] ==
          ["trigger", "trigger", "acknowledge", "resolve"], inc["history"])
    expect_pd_ok(pd_post(p.pd, pd_event(dedup=key)), key)          # a new incident
    inc = pd_incident(p.pd, key).json
    check(inc["number"] == 2 and inc["open"], inc)
    all_incidents = call("GET", p.pd.base + "/_incidents?dedup_key=" + urllib.parse.quote(key))
    check([i["open"] for i in all_incidents.json["incidents"]] == [False, True], all_incidents)
    opened = call("GET", p.pd.base + "/_incidents?open=true").json["incidents"]
    check([i["number"] for i in opened] == [2], opened)
    matched = [json.loads(line)["matched"] for line in p.pd.lines()]
    check(matched == [False, True, True, True, False], matched)


@test
def pd_resolve_of_unknown_key_is_accepted_and_changes_nothing(p):
    expect_pd_ok(pd_post(p.pd, pd_event("resolve", dedup="never-triggered")), "never-triggered")
    check(pd_incident(p.pd, "never-triggered").status == 404, "an incident appeared")
    check(json.loads(p.pd.lines()[0])["matched"] is False, p.pd.lines())


@test
def pd_incidents_are_per_routing_key(p):
    expect_pd_ok(pd_post(p.pd, pd_event(dedup="k")), "k")
    other = dict(pd_event("resolve", dedup="k"), routing_key=RKEY_2)
    expect_pd_ok(pd_post(p.pd, other), "k")
    check(pd_incident(p.pd, "k", RKEY).json["open"], "resolve with another routing key closed it")
    expect_pd_ok(pd_post(p.pd, pd_event("resolve", dedup="k")), "k")
    check(not pd_incident(p.pd, "k", RKEY).json["open"], "not resolved")


@test
def pd_edges_accepted(p):
    for event in (
            pd_event(summary="s" * 1024, dedup="d" * 255),
            pd_event(timestamp="2024-05-01T12:34:56+02:00"),
            pd_event(timestamp="2024-05-01T12:34:56.789+0000"),
            pd_event(timestamp="2024-05-01"),
            pd_event(component=DROP, group=DROP, **{"class": DROP, "custom_details": DROP,
                                                     "timestamp": DROP}),
            dict(pd_event(), links=[{"href": "https://example.com"}], images=[]),
            {"routing_key": RKEY, "event_action": "trigger",
             "payload": {"summary": "s", "source": "h", "severity": "info"}},
            dict(pd_event("acknowledge", dedup="x"), payload={"anything": 1})):
        expect_pd_ok(pd_post(p.pd, event))
    check(len(p.pd.lines()) == 8, len(p.pd.lines()))


def bad_pd_cases():
    short, long = RKEY[:31], RKEY + "x"
    yield "routing_key missing", {k: v for k, v in pd_event().items() if k != "routing_key"}, \
        ["'routing_key' is missing or blank"]
    yield "routing_key 31 chars", dict(pd_event(), routing_key=short), \
        ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    yield "routing_key 33 chars", dict(pd_event(), routing_key=long), \
        ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    yield "event_action missing", {k: v for k, v in pd_event().items() if k != "event_action"}, \
        ["'event_action' is missing or blank"]
    yield "event_action page", dict(pd_event(), event_action="page"), \
        ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' "
         "or 'resolve')"]
    yield "trigger without payload", {"routing_key": RKEY, "event_action": "trigger"}, \
        ["'payload' is missing or blank"]
    yield "summary missing", pd_event(summary=DROP), ["'payload.summary' is missing or blank"]
    yield "summary blank", pd_event(summary="  "), ["'payload.summary' is missing or blank"]
    yield "summary 1025", pd_event(summary="s" * 1025), \
        ["'payload.summary' is too long (1025 characters, maximum is 1024)"]
    yield "source missing", pd_event(source=DROP), ["'payload.source' is missing or blank"]
    yield "severity missing", pd_event(severity=DROP), ["'payload.severity' is missing or blank"]
    yield "severity high", pd_event(severity="high"), \
        ["'payload.severity' is invalid (must be one of the following: 'critical', 'warning', "
         "'error' or 'info')"]
    yield "severity Critical", pd_event(severity="Critical"), \
        ["'payload.severity' is invalid (must be one of the following: 'critical', 'warning', "
         "'error' or 'info')"]
    yield "timestamp words", pd_event(timestamp="yesterday"), \
        ["'payload.timestamp' is invalid (must be an ISO 8601 timestamp)"]
    yield "timestamp month 13", pd_event(timestamp="2024-13-01T00:00:00Z"), \
        ["'payload.timestamp' is invalid (must be an ISO 8601 timestamp)"]
    yield "timestamp epoch number", pd_event(timestamp=1714566896), \
        ["'payload.timestamp' is invalid (must be an ISO 8601 timestamp)"]
    yield "component number", pd_event(component=5), ["'payload.component' must be a string"]
    yield "custom_details string", pd_event(custom_details="x"), \
        ["'payload.custom_details' must be an object"]
    yield "dedup_key 256", pd_event(dedup="d" * 256), \
        ["'dedup_key' is too long (256 characters, maximum is 255)"]
    yield "dedup_key number", pd_event(dedup=7), ["'dedup_key' must be a string"]
    yield "resolve without dedup_key", {"routing_key": RKEY, "event_action": "resolve"}, \
        ["'dedup_key' is missing or blank"]
    yield "acknowledge blank dedup_key", pd_event("acknowledge", dedup=""), \
        ["'dedup_key' is missing or blank"]
    yield "links not a list", dict(pd_event(), links={"href": "https://x.y"}), \
        ["'links' must be an array"]
    yield "link without href", dict(pd_event(), links=[{"text": "t"}]), \
        ["'links[0].href' is missing or blank"]
    yield "link href not a URL", dict(pd_event(), links=[{"href": "artifacts/1"}]), \
        ["'links[0].href' is not a URL"]
    yield "link extra field", dict(pd_event(), links=[{"href": "https://x.y", "url": "u"}]), \
        ["'links[0]' has unknown fields ['url']"]
    yield "image over http", dict(pd_event(), images=[{"src": "http://x.y/i.png"}]), \
        ["'images[0].src' must be an https URL"]
    yield "client_url not a URL", dict(pd_event(), client_url="hookfwd"), \
        ["'client_url' is not a URL"]
    yield "unknown top-level field", dict(pd_event(), severity="critical"), \
        ["unknown fields ['severity']"]
    yield "unknown payload field", pd_event(details={"a": 1}), \
        ["'payload' has unknown fields ['details']"]
    yield "several errors at once", {"routing_key": short, "event_action": "trigger",
                                     "payload": {}}, \
        ["Length of 'routing_key' is incorrect (should be 32 characters)",
         "'payload.summary' is missing or blank", "'payload.source' is missing or blank",
         "'payload.severity' is missing or blank"]
    yield "JSON array", [pd_event()], ["Event object must be a JSON object"]


def make_bad_pd_test(name):
    def run(p):
        event, errors = {n: (e, errs) for n, e, errs in bad_pd_cases()}[name]
        got = expect_pd_invalid(pd_post(p.pd, event), *errors)
        check(len(got) == len(errors), "unexpected extra errors: %r" % got)
        check(p.pd.lines() == [] and call("GET", p.pd.base + "/_incidents").json["incidents"] == [],
              "a refused event was recorded")
    return "pd_rejects: " + name, run


for _name, _, _ in bad_pd_cases():
    TESTS.append(make_bad_pd_test(_name))


@test
def pd_not_json(p):
    for body in (b"routing_key=x", b'{"routing_key": NaN}', b'{"a": 1, "a": 2}', b"\xff"):
        reply = pd_post(p.pd, body)
        check(reply.status == 400 and reply.json["status"] == "Unrecognized object" and
              reply.json["errors"], reply)
    check(p.pd.lines() == [], p.pd.lines())


@test
def pd_content_type_size_and_paths(p):
    reply = pd_post(p.pd, pd_event(), ctype=None)
    expect_pd_invalid(reply)
    expect_pd_invalid(pd_post(p.pd, pd_event(), ctype="text/plain"))
    big = pd_event(custom_details={"blob": "x" * (512 * 1024)})
    expect_pd_invalid(pd_post(p.pd, big))
    expect_pd_ok(pd_post(p.pd, pd_event(), ctype="application/json; charset=utf-8"))
    check(pd_post(p.pd, pd_event(), path="/v2/change/enqueue").status == 404, "change events")
    check(pd_post(p.pd, pd_event(), path="/generic/2010-04-15/create_event.json").status == 404,
          "v1 path")
    check(call("GET", p.pd.base + "/v2/enqueue").status == 405, "GET enqueue")
    check(len(p.pd.lines()) == 1, p.pd.lines())


@test
def pd_known_routing_keys(p):
    expect_pd_ok(pd_post(p.pd_keys, pd_event()))
    expect_pd_invalid(pd_post(p.pd_keys, dict(pd_event(), routing_key=RKEY_2)),
                      "Invalid routing key")


@test
def pd_lenient_accepts_unknown_fields(p):
    event = dict(pd_event(details={"a": 1}), extra=True)
    expect_pd_invalid(pd_post(p.pd, event))
    expect_pd_ok(pd_post(p.pd_lenient, event))


@test
def pd_forced_answers(p):
    p.pd.control({"fail": [{"status": 429, "retry_after": 2}, {"status": 500}, {"status": 502},
                           {"status": 400, "errors": ["Invalid routing key"]},
                           {"status": 503, "count": 2}, {"status": 500, "body": "<html>oops"}]})
    first = pd_post(p.pd, pd_event())
    check(first.status == 429 and first.headers.get("Retry-After") == "2" and
          first.json["status"] == "throttle event", first)
    for status in (500, 502):
        reply = pd_post(p.pd, pd_event())
        check(reply.status == status and reply.json["status"] == "error", reply)
    expect_pd_invalid(pd_post(p.pd, pd_event()), "Invalid routing key")
    for _ in range(2):
        check(pd_post(p.pd, pd_event()).status == 503, "503")
    raw = pd_post(p.pd, pd_event())
    check(raw.status == 500 and raw.body == b"<html>oops", raw)
    expect_pd_ok(pd_post(p.pd, pd_event()))
    stats = p.pd.stats()
    check(stats["statuses"] == {"429": 1, "500": 2, "502": 1, "400": 1, "503": 2, "202": 1} and
          stats["accepted"] == 1 and len(p.pd.lines()) == 1, stats)


@test
def pd_forced_close(p):
    p.pd.control({"fail": [{"close": True}]})
    try:
        reply = pd_post(p.pd, pd_event())
        raise AssertionError("expected a dropped connection, got %r" % reply)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError):
        pass
    expect_pd_ok(pd_post(p.pd, pd_event()))


@test
def pd_rate_limit_per_routing_key(p):
    p.pd.control({"rate_limit": {"per_minute": 60, "burst": 2}})
    expect_pd_ok(pd_post(p.pd, pd_event()))
    expect_pd_ok(pd_post(p.pd, pd_event()))
    limited = pd_post(p.pd, pd_event())
    check(limited.status == 429 and limited.headers.get("Retry-After") == "1" and
          limited.json["status"] == "throttle event", limited)
    expect_pd_ok(pd_post(p.pd, dict(pd_event(), routing_key=RKEY_2)))
    check(p.pd.stats()["rate_limited"] == 1 and len(p.pd.lines()) == 3, p.pd.stats())


@test
def pd_events_filter_stats_and_reset(p):
    expect_pd_ok(pd_post(p.pd, pd_event(dedup="a")))
    expect_pd_ok(pd_post(p.pd, pd_event(dedup="b")))
    expect_pd_ok(pd_post(p.pd, pd_event("resolve", dedup="a")))
    got = call("GET", p.pd.base + "/_events?dedup_key=a").json["events"]
    check([e["event_action"] for e in got] == ["trigger", "resolve"], got)
    stats = p.pd.stats()
    check(stats["actions"] == {"trigger": 2, "resolve": 1} and stats["open_incidents"] == 1, stats)
    check(call("GET", p.pd.base + "/_incident").status == 400, "/_incident without dedup_key")
    p.pd.control({"reset": True})
    check(call("GET", p.pd.base + "/_incidents").json == {"incidents": []}, "reset")
    check(call("GET", p.pd.base + "/_events").json == {"events": []}, "reset")


@test
def pd_control_is_strict_and_atomic(p):
    for bad in ({"fial": []}, {"fail": [{"status": 202}]}, {"fail": [{"status": 500, "errors": "x"}]},
                {"fail": [{"status": 500}, {"code": 1}]}, {"rate_limit": {"per_minute": 0}},
                {"rate_limit": {"per_second": 1}}, {"fail": [{"status": 500, "count": -1}]}):
        check(call("POST", p.pd.base + "/_control", bad).status == 400, bad)
    check(p.pd.stats()["pending_faults"] == 0, "a refused control body was applied")


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
        self.slack = self.start("slack_receiver.py", "slack", [])
        self.slack_hooks = self.start("slack_receiver.py", "slack_hooks",
                                      ["--hook", HOOK, "--hook", HOOK_2 + "=channel_is_archived"])
        self.slack_rl = self.start("slack_receiver.py", "slack_rl", ["--rate-limit", "1"])
        self.pd = self.start("pagerduty_receiver.py", "pd", [])
        self.pd_keys = self.start("pagerduty_receiver.py", "pd_keys", ["--routing-key", RKEY])
        self.pd_lenient = self.start("pagerduty_receiver.py", "pd_lenient", ["--lenient"])
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
