#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A generic webhook endpoint for the http sink's tests: it logs every request
# (method, path, headers in order, body) as one JSON line and answers by path,
# so one receiver plays a healthy endpoint, a gone one, a flaky one and a
# throttling one at once:
#
#   /ok/...        200
#   /gone/...      410 "endpoint removed"
#   /refuse/...    400 {"error":"bad request"}
#   /flaky/...     503 to the first --fail requests on that path, then 200
#   /throttle/...  429 with "Retry-After: 1" to the first --fail, then 200
#   /slow/...      the first --fail requests wait --delay seconds, then 200
#
#   http_receiver.py --port 0 --log FILE [--fail N] [--delay S]
# prints "LISTENING <port>" once it accepts connections.
#
# Standard library only.

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        kind = self.path.split("/")[1] if self.path.count("/") >= 1 else ""
        with LOCK:
            SEEN[self.path] = SEEN.get(self.path, 0) + 1
            count = SEEN[self.path]
            with open(self.server.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({
                    "method": self.command, "path": self.path,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body": body.decode("utf-8", "replace"), "count": count, "t": time.time(),
                }) + "\n")
        fail = count <= self.server.fail
        status, extra, text = 200, [], b'{"ok":true}'
        if kind == "gone":
            status, text = 410, b"endpoint removed"
        elif kind == "refuse":
            status, text = 400, b'{"error":"bad request"}'
        elif kind == "flaky" and fail:
            status, text = 503, b"try later"
        elif kind == "throttle" and fail:
            status, extra, text = 429, [("Retry-After", "1")], b"slow down"
        elif kind == "slow" and fail:
            time.sleep(self.server.delay)
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_POST = handle_any
    do_PUT = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail", type=int, default=1)
    ap.add_argument("--delay", type=float, default=3.0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.log, srv.fail, srv.delay = a.log, a.fail, a.delay
    print("LISTENING %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
