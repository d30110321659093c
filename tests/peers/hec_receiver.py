#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A strict Splunk HTTP Event Collector that hookfwd's integration tests run in
# place of Splunk (which cannot run here). It answers the real HEC codes
# (PROTOCOLS.md section 1), supports indexer acknowledgement, and takes fault
# injection on a /_control endpoint that is not part of HEC.
#
#   hec_receiver.py --token T [--port 0] [--out events.jsonl]
#                   [--require-channel] [--ack] [--indexes main,metrics]
#                   [--tls-cert C --tls-key K] [--verbose]
#
# Prints "LISTENING <port>" on stdout once bound. Standard library only.

import gzip
import hmac
import re
import sys
import threading
import zlib
from collections import deque
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
from peer_common import (BodyError, OutFile, PeerHandler, base_arg_parser,
                         check_fault_transport, is_int, is_number,
                         parse_control_body, serve,
                         strict_decoder, strict_loads)

# code: (HTTP status, text), from Splunk's "Troubleshoot HEC" table.
HEC_CODES = {
    0: (200, "Success"),
    1: (403, "Token disabled"),
    2: (401, "Token is required"),
    3: (401, "Invalid authorization"),
    4: (403, "Invalid token"),
    5: (400, "No data"),
    6: (400, "Invalid data format"),
    7: (400, "Incorrect index"),
    8: (500, "Internal server error"),
    9: (503, "Server is busy"),
    10: (400, "Data channel is missing"),
    11: (400, "Invalid data channel"),
    12: (400, "Event field is required"),
    13: (400, "Event field cannot be blank"),
    14: (400, "ACK is disabled"),
    15: (400, "Error in handling indexed fields"),
    16: (400, "Query string authorization is not enabled"),
    17: (200, "HEC is healthy"),
    18: (503, "HEC is unhealthy, queues are full"),
    19: (503, "HEC is unhealthy, ack service unavailable"),
    20: (503, "HEC is unhealthy, queues are full, ack service unavailable"),
    21: (400, "Invalid token"),
    22: (400, "Token disabled"),
}

EVENT_PATHS = {"/services/collector", "/services/collector/event",
               "/services/collector/event/1.0"}
ACK_PATH = "/services/collector/ack"
HEALTH_PATH = "/services/collector/health"
NOT_FOUND = {"text": "The requested URL was not found on this server.", "code": 404}

ENVELOPE_KEYS = {"time", "host", "source", "sourcetype", "index", "event", "fields"}
CHANNEL_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                        r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MULTI_METRIC_PREFIX = "metric_name:"
JSON_WS = " \t\r\n"
# Floats stay Decimal so "time" can be checked for its written decimals.
EVENT_DECODER = strict_decoder(parse_float=Decimal)

LOST = -1  # pending ack state: never becomes true

CONTROL_KEYS = {"reset", "fail", "poison_field", "poison_value", "drop_acks",
                "lose_next_acks", "ack_after_polls", "healthy"}
FAULT_KEYS = {"status", "code", "text", "invalid_event_number", "close", "delay_ms"}


class HecError(Exception):
    """A request-level rejection. event_number is set for per-object errors."""

    def __init__(self, code, event_number=None, status=None, text=None):
        super().__init__(code)
        self.code = code
        self.event_number = event_number
        self.status = status or HEC_CODES[code][0]
        self.text = text or HEC_CODES[code][1]

    def body(self):
        body = {"text": self.text, "code": self.code}
        if self.event_number is not None:
            body["invalid-event-number"] = self.event_number
        return body


# ---- envelope validation -------------------------------------------------

def split_events(text):
    """Yield (raw_text, object) for each JSON value of a batch. Values are
    concatenated, separated by nothing or whitespace. Raises HecError(6, n)
    where value n does not parse."""
    pos, number, end = 0, 0, len(text)
    while True:
        while pos < end and text[pos] in JSON_WS:
            pos += 1
        if pos == end:
            return
        try:
            obj, stop = EVENT_DECODER.raw_decode(text, pos)
        except ValueError:
            raise HecError(6, number)
        yield text[pos:stop], obj
        pos, number = stop, number + 1


def valid_time(value):
    # Epoch seconds, a JSON number with at most 3 decimals (ms), as written.
    if not is_number(value) or value < 0:
        return False
    return not isinstance(value, Decimal) or value.as_tuple().exponent >= -3


def fields_code(fields):
    """HEC code for a bad "fields" member, or None. Index-time fields are a
    flat object of strings, numbers or arrays of strings."""
    if not isinstance(fields, dict):
        return 15
    for key, value in fields.items():
        if key == "":
            return 15
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                return 15
        elif not (isinstance(value, str) or is_number(value)):
            return 15
    return None


def valid_metric(fields):
    """A metric event needs "metric_name:<name>": number keys, or
    metric_name plus a numeric _value."""
    if not isinstance(fields, dict):
        return False
    multi = [key for key in fields if key.startswith(MULTI_METRIC_PREFIX)]
    if multi:
        return all(len(key) > len(MULTI_METRIC_PREFIX) and is_number(fields[key])
                   for key in multi)
    name = fields.get("metric_name")
    return isinstance(name, str) and name != "" and is_number(fields.get("_value"))


def envelope_code(obj, indexes):
    """HEC code for one bad envelope object, or None when it is good."""
    if not isinstance(obj, dict):
        return 6
    if "event" not in obj:
        return 12
    event = obj["event"]
    if event is None or event == "":
        return 13
    if set(obj) - ENVELOPE_KEYS:
        return 6
    if "time" in obj and not valid_time(obj["time"]):
        return 6
    for key in ("host", "source", "sourcetype", "index"):
        if key in obj and not isinstance(obj[key], str):
            return 6
    if indexes is not None and "index" in obj and obj["index"] not in indexes:
        return 7
    if "fields" in obj:
        code = fields_code(obj["fields"])
        if code is not None:
            return code
    if event == "metric" and not valid_metric(obj.get("fields")):
        return 6
    return None


def decode_body(body, encoding):
    if encoding in ("", "identity"):
        data = body
    elif encoding == "gzip":
        try:
            data = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            raise HecError(6)
    else:
        raise HecError(6, status=415, text="Unsupported Content-Encoding: " + encoding)
    if data.strip(JSON_WS.encode()) == b"":
        raise HecError(5)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HecError(6)


# ---- state ---------------------------------------------------------------

class ChannelAcks:
    def __init__(self):
        self.next_id = 0
        self.pending = {}  # ack id -> polls still answered false, or LOST


class HecState:
    def __init__(self, args):
        self.token = args.token
        self.ack_enabled = args.ack
        self.require_channel = args.require_channel or args.ack
        self.indexes = set(args.indexes.split(",")) if args.indexes else None
        self.out = OutFile(args.out)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.faults = deque()
        self.poison = None  # (field, value)
        self.channels = {}
        self.lose_next_acks = 0
        self.ack_after_polls = 0
        self.healthy = True
        self.events = []
        self.stats = {"requests": 0, "events": 0, "gzip_requests": 0,
                      "rejected": 0, "batch_sizes": [], "ack_queries": 0,
                      "acks_true": 0}

    def is_poisoned(self, obj):
        if self.poison is None:
            return False
        field, value = self.poison
        event = obj.get("event")
        data = event.get("data") if isinstance(event, dict) else None
        return any(isinstance(c, dict) and field in c and c[field] == value
                   for c in (event, data))

    def record(self, raws):
        # A JSON text has no raw line breaks inside strings, so folding them
        # keeps each object intact on one line.
        lines = [raw.replace("\r", " ").replace("\n", " ") for raw in raws]
        self.events.extend(lines)
        self.stats["events"] += len(lines)
        self.out.write_lines(lines)

    def issue_ack(self, channel):
        acks = self.channels.setdefault(channel, ChannelAcks())
        ack_id = acks.next_id
        acks.next_id += 1
        if self.lose_next_acks > 0:
            self.lose_next_acks -= 1
            acks.pending[ack_id] = LOST
        else:
            acks.pending[ack_id] = self.ack_after_polls
        return ack_id

    def query_acks(self, channel, ids):
        acks = self.channels.get(channel)
        answer = {}
        for ack_id in dict.fromkeys(ids):
            polls_left = acks.pending.get(ack_id) if acks else None
            if polls_left is None or polls_left == LOST:
                answer[str(ack_id)] = False
            elif polls_left > 0:
                acks.pending[ack_id] = polls_left - 1
                answer[str(ack_id)] = False
            else:
                del acks.pending[ack_id]  # Splunk forgets an id once true
                self.stats["acks_true"] += 1
                answer[str(ack_id)] = True
        return answer

    def drop_pending_acks(self):
        for acks in self.channels.values():
            for ack_id in acks.pending:
                acks.pending[ack_id] = LOST


def fault_error(entry):
    """Validate one "fail" entry; fills in status from the code table."""
    if not isinstance(entry, dict) or set(entry) - FAULT_KEYS:
        return "fail entries are objects with keys %s" % sorted(FAULT_KEYS)
    err = check_fault_transport(entry)
    if err or entry.get("close"):
        return err
    code = entry.get("code")
    if not is_int(code):
        return "a fail entry needs an integer code (or close: true)"
    if "status" not in entry:
        if code not in HEC_CODES:
            return "status is required for a code outside the HEC table"
        entry["status"] = HEC_CODES[code][0]
    if not (is_int(entry["status"]) and 100 <= entry["status"] <= 599):
        return "status must be an HTTP status"
    return None


def control_error(obj):
    """Validate a /_control body before anything is applied."""
    unknown = set(obj) - CONTROL_KEYS
    if unknown:
        return "unknown control keys: %s" % sorted(unknown)
    if not isinstance(obj.get("fail", []), list):
        return "fail must be a list"
    for entry in obj.get("fail", []):
        err = fault_error(entry)
        if err:
            return err
    if ("poison_field" in obj) != ("poison_value" in obj):
        return "poison_field and poison_value go together"
    if obj.get("poison_field") is not None and not isinstance(obj["poison_field"], str):
        return "poison_field must be a string (or null to clear)"
    for key in ("lose_next_acks", "ack_after_polls"):
        if key in obj and not (is_int(obj[key]) and obj[key] >= 0):
            return key + " must be a non-negative integer"
    for key in ("reset", "drop_acks", "healthy"):
        if key in obj and not isinstance(obj[key], bool):
            return key + " must be a boolean"
    return None


def is_failure(fault):
    """A failing fault answers instead of indexing; a 2xx one (e.g. code 24,
    a capacity warning) lets the events be indexed and only sets the answer."""
    return fault.get("close") or fault["status"] >= 300


# ---- HTTP ----------------------------------------------------------------

class HecHandler(PeerHandler):
    server_version = "Splunkd"

    def do_GET(self):
        path = urlsplit(self.path).path
        state = self.state
        if path == HEALTH_PATH:
            code = 17 if state.healthy else 18
            self.send_json(HEC_CODES[code][0], {"text": HEC_CODES[code][1], "code": code})
        elif path == "/_stats":
            with state.lock:
                stats = dict(state.stats, batch_sizes=list(state.stats["batch_sizes"]),
                             pending_faults=len(state.faults))
            self.send_json(200, stats)
        elif path == "/_events":
            with state.lock:
                raw = ('{"events":[' + ",".join(state.events) + "]}").encode()
            self.send_json(200, None, raw=raw)
        else:
            self.send_json(404, NOT_FOUND)

    def do_POST(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            body = self.read_body()
        except BodyError as err:
            self.close_connection = True
            self.send_json(err.status, {"text": err.reason, "code": err.status})
            return
        if url.path in EVENT_PATHS:
            self.post_events(query, body)
        elif url.path == ACK_PATH:
            self.post_ack(query, body)
        elif url.path == "/_control":
            self.post_control(body)
        else:
            self.send_json(404, NOT_FOUND)

    def check_auth(self, query):
        auth = self.headers.get("Authorization")
        if auth is None:
            raise HecError(16 if "token" in query else 2)
        scheme, _, token = auth.partition(" ")
        if scheme != "Splunk":
            raise HecError(3)
        if token == "":
            raise HecError(2)
        if not hmac.compare_digest(token.encode(), self.state.token.encode()):
            raise HecError(4)

    def check_channel(self, query):
        channel = self.headers.get("X-Splunk-Request-Channel")
        if channel is None and "channel" in query:
            channel = query["channel"][0]
        if channel is None:
            if self.state.require_channel:
                raise HecError(10)
            return None
        if not CHANNEL_RE.match(channel):
            raise HecError(11)
        return channel.lower()

    def post_events(self, query, body):
        state = self.state
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        with state.lock:
            state.stats["requests"] += 1
            if encoding == "gzip":
                state.stats["gzip_requests"] += 1
        try:
            self.check_auth(query)
            channel = self.check_channel(query)
            with state.lock:
                fault = state.faults.popleft() if state.faults else None
            if fault is not None and is_failure(fault):
                self.answer_fault(fault)
                return
            text = decode_body(body, encoding)
        except HecError as err:
            self.reject(err)
            return
        accepted, error = [], None
        try:
            for number, (raw, obj) in enumerate(split_events(text)):
                code = envelope_code(obj, state.indexes)
                if code is None and state.is_poisoned(obj):
                    code = 6
                if code is not None:
                    error = HecError(code, number)
                    break
                accepted.append(raw)
        except HecError as err:
            error = err
        with state.lock:
            # As Splunk does: objects before the bad one are indexed.
            state.record(accepted)
            if error is None:
                state.stats["batch_sizes"].append(len(accepted))
                ack_id = state.issue_ack(channel) if state.ack_enabled else None
        if error is not None:
            self.reject(error)
        elif fault is not None:  # an injected 2xx answer, e.g. code 24
            self.answer_fault(fault)
        else:
            reply = {"text": "Success", "code": 0}
            if ack_id is not None:
                reply["ackId"] = ack_id
            self.send_json(200, reply)

    def reject(self, err):
        with self.state.lock:
            self.state.stats["rejected"] += 1
        self.send_json(err.status, err.body())

    def answer_fault(self, fault):
        if is_failure(fault):
            with self.state.lock:
                self.state.stats["rejected"] += 1
        if self.apply_fault_transport(fault):
            return
        code = fault["code"]
        body = {"text": fault.get("text") or HEC_CODES.get(code, (0, "Error"))[1], "code": code}
        if "invalid_event_number" in fault:
            body["invalid-event-number"] = fault["invalid_event_number"]
        self.send_json(fault["status"], body)

    def post_ack(self, query, body):
        state = self.state
        with state.lock:
            state.stats["ack_queries"] += 1
        try:
            self.check_auth(query)
            if not state.ack_enabled:
                raise HecError(14)
            channel = self.check_channel(query)
            if body.strip() == b"":
                raise HecError(5)
            try:
                request = strict_loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise HecError(6)
            if not isinstance(request, dict) or set(request) != {"acks"} or \
                    not isinstance(request["acks"], list) or \
                    not all(is_int(i) and i >= 0 for i in request["acks"]):
                raise HecError(6)
        except HecError as err:
            self.send_json(err.status, err.body())
            return
        with state.lock:
            answer = state.query_acks(channel, request["acks"])
        self.send_json(200, {"acks": answer})

    def post_control(self, body):
        obj, err = parse_control_body(body)
        if obj is not None:
            err = control_error(obj)
        if err:
            self.send_json(400, {"error": err})
            return
        state = self.state
        with state.lock:
            if obj.get("reset"):
                state.reset()
            state.faults.extend(obj.get("fail", []))
            if "poison_field" in obj:
                field = obj["poison_field"]
                state.poison = None if field is None else (field, obj["poison_value"])
            if obj.get("drop_acks"):
                state.drop_pending_acks()
            state.lose_next_acks = obj.get("lose_next_acks", state.lose_next_acks)
            state.ack_after_polls = obj.get("ack_after_polls", state.ack_after_polls)
            state.healthy = obj.get("healthy", state.healthy)
            pending = len(state.faults)
        self.send_json(200, {"ok": True, "pending_faults": pending})


def main():
    parser = base_arg_parser("Strict Splunk HEC receiver for hookfwd tests.")
    parser.add_argument("--token", required=True, help="the only accepted HEC token")
    parser.add_argument("--require-channel", action="store_true",
                        help="answer code 10 without X-Splunk-Request-Channel / ?channel=")
    parser.add_argument("--ack", action="store_true",
                        help="enable indexer acknowledgement (implies --require-channel)")
    parser.add_argument("--indexes",
                        help="comma-separated allowed indexes; others get code 7 (default: any)")
    args = parser.parse_args()
    serve(args, HecHandler, HecState(args))


if __name__ == "__main__":
    sys.exit(main())
