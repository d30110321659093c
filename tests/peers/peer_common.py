# SPDX-License-Identifier: Apache-2.0
# Shared plumbing for hookfwd's test peers (hec_receiver.py,
# datadog_receiver.py, slack_receiver.py, pagerduty_receiver.py): strict
# request-body reading, JSON replies, strict JSON decoding, optional TLS, the
# "LISTENING <port>" start-up line and the optional --port-file.
#
# Standard library only.

import argparse
import json
import math
import os
import signal
import ssl
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Any request body above this is refused without being read (the connection is
# then closed); far above what either vendor accepts.
BODY_HARD_LIMIT = 64 * 1024 * 1024


class BodyError(Exception):
    """The request body could not be read; status is the HTTP answer."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StrictJSONError(ValueError):
    pass


def _reject_constant(name):
    # Python's json accepts NaN/Infinity, which are not JSON.
    raise StrictJSONError("invalid JSON constant " + name)


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise StrictJSONError("duplicate key %r" % key)
        obj[key] = value
    return obj


def strict_decoder(parse_float=None):
    """A JSONDecoder that refuses NaN/Infinity and duplicate object keys."""
    return json.JSONDecoder(parse_float=parse_float,
                            parse_constant=_reject_constant,
                            object_pairs_hook=_no_duplicate_keys)


def strict_loads(text):
    """Decode exactly one JSON value (surrounding whitespace allowed)."""
    return strict_decoder().decode(text)


def is_number(value):
    """A JSON number, decoded as int, float or Decimal. bool is a subclass
    of int in Python, but true/false are not numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, Decimal))


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class PeerServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server; TLS, when enabled, is negotiated in the
    connection's own thread so a silent client cannot stall accept()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, state, verbose=False, tls_ctx=None):
        super().__init__(address, handler)
        self.state = state
        self.verbose = verbose
        self.tls_ctx = tls_ctx

    def finish_request(self, request, client_address):
        if self.tls_ctx is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


class PeerHandler(BaseHTTPRequestHandler):
    """Base handler: keep-alive, Content-Length on every answer, strict
    body reading (Content-Length or chunked, nothing else)."""

    protocol_version = "HTTP/1.1"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, obj, headers=None, raw=None):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_text(self, status, text, headers=None):
        """A bare text answer (Slack's incoming webhooks answer "ok" or an
        error token this way)."""
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def read_body(self):
        """Return the request body as bytes; raise BodyError. After a
        BodyError the connection is no longer in sync and must be closed."""
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                raise BodyError(501, "unsupported Transfer-Encoding " + te)
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            raise BodyError(411, "Content-Length required")
        try:
            size = int(length)
            if size < 0:
                raise ValueError
        except ValueError:
            raise BodyError(400, "bad Content-Length " + length)
        if size > BODY_HARD_LIMIT:
            raise BodyError(413, "body too large")
        data = self.rfile.read(size)
        if len(data) != size:
            raise BodyError(400, "truncated body")
        return data

    def _read_chunked(self):
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            if not line.endswith(b"\n"):
                raise BodyError(400, "truncated chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "bad chunk size")
            if size == 0:
                break
            total += size
            if total > BODY_HARD_LIMIT:
                raise BodyError(413, "body too large")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BodyError(400, "truncated chunked body")
            parts.append(chunk)
        while True:  # trailers, up to the empty line
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def apply_fault_transport(self, fault):
        """Honour the transport parts of an injected fault. Returns True when
        the connection was dropped and no answer must be written."""
        if fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault.get("close"):
            self.close_connection = True
            return True
        return False


def header_safe(text):
    """Text for a diagnostic header (X-Peer-Detail): one line of ASCII."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text.encode("ascii", "backslashreplace").decode("ascii")[:1000]


class TokenBucket:
    """Rate limit of `rate` requests per second with bursts of `burst`. The
    bucket starts full. take() returns 0 when the request may pass, else the
    whole seconds (at least 1) a client must wait, for Retry-After."""

    def __init__(self, rate, burst):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


def parse_control_body(body):
    """Decode a /_control body: returns (dict, None) or (None, error)."""
    try:
        obj = strict_loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return None, "control body: %s" % err
    if not isinstance(obj, dict):
        return None, "control body must be an object"
    return obj, None


def check_control_common(obj, known_keys, fault_error):
    """Validate the part of a /_control body every receiver shares: only
    known_keys, reset a boolean, fail a list of entries each accepted by
    fault_error (which returns an error or None). Returns an error or None."""
    unknown = set(obj) - known_keys
    if unknown:
        return "unknown control keys: %s" % sorted(unknown)
    if "reset" in obj and not isinstance(obj["reset"], bool):
        return "reset must be a boolean"
    if not isinstance(obj.get("fail", []), list):
        return "fail must be a list"
    for entry in obj.get("fail", []):
        err = fault_error(entry)
        if err:
            return err
    return None


def check_fault_transport(entry):
    """Validate the keys shared by all fault entries; returns an error or None."""
    if "delay_ms" in entry and (not is_int(entry["delay_ms"]) or entry["delay_ms"] < 0):
        return "delay_ms must be a non-negative integer"
    if "close" in entry and not isinstance(entry["close"], bool):
        return "close must be a boolean"
    return None


def base_arg_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 = ephemeral (default)")
    parser.add_argument("--out", help="append one JSON line per accepted item")
    parser.add_argument("--port-file",
                        help="once bound, write the port (decimal, newline) to this file; "
                             "written to a temporary name and renamed, so a reader never "
                             "sees it half-written")
    parser.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write("%d\n" % port)
    os.replace(tmp, path)


def serve(args, handler, state):
    """Bind, write --port-file, print "LISTENING <port>", serve until
    SIGTERM/SIGINT."""
    tls_ctx = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            sys.exit("--tls-cert and --tls-key go together")
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server = PeerServer((args.host, args.port), handler, state, args.verbose, tls_ctx)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if getattr(args, "port_file", None):
        write_port_file(args.port_file, server.server_address[1])
    print("LISTENING %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class OutFile:
    """Append-only JSON-lines file, flushed per line so tests can read it
    as soon as the answer has been sent."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._fh = open(path, "a", encoding="utf-8") if path else None

    def write_lines(self, lines):
        if self._fh is None or not lines:
            return
        with self._lock:
            for line in lines:
                self._fh.write(line + "\n")
            self._fh.flush()
