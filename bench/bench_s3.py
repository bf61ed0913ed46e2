#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""reel split of a 100 MB video read from a local S3 server (moto, tests/storage/s3_server.py)
against the same file on disk, in the same session, and the bytes fetched when only the first
clip of it is split (ranged reads, not the whole object).

    /usr/bin/python3 bench/bench_s3.py [--repeat 3] [--mb 100]

Throughput: `reel split --mode scenes` (shot detection decodes every frame, then stream copy),
best of --repeat, alternating disk and S3, each run in a fresh output folder. Partial read:
`reel split --mode stride --clip-len 2 --stride 2 --max-clips 1` through a counting proxy in front of
moto; the bytes are the GET bodies the proxy forwarded. reel's own CPU time is reported beside
the wall time: on a small machine the S3 server (Python) competes with the decoder for the cores,
which a remote store does not.
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
REEL = str(ROOT / "build/tools/reel")
sys.path.insert(0, str(ROOT / ".cache/pypi-tests"))
sys.path.insert(0, str(ROOT / "tests/storage"))


def make_video(path, mb):
    seconds = 120
    rate = int(mb * 8e6 / seconds)  # bits/s for about `mb` MB
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", "mandelbrot=size=1280x720:rate=25", "-filter_complex",
                    "[0][1]blend=all_mode=addition:shortest=1,noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "50", "-b:v", str(rate), "-maxrate", str(rate), "-bufsize", str(rate), "-pix_fmt", "yuv420p",
                    str(path)], check=True)


def run(args, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([REEL, *args], capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)  # reel's alone: moto is reaped at the end
    if p.returncode not in (0, 3):
        sys.exit(f"reel {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return dt, [json.loads(l) for l in p.stdout.splitlines() if l.strip()], p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mb", type=float, default=100)
    a = ap.parse_args()
    import boto3
    from s3_server import FaultProxy

    cache = ROOT / ".cache/bench"
    cache.mkdir(parents=True, exist_ok=True)
    video = cache / f"long_{int(a.mb)}mb.mp4"
    if not video.exists():
        make_video(video, a.mb)
    size = video.stat().st_size

    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen([sys.executable, str(ROOT / "tests/storage/s3_server.py"), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env=dict(clean, PYTHONPATH=str(ROOT / ".cache/pypi-tests")))
    assert server.stdout.readline().startswith("ready")
    proxy = FaultProxy(port)
    try:
        c = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="test", aws_secret_access_key="test",
                         region_name="us-east-1")
        c.create_bucket(Bucket="bench")
        c.upload_file(str(video), "bench", "videos/long.mp4")
        env = dict(clean, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        work = pathlib.Path(tempfile.mkdtemp(prefix="reel-bench-s3-"))
        times = {"disk": [], "s3": []}
        cpu = {"disk": [], "s3": []}
        clips = {}
        for i in range(a.repeat):
            for where, src in (("disk", str(video)), ("s3", "s3://bench/videos/long.mp4")):
                out = work / f"{where}-{i}"
                dt, recs, err = run(["split", src, "-o", str(out)], env)
                times[where].append(dt)
                cpu[where].append(run.cpu)
                clips[where] = [(r["span"]["frames"], r.get("bytes")) for r in recs]
                shutil.rmtree(out)
        assert clips["disk"] == clips["s3"], "the S3 split differs from the disk split"
        best = {k: min(v) for k, v in times.items()}
        proxy.reset()
        env_p = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}")
        _, first, _ = run(["split", "s3://bench/videos/long.mp4", "-o", str(work / "first"), "--mode", "stride", "--clip-len", "2", "--stride", "2",
                           "--max-clips", "1"], env_p)
        fetched = proxy.body_bytes.get("GET", 0)
        shutil.rmtree(work)
        print(json.dumps({
            "video_bytes": size, "clips": len(clips["disk"]), "repeat": a.repeat,
            "split_disk_s": round(best["disk"], 3), "split_s3_s": round(best["s3"], 3),
            "s3_over_disk_time": round(best["s3"] / best["disk"], 3),
            "s3_throughput_vs_disk": round(best["disk"] / best["s3"], 3),
            "s3_MBps": round(size / best["s3"] / 1e6, 1), "disk_MBps": round(size / best["disk"] / 1e6, 1),
            "reel_cpu_disk_s": round(min(cpu["disk"]), 3), "reel_cpu_s3_s": round(min(cpu["s3"]), 3),
            "cores": os.cpu_count(),
            "first_clip_bytes": first[0]["bytes"], "first_clip_fetched_bytes": fetched,
            "first_clip_fetched_share": round(fetched / size, 4),
            "first_clip_requests": proxy.counts.get("GET", 0) + proxy.counts.get("HEAD", 0),
        }))
    finally:
        proxy.close()
        server.kill()


if __name__ == "__main__":
    main()
