# SPDX-License-Identifier: Apache-2.0
"""reel caption against a local OpenAI-compatible server that checks every request
(vlm_server.py): windows and the frames sent (read back from a bar code in each frame), the
prompt, model and bearer token, the mp4 of --send video, concurrency, retries on 429/500/timeouts with Retry-After,
answers that are not captions, skipping windows already captioned, the circuit breaker, and
that the API key appears nowhere."""
import json
import math
import os
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from vlm_server import BITS, Server  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
KEY = "sk-test-7d1f0c"


def make_clip(path, frames, w=640, h=360, fps=25):
    """Frame n shows n in binary: bar k white when bit k is set."""
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                          "-r", str(fps), "-i", "-", "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", str(path)],
                         stdin=subprocess.PIPE)
    for n in range(frames):
        img = np.zeros((h, w, 3), np.uint8)
        for k in range(BITS):
            if n >> k & 1:
                img[:, k * w // BITS:(k + 1) * w // BITS] = 255
        p.stdin.write(img.tobytes())
    p.stdin.close()
    assert p.wait() == 0


def expected_windows(n, fps=25.0, window=256, min_rem=128, rate=2.0, lo=4, hi=768):
    """The NeMo Curator / Cosmos-Curate rule, written out again (caption/windows.h)."""
    if n < lo:
        return []
    out, s = [], 0
    while s < n:
        e = min(n, s + window)
        if out and e - s < min_rem:
            out[-1][1] = e
            break
        out.append([s, e])
        s += window
    res = []
    for s, e in out:
        length = e - s
        k = 2 * math.floor(length / fps * rate / 2 + 0.5)
        k = min(max(k, lo), hi, length)
        idx = []
        for i in range(k):
            f = s + math.floor((i * (length - 1) / (k - 1) if k > 1 else 0) + 0.5)
            if not idx or idx[-1] != f:
                idx.append(f)
        res.append((s, e, idx))
    return res


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("caption")
    make_clip(d / "a.mp4", 400)   # two windows: [0, 256) and [256, 400)
    make_clip(d / "b.mp4", 300)   # one window: the 44-frame remainder joins it
    for i in range(4):
        make_clip(d / f"c{i}.mp4", 400)
    return d


def run(args, env_extra=None, timeout=120):
    env = dict(os.environ, OPENAI_API_KEY=KEY, **(env_extra or {}))
    t0 = time.monotonic()
    p = subprocess.run([REEL, "caption", *args], capture_output=True, text=True, env=env, timeout=timeout)
    return p, time.monotonic() - t0


def records(p):
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def test_windows_frames_prompt_model_and_key(clips):
    s = Server(model="test-vlm", prompt="Say which frames these are.", key=KEY)
    try:
        p, _ = run(["--endpoint", s.url, "--prompt", "Say which frames these are.", str(clips / "a.mp4"), str(clips / "b.mp4")])
        assert p.returncode == 0, p.stderr
        assert s.problems == []
        recs = records(p)
        assert len(recs) == 2
        for rec, n in zip(recs, (400, 300)):
            want = expected_windows(n)
            caps = rec["captions"]
            assert [(c["start_frame"], c["end_frame"]) for c in caps] == [(a, b) for a, b, _ in want]
            for c, (_, _, idx) in zip(caps, want):
                assert c["text"] == "frames " + " ".join(map(str, idx))  # the server read these frames back
                assert c["model"] == "test-vlm" and c["finish_reason"] == "stop"
                assert c["prompt_tokens"] == 100 + len(idx) and c["completion_tokens"] == 7
        assert len(s.requests) == 3
        for out in (p.stdout, p.stderr):
            assert KEY not in out
    finally:
        s.close()


def test_send_video_as_one_mp4(clips):
    s = Server(key=KEY)
    try:
        p, _ = run(["--endpoint", s.url, "--send", "video", str(clips / "a.mp4")])
        assert p.returncode == 0, p.stderr
        assert s.problems == []
        caps = records(p)[0]["captions"]
        for c, (_, _, idx) in zip(caps, expected_windows(400)):
            assert c["text"] == "frames " + " ".join(map(str, idx))  # every frame of the mp4 is a planned one
        parts = s.requests[0]["body"]["messages"][0]["content"]
        assert [q["type"] for q in parts] == ["text", "video_url"]
    finally:
        s.close()


def test_concurrency_is_shared_by_all_workers(clips):
    s = Server(delay=0.4)
    try:
        files = [str(clips / f"c{i}.mp4") for i in range(4)]  # 8 windows
        p, _ = run(["--endpoint", s.url, "--concurrency", "4", "--workers", "4", *files])
        assert p.returncode == 0, p.stderr
        assert len(s.requests) == 8
        # Four at once, never more: one limit for all four workers (per-worker limits would let
        # all 8 windows fly together). Counted by the server, not timed: a wall-clock bound
        # failed on a busy 2-core CI machine.
        assert s.max_in_flight == 4
        assert [r["source"].rsplit("/", 1)[1] for r in records(p)] == [f"c{i}.mp4" for i in range(4)]  # input order
    finally:
        s.close()


def test_retries_on_429_and_500_honour_retry_after(clips):
    s = Server()
    s.plan = ["429", "500"]
    try:
        p, wall = run(["--endpoint", s.url, "--retry-base", "0.05", "--concurrency", "1", str(clips / "a.mp4")])
        assert p.returncode == 0, p.stderr
        rec = records(p)[0]
        assert len(rec["captions"]) == 2 and "errors" not in rec
        assert len(s.requests) == 4  # two windows, two failed attempts
        assert wall >= 1.0  # Retry-After: 1 was honoured (the jittered backoff alone waits under 0.15 s)
    finally:
        s.close()


def test_a_request_that_times_out_is_retried(clips):
    s = Server()
    s.plan = ["hang"]
    try:
        p, wall = run(["--endpoint", s.url, "--timeout", "1", "--retry-base", "0.05", "--concurrency", "1", str(clips / "b.mp4")])
        assert p.returncode == 0, p.stderr
        assert len(records(p)[0]["captions"]) == 1
        assert len(s.requests) == 2 and wall < 5  # given up on after 1 s, not the server's 5
    finally:
        s.close()


def test_answers_that_are_not_captions_are_errors(clips):
    s = Server()
    s.plan = ["malformed", "length", "empty", "refuse"]
    try:
        p, _ = run(["--endpoint", s.url, "--concurrency", "1", str(clips / "a.mp4"), str(clips / "c0.mp4")])
        assert p.returncode == 3, p.stderr  # some inputs failed
        recs = records(p)
        msgs = [e["message"] for r in recs for e in r.get("errors", [])]
        assert all(len(r["captions"]) == 0 for r in recs)
        for want in ("malformed JSON", "finish_reason length", "empty answer", "refused"):
            assert any(want in m for m in msgs), (want, msgs)
        assert all(m.startswith("window [") for m in msgs)
    finally:
        s.close()


def test_windows_already_captioned_are_kept(clips):
    s = Server()
    try:
        have = {"path": str(clips / "a.mp4"), "captions": [{"start_frame": 0, "end_frame": 256, "text": "kept", "model": "m"}]}
        inp = clips / "partial.jsonl"
        inp.write_text(json.dumps(have) + "\n")
        p, _ = run(["--endpoint", s.url, str(inp)])
        assert p.returncode == 0, p.stderr
        caps = records(p)[0]["captions"]
        assert caps[0]["text"] == "kept" and caps[1]["start_frame"] == 256
        assert len(s.requests) == 1 and s.requests[0]["frames"][0] >= 256
    finally:
        s.close()


def test_a_dead_endpoint_trips_the_breaker(clips):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    p, wall = run(["--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m", "--retries", "1", "--retry-base", "0.01",
                   "--breaker", "2", "--workers", "2", *[str(clips / f"c{i}.mp4") for i in range(4)]])
    assert p.returncode == 7, p.stderr
    assert "circuit breaker" in p.stderr
    assert wall < 30
    assert KEY not in p.stderr


def test_enhancement_pass_on_the_same_endpoint(clips):
    s = Server(key=KEY, enhance_prompt="Make it vivid.")
    try:
        p, _ = run(["--endpoint", s.url, "--enhance-model", "test-vlm", "--enhance-prompt", "Make it vivid.", str(clips / "a.mp4")])
        assert p.returncode == 0, p.stderr
        assert s.problems == []  # the bearer token went with the rewrites too (same endpoint)
        caps = records(p)[0]["captions"]
        assert len(caps) == 2 and len(s.requests) == 2
        assert sorted(e["caption"] for e in s.enhanced) == sorted(c["text"] for c in caps)
        for c in caps:
            e = c["enhanced"]
            assert e["text"] == "enhanced: " + c["text"] and c["text"].startswith("frames ")  # the original stays
            assert e["model"] == "test-vlm" and e["finish_reason"] == "stop"
            assert e["prompt_tokens"] == 20 + len(c["text"].split()) and e["completion_tokens"] == 3
    finally:
        s.close()


def dead_endpoint():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"


def test_enhancement_on_another_endpoint_gets_no_key_and_is_not_sent_twice(clips, tmp_path):
    vlm, txt = Server(key=KEY), Server(model="text-llm", forbid_auth=True)
    try:
        p, _ = run(["--endpoint", vlm.url, "--enhance-endpoint", txt.url, "--enhance-model", "auto", str(clips / "a.mp4")])
        assert p.returncode == 0, p.stderr
        assert vlm.problems == [] and txt.problems == []  # the caption key never went to the other host
        rec = records(p)[0]
        assert [c["enhanced"]["model"] for c in rec["captions"]] == ["text-llm", "text-llm"]  # auto: its /v1/models
        done = tmp_path / "done.jsonl"
        done.write_text(p.stdout)
        # Everything is there: a re-run sends nothing (both endpoints are gone) and changes nothing.
        dead = dead_endpoint()
        q, _ = run(["--endpoint", dead, "--model", "test-vlm", "--enhance-endpoint", dead, "--enhance-model", "text-llm",
                    "--retries", "0", str(done)])
        assert q.returncode == 0, q.stderr
        assert records(q) == [rec]
    finally:
        vlm.close()
        txt.close()


def test_a_failed_rewrite_is_an_error_and_retried_with_retry_errors(clips, tmp_path):
    vlm, txt = Server(), Server(model="text-llm")
    txt.plan = ["500", "length"]
    try:
        args = ["--endpoint", vlm.url, "--enhance-endpoint", txt.url, "--enhance-model", "text-llm", "--retries", "0",
                "--concurrency", "1"]
        p, _ = run(args + [str(clips / "a.mp4"), str(clips / "b.mp4")])
        assert p.returncode == 3, p.stderr
        recs = records(p)
        assert [len(r["captions"]) for r in recs] == [2, 1]  # captions are kept when their rewrite fails
        msgs = sorted(e["message"] for r in recs for e in r.get("errors", []))
        assert len(msgs) == 2 and all(": enhance: " in m for m in msgs), msgs
        assert any("HTTP 500" in m for m in msgs) and any("finish_reason length" in m for m in msgs)
        assert sum("enhanced" in c for r in recs for c in r["captions"]) == 1
        done = tmp_path / "partial.jsonl"
        done.write_text(p.stdout)
        asked = len(vlm.requests)
        q, _ = run(args + ["--retry-errors", str(done)])
        assert q.returncode == 0, q.stderr
        again = records(q)
        assert len(vlm.requests) == asked  # no window was captioned twice
        assert all("enhanced" in c for r in again for c in r["captions"])
        assert all(e.get("retried") for r in again for e in r.get("errors", []))
        for r, old in zip(again, recs):
            assert [c["text"] for c in r["captions"]] == [c["text"] for c in old["captions"]]
    finally:
        vlm.close()
        txt.close()


def test_a_killed_batch_resumes_from_its_ledger(clips, tmp_path):
    s = Server(delay=0.3)
    try:
        files = [str(clips / f"c{i}.mp4") for i in range(4)]  # 8 windows
        ledger = tmp_path / "caption.ledger.jsonl"
        args = [REEL, "caption", "--endpoint", s.url, "--model", "test-vlm", "--concurrency", "1", "--workers", "1",
                "--ledger", str(ledger), *files]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(s.requests) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # c0 and c1 are in the ledger; the first window of c2 is in flight (0.3 s)
        p.kill()  # no chance to clean up
        p.wait()
        asked = len(s.requests)
        assert asked == 5
        q = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert q.returncode == 0, q.stderr
        recs = records(q)
        assert [r["source"].rsplit("/", 1)[1] for r in recs] == [f"c{i}.mp4" for i in range(4)]
        assert all(len(r["captions"]) == 2 for r in recs)
        # c0 and c1 came from the ledger; c2 (cut off mid-clip) and c3 were asked for.
        assert len(s.requests) - asked == 4
    finally:
        s.close()
