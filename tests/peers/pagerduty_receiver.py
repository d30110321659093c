#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A strict PagerDuty Events API v2 endpoint (POST /v2/enqueue) that hookfwd's
# integration tests run in place of events.pagerduty.com (PROTOCOLS.md 6.2).
# It checks each event the way PagerDuty documents it, answers 202 / 400 with
# PagerDuty's bodies and error strings, keeps the state of every incident
# (triggered, acknowledged, resolved) per routing key and dedup_key, can
# rate-limit per routing key, and records every accepted event.
#
#   pagerduty_receiver.py [--port 0] [--port-file F] [--out events.jsonl]
#                         [--routing-key KEY]... [--rate-per-minute N] [--burst N]
#                         [--lenient] [--tls-cert C --tls-key K] [--verbose]
#
# Prints "LISTENING <port>" on stdout once bound. Standard library only.
# The interface (/v2/enqueue, /_control, /_events, /_incidents, /_incident,
# /_stats) is described in tests/peers/README.md.

import json
import re
import sys
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
from peer_common import (BodyError, check_control_common, OutFile, PeerHandler, TokenBucket,
                         base_arg_parser, check_fault_transport, header_safe,
                         is_int, parse_control_body, serve, strict_loads)

ENQUEUE_PATH = "/v2/enqueue"
MAX_EVENT_BYTES = 512 * 1024
ROUTING_KEY_LEN = 32
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
EVENT_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "images", "links",
              "client", "client_url"}
PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group",
                "class", "custom_details"}

# Bodies. 202 and 400 as PagerDuty sends them (its docs; prometheus/
# alertmanager's tests); the error strings marked [pd] were seen in
# PagerDuty's answers, the others follow their wording.
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
ERR_ROUTING_KEY_LEN = "Length of 'routing_key' is incorrect (should be 32 characters)"  # [pd]
ERR_SEVERITY = ("'payload.severity' is invalid (must be one of the following: "
                "'critical', 'warning', 'error' or 'info')")  # [pd]
ERR_ACTION = ("'event_action' is invalid (must be one of the following: "
              "'trigger', 'acknowledge' or 'resolve')")
THROTTLED = {"status": "throttle event",
             "message": "Requests for this service are arriving too quickly. Please retry later."}
FAULT_BODIES = {429: THROTTLED}

CONTROL_KEYS = {"reset", "fail", "rate_limit"}
FAULT_KEYS = {"status", "errors", "body", "retry_after", "count", "close", "delay_ms"}
KEEP_REJECTS = 20

ISO_8601_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$")
URL_RE = re.compile(r"^https?://[^\s]+$")


def missing(name):
    return "'%s' is missing or blank" % name  # [pd] for payload.summary/source/severity


def blank(value):
    return not isinstance(value, str) or value.strip() == ""


def valid_timestamp(value):
    if not isinstance(value, str) or not ISO_8601_RE.match(value):
        return False
    text = value.replace(" ", "T").replace(",", ".")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    elif re.search(r"[+-]\d{2}$", text) and "T" in text:
        text += ":00"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---- event checks --------------------------------------------------------

def check_links(event, errors):
    links = event["links"]
    if not isinstance(links, list):
        errors.append("'links' must be an array")
        return
    for i, link in enumerate(links):
        at = "links[%d]" % i
        if not isinstance(link, dict):
            errors.append("'%s' must be an object" % at)
            continue
        extra = set(link) - {"href", "text"}
        if extra:
            errors.append("'%s' has unknown fields %s" % (at, sorted(extra)))
        if blank(link.get("href")):
            errors.append(missing(at + ".href"))
        elif not URL_RE.match(link["href"]):
            errors.append("'%s.href' is not a URL" % at)
        if "text" in link and not isinstance(link["text"], str):
            errors.append("'%s.text' must be a string" % at)


def check_images(event, errors):
    images = event["images"]
    if not isinstance(images, list):
        errors.append("'images' must be an array")
        return
    for i, image in enumerate(images):
        at = "images[%d]" % i
        if not isinstance(image, dict):
            errors.append("'%s' must be an object" % at)
            continue
        extra = set(image) - {"src", "href", "alt"}
        if extra:
            errors.append("'%s' has unknown fields %s" % (at, sorted(extra)))
        if blank(image.get("src")):
            errors.append(missing(at + ".src"))
        elif not image["src"].startswith("https://") or not URL_RE.match(image["src"]):
            errors.append("'%s.src' must be an https URL" % at)
        if "href" in image and (not isinstance(image["href"], str)
                                or not URL_RE.match(image["href"])):
            errors.append("'%s.href' is not a URL" % at)
        if "alt" in image and not isinstance(image["alt"], str):
            errors.append("'%s.alt' must be a string" % at)


def check_payload(payload, errors, strict):
    if not isinstance(payload, dict):
        errors.append(missing("payload"))
        return
    extra = set(payload) - PAYLOAD_KEYS
    if extra and strict:
        errors.append("'payload' has unknown fields %s" % sorted(extra))
    if blank(payload.get("summary")):
        errors.append(missing("payload.summary"))
    elif len(payload["summary"]) > MAX_SUMMARY:
        errors.append("'payload.summary' is too long (%d characters, maximum is %d)"
                      % (len(payload["summary"]), MAX_SUMMARY))
    if blank(payload.get("source")):
        errors.append(missing("payload.source"))
    severity = payload.get("severity")
    if blank(severity):
        errors.append(missing("payload.severity"))
    elif severity not in SEVERITIES:
        errors.append(ERR_SEVERITY)
    if "timestamp" in payload and not valid_timestamp(payload["timestamp"]):
        errors.append("'payload.timestamp' is invalid (must be an ISO 8601 timestamp)")
    for key in ("component", "group", "class"):
        if key in payload and not isinstance(payload[key], str):
            errors.append("'payload.%s' must be a string" % key)
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        errors.append("'payload.custom_details' must be an object")


def check_event(event, known_keys, strict):
    """Return PagerDuty's error strings for the event; [] when it is valid."""
    errors = []
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    extra = set(event) - EVENT_KEYS
    if extra and strict:
        errors.append("unknown fields %s" % sorted(extra))
    key = event.get("routing_key")
    if blank(key):
        errors.append(missing("routing_key"))
    elif len(key) != ROUTING_KEY_LEN:
        errors.append(ERR_ROUTING_KEY_LEN)
    elif known_keys and key not in known_keys:
        errors.append("Invalid routing key")
    action = event.get("event_action")
    if blank(action):
        errors.append(missing("event_action"))
    elif action not in ACTIONS:
        errors.append(ERR_ACTION)
    if "dedup_key" in event:
        dedup = event["dedup_key"]
        if not isinstance(dedup, str):
            errors.append("'dedup_key' must be a string")
        elif len(dedup) > MAX_DEDUP_KEY:
            errors.append("'dedup_key' is too long (%d characters, maximum is %d)"
                          % (len(dedup), MAX_DEDUP_KEY))
    if action in ("acknowledge", "resolve") and blank(event.get("dedup_key")):
        errors.append(missing("dedup_key"))
    if action == "trigger" or (action not in ACTIONS and "payload" in event):
        check_payload(event.get("payload"), errors, strict)
    for key in ("client", "client_url"):
        if key in event and not isinstance(event[key], str):
            errors.append("'%s' must be a string" % key)
    if "client_url" in event and isinstance(event["client_url"], str) and \
            not URL_RE.match(event["client_url"]):
        errors.append("'client_url' is not a URL")
    if "links" in event:
        check_links(event, errors)
    if "images" in event:
        check_images(event, errors)
    return errors


# ---- state ---------------------------------------------------------------

class Incident:
    def __init__(self, number, routing_key, dedup_key, event, now):
        self.number = number
        self.routing_key = routing_key
        self.dedup_key = dedup_key
        self.state = "triggered"
        payload = event.get("payload", {})
        self.summary = payload.get("summary")
        self.severity = payload.get("severity")
        self.source = payload.get("source")
        self.alerts = 1
        self.triggered_at = now
        self.acknowledged_at = None
        self.resolved_at = None
        self.history = [{"action": "trigger", "time": now}]

    @property
    def open(self):
        return self.state != "resolved"

    def as_dict(self):
        return {"number": self.number, "routing_key": self.routing_key,
                "dedup_key": self.dedup_key, "state": self.state, "open": self.open,
                "summary": self.summary, "severity": self.severity, "source": self.source,
                "alerts": self.alerts, "triggered_at": self.triggered_at,
                "acknowledged_at": self.acknowledged_at, "resolved_at": self.resolved_at,
                "history": list(self.history)}


class PagerDutyState:
    def __init__(self, args):
        self.known_keys = set(args.routing_key or [])
        for key in self.known_keys:
            if len(key) != ROUTING_KEY_LEN:
                sys.exit("--routing-key %r: must be %d characters" % (key, ROUTING_KEY_LEN))
        self.strict = not args.lenient
        self.default_rate = None
        if args.rate_per_minute:
            if args.rate_per_minute <= 0 or args.burst < 1:
                sys.exit("--rate-per-minute must be > 0 and --burst >= 1")
            self.default_rate = (args.rate_per_minute / 60.0, args.burst)
        self.out = OutFile(args.out)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.faults = deque()
        self.rate = self.default_rate
        self.buckets = {}
        self.events = []
        self.incidents = []        # every incident, oldest first
        self.current = {}          # (routing_key, dedup_key) -> latest Incident
        self.seq = 0
        self.stats = {"requests": 0, "accepted": 0, "rejected": 0, "rate_limited": 0,
                      "statuses": {}, "actions": {}, "last_rejects": []}

    def take_token(self, routing_key):
        if self.rate is None:
            return 0
        bucket = self.buckets.get(routing_key)
        if bucket is None:
            bucket = self.buckets[routing_key] = TokenBucket(*self.rate)
        return bucket.take()

    def count(self, status, errors):
        stats = self.stats
        stats["statuses"][str(status)] = stats["statuses"].get(str(status), 0) + 1
        if status != 202:
            stats["rejected"] += 1
            stats["last_rejects"].append({"status": status, "errors": errors})
            del stats["last_rejects"][:-KEEP_REJECTS]

    def apply(self, event):
        """Apply a valid event to the incidents; record it; return its dedup_key."""
        now = round(time.time(), 6)
        routing_key, action = event["routing_key"], event["event_action"]
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        incident = self.current.get((routing_key, dedup_key))
        matched = incident is not None and incident.open
        if action == "trigger":
            if matched:
                incident.alerts += 1
                incident.history.append({"action": "trigger", "time": now})
            else:
                incident = Incident(len(self.incidents) + 1, routing_key, dedup_key, event, now)
                self.incidents.append(incident)
                self.current[(routing_key, dedup_key)] = incident
        elif matched:
            incident.history.append({"action": action, "time": now})
            if action == "acknowledge":
                incident.state = "acknowledged"
                incident.acknowledged_at = now
            else:
                incident.state = "resolved"
                incident.resolved_at = now
        self.seq += 1
        rec = {"seq": self.seq, "time": now, "dedup_key": dedup_key, "event_action": action,
               "matched": matched,
               "incident": None if incident is None else
               {"number": incident.number, "state": incident.state},
               "event": event}
        self.events.append(rec)
        self.stats["accepted"] += 1
        self.stats["actions"][action] = self.stats["actions"].get(action, 0) + 1
        self.out.write_lines([json.dumps(rec, ensure_ascii=False, separators=(",", ":"))])
        return dedup_key

    def find_incidents(self, query):
        found = self.incidents
        for key in ("dedup_key", "routing_key"):
            if key in query:
                found = [i for i in found if getattr(i, key) in query[key]]
        if "open" in query:
            want = query["open"][-1] in ("1", "true", "yes")
            found = [i for i in found if i.open == want]
        return [i.as_dict() for i in found]


def fault_error(entry):
    if not isinstance(entry, dict) or set(entry) - FAULT_KEYS:
        return "fail entries are objects with keys %s" % sorted(FAULT_KEYS)
    err = check_fault_transport(entry)
    if err:
        return err
    if "count" in entry and not (is_int(entry["count"]) and entry["count"] >= 1):
        return "count must be a positive integer"
    if entry.get("close"):
        return None
    if not (is_int(entry.get("status")) and 400 <= entry["status"] <= 599):
        return "a fail entry needs a status 400..599 (or close: true)"
    if "retry_after" in entry and not (is_int(entry["retry_after"]) and entry["retry_after"] >= 0):
        return "retry_after must be a non-negative integer"
    if "errors" in entry and not (isinstance(entry["errors"], list)
                                  and all(isinstance(e, str) for e in entry["errors"])):
        return "errors must be a list of strings"
    if "body" in entry and not isinstance(entry["body"], str):
        return "body must be a string (sent as is)"
    return None


def control_error(obj):
    err = check_control_common(obj, CONTROL_KEYS, fault_error)
    if err:
        return err
    rate = obj.get("rate_limit")
    if rate is not None:
        if not isinstance(rate, dict) or set(rate) - {"per_minute", "burst"} or \
                not (is_int(rate.get("per_minute")) and rate["per_minute"] > 0) or \
                not (is_int(rate.get("burst", 1)) and rate.get("burst", 1) >= 1):
            return "rate_limit must be null or {per_minute: integer > 0, burst: integer >= 1}"
    return None


# ---- HTTP ----------------------------------------------------------------

class PagerDutyHandler(PeerHandler):
    server_version = "pagerduty-events-peer"

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        state = self.state
        if url.path == "/_stats":
            with state.lock:
                stats = json.loads(json.dumps(state.stats))
                stats["pending_faults"] = len(state.faults)
                stats["open_incidents"] = sum(1 for i in state.incidents if i.open)
            self.send_json(200, stats)
        elif url.path == "/_events":
            with state.lock:
                events = [e for e in state.events
                          if ("dedup_key" not in query or e["dedup_key"] in query["dedup_key"])]
            self.send_json(200, {"events": events})
        elif url.path == "/_incidents":
            with state.lock:
                incidents = state.find_incidents(query)
            self.send_json(200, {"incidents": incidents})
        elif url.path == "/_incident":
            if "dedup_key" not in query:
                self.send_json(400, {"error": "dedup_key is required"})
                return
            with state.lock:
                incidents = state.find_incidents(
                    {k: v for k, v in query.items() if k in ("dedup_key", "routing_key")})
            if incidents:
                self.send_json(200, incidents[-1])
            else:
                self.send_json(404, {"error": "no incident with that dedup_key"})
        elif url.path == ENQUEUE_PATH:
            self.send_json(405, {"status": "error", "message": "Method Not Allowed"},
                           {"Allow": "POST"})
        else:
            self.send_json(404, {"status": "error", "message": "Not Found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_body()
        except BodyError as err:
            self.close_connection = True
            self.send_json(err.status, dict(INVALID, errors=[err.reason]))
            return
        if path == ENQUEUE_PATH:
            self.post_event(body)
        elif path == "/_control":
            self.post_control(body)
        else:
            self.send_json(404, {"status": "error", "message": "Not Found"})

    def reject(self, status, body, headers=None):
        errors = body.get("errors", [body.get("message", "")])
        with self.state.lock:
            self.state.count(status, errors)
        hdrs = dict(headers or {})
        hdrs["X-Peer-Detail"] = header_safe("; ".join(errors))
        self.send_json(status, body, hdrs)

    def post_event(self, body):
        state = self.state
        with state.lock:
            state.stats["requests"] += 1
            fault = state.faults.popleft() if state.faults else None
        if fault is not None:
            self.answer_fault(fault)
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self.reject(400, dict(INVALID, errors=["Content-Type must be application/json, got %r"
                                                   % self.headers.get("Content-Type")]))
            return
        if len(body) > MAX_EVENT_BYTES:
            self.reject(400, dict(INVALID, errors=["Event object is larger than 512 KB (%d bytes)"
                                                   % len(body)]))
            return
        try:
            event = strict_loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            self.reject(400, {"status": "Unrecognized object",
                              "message": "Event object format is unrecognized",
                              "errors": ["JSON parse error: %s" % err]})
            return
        errors = check_event(event, state.known_keys, state.strict)
        if errors:
            self.reject(400, dict(INVALID, errors=errors))
            return
        with state.lock:
            wait = state.take_token(event["routing_key"])
            if wait:
                state.stats["rate_limited"] += 1
            else:
                dedup_key = state.apply(event)
                state.count(202, [])
        if wait:
            self.reject(429, dict(THROTTLED), {"Retry-After": str(wait)})
            return
        self.send_json(202, {"status": "success", "message": "Event processed",
                             "dedup_key": dedup_key})

    def answer_fault(self, fault):
        if self.apply_fault_transport(fault):
            with self.state.lock:
                self.state.count(0, ["connection closed by /_control"])
            return
        status = fault["status"]
        headers = {}
        if status == 429 or "retry_after" in fault:
            headers["Retry-After"] = str(fault.get("retry_after", 1))
        if "body" in fault:
            with self.state.lock:
                self.state.count(status, [fault["body"]])
            self.send_json(status, None, headers, raw=fault["body"].encode())
            return
        if status == 400:
            body = dict(INVALID, errors=fault.get("errors", ["forced by /_control"]))
        else:
            body = dict(FAULT_BODIES.get(status, {"status": "error",
                                                  "message": "Internal Server Error"}))
            if "errors" in fault:
                body["errors"] = fault["errors"]
        self.reject(status, body, headers)

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
            for entry in obj.get("fail", []):
                count = entry.pop("count", 1)
                state.faults.extend(dict(entry) for _ in range(count))
            if "rate_limit" in obj:
                rate = obj["rate_limit"]
                state.rate = None if rate is None else (rate["per_minute"] / 60.0,
                                                        rate.get("burst", 1))
                state.buckets = {}
            pending = len(state.faults)
        self.send_json(200, {"ok": True, "pending_faults": pending})


def main():
    parser = base_arg_parser("Strict PagerDuty Events API v2 endpoint for hookfwd tests.")
    parser.add_argument("--routing-key", action="append", metavar="KEY",
                        help="a known 32-character routing key; once any is given, other "
                             "keys get 400 'Invalid routing key'")
    parser.add_argument("--rate-per-minute", type=int, metavar="N",
                        help="events per minute per routing key before 429 (PagerDuty: "
                             "about 120); default off")
    parser.add_argument("--burst", type=int, default=1,
                        help="bucket size for --rate-per-minute (default 1)")
    parser.add_argument("--lenient", action="store_true",
                        help="accept unknown fields in the event and its payload (PagerDuty "
                             "ignores them; by default this peer refuses them to catch typos)")
    args = parser.parse_args()
    serve(args, PagerDutyHandler, PagerDutyState(args))


if __name__ == "__main__":
    sys.exit(main())
