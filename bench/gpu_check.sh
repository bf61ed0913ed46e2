#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The prepared device check of the CUDA backend: on a machine with an NVIDIA GPU, builds reel
# (the CUDA module for the present card only, to keep the build short), runs every GPU test
# with skips turned into failures, and the GPU benchmark (full-width CV8x8x8 and DV8x16x16,
# 1x3x17x720x1280, bf16, encode and decode, against PyTorch eager bf16 of the project's
# definition in the same run), the end-to-end pipeline benchmark (bench/pipeline_gpu.py: 720p
# clips decoded on NVDEC and tokenized with --batch 1 and auto, GPU utilisation sampled, against
# an FFmpeg + PyTorch pipeline), TransNetV2 on the GPU against the CPU (frames/s of `reel
# scenes --detector transnetv2` over the sample videos), EfficientNet-Lite0 likewise (`reel
# embed --device cuda`) and open_nsfw from its ONNX file on the GPU against OpenCV DNN on the
# CPU (bench/bench_nsfw), and writes everything to one folder:
#
#   bash bench/gpu_check.sh OUT        # OUT/summary.json, OUT/gpu_tests.{log,json}, OUT/bench_*.json, ...
#
# It needs what the README's set-up installs (Debian 12's libraries: FFmpeg, HDF5, OpenBLAS,
# ...; `bash .ci/deps.sh` as root) plus the CUDA toolkit with cuDNN 9, and a PyTorch with CUDA
# for the baseline (REEL_TORCH_PYTHON, default: the first python3 whose torch sees a GPU).
# On 16 cores the build takes about 2 minutes, the tests about 1 and the benchmark 1-2.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/gpu_check.sh OUT}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
step() { echo "== $(date +%T) $*"; }

step "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/nvidia-smi.csv"
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)

step "build (sm_${cc})"
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$cc" >"$OUT/build.log" 2>&1 &&
  cmake --build build-gpu -j"$(nproc)" --target reel reel_cuda reel_tests bench_nsfw >>"$OUT/build.log" 2>&1
build_rc=$?
tail -3 "$OUT/build.log"
[ $build_rc -eq 0 ] || { echo "build failed (build.log)"; echo '{"build": "failed"}' >"$OUT/summary.json"; exit 1; }
REEL=build-gpu/tools/reel
$REEL info devices | tee "$OUT/devices.txt"

step "GPU tests"
REEL_TEST_REQUIRE_CUDA=1 build-gpu/tests/reel_tests --gtest_filter='*Cuda*:*CudaPlugin*:Backend*:MemoryPlan*:DeviceMath*' \
  --gtest_output=json:"$OUT/gpu_tests.json" | tee "$OUT/gpu_tests.log"
tests_rc=${PIPESTATUS[0]}

step "benchmark"
PY=${REEL_TORCH_PYTHON:-}
if [ -z "$PY" ]; then
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then PY=$p; break; fi
  done
fi
for arch in CV8x8x8 DV8x16x16; do
  if [ -n "$PY" ]; then
    timeout 300 "$PY" bench/tokenizer_gpu_vs_torch.py --reel "$REEL" --arch $arch --shape 1,3,17,720,1280 --dtype bf16 \
      >"$OUT/bench_$arch.json" || echo "{\"arch\": \"$arch\", \"error\": \"baseline script failed\"}" >"$OUT/bench_$arch.json"
  else
    timeout 300 $REEL --log-level error tokenize bench --device cuda --dtype bf16 --arch $arch --random-weights \
      --shape 1,3,17,720,1280 --repeat 3 >"$OUT/bench_$arch.json"
  fi
  cat "$OUT/bench_$arch.json"
done

step "pipeline: decode + tokenize + write, 720p clips (batched vs unbatched vs PyTorch)"
if [ -n "$PY" ]; then
  timeout 540 "$PY" bench/pipeline_gpu.py --reel "$REEL" >"$OUT/bench_pipeline.json" ||
    echo '{"error": "pipeline benchmark failed or timed out"}' >"$OUT/bench_pipeline.json"
  cat "$OUT/bench_pipeline.json"
fi

step "transnetv2 on reel's kernels: frames/s on the GPU against the CPU (sample videos, decode included)"
if [ -f weights/transnetv2.h5 ]; then
  for dev in cpu:fp32 cuda:fp32 cuda:bf16; do
    t0=$(date +%s.%N)
    timeout 120 $REEL --log-level error scenes --detector transnetv2 --device "${dev%%:*}" --dtype "${dev##*:}" \
      datasets/videos/*.mp4 datasets/videos/*.webm >"$OUT/transnet_${dev/:/_}.jsonl"
    t1=$(date +%s.%N)
    /usr/bin/env python3 -c "import json,sys; n=sum(json.loads(l)['frames'] for l in open(sys.argv[1])); \
dt=float(sys.argv[4])-float(sys.argv[3]); print(json.dumps({'device': sys.argv[2], 'frames': n, 'seconds': dt, 'frames_per_s': n / dt}))" \
      "$OUT/transnet_${dev/:/_}.jsonl" "$dev" "$t0" "$t1" >>"$OUT/bench_transnetv2.jsonl"
  done
  cat "$OUT/bench_transnetv2.jsonl"
fi

step "embed (EfficientNet-Lite0, .h5): clips/s on the GPU against reel's CPU kernels (sample videos, decode included)"
for dev in cpu:fp32 cuda:fp32 cuda:bf16; do
  t0=$(date +%s.%N)
  timeout 120 $REEL --log-level error embed --inline --device "${dev%%:*}" --dtype "${dev##*:}" \
    datasets/videos/*.mp4 datasets/videos/*.webm >"$OUT/embed_${dev/:/_}.jsonl"
  t1=$(date +%s.%N)
  /usr/bin/env python3 -c "import json,sys; n=sum(1 for l in open(sys.argv[1]) if 'embedding' in json.loads(l)); \
dt=float(sys.argv[4])-float(sys.argv[3]); print(json.dumps({'device': sys.argv[2], 'clips': n, 'seconds': dt, 'clips_per_s': n / dt}))" \
    "$OUT/embed_${dev/:/_}.jsonl" "$dev" "$t0" "$t1" >>"$OUT/bench_embed.jsonl"
done
cat "$OUT/bench_embed.jsonl"

step "open_nsfw (reel filter --nsfw): reel's kernels on the GPU against OpenCV DNN on the CPU (sampled frames, one pass a clip)"
for dt in fp32 bf16; do
  timeout 120 build-gpu/bench/bench_nsfw --device cuda:0 --dtype $dt datasets/videos/*.mp4 datasets/videos/*.webm \
    2>/dev/null | tee "$OUT/bench_nsfw_$dt.txt"
done

step "summary"
/usr/bin/env python3 - "$OUT" "$tests_rc" <<'PY'
import glob, json, os, sys
out, rc = sys.argv[1], int(sys.argv[2])
s = {"gpu_tests_exit": rc}
try:
    t = json.load(open(os.path.join(out, "gpu_tests.json")))
    s["gpu_tests"] = {"tests": t.get("tests"), "failures": t.get("failures"), "disabled": t.get("disabled")}
except Exception as e:  # noqa: BLE001
    s["gpu_tests"] = f"no report: {e}"
for f in sorted(glob.glob(os.path.join(out, "bench_*.json"))):
    try:
        s[os.path.basename(f)[:-5]] = json.load(open(f))
    except Exception as e:  # noqa: BLE001
        s[os.path.basename(f)[:-5]] = f"unreadable: {e}"
json.dump(s, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(json.dumps(s, indent=1))
PY
exit $tests_rc
