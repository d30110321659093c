#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A strict Datadog v2 metrics intake (POST /api/v2/series) that hookfwd's
# integration tests run in place of Datadog (PROTOCOLS.md section 2). It
# checks key, encoding, size limits and the series schema, records accepted
# series, and takes fault injection on a /_control endpoint.
#
#   datadog_receiver.py --api-key KEY [--port 0] [--out series.jsonl]
#                       [--no-time-check] [--tls-cert C --tls-key K] [--verbose]
#
# Prints "LISTENING <port>" on stdout once bound. Standard library only.

import hmac
import json
import re
import sys
import threading
import time
import zlib
from collections import deque
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
from peer_common import (BodyError, OutFile, PeerHandler, base_arg_parser,
                         check_fault_transport, is_int, is_number,
                         parse_control_body, serve, strict_loads)

SERIES_PATH = "/api/v2/series"
MAX_COMPRESSED = 512000        # bytes on the wire per payload
MAX_DECOMPRESSED = 5242880     # bytes after Content-Encoding is undone
PAST_LIMIT = 3600              # a point may be at most 1 h old
FUTURE_LIMIT = 600             # ... and at most 10 min ahead

METRIC_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,199}$")
TAG_RE = re.compile(r"^[a-z][a-z0-9_\-:./]{0,199}$")
SERIES_KEYS = {"metric", "type", "interval", "points", "tags", "resources",
               "unit", "source_type_name", "metadata"}
TYPE_COUNT = 1

# Reasons for injected faults, shaped like Datadog's answers.
FAULT_REASONS = {400: "Bad Request", 403: "Forbidden", 408: "Request timeout",
                 413: "Payload too large", 429: "Too many requests",
                 500: "Internal Server Error", 502: "Bad Gateway",
                 503: "Service Unavailable", 504: "Gateway Timeout"}
CONTROL_KEYS = {"reset", "fail"}
FAULT_KEYS = {"status", "retry_after", "errors", "close", "delay_ms"}


class Reject(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# ---- payload checks ------------------------------------------------------

def decompress(body, encoding):
    """Undo Content-Encoding with a cap so a bomb cannot exhaust memory."""
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":  # HTTP deflate is the zlib format (RFC 1950)
        inflater = zlib.decompressobj(zlib.MAX_WBITS)
    else:
        raise Reject(415, "Unsupported Content-Encoding: " + encoding)
    try:
        data = inflater.decompress(body, MAX_DECOMPRESSED + 1)
    except zlib.error as err:
        raise Reject(400, "invalid %s body: %s" % (encoding, err))
    if len(data) > MAX_DECOMPRESSED:
        raise Reject(413, "Payload too large: decompressed body over %d bytes" % MAX_DECOMPRESSED)
    if not inflater.eof or inflater.unused_data:
        raise Reject(400, "invalid %s body: truncated or trailing data" % encoding)
    return data


def check_points(where, points, time_check):
    if not isinstance(points, list) or not points:
        raise Reject(400, where + ".points: must be a non-empty list")
    now = time.time()
    for i, point in enumerate(points):
        at = "%s.points[%d]" % (where, i)
        if not isinstance(point, dict) or set(point) != {"timestamp", "value"}:
            raise Reject(400, at + ": must be {timestamp, value}")
        stamp = point["timestamp"]
        if not is_int(stamp):
            raise Reject(400, at + ".timestamp: must be an integer")
        if not is_number(point["value"]):
            raise Reject(400, at + ".value: must be a number")
        if time_check and not now - PAST_LIMIT <= stamp <= now + FUTURE_LIMIT:
            raise Reject(400, at + ".timestamp: more than 1 h old or 10 min ahead")


def check_tags(where, tags):
    if not isinstance(tags, list):
        raise Reject(400, where + ".tags: must be a list")
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not TAG_RE.match(tag) or tag.endswith(":"):
            raise Reject(400, "%s.tags[%d]: invalid tag %r" % (where, i, tag))


def check_resources(where, resources):
    if not isinstance(resources, list):
        raise Reject(400, where + ".resources: must be a list")
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or set(res) != {"name", "type"} or \
                not all(isinstance(res[k], str) and res[k] for k in ("name", "type")):
            raise Reject(400, "%s.resources[%d]: must be {name, type} strings" % (where, i))


def check_series(where, series, time_check):
    if not isinstance(series, dict):
        raise Reject(400, where + ": must be an object")
    unknown = set(series) - SERIES_KEYS
    if unknown:
        raise Reject(400, "%s: unknown keys %s" % (where, sorted(unknown)))
    metric = series.get("metric")
    if not isinstance(metric, str) or not METRIC_RE.match(metric):
        raise Reject(400, "%s.metric: invalid metric name %r" % (where, metric))
    kind = series.get("type", 0)
    if not is_int(kind) or not 0 <= kind <= 3:
        raise Reject(400, where + ".type: must be an integer 0..3")
    if "interval" in series and not (is_int(series["interval"]) and series["interval"] > 0):
        raise Reject(400, where + ".interval: must be a positive integer")
    if kind == TYPE_COUNT and "interval" not in series:
        raise Reject(400, where + ".interval: required for a count")
    if "points" not in series:
        raise Reject(400, where + ".points: required")
    check_points(where, series["points"], time_check)
    if "tags" in series:
        check_tags(where, series["tags"])
    if "resources" in series:
        check_resources(where, series["resources"])
    for key in ("unit", "source_type_name"):
        if key in series and not isinstance(series[key], str):
            raise Reject(400, "%s.%s: must be a string" % (where, key))
    if "metadata" in series and not isinstance(series["metadata"], dict):
        raise Reject(400, where + ".metadata: must be an object")


def parse_payload(data, time_check):
    try:
        payload = strict_loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise Reject(400, "invalid JSON: %s" % err)
    if not isinstance(payload, dict) or set(payload) != {"series"}:
        raise Reject(400, 'body must be {"series": [...]} and nothing else')
    series = payload["series"]
    if not isinstance(series, list) or not series:
        raise Reject(400, "series: must be a non-empty list")
    for i, item in enumerate(series):
        check_series("series[%d]" % i, item, time_check)
    return series


# ---- state ---------------------------------------------------------------

class DatadogState:
    def __init__(self, args):
        self.api_key = args.api_key
        self.time_check = not args.no_time_check
        self.out = OutFile(args.out)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.faults = deque()
        self.series = []
        self.stats = {"requests": 0, "accepted": 0, "rejected": 0, "series": 0,
                      "points": 0, "encodings": {}, "max_compressed": 0,
                      "max_decompressed": 0}

    def record(self, series):
        self.series.extend(series)
        self.stats["accepted"] += 1
        self.stats["series"] += len(series)
        self.stats["points"] += sum(len(s["points"]) for s in series)
        self.out.write_lines([json.dumps(s, separators=(",", ":")) for s in series])


def fault_error(entry):
    if not isinstance(entry, dict) or set(entry) - FAULT_KEYS:
        return "fail entries are objects with keys %s" % sorted(FAULT_KEYS)
    err = check_fault_transport(entry)
    if err or entry.get("close"):
        return err
    if not (is_int(entry.get("status")) and 400 <= entry["status"] <= 599):
        return "a fail entry needs an error status 400..599 (or close: true)"
    if "retry_after" in entry and not (is_int(entry["retry_after"]) and entry["retry_after"] >= 0):
        return "retry_after must be a non-negative integer"
    if "errors" in entry and not (isinstance(entry["errors"], list)
                                  and all(isinstance(e, str) for e in entry["errors"])):
        return "errors must be a list of strings"
    return None


# ---- HTTP ----------------------------------------------------------------

class DatadogHandler(PeerHandler):
    server_version = "datadog-intake-peer"

    def do_GET(self):
        url = urlsplit(self.path)
        state = self.state
        if url.path == "/_stats":
            with state.lock:
                stats = dict(state.stats, encodings=dict(state.stats["encodings"]),
                             pending_faults=len(state.faults))
            self.send_json(200, stats)
        elif url.path == "/_series":
            wanted = parse_qs(url.query).get("metric")
            with state.lock:
                series = [s for s in state.series if not wanted or s["metric"] in wanted]
            self.send_json(200, {"series": series})
        elif url.path == SERIES_PATH:
            self.send_json(405, {"errors": ["Method Not Allowed"]})
        else:
            self.send_json(404, {"errors": ["Not Found"]})

    def do_POST(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_body()
        except BodyError as err:
            self.close_connection = True
            self.send_json(err.status, {"errors": [err.reason]})
            return
        if path == SERIES_PATH:
            self.post_series(body)
        elif path == "/_control":
            self.post_control(body)
        else:
            self.send_json(404, {"errors": ["Not Found"]})

    def post_series(self, body):
        state = self.state
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        with state.lock:
            stats = state.stats
            stats["requests"] += 1
            stats["encodings"][encoding] = stats["encodings"].get(encoding, 0) + 1
            stats["max_compressed"] = max(stats["max_compressed"], len(body))
        try:
            key = self.headers.get("DD-API-KEY")
            if key is None or not hmac.compare_digest(key.encode(), state.api_key.encode()):
                raise Reject(403, "Forbidden")
            with state.lock:
                fault = state.faults.popleft() if state.faults else None
            if fault is not None:
                self.answer_fault(fault)
                return
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise Reject(400, "Content-Type must be application/json")
            if len(body) > MAX_COMPRESSED:
                raise Reject(413, "Payload too large: over %d bytes" % MAX_COMPRESSED)
            data = decompress(body, encoding)
            with state.lock:
                stats["max_decompressed"] = max(stats["max_decompressed"], len(data))
            series = parse_payload(data, state.time_check)
        except Reject as err:
            with state.lock:
                state.stats["rejected"] += 1
            self.send_json(err.status, {"errors": [err.reason]})
            return
        with state.lock:
            state.record(series)
        self.send_json(202, {"errors": []})

    def answer_fault(self, fault):
        with self.state.lock:
            self.state.stats["rejected"] += 1
        if self.apply_fault_transport(fault):
            return
        status = fault["status"]
        headers = {}
        if status == 429:
            wait = fault.get("retry_after", 1)
            headers = {"Retry-After": str(wait), "X-RateLimit-Limit": "100",
                       "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": str(wait), "X-RateLimit-Name": "metrics_series"}
        elif "retry_after" in fault:
            headers = {"Retry-After": str(fault["retry_after"])}
        errors = fault.get("errors", [FAULT_REASONS.get(status, "Error")])
        self.send_json(status, {"errors": errors}, headers=headers)

    def post_control(self, body):
        obj, err = parse_control_body(body)
        if obj is not None:
            if set(obj) - CONTROL_KEYS:
                err = "unknown control keys: %s" % sorted(set(obj) - CONTROL_KEYS)
            elif not isinstance(obj.get("fail", []), list):
                err = "fail must be a list"
            elif "reset" in obj and not isinstance(obj["reset"], bool):
                err = "reset must be a boolean"
            else:
                err = next(filter(None, map(fault_error, obj.get("fail", []))), None)
        if err:
            self.send_json(400, {"error": err})
            return
        state = self.state
        with state.lock:
            if obj.get("reset"):
                state.reset()
            state.faults.extend(obj.get("fail", []))
            pending = len(state.faults)
        self.send_json(200, {"ok": True, "pending_faults": pending})


def main():
    parser = base_arg_parser("Strict Datadog v2 series intake for hookfwd tests.")
    parser.add_argument("--api-key", required=True, help="the only accepted DD-API-KEY")
    parser.add_argument("--no-time-check", action="store_true",
                        help="accept point timestamps outside now-1h .. now+10min")
    args = parser.parse_args()
    serve(args, DatadogHandler, DatadogState(args))


if __name__ == "__main__":
    sys.exit(main())
