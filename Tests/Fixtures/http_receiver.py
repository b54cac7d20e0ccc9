#!/usr/bin/python3
"""A real HTTP server on loopback that records every POST, for the notifier's webhook tests.

For each request it writes <pid>-<n>.json: path, headers, body, the status it answered, and whether the
X-Vmmanager-Signature header is the HMAC-SHA256 of the body with the secret (checked with Python's hmac,
independently of the Swift code under test). It can answer --status (default 500) to the first
--fail-first requests, to test retries, and stall the first --hang-first requests for 5 s, to test timeouts.

    http_receiver.py --dir D [--port 0] [--port-file F] [--fail-first N] [--status 500] [--secret-file S]
                     [--hang-first N]
"""
import argparse
import hashlib
import hmac
import itertools
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    # A parent that spawned us from a thread with signals blocked (a Swift test runner) must still be able
    # to stop us with SIGTERM.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--status", type=int, default=500)
    p.add_argument("--secret-file")
    p.add_argument("--hang-first", type=int, default=0, help="sleep 5 s before answering the first N requests")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    secret = None
    if a.secret_file:
        with open(a.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                n = next(counter)
            status = a.status if n <= a.fail_first else 200
            if n <= a.hang_first:
                time.sleep(5)
            signature = self.headers.get("X-Vmmanager-Signature")
            verified = None
            if secret is not None:
                expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
                verified = signature is not None and hmac.compare_digest(signature, expected)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            record = {
                "n": n, "path": self.path, "status": status, "received_at": time.time(),
                "headers": {k: v for k, v in self.headers.items()}, "body": body.decode("utf-8", "replace"),
                "json": parsed, "signature_ok": verified,
            }
            name = os.path.join(a.dir, "%d-%06d.json" % (os.getpid(), n))
            with open(name + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(name + ".tmp", name)
            reply = b'{"ok":true}' if status < 300 else b'{"error":"test receiver told to fail"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer((a.host, a.port), Handler)
    port = server.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
