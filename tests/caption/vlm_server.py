# SPDX-License-Identifier: Apache-2.0
"""A local OpenAI-compatible endpoint that checks every request reel caption sends.

It answers /v1/models and /v1/chat/completions on 127.0.0.1. Every chat request must be one user
message of a text part (the expected prompt) and image_url parts holding base64 JPEG frames;
each frame's index is read back from the bar code the test video carries (bit k of the frame
number is bar k, white = 1), and the caption is "frames i j k ...". Whatever is wrong becomes a
400 with the reason and is recorded in `problems`. `plan` scripts misbehaviour: a list of
actions consumed one per request ("ok", "slow", "429", "500", "hang", "malformed", "length",
"empty", "refuse"), "ok" after it runs out. A video_url part (an mp4 data URL) is decoded frame by
frame and read the same way. A request whose content is plain text is the enhancement pass: it
must be `enhance_prompt`, a blank line and a caption, and is answered "enhanced: <caption>";
with `forbid_auth` any Authorization header is a problem (a key meant for another host)."""
import base64
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BITS = 12


def read_index(jpeg):
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        return None
    h, w = img.shape
    band = img[h // 4:3 * h // 4]
    bits = [band[:, k * w // BITS + w // (4 * BITS):(k + 1) * w // BITS - w // (4 * BITS)].mean() > 128 for k in range(BITS)]
    return sum(1 << k for k, b in enumerate(bits) if b)


def read_video(mp4):
    """Frame indices of an mp4 (bytes), one per frame; None when it does not decode."""
    fd, path = tempfile.mkstemp(suffix=".mp4")
    try:
        os.write(fd, mp4)
        os.close(fd)
        cap = cv2.VideoCapture(path)
        out = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            out.append(read_index(cv2.imencode(".png", frame)[1].tobytes()))
        cap.release()
        return out or None
    finally:
        os.unlink(path)


class Server:
    def __init__(self, model="test-vlm", prompt=None, key=None, delay=0.0, read_frames=True, enhance_prompt=None,
                 forbid_auth=False):
        self.model, self.prompt, self.key, self.delay, self.read_frames = model, prompt, key, delay, read_frames
        self.enhance_prompt, self.forbid_auth = enhance_prompt, forbid_auth
        self.plan, self.problems, self.requests, self.enhanced = [], [], [], []
        self.times = []  # (arrived, answered) per chat request, time.monotonic()
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the second waits for
            # the client's delayed ACK (40 ms a request), which real servers do not add.
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def reply(self, status, body, headers=()):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (its timeout): what a hang test wants

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    self.reply(200, {"object": "list", "data": [{"id": outer.model, "object": "model"}]})
                else:
                    self.reply(404, {"error": {"message": "no such path"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(n)
                arrived = time.monotonic()
                with outer.lock:
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    action = outer.plan.pop(0) if outer.plan else "ok"
                try:
                    self.handle_chat(raw, action)
                finally:
                    with outer.lock:
                        outer.in_flight -= 1
                        outer.times.append((arrived, time.monotonic()))

            def handle_chat(self, raw, action):
                def bad(why):
                    with outer.lock:
                        outer.problems.append(why)
                    self.reply(400, {"error": {"message": why}})

                if self.path != "/v1/chat/completions":
                    return bad("path " + self.path)
                if outer.key is not None and self.headers.get("Authorization") != "Bearer " + outer.key:
                    return bad("wrong or missing bearer token")
                if outer.forbid_auth and self.headers.get("Authorization") is not None:
                    return bad("an Authorization header was sent to this host")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return bad("body is not JSON")
                if body.get("model") != outer.model:
                    return bad("model %r" % body.get("model"))
                msgs = body.get("messages")
                if not (isinstance(msgs, list) and len(msgs) == 1 and msgs[0].get("role") == "user"):
                    return bad("messages shape")
                parts = msgs[0].get("content")
                if isinstance(parts, str):
                    return self.enhance(parts, body, action, bad)
                if not (isinstance(parts, list) and parts and parts[0].get("type") == "text"):
                    return bad("content shape")
                if outer.prompt is not None and parts[0].get("text") != outer.prompt:
                    return bad("prompt %r" % parts[0].get("text"))
                frames = []
                for p in parts[1:]:
                    if p.get("type") == "video_url":
                        url = (p.get("video_url") or {}).get("url", "")
                        if not url.startswith("data:video/mp4;base64,"):
                            return bad("video part shape")
                        idx = read_video(base64.b64decode(url.split(",", 1)[1]))
                        if idx is None:
                            return bad("the video does not decode")
                        frames += idx
                        continue
                    url = (p.get("image_url") or {}).get("url", "") if p.get("type") == "image_url" else ""
                    if not url.startswith("data:image/jpeg;base64,"):
                        return bad("image part shape")
                    if not outer.read_frames:  # the benchmark's server: shapes only, no JPEG decoding
                        frames.append(-1)
                        continue
                    idx = read_index(base64.b64decode(url.split(",", 1)[1]))
                    if idx is None:
                        return bad("an image does not decode")
                    frames.append(idx)
                with outer.lock:
                    outer.requests.append({"frames": frames, "body": body, "action": action})
                if outer.delay:
                    time.sleep(outer.delay)
                if action == "slow":
                    time.sleep(1.0)
                if action == "hang":
                    time.sleep(5.0)
                if action == "429":
                    return self.reply(429, {"error": {"message": "slow down"}}, [("Retry-After", "1")])
                if action == "500":
                    return self.reply(500, {"error": {"message": "boom"}})
                if action == "malformed":
                    return self.reply(200, b'{"choices": [ {"message": ')
                text = "frames " + " ".join(map(str, frames))
                finish = "length" if action == "length" else "stop"
                msg = {"role": "assistant", "content": "" if action == "empty" else text}
                if action == "refuse":
                    msg = {"role": "assistant", "content": None, "refusal": "I cannot help with that"}
                self.reply(200, {"id": "x", "object": "chat.completion", "model": outer.model,
                                 "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                                 "usage": {"prompt_tokens": 100 + len(frames), "completion_tokens": 7}})

            def enhance(self, text, body, action, bad):
                prompt, sep, caption = text.partition("\n\n")
                if not sep or not caption:
                    return bad("enhancement text shape")
                if outer.enhance_prompt is not None and prompt != outer.enhance_prompt:
                    return bad("enhance prompt %r" % prompt)
                with outer.lock:
                    outer.enhanced.append({"caption": caption, "body": body, "action": action})
                if action == "500":
                    return self.reply(500, {"error": {"message": "boom"}})
                if action == "length":
                    return self.reply(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "enh"},
                                                         "finish_reason": "length"}]})
                self.reply(200, {"id": "y", "object": "chat.completion", "model": outer.model,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "enhanced: " + caption},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 20 + len(caption.split()), "completion_tokens": 3}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
