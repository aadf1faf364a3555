#!/usr/bin/env python3
"""End-to-end smoke test: host_device against a scripted fake of the REST contract.

Usage: smoke_server.py path/to/host_device
Serves the three device endpoints (poll answers are chunked, to exercise that
path), drives host_device over stdin/stdout the way a harness would, and exits
non-zero on the first broken expectation.
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "smoke-token-0123456789"
DEVICE = "dev-smoke-1"
state = {"data": {}}
reports = queue.Queue()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, chunked=False, headers=()):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(raw) // 2
            for part in (raw[:half], raw[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "healthy"})
        if self.path.startswith("/telemetry/latest?device_token=" + TOKEN):
            return self.reply(200, {"device_id": DEVICE, "data": state["data"], "timestamp": None}, chunked=True)
        return self.reply(403, {"detail": "invalid token"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = (self.path == "/devices/%s/telemetry" % DEVICE and body.get("device_token") == TOKEN
              and self.headers["Content-Type"] == "application/json")
        if not ok:
            return self.reply(403, {"detail": "invalid token"})
        reports.put(body["data"])
        merged = dict(body["data"], **{k: v for k, v in state["data"].items() if k.startswith("v")})
        return self.reply(200, {"message": "ok", "device_id": DEVICE, "data": merged, "timestamp": "x"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = "http://127.0.0.1:%d" % server.server_address[1]
    store = os.path.join(tempfile.mkdtemp(), "store.json")
    device = subprocess.Popen(
        [sys.argv[1], "--store", store, "--telemetry-ms", "500", "--poll-ms", "200", "--health-ms", "1000"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()
    seen = []
    threading.Thread(target=lambda: [lines.put(l.rstrip("\n")) for l in device.stdout], daemon=True).start()

    def wait_for(expected, timeout=10):
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                sys.exit("FAIL: no line %r; saw:\n%s" % (expected, "\n".join(seen)))
            seen.append(line)
            if line == expected:
                return

    def wait_report(predicate, timeout=10):
        while True:
            try:
                data = reports.get(timeout=timeout)
            except queue.Empty:
                sys.exit("FAIL: no matching report")
            if predicate(data):
                return data

    try:
        wait_for("UNPROVISIONED no credentials stored; type 'provision' (or 'help')")
        device.stdin.write("provision %s %s %s\n" % (DEVICE, TOKEN, api))
        device.stdin.flush()
        wait_for("PROVISIONED device=" + DEVICE)
        wait_for("READY")
        first = wait_report(lambda d: True)
        assert first["v0"] == 0 and first["led"] == 0 and "stats.sent" in first, first
        device.stdin.close()  # EOF on stdin must not stop the device

        state["data"] = {"v0": 1, "v3": True}
        wait_for("GPIO 2 1 (v0)")
        wait_for("GPIO 18 1 (v3)")
        wait_report(lambda d: d["v0"] == 1 and d["v3"] == 1 and d["led"] == 1)
        state["data"] = {"led": 0}  # no vN key: led drives v0
        wait_for("GPIO 2 0 (v0)")

        device.terminate()
        wait_for("STOPPED")
        assert device.wait(timeout=5) == 0, "exit code"
        assert all(TOKEN not in line for line in seen), "token printed in full"
        stored = json.load(open(store))
        assert stored["device_token"] == TOKEN and oct(os.stat(store).st_mode & 0o777) == "0o600"
    finally:
        if device.poll() is None:
            device.kill()
        server.shutdown()
    if os.environ.get("SMOKE_VERBOSE"):
        print("\n".join(seen))
    print("smoke: OK (%d lines from host_device)" % len(seen))


if __name__ == "__main__":
    main()
