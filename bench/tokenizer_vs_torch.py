#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""reel's CPU tokenizer against PyTorch eager on the same weights, in one run.

Builds the full-width CV8x8x8 (or --arch) in the project's PyTorch definition with seeded
random weights, writes them to a reel model file, then times encode and decode of the same
random 1x3xTxHxW clip in PyTorch (Debian's python3-torch, --threads) and in `reel tokenize
bench` (same threads), checks the two agree, and measures an OpenBLAS sgemm peak for scale.
Prints one JSON object. Peak memory: each side's max RSS (reel: its own process; PyTorch:
this process, measured before reel runs).

    bench/tokenizer_vs_torch.py [--arch CV8x8x8] [--shape 1,3,17,256,256] [--threads 2]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import cosmos_torch as ct  # noqa: E402


def sgemm_peak(threads, n=2048, reps=5):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="CV8x8x8")
    ap.add_argument("--shape", default="1,3,17,256,256")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--reel", default=os.path.join(HERE, "..", "build", "tools", "reel"))
    a = ap.parse_args()
    shape = [int(v) for v in a.shape.split(",")]
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ct.Tokenizer(ct.config_for_arch(a.arch)).eval()
    x = torch.rand(*shape) * 2 - 1
    res = {"arch": a.arch, "shape": shape, "threads": a.threads, "torch": torch.__version__,
           "torch_mkldnn": torch.backends.mkldnn.is_available()}
    with torch.no_grad():
        enc_t, dec_t = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            z = model.encode(x)
            t1 = time.perf_counter()
            y = model.decode(z)
            t2 = time.perf_counter()
            enc_t.append(t1 - t0)
            dec_t.append(t2 - t1)
    res["torch_encode_s"], res["torch_decode_s"] = min(enc_t), min(dec_t)
    res["torch_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.h5")
        ct.save_h5(model, path)
        r = subprocess.run(["/usr/bin/time", "-f", "%M", a.reel, "-j", str(a.threads), "--log-level", "error", "tokenize",
                            "bench", "--model", path, "--shape", a.shape, "--repeat", str(a.repeat)],
                           capture_output=True, text=True, check=True)
        rb = json.loads(r.stdout.strip().splitlines()[-1])
        res["reel_peak_rss_mb"] = int(r.stderr.strip().splitlines()[-1]) / 1024
    res["reel_encode_s"], res["reel_decode_s"] = rb["encode_s"], rb["decode_s"]
    res["reel_encode_gflops"], res["reel_decode_gflops"] = rb["encode_gflops"], rb["decode_gflops"]
    res["speedup_encode"] = res["torch_encode_s"] / res["reel_encode_s"]
    res["speedup_decode"] = res["torch_decode_s"] / res["reel_decode_s"]
    res["sgemm_peak_gflops"] = sgemm_peak(a.threads)
    res["reel_encode_fraction_of_peak"] = res["reel_encode_gflops"] / res["sgemm_peak_gflops"]
    res["reel_decode_fraction_of_peak"] = res["reel_decode_gflops"] / res["sgemm_peak_gflops"]
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
