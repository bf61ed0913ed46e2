#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""reel caption's request throughput against a local OpenAI-compatible server that answers every
request after 200 ms (tests/caption/vlm_server.py, checking the request's shape but not decoding
its JPEGs), at --concurrency 1, 8 and 32 (reel caption's default workers, concurrency + 2):
windows/s against the ideal N / 0.2 s (from the server's first arrival to its last answer; the
end-to-end rate with process start is printed beside it), and reel's own CPU time per window (decoding up to the
sampled frames, JPEG, base64, JSON, HTTP), from the child's rusage. Two clips: "light" (8 frames
of 160x90, one window of 4 frames: the request machinery) and "hd" (2 s of 640x360 testsrc2:
frame extraction is most of the CPU).

    /usr/bin/python3 bench/bench_caption.py [--windows W] [--levels 1,8,32]
"""
import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/caption"))
from vlm_server import Server  # noqa: E402

REEL = str(ROOT / "build/tools/reel")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=0, help="windows per level (default 40 x concurrency, at least 40)")
    ap.add_argument("--levels", default="1,8,32")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=0, help="reel caption --workers (default 0: its own default)")
    ap.add_argument("--clips", default="light,hd")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        clips = {k: v for k, v in {"light": ("160x90", "0.32"), "hd": ("640x360", "2")}.items() if k in a.clips.split(",")}
        for name, (size, dur) in clips.items():
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={dur}",
                            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(pathlib.Path(d) / f"{name}.mp4")], check=True)
        s = Server(delay=a.delay, read_frames=False)
        try:
            for name in clips:
                clip = pathlib.Path(d) / f"{name}.mp4"
                for c in map(int, a.levels.split(",")):
                    n = a.windows or max(40, 40 * c)
                    recs = pathlib.Path(d) / f"in{c}.jsonl"
                    recs.write_text("".join(json.dumps({"path": str(clip), "id": f"w{i}"}) + "\n" for i in range(n)))
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    s.requests.clear()
                    s.times.clear()
                    t0 = time.monotonic()
                    p = subprocess.run([REEL, "--log-level", "error", "-j", "1", "caption", "--endpoint", s.url, "--model", s.model,
                                        "--concurrency", str(c), "--workers", str(a.workers), str(recs)], capture_output=True, text=True)
                    wall = time.monotonic() - t0
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if p.returncode != 0:
                        sys.exit(p.stderr)
                    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                    ideal = c / a.delay
                    # Steady state, as the server saw it: first request in to last answer out (the
                    # process start and the /v1/models call before it are not request throughput).
                    span = max(t for _, t in s.times) - min(t for t, _ in s.times)
                    print(json.dumps({"clip": name, "concurrency": c, "windows": n, "seconds": round(wall, 2),
                                      "windows_per_s": round(n / span, 1), "ideal": ideal,
                                      "of_ideal": round(n / span / ideal, 3), "end_to_end_windows_per_s": round(n / wall, 1), "reel_cpu_ms_per_window": round(1000 * cpu / n, 2),
                                      "server_ms_per_request": round(1000 * sum(b - t for t, b in s.times) / len(s.times), 1),
                                      "requests_seen": len(s.requests), "server_max_in_flight": s.max_in_flight}), flush=True)
                    s.max_in_flight = 0
        finally:
            s.close()


if __name__ == "__main__":
    main()
