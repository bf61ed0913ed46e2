#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""reel's CUDA tokenizer against PyTorch eager on the same GPU, the same weights and the same clip.

Builds --arch at full width in the project's PyTorch definition (weights/cosmos_torch.py) with
seeded random weights, writes them to a reel model file, then times encode and decode of one
random 1x3xTxHxW clip in PyTorch eager (on the GPU, in --dtype) and in `reel tokenize bench
--device cuda` (same dtype), and measures the card's dense bf16 matrix-product rate for scale.
Prints one JSON object: seconds and ms per input frame for both, the speed-ups, reel's
effective TFLOP/s as a fraction of the measured peak, and each side's peak device memory; an
out-of-memory on either side is recorded, not raised.

    bench/tokenizer_gpu_vs_torch.py --reel .gpu/bin/reel [--arch CV8x8x8] [--shape 1,3,17,720,1280] [--dtype bf16]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import cosmos_torch as ct  # noqa: E402

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def timed(fn, repeat):
    best, out = 1e30, None
    for _ in range(repeat):
        torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best, out


def matmul_peak_tflops(dtype, n=8192, reps=10):
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    t, _ = timed(lambda: a @ b, reps)
    return 2 * n ** 3 / t / 1e12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="CV8x8x8")
    ap.add_argument("--shape", default="1,3,17,720,1280")
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reel", default=os.path.join(HERE, "..", "build", "tools", "reel"))
    a = ap.parse_args()
    shape = [int(v) for v in a.shape.split(",")]
    frames = shape[2]
    dt = DTYPES[a.dtype]
    torch.manual_seed(0)
    model = ct.Tokenizer(ct.config_for_arch(a.arch)).eval()
    res = {"arch": a.arch, "shape": shape, "dtype": a.dtype, "torch": torch.__version__,
           "device": torch.cuda.get_device_name(0)}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.h5")
        ct.save_h5(model, path)
        # PyTorch eager first, then its memory is handed back before reel runs.
        gpu = model.to("cuda", dt)
        x = (torch.rand(*shape, device="cuda") * 2 - 1).to(dt)
        try:
            with torch.no_grad():
                torch.cuda.reset_peak_memory_stats()
                timed(lambda: gpu.encode(x), 1)  # warm-up (cuDNN autotuning, allocator)
                res["torch_encode_s"], z = timed(lambda: gpu.encode(x), a.repeat)
                timed(lambda: gpu.decode(z), 1)
                res["torch_decode_s"], _ = timed(lambda: gpu.decode(z), a.repeat)
                res["torch_peak_mem_mib"] = torch.cuda.max_memory_allocated() / 2 ** 20
        except torch.cuda.OutOfMemoryError as e:
            res["torch_error"] = "out of memory: " + str(e).splitlines()[0]
        del gpu, x
        torch.cuda.empty_cache()
        res["matmul_peak_tflops"] = matmul_peak_tflops(torch.bfloat16 if dt == torch.float32 else dt)
        torch.cuda.empty_cache()
        r = subprocess.run([a.reel, "--log-level", "error", "tokenize", "bench", "--model", path, "--shape", a.shape,
                            "--repeat", str(a.repeat), "--device", "cuda", "--dtype", a.dtype],
                           capture_output=True, text=True)
        if r.returncode != 0:
            res["reel_error"] = f"exit {r.returncode}: {r.stderr.strip()[-2000:]}"
        else:
            rb = json.loads(r.stdout.strip().splitlines()[-1])
            res["reel_backend"] = rb.get("backend")
            res["reel_encode_s"], res["reel_decode_s"] = rb["encode_s"], rb["decode_s"]
            for half in ("encode", "decode"):
                tflops = 2 * rb[half + "_gmac"] / rb[half + "_s"] / 1e3
                res[f"reel_{half}_tflops"] = tflops
                res[f"reel_{half}_fraction_of_peak"] = tflops / res["matmul_peak_tflops"]
    for side in ("torch", "reel"):
        for half in ("encode", "decode"):
            if f"{side}_{half}_s" in res:
                res[f"{side}_{half}_ms_per_frame"] = 1e3 * res[f"{side}_{half}_s"] / frames
    for half in ("encode", "decode"):
        if f"torch_{half}_s" in res and f"reel_{half}_s" in res:
            res[f"speedup_{half}"] = res[f"torch_{half}_s"] / res[f"reel_{half}_s"]
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
