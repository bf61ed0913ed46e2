#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end tokenization throughput on a GPU node: decode + tokenize + write, 720p clips.

Makes --clips h264 clips of --seconds at 1280x720 (ffmpeg's testsrc2, moving content), a
full-width model of --arch with seeded random weights (the project's PyTorch definition,
weights/cosmos_torch.py, written as a reel model file), then runs, in one go on the same clips:

  reel unbatched   reel tokenize encode --devices all --batch 1 --hwaccel cuda
  reel batched     reel tokenize encode --devices all --batch auto --hwaccel cuda
                   (NVDEC pictures made network input on the device: no host round trip)
  reel batched rgb the same with REEL_TOKENIZE_INPUT=rgb: NVDEC pictures copied to the host,
                   swscale RGB24, floats uploaded (the route before pictures stayed on the device)
  reel batched serial  the same with REEL_BATCH_OVERLAP=off: each pass finished before the
                   next is queued (no pass in flight)
  torch            FFmpeg decode (rawvideo pipe) -> the same model in PyTorch eager, bf16 ->
                   latents saved with numpy, one clip after another

each while `nvidia-smi` samples GPU utilisation every 200 ms. Prints one JSON object: clips/s,
frames/s, mean and median utilisation for each, and the ratios batched/unbatched and
batched/torch, batched/batched-rgb and batched/batched-serial.

    bench/pipeline_gpu.py --reel build-gpu/tools/reel [--clips 16] [--seconds 4] [--arch CV8x8x8]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import cosmos_torch as ct  # noqa: E402

W, H, FPS, WINDOW = 1280, 720, 24, 17


class Utilisation:
    """nvidia-smi sampling GPU utilisation (percent, device 0..n) while a run goes."""

    def __enter__(self):
        self.p = subprocess.Popen(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                   "-lms", "200"], stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        out, _ = self.p.communicate()
        self.samples = [float(v) for v in out.split() if v.strip().replace(".", "").isdigit()]

    def summary(self):
        s = self.samples or [0.0]
        return {"util_mean": statistics.mean(s), "util_median": statistics.median(s), "util_samples": len(s)}


def make_clips(d, n, seconds):
    paths = []
    for i in range(n):
        p = os.path.join(d, f"clip{i:03d}.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={W}x{H}:rate={FPS}:duration={seconds},hue=h={i * 23}",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", p], check=True)
        paths.append(p)
    return paths


def run_reel(reel, model, clips, out, batch, env=None):
    cmd = [reel, "--log-level", "warning", "--hwaccel", "cuda", "tokenize", "encode", "--model", model, "--devices", "all",
           "--batch", batch, "-o", out, "--no-resume", *clips]
    with Utilisation() as u:
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
        took = time.perf_counter() - t
    res = {"seconds": took, **u.summary()}
    if r.returncode != 0:
        res["error"] = f"exit {r.returncode}: {r.stderr.strip()[-1500:]}"
    return res


def run_torch(model, clips, out_dir, dtype):
    gpu = model.to("cuda", dtype)
    with Utilisation() as u, torch.no_grad():
        t = time.perf_counter()
        for i, c in enumerate(clips):
            raw = subprocess.run(["ffmpeg", "-v", "error", "-i", c, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                                 capture_output=True, check=True).stdout
            frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)
            lat = []
            for s in range(0, len(frames) - WINDOW + 1, WINDOW):
                x = torch.from_numpy(frames[s:s + WINDOW].copy()).to("cuda").permute(3, 0, 1, 2)[None]
                x = (x.to(dtype) / 127.5 - 1)
                lat.append(gpu.encode(x).float().cpu().numpy())
            np.save(os.path.join(out_dir, f"{i}.npy"), np.concatenate(lat, axis=2))
        torch.cuda.synchronize()
        took = time.perf_counter() - t
    return {"seconds": took, **u.summary()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reel", default=os.path.join(HERE, "..", "build", "tools", "reel"))
    ap.add_argument("--arch", default="CV8x8x8")
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=4.25)  # 102 frames: six 17-frame windows
    a = ap.parse_args()
    torch.manual_seed(0)
    model = ct.Tokenizer(ct.config_for_arch(a.arch)).eval()
    res = {"arch": a.arch, "clip": f"{W}x{H} {FPS} fps h264", "clips": a.clips, "device": torch.cuda.get_device_name(0),
           "gpus": torch.cuda.device_count()}
    with tempfile.TemporaryDirectory() as d:
        clips = make_clips(d, a.clips, a.seconds)
        frames = a.clips * int(round(a.seconds * FPS))
        path = os.path.join(d, "m.h5")
        ct.save_h5(model, path)
        res["reel_unbatched"] = run_reel(a.reel, path, clips, os.path.join(d, "u.h5"), "1")
        res["reel_batched"] = run_reel(a.reel, path, clips, os.path.join(d, "b.h5"), "auto")
        res["reel_batched_rgb"] = run_reel(a.reel, path, clips, os.path.join(d, "r.h5"), "auto", {"REEL_TOKENIZE_INPUT": "rgb"})
        res["reel_batched_serial"] = run_reel(a.reel, path, clips, os.path.join(d, "s.h5"), "auto", {"REEL_BATCH_OVERLAP": "off"})
        os.makedirs(os.path.join(d, "torch"))
        try:
            res["torch"] = run_torch(model, clips, os.path.join(d, "torch"), torch.bfloat16)
        except torch.cuda.OutOfMemoryError as e:
            res["torch"] = {"error": "out of memory: " + str(e).splitlines()[0]}
    for k in ("reel_unbatched", "reel_batched", "reel_batched_rgb", "reel_batched_serial", "torch"):
        if "seconds" in res[k]:
            res[k]["clips_per_s"] = a.clips / res[k]["seconds"]
            res[k]["frames_per_s"] = frames / res[k]["seconds"]
    if "seconds" in res["reel_batched"]:
        res["batched_vs_unbatched"] = res["reel_unbatched"]["seconds"] / res["reel_batched"]["seconds"]
        if "seconds" in res["reel_batched_rgb"]:
            res["batched_vs_batched_rgb"] = res["reel_batched_rgb"]["seconds"] / res["reel_batched"]["seconds"]
        if "seconds" in res["reel_batched_serial"]:
            res["batched_vs_batched_serial"] = res["reel_batched_serial"]["seconds"] / res["reel_batched"]["seconds"]
        if "seconds" in res["torch"]:
            res["batched_vs_torch"] = res["torch"]["seconds"] / res["reel_batched"]["seconds"]
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
