#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds reel in build/ (CUDA backend compiled whenever nvcc is found).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${REEL_CMAKE_ARGS:-} >&2
cmake --build build -j"$(nproc)" >&2
