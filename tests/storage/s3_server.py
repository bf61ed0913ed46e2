# SPDX-License-Identifier: Apache-2.0
"""Test servers for reel's object-store code: moto's S3 server (PyPI, tests/requirements.txt) on
127.0.0.1, and a proxy in front of it that counts what it forwards and injects the failures
of a real store on request (a connection dropped mid-body, 503 SlowDown).

Run as a script it starts moto alone and prints "ready PORT [ACCESS_KEY SECRET]": with --auth,
moto checks every request's AWS Signature V4 against an IAM user it creates (moto reads that
setting when it is imported, hence a process of its own)."""
import argparse
import http.client
import http.server
import json
import os
import pathlib
import socket
import socketserver
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYPI = ROOT / ".cache/pypi-tests"


def start_moto(port, auth):
    if auth:
        # The first actions (the IAM user, its key and policy) go unsigned; every later one is checked.
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    sys.path.insert(0, str(PYPI))
    # Werkzeug writes an answer's headers and body in two sends; with Nagle on, the body waits for
    # the client's delayed ACK (40 ms a request). Real stores set TCP_NODELAY; so does this one.
    from werkzeug.serving import WSGIRequestHandler
    WSGIRequestHandler.disable_nagle_algorithm = True
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    line = f"ready {port}"
    if auth:
        import boto3
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="bootstrap",
                           aws_secret_access_key="bootstrap", region_name="us-east-1")
        iam.create_user(UserName="reel")
        key = iam.create_access_key(UserName="reel")["AccessKey"]
        iam.put_user_policy(UserName="reel", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        line += f" {key['AccessKeyId']} {key['SecretAccessKey']}"
    return server, line


class FaultProxy:
    """HTTP proxy to `upstream` that counts requests and response body bytes per method, and
    applies queued faults, each once, to the first request of that method (and, when given, with
    that text in its path): ("drop", method, after_bytes[, path]) closes the connection after that
    many body bytes; ("503", method, 0[, path]) answers 503 SlowDown without forwarding."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.lock = threading.Lock()
        self.faults = []
        self.injected = []
        self.counts = {}
        self.body_bytes = {}
        self.requests = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                fault = proxy.take_fault(self.command, self.path)
                if fault and fault[0] == "503":
                    err = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    self.wfile.write(err)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "proxy-connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                conn.close()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                        self.send_header(k, v)
                # HEAD answers carry the object's length, not a body's.
                length = r.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
                self.send_header("Content-Length", length or "0")
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault and fault[0] == "drop" and len(data) <= fault[2]:
                    proxy.give_back(fault)  # too short to drop mid-body: for a later answer
                elif fault and fault[0] == "drop":
                    self.wfile.write(data[:fault[2]])
                    self.wfile.flush()
                    proxy.count(self.command, fault[2])
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(data)
                proxy.count(self.command, len(data))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take_fault(self, method, path):
        with self.lock:
            self.requests.append((method, path))
            for i, f in enumerate(self.faults):
                where = f[3] if len(f) > 3 else ""
                if (f[1] == method or f[1] == "*") and where in path:
                    self.faults.pop(i)
                    self.injected.append(f)
                    return f
        return None

    def give_back(self, fault):
        with self.lock:
            self.injected.remove(fault)
            self.faults.insert(0, fault)

    def count(self, method, n):
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1
            self.body_bytes[method] = self.body_bytes.get(method, 0) + n

    def reset(self):
        with self.lock:
            self.counts, self.body_bytes, self.injected, self.faults, self.requests = {}, {}, [], [], []

    def close(self):
        self.server.shutdown()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--auth", action="store_true")
    a = ap.parse_args()
    _server, line = start_moto(a.port, a.auth)
    print(line, flush=True)
    threading.Event().wait()
