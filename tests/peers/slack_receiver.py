#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A strict Slack incoming-webhook endpoint that hookfwd's integration tests
# run in place of hooks.slack.com (PROTOCOLS.md 6.1). It checks the message the
# way Slack does (JSON object, text and/or blocks, Block Kit limits), answers
# with Slack's status codes and bare-text error tokens, can rate-limit per
# webhook like Slack (about 1 message/s), and records every accepted message.
#
#   slack_receiver.py [--port 0] [--port-file F] [--out messages.jsonl]
#                     [--hook PATH[=ERROR]]... [--rate-limit PER_S] [--burst N]
#                     [--max-blocks-text N] [--tls-cert C --tls-key K] [--verbose]
#
# Prints "LISTENING <port>" on stdout once bound. Standard library only.
# The interface (webhook paths, /_control, /_messages, /_stats) is described
# in tests/peers/README.md.

import json
import re
import sys
import threading
import time
from collections import deque
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
from peer_common import (BodyError, check_control_common, OutFile, PeerHandler, TokenBucket,
                         base_arg_parser, check_fault_transport, header_safe,
                         is_int, is_number, parse_control_body, serve,
                         strict_loads)

# Error token -> HTTP status. Slack's changelog of 2016-05-17 (invalid_payload,
# user_not_found, action_prohibited, channel_not_found, channel_is_archived,
# rollup_error) and its incoming-webhook error list (the others).
ERRORS = {
    "invalid_payload": 400,
    "user_not_found": 400,
    "no_text": 400,
    "invalid_blocks": 400,
    "invalid_blocks_format": 400,
    "msg_blocks_too_long": 400,
    "too_many_attachments": 400,
    "no_service_id": 400,
    "no_team": 400,
    "invalid_token": 403,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
    "channel_not_found": 404,
    "no_service": 404,
    "no_active_hooks": 404,
    "team_disabled": 404,
    "channel_is_archived": 410,
    "rate_limited": 429,
    "rollup_error": 500,
}
# The token sent for a forced status given without an error name.
DEFAULT_TOKEN = {400: "invalid_payload", 403: "action_prohibited", 404: "channel_not_found",
                 410: "channel_is_archived", 429: "rate_limited"}

HOOK_RE = re.compile(r"^/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$")

# Block Kit limits (api.slack.com/reference/block-kit/blocks, composition
# objects and block elements).
MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
MAX_IMAGE_TITLE = 2000
MAX_MARKDOWN_TOTAL = 12000   # all markdown blocks of one message together
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_ATTACHMENTS = 100
# Reported (slackapi/bolt-js#2509, #2867), not documented: a message whose
# blocks carry more than about 12,000 characters of text in total is refused
# with msg_blocks_too_long. --max-blocks-text 0 turns the check off.
DEFAULT_MAX_BLOCKS_TEXT = 12000

TEXT_TYPES = ("plain_text", "mrkdwn")
BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "divider": {"type", "block_id"},
    "context": {"type", "block_id", "elements"},
    "image": {"type", "block_id", "image_url", "slack_file", "alt_text", "title"},
    "actions": {"type", "block_id", "elements"},
    "rich_text": {"type", "block_id", "elements"},
    "markdown": {"type", "block_id", "text"},
}
STRING_KEYS = ("username", "icon_emoji", "icon_url", "channel", "thread_ts", "parse")
BOOL_KEYS = ("mrkdwn", "unfurl_links", "unfurl_media", "reply_broadcast")

# Markup that Slack turns into something live: mentions that notify people.
MENTION_RE = re.compile(r"<(?:!(?:channel|here|everyone)|!subteam\^[^>|]*|[@#][UWC][A-Z0-9]*)(?:\|[^>]*)?>")
LINK_RE = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")
RAW_AMP_RE = re.compile(r"&(?!amp;|lt;|gt;)")

CONTROL_KEYS = {"reset", "fail", "hooks", "rate_limit"}
FAULT_KEYS = {"error", "status", "body", "retry_after", "hook", "count", "close", "delay_ms"}
KEEP_REJECTS = 20


class Reject(Exception):
    """A refused message: token is Slack's error, detail says which rule."""

    def __init__(self, token, detail):
        super().__init__(detail)
        self.token = token
        self.status = ERRORS[token]
        self.detail = detail


# ---- message checks ------------------------------------------------------

class Checker:
    """Walks one message; collects the text it carries for the aggregate
    limit and for the markup report."""

    def __init__(self):
        self.block_text = 0
        self.markdown_text = 0
        self.mrkdwn_strings = []

    def bad(self, where, why):
        raise Reject("invalid_blocks", "%s: %s" % (where, why))

    def text_object(self, obj, where, max_len, plain_only=False):
        if not isinstance(obj, dict):
            self.bad(where, "must be a text object")
        kind = obj.get("type")
        if kind not in TEXT_TYPES:
            self.bad(where + ".type", "must be plain_text or mrkdwn")
        if plain_only and kind != "plain_text":
            self.bad(where + ".type", "must be plain_text")
        allowed = {"type", "text", "emoji"} if kind == "plain_text" else {"type", "text", "verbatim"}
        extra = set(obj) - allowed
        if extra:
            self.bad(where, "unexpected keys %s" % sorted(extra))
        for flag in ("emoji", "verbatim"):
            if flag in obj and not isinstance(obj[flag], bool):
                self.bad(where + "." + flag, "must be a boolean")
        text = obj.get("text")
        if not isinstance(text, str):
            self.bad(where + ".text", "must be a string")
        if len(text) < 1:
            self.bad(where + ".text", "must not be empty")
        if len(text) > max_len:
            self.bad(where + ".text", "%d characters, max %d" % (len(text), max_len))
        self.block_text += len(text)
        if kind == "mrkdwn":
            self.mrkdwn_strings.append(text)

    def string(self, obj, key, where, max_len, required=False):
        if key not in obj:
            if required:
                self.bad(where, "%s is required" % key)
            return
        value = obj[key]
        if not isinstance(value, str) or value == "":
            self.bad(where + "." + key, "must be a non-empty string")
        if len(value) > max_len:
            self.bad(where + "." + key, "%d characters, max %d" % (len(value), max_len))

    def url(self, obj, key, where, max_len, required=False):
        self.string(obj, key, where, max_len, required)
        if key in obj and not re.match(r"^https?://[^\s]+$", obj[key]):
            self.bad(where + "." + key, "must be an http(s) URL")

    def image_element(self, obj, where):
        extra = set(obj) - {"type", "image_url", "slack_file", "alt_text"}
        if extra:
            self.bad(where, "unexpected keys %s" % sorted(extra))
        if "image_url" not in obj and "slack_file" not in obj:
            self.bad(where, "image_url or slack_file is required")
        self.url(obj, "image_url", where, MAX_IMAGE_URL)
        self.string(obj, "alt_text", where, MAX_ALT_TEXT, required=True)

    def element(self, obj, where):
        """An interactive or image element (section accessory, actions)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            self.bad(where, "must be an element object with a type")
        kind = obj["type"]
        if kind == "image":
            self.image_element(obj, where)
        elif kind == "button":
            extra = set(obj) - {"type", "text", "action_id", "url", "value", "style",
                                "confirm", "accessibility_label"}
            if extra:
                self.bad(where, "unexpected keys %s" % sorted(extra))
            if "text" not in obj:
                self.bad(where, "text is required")
            self.text_object(obj["text"], where + ".text", MAX_BUTTON_TEXT, plain_only=True)
            self.string(obj, "action_id", where, MAX_ACTION_ID)
            self.url(obj, "url", where, MAX_IMAGE_URL)
            self.string(obj, "value", where, MAX_BUTTON_VALUE)
            if "style" in obj and obj["style"] not in ("primary", "danger"):
                self.bad(where + ".style", "must be primary or danger")

    def block(self, block, where, seen_ids):
        if not isinstance(block, dict):
            raise Reject("invalid_blocks_format", where + ": must be an object")
        kind = block.get("type")
        if kind not in BLOCK_KEYS:
            self.bad(where + ".type", "unknown or unsupported block type %r" % (kind,))
        extra = set(block) - BLOCK_KEYS[kind]
        if extra:
            self.bad(where, "unexpected keys %s for a %s block" % (sorted(extra), kind))
        if "block_id" in block:
            bid = block["block_id"]
            if not isinstance(bid, str) or bid == "" or len(bid) > MAX_BLOCK_ID:
                self.bad(where + ".block_id", "must be a string of 1..255 characters")
            if bid in seen_ids:
                self.bad(where + ".block_id", "duplicate block_id %r" % bid)
            seen_ids.add(bid)
        getattr(self, "block_" + kind)(block, where)

    def block_section(self, block, where):
        if "text" not in block and "fields" not in block:
            self.bad(where, "a section needs text or fields")
        if "text" in block:
            self.text_object(block["text"], where + ".text", MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields:
                self.bad(where + ".fields", "must be a non-empty list")
            if len(fields) > MAX_FIELDS:
                self.bad(where + ".fields", "%d items, max %d" % (len(fields), MAX_FIELDS))
            for i, field in enumerate(fields):
                self.text_object(field, "%s.fields[%d]" % (where, i), MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], where + ".accessory")
        if "expand" in block and not isinstance(block["expand"], bool):
            self.bad(where + ".expand", "must be a boolean")

    def block_header(self, block, where):
        if "text" not in block:
            self.bad(where, "a header needs text")
        self.text_object(block["text"], where + ".text", MAX_HEADER_TEXT, plain_only=True)

    def block_divider(self, block, where):
        pass

    def block_context(self, block, where):
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.bad(where + ".elements", "must be a non-empty list")
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.bad(where + ".elements", "%d items, max %d" % (len(elements), MAX_CONTEXT_ELEMENTS))
        for i, elem in enumerate(elements):
            at = "%s.elements[%d]" % (where, i)
            if isinstance(elem, dict) and elem.get("type") == "image":
                self.image_element(elem, at)
            else:
                self.text_object(elem, at, MAX_SECTION_TEXT)

    def block_image(self, block, where):
        self.image_element({k: v for k, v in block.items() if k not in ("block_id", "title")}, where)
        if "title" in block:
            self.text_object(block["title"], where + ".title", MAX_IMAGE_TITLE, plain_only=True)

    def block_actions(self, block, where):
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.bad(where + ".elements", "must be a non-empty list")
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self.bad(where + ".elements", "%d items, max %d" % (len(elements), MAX_ACTIONS_ELEMENTS))
        for i, elem in enumerate(elements):
            self.element(elem, "%s.elements[%d]" % (where, i))

    def block_rich_text(self, block, where):
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or \
                not all(isinstance(e, dict) and isinstance(e.get("type"), str) for e in elements):
            self.bad(where + ".elements", "must be a non-empty list of typed objects")

    def block_markdown(self, block, where):
        text = block.get("text")
        if not isinstance(text, str) or text == "":
            self.bad(where + ".text", "must be a non-empty string")
        self.markdown_text += len(text)
        if self.markdown_text > MAX_MARKDOWN_TOTAL:
            self.bad(where + ".text", "markdown blocks carry %d characters, max %d in all"
                     % (self.markdown_text, MAX_MARKDOWN_TOTAL))
        self.block_text += len(text)
        self.mrkdwn_strings.append(text)


def check_message(msg, max_blocks_text):
    """Raise Reject for a message Slack would refuse; return the markup
    report of an accepted one."""
    if not isinstance(msg, dict):
        raise Reject("invalid_payload", "the body must be a JSON object")
    for key in STRING_KEYS:
        if key in msg and not isinstance(msg[key], str):
            raise Reject("invalid_payload", key + " must be a string")
    for key in BOOL_KEYS:
        if key in msg and not isinstance(msg[key], bool):
            raise Reject("invalid_payload", key + " must be a boolean")
    if "link_names" in msg and not (isinstance(msg["link_names"], bool)
                                    or msg["link_names"] in (0, 1)):
        raise Reject("invalid_payload", "link_names must be a boolean")
    text = msg.get("text")
    if "text" in msg and not isinstance(text, str):
        raise Reject("invalid_payload", "text must be a string")
    checker = Checker()
    if "attachments" in msg:
        attachments = msg["attachments"]
        if not isinstance(attachments, list) or \
                not all(isinstance(a, dict) for a in attachments):
            raise Reject("invalid_payload", "attachments must be a list of objects")
        if len(attachments) > MAX_ATTACHMENTS:
            raise Reject("too_many_attachments", "%d attachments, max %d"
                         % (len(attachments), MAX_ATTACHMENTS))
    blocks = msg.get("blocks")
    if "blocks" in msg:
        if not isinstance(blocks, list):
            raise Reject("invalid_blocks_format", "blocks must be a JSON array")
        if len(blocks) > MAX_BLOCKS:
            raise Reject("invalid_blocks", "%d blocks, max %d" % (len(blocks), MAX_BLOCKS))
        seen_ids = set()
        for i, block in enumerate(blocks):
            checker.block(block, "blocks[%d]" % i, seen_ids)
        if max_blocks_text and checker.block_text > max_blocks_text:
            raise Reject("msg_blocks_too_long", "blocks carry %d characters of text, max %d"
                         % (checker.block_text, max_blocks_text))
    has_text = isinstance(text, str) and text.strip() != ""
    if not has_text and not blocks and not msg.get("attachments"):
        raise Reject("no_text", "neither text nor blocks (nor attachments)")
    strings = checker.mrkdwn_strings + ([text] if isinstance(text, str) else [])
    return markup_report(strings)


def markup_report(strings):
    """What Slack would make live in the message's mrkdwn: mentions that
    notify people, links, and '&' that are not part of an escape."""
    mentions, links, raw_amp = [], [], 0
    for s in strings:
        mentions.extend(MENTION_RE.findall(s))
        links.extend(m.group(1) for m in LINK_RE.finditer(s))
        raw_amp += len(RAW_AMP_RE.findall(s))
    return {"mentions": mentions, "links": links, "raw_ampersands": raw_amp}


# ---- state ---------------------------------------------------------------

class SlackState:
    def __init__(self, args):
        self.allowed = {}
        for spec in args.hook or []:
            path, _, token = spec.partition("=")
            if not HOOK_RE.match(path):
                sys.exit("--hook %s: not a /services/T.../B.../... path" % path)
            if token and token not in ERRORS:
                sys.exit("--hook %s: unknown error %r" % (path, token))
            self.allowed[path] = token or None
        self.default_rate = None
        if args.rate_limit:
            if args.rate_limit <= 0 or args.burst < 1:
                sys.exit("--rate-limit must be > 0 and --burst >= 1")
            self.default_rate = (args.rate_limit, args.burst)
        self.max_blocks_text = args.max_blocks_text
        self.out = OutFile(args.out)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.faults = deque()
        self.hook_errors = {p: t for p, t in self.allowed.items() if t}
        self.rate = self.default_rate
        self.buckets = {}
        self.messages = []
        self.seq = 0
        self.stats = {"requests": 0, "accepted": 0, "rejected": 0, "rate_limited": 0,
                      "statuses": {}, "errors": {}, "blocks_without_text": 0,
                      "last_rejects": []}

    def take_fault(self, hook):
        for i, fault in enumerate(self.faults):
            if fault.get("hook") in (None, hook):
                del self.faults[i]
                return fault
        return None

    def take_token(self, hook):
        if self.rate is None:
            return 0
        bucket = self.buckets.get(hook)
        if bucket is None:
            bucket = self.buckets[hook] = TokenBucket(*self.rate)
        return bucket.take()

    def count(self, status, token, hook, detail):
        stats = self.stats
        stats["statuses"][str(status)] = stats["statuses"].get(str(status), 0) + 1
        if status != 200:
            stats["rejected"] += 1
            stats["errors"][token] = stats["errors"].get(token, 0) + 1
            stats["last_rejects"].append({"hook": hook, "status": status, "error": token,
                                          "detail": detail})
            del stats["last_rejects"][:-KEEP_REJECTS]

    def record(self, hook, message, markup):
        self.seq += 1
        rec = {"seq": self.seq, "time": round(time.time(), 6), "hook": hook,
               "message": message, "markup": markup}
        self.messages.append(rec)
        self.stats["accepted"] += 1
        if message.get("blocks") and not (isinstance(message.get("text"), str)
                                          and message["text"].strip()):
            self.stats["blocks_without_text"] += 1
        self.out.write_lines([json.dumps(rec, ensure_ascii=False, separators=(",", ":"))])


def fault_errors(entry):
    """Validate one "fail" entry and fill in status and body."""
    if not isinstance(entry, dict) or set(entry) - FAULT_KEYS:
        return "fail entries are objects with keys %s" % sorted(FAULT_KEYS)
    err = check_fault_transport(entry)
    if err:
        return err
    if "count" in entry and not (is_int(entry["count"]) and entry["count"] >= 1):
        return "count must be a positive integer"
    if "hook" in entry and not (isinstance(entry["hook"], str) and HOOK_RE.match(entry["hook"])):
        return "hook must be a /services/T.../B.../... path"
    if "retry_after" in entry and not (is_int(entry["retry_after"]) and entry["retry_after"] >= 0):
        return "retry_after must be a non-negative integer"
    if entry.get("close"):
        return None
    token = entry.get("error")
    if token is not None:
        if token not in ERRORS:
            return "unknown error %r (known: %s)" % (token, sorted(ERRORS))
        entry.setdefault("status", ERRORS[token])
    status = entry.get("status")
    if not (is_int(status) and 400 <= status <= 599):
        return "a fail entry needs an error (a Slack token) or a status 400..599, or close: true"
    if "body" in entry and not isinstance(entry["body"], str):
        return "body must be a string"
    entry.setdefault("body", token or DEFAULT_TOKEN.get(status, "rollup_error"))
    return None


def control_error(obj):
    err = check_control_common(obj, CONTROL_KEYS, fault_errors)
    if err:
        return err
    hooks = obj.get("hooks", {})
    if not isinstance(hooks, dict):
        return "hooks must be an object {path: error or null}"
    for path, token in hooks.items():
        if not HOOK_RE.match(path):
            return "hooks: %r is not a /services/T.../B.../... path" % path
        if token is not None and token != "ok" and token not in ERRORS:
            return "hooks: unknown error %r" % token
    rate = obj.get("rate_limit")
    if rate is not None:
        if not isinstance(rate, dict) or set(rate) - {"per_second", "burst"} or \
                not (is_number(rate.get("per_second")) and rate["per_second"] > 0) or \
                not (is_int(rate.get("burst", 1)) and rate.get("burst", 1) >= 1):
            return "rate_limit must be null or {per_second: > 0, burst: integer >= 1}"
    return None


# ---- HTTP ----------------------------------------------------------------


class SlackHandler(PeerHandler):
    server_version = "Apache"  # what hooks.slack.com answers with

    def do_GET(self):
        url = urlsplit(self.path)
        state = self.state
        if url.path == "/_stats":
            with state.lock:
                stats = json.loads(json.dumps(state.stats))
                stats["pending_faults"] = len(state.faults)
            self.send_json(200, stats)
        elif url.path == "/_messages":
            wanted = parse_qs(url.query).get("hook")
            with state.lock:
                msgs = [m for m in state.messages if not wanted or m["hook"] in wanted]
            self.send_json(200, {"messages": msgs})
        elif HOOK_RE.match(url.path):
            self.send_text(405, "invalid_method", {"Allow": "POST"})
        else:
            self.send_text(404, "no_service")

    def do_POST(self):
        path = urlsplit(self.path).path
        try:
            body = self.read_body()
        except BodyError as err:
            self.close_connection = True
            self.send_text(err.status, "invalid_payload", {"X-Peer-Detail": err.reason})
            return
        if path == "/_control":
            self.post_control(body)
        else:
            self.post_message(path, body)

    def answer(self, status, token, hook, detail, headers=None):
        with self.state.lock:
            self.state.count(status, token, hook, detail)
        hdrs = dict(headers or {})
        if status != 200:
            hdrs["X-Peer-Detail"] = header_safe(detail)
        self.send_text(status, token, hdrs)

    def post_message(self, hook, body):
        state = self.state
        with state.lock:
            state.stats["requests"] += 1
        if not HOOK_RE.match(hook):
            self.answer(404, "no_service", hook, "not a /services/T.../B.../... path")
            return
        if state.allowed and hook not in state.allowed:
            self.answer(403, "invalid_token", hook, "webhook not configured (--hook)")
            return
        with state.lock:
            token = state.hook_errors.get(hook)
            fault = None if token else state.take_fault(hook)
            wait = 0 if token or fault else state.take_token(hook)
            if wait:
                state.stats["rate_limited"] += 1
        if token:
            self.answer(ERRORS[token], token, hook, "webhook state set by /_control or --hook")
            return
        if fault is not None:
            self.answer_fault(hook, fault)
            return
        if wait:
            self.answer(429, "rate_limited", hook, "over the webhook's rate limit",
                        {"Retry-After": str(wait)})
            return
        try:
            ctype = (self.headers.get("Content-Type") or "").split(";")
            if ctype[0].strip().lower() != "application/json":
                raise Reject("invalid_payload", "Content-Type must be application/json, got %r"
                             % self.headers.get("Content-Type"))
            for param in ctype[1:]:
                name, _, value = param.strip().partition("=")
                if name.lower() == "charset" and value.strip('"').lower() not in ("utf-8", "utf8"):
                    raise Reject("invalid_payload", "charset must be utf-8")
            try:
                message = strict_loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                raise Reject("invalid_payload", "not JSON: %s" % err)
            markup = check_message(message, state.max_blocks_text)
        except Reject as err:
            self.answer(err.status, err.token, hook, err.detail)
            return
        with state.lock:
            state.record(hook, message, markup)
        self.answer(200, "ok", hook, "")

    def answer_fault(self, hook, fault):
        if self.apply_fault_transport(fault):
            with self.state.lock:
                self.state.count(0, "closed", hook, "connection closed by /_control")
            return
        status = fault["status"]
        headers = {}
        if status == 429 or "retry_after" in fault:
            headers["Retry-After"] = str(fault.get("retry_after", 1))
        self.answer(status, fault["body"], hook, "forced by /_control", headers)

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
            for path, token in obj.get("hooks", {}).items():
                if token in (None, "ok"):
                    state.hook_errors.pop(path, None)
                else:
                    state.hook_errors[path] = token
            if "rate_limit" in obj:
                rate = obj["rate_limit"]
                state.rate = None if rate is None else (rate["per_second"], rate.get("burst", 1))
                state.buckets = {}
            pending = len(state.faults)
        self.send_json(200, {"ok": True, "pending_faults": pending})


def main():
    parser = base_arg_parser("Strict Slack incoming-webhook endpoint for hookfwd tests.")
    parser.add_argument("--hook", action="append", metavar="PATH[=ERROR]",
                        help="a configured webhook path; once any is given, other "
                             "well-formed paths get 403 invalid_token. With =ERROR the "
                             "hook answers that Slack error (e.g. channel_is_archived)")
    parser.add_argument("--rate-limit", type=float, metavar="PER_S",
                        help="messages per second per webhook before 429 rate_limited "
                             "(Slack: about 1); default off")
    parser.add_argument("--burst", type=int, default=1,
                        help="bucket size for --rate-limit (default 1)")
    parser.add_argument("--max-blocks-text", type=int, default=DEFAULT_MAX_BLOCKS_TEXT,
                        help="refuse with msg_blocks_too_long when all text in blocks "
                             "exceeds this many characters (default %d, 0 = off)"
                             % DEFAULT_MAX_BLOCKS_TEXT)
    args = parser.parse_args()
    serve(args, SlackHandler, SlackState(args))


if __name__ == "__main__":
    sys.exit(main())
