#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `reel scenes` frames/s (structure and auto detectors) against a bare FFmpeg (libavcodec)
# decode of the same file, same process, and peak memory of `reel scenes` on a 1-minute cut, on
# the 3-minute video and on a 9-minute loop of it (memory must not grow with length); then each
# detector over six bundled sample videos of three codecs (H.264 360p-1080p, VP8 720p, MPEG-2)
# and over the synthetic transition set (seed 7, 320x180, and the same videos scaled to 720p:
# auto's network checks cost the same at any size, the decode does not).
# Usage: bench/scenes_throughput.sh [VIDEO] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEO=${1:-../shared/videos/deb_openboard_wannaworktogether.mp4}
THREADS=${2:-2}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ ! -f "$VIDEO" ]; then
  # No shared set beside the checkout: build a 3-minute video from the samples.
  ffmpeg -v error -stream_loop 6 -i datasets/videos/moviepy_big_buck_bunny_0_30.webm -t 180 -an \
    -c:v libx264 -preset veryfast -crf 23 "$TMP/long.mp4"
  VIDEO=$TMP/long.mp4
fi
ffmpeg -v error -i "$VIDEO" -t 60 -c copy "$TMP/cut60.mp4"
ffmpeg -v error -stream_loop 2 -i "$VIDEO" -an -c copy "$TMP/loop3.mp4"
/usr/bin/python3 datasets/make_transitions.py "$TMP/set" --seed 7 >/dev/null
mkdir -p "$TMP/set720"
for f in "$TMP"/set/*.mp4; do
  ffmpeg -v error -i "$f" -vf scale=1280:720 -c:v libx264 -preset veryfast -crf 20 "$TMP/set720/$(basename "$f")"
done
SAMPLES=(datasets/videos/moviepy_smpte-2997.mp4 datasets/videos/moviepy_big_buck_bunny_0_30.webm
  datasets/videos/deb_imageio_cockatoo.mp4 datasets/videos/moviepy_video_with_failing_audio.mp4
  datasets/videos/intel_asl_book.mkv datasets/videos/deb_kivy_cityCC0.mpg)
for det in structure auto; do
  echo "== $det: throughput (best of 3), $THREADS decoder threads: $VIDEO"
  ./build/bench/bench_scenes --threads "$THREADS" --repeat 3 --detector "$det" "$VIDEO"
  for f in "$TMP/cut60.mp4" "$VIDEO" "$TMP/loop3.mp4"; do
    rss=$( { /usr/bin/time -f "%M" ./build/tools/reel -j "$THREADS" --log-level error scenes --detector "$det" "$f" >/dev/null; } 2>&1 | tail -1)
    echo "{\"detector\": \"$det\", \"peak_rss_kb\": $rss, \"file\": \"$f\"}"
  done
  echo "== $det: six sample videos (best of 3), $THREADS decoder threads"
  ./build/bench/bench_scenes --threads "$THREADS" --repeat 3 --detector "$det" "${SAMPLES[@]}"
  for size in set set720; do
    echo "== $det: transition set ($size, best of 3), $THREADS decoder threads"
    ./build/bench/bench_scenes --threads "$THREADS" --repeat 3 --detector "$det" "$TMP/$size"/*.mp4 | tail -1
  done
done
