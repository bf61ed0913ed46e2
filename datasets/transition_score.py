# SPDX-License-Identifier: Apache-2.0
"""Scoring shot-boundary detections against the truth of datasets/make_transitions.py.

A detection is a span of frames [first, last]: a hard cut at frame c (the first frame of the new
shot) is [c - 1, c], a gradual transition its own span. A detection matches a true transition
when it overlaps the transition's span widened by TOL frames on each side; matching is one to one
(closest centres first). F1 is pooled over all videos; recall is also given per kind of
transition, and false positives per kind of hard negative they fall in."""
import collections

TOL = 2


def spans_from_record(scenes):
    """Detections of a `reel scenes` record's "scenes" object: its transitions, and [c-1, c] for the other cuts."""
    tr = [(t["first"], t["last"]) for t in scenes.get("transitions", [])]
    cuts_of_tr = {(a + b + 1) // 2 for a, b in tr}
    return tr + [(c - 1, c) for c in scenes["cuts"] if c not in cuts_of_tr]


def match(truth, detected):
    """Indices (truth, detection) matched one to one."""
    pairs = []
    for i, t in enumerate(truth):
        for j, (a, b) in enumerate(detected):
            if a <= t["last"] + TOL and b >= t["first"] - TOL:
                pairs.append((abs((a + b) - (t["first"] + t["last"])), i, j))
    used_t, used_d, out = set(), set(), []
    for _, i, j in sorted(pairs):
        if i not in used_t and j not in used_d:
            used_t.add(i), used_d.add(j), out.append((i, j))
    return out


def score(truth_videos, detections):
    """truth_videos: truth.json's list; detections: {video name: [(first, last), ...]}."""
    tp = fp = fn = 0
    hit, total = collections.Counter(), collections.Counter()
    fp_in = collections.Counter()
    for v in truth_videos:
        det = sorted(detections.get(v["video"], []))
        m = match(v["transitions"], det)
        tp += len(m)
        fn += len(v["transitions"]) - len(m)
        fp += len(det) - len(m)
        for t in v["transitions"]:
            total[t["kind"]] += 1
        for i, _ in m:
            hit[v["transitions"][i]["kind"]] += 1
        matched = {j for _, j in m}
        for j, (a, b) in enumerate(det):
            if j in matched:
                continue
            where = [n["kind"] for n in v["negatives"] if a <= n["last"] and b >= n["first"]]
            fp_in[where[0] if where else "elsewhere"] += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    gradual = [k for k in total if k != "hard"]
    return {
        "f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r, "tp": tp, "fp": fp, "fn": fn,
        "recall_by_kind": {k: hit[k] / total[k] for k in sorted(total)},
        "hard": hit["hard"] / total["hard"] if total["hard"] else 1.0,
        "gradual": sum(hit[k] for k in gradual) / max(1, sum(total[k] for k in gradual)),
        "false_positives_in": dict(fp_in),
    }
