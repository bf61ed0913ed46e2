# SPDX-License-Identifier: Apache-2.0
"""reel shard read back by the real `webdataset` library (PyPI, tests/requirements.txt): every
sample's mp4 decodes to the record's frame count, its json equals the record, txt and npy
members hold the caption and embedding; shard indexes give each member's true offset; buckets
with a clip that fits none (reported, not dropped); size limits; a run killed with a shard half
written resumes, keeping the complete shards untouched and ending byte-identical to an
uninterrupted run; sharded runs write disjoint names."""
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tarfile

import cv2
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
sys.path.insert(0, str(ROOT / ".cache/pypi-tests"))
wds = pytest.importorskip("webdataset", reason="webdataset is not installed (bash .ci/deps.sh installs it)")

CLIPS = [  # name, size, seconds at 10 fps
    ("a", "320x180", 6.0), ("b", "1280x720", 2.0), ("c", "180x320", 12.0), ("d", "640x480", 5.5), ("e", "320x180", 3.0),
]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    recs = []
    rng = np.random.default_rng(3)
    for i, (name, size, dur) in enumerate(CLIPS):
        path = d / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10:duration={dur}",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
        w, h = map(int, size.split("x"))
        rec = {"id": f"clip-{name}", "path": str(path), "source": str(path), "width": w, "height": h, "duration_s": dur,
               "frames": int(round(dur * 10)), "fps": 10.0, "scores": {"motion": 0.5 + i}, "errors": [],
               "embedding": {"vector": [float(x) for x in rng.standard_normal(8).astype(np.float32)], "model": "m", "dim": 8}}
        if name != "d":
            rec["captions"] = [{"start_frame": 0, "end_frame": 10, "text": f"{name} one", "enhanced": {"text": f"{name} ONE"}},
                               {"start_frame": 10, "end_frame": 20, "text": f"{name} two"}]
        recs.append(rec)
    f = d / "clips.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return f, recs


def shard(args, env=None):
    p = subprocess.run([REEL, "shard", *args], capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    return p, [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def frames_of(mp4_bytes, tmp):
    f = tmp / "probe.mp4"
    f.write_bytes(mp4_bytes)
    cap = cv2.VideoCapture(str(f))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def test_webdataset_reads_every_sample_back(records, tmp_path):
    f, recs = records
    out = tmp_path / "ds"
    p, printed = shard(["-o", str(out), "--shard-size", "2", "--embedding", str(f)])
    assert p.returncode == 0, p.stderr
    tars = sorted(out.glob("shard-*.tar"))
    assert [t.name for t in tars] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    ds = wds.WebDataset([str(t) for t in tars], shardshuffle=False).decode()
    samples = list(ds)
    assert [s["__key__"] for s in samples] == [r["id"] for r in recs]  # every sample, in input order
    for s, rec in zip(samples, recs):
        assert s["json"] == rec
        assert frames_of(s["mp4"], tmp_path) == rec["frames"]
        assert s["mp4"] == pathlib.Path(rec["path"]).read_bytes()
        if "captions" in rec:
            assert s["txt"] == f"{rec['id'][5:]} one\n{rec['id'][5:]} two"
        else:
            assert "txt" not in s
        e = s["embedding.npy"]
        assert e.dtype == np.float32 and e.tolist() == rec["embedding"]["vector"]
    for r, rec in zip(printed, recs):
        assert r["webdataset"]["key"] == rec["id"] and pathlib.Path(r["webdataset"]["tar"]).is_file()
        assert {k: v for k, v in r.items() if k != "webdataset"} == rec
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["samples"] == 5 and manifest["totals"]["shards"] == 3
    assert manifest["totals"]["bytes"] == sum(t.stat().st_size for t in tars)
    assert manifest["totals"]["duration_s"] == pytest.approx(sum(c[2] for c in CLIPS))


def test_index_offsets_are_the_members_true_offsets(records, tmp_path):
    f, _ = records
    out = tmp_path / "ds"
    p, _ = shard(["-o", str(out), "--shard-size", "3", "--text", "enhanced", str(f)])
    assert p.returncode == 0, p.stderr
    for tar in sorted(out.glob("shard-*.tar")):
        idx = json.loads(tar.with_name(tar.name.replace(".tar", ".idx.json")).read_text())
        assert idx["bytes"] == tar.stat().st_size
        members = [m for s in idx["samples"] for m in s["members"]]
        with tarfile.open(tar) as t:
            info = t.getmembers()
            assert [(m.name, m.offset_data, m.size) for m in info] == [(m["name"], m["offset"], m["size"]) for m in members]
        raw = tar.read_bytes()
        for m in members:
            if m["name"].endswith(".txt"):  # --text enhanced: each window's rewrite where it has one
                assert raw[m["offset"]:m["offset"] + m["size"]].decode().split("\n")[0].endswith(" ONE")


def test_buckets_report_the_clip_that_fits_none(records, tmp_path):
    f, recs = records
    out = tmp_path / "ds"
    p, printed = shard(["-o", str(out), "--bucket", "resolution,aspect,duration", str(f)])
    assert p.returncode == 3, p.stderr  # some inputs failed: the clips under 5 s
    found = sorted(str(t.relative_to(out)) for t in out.rglob("*.tar"))
    assert found == ["resolution_lt_720/aspect_ratio_16_9/duration_5_10/shard-000000.tar",
                     "resolution_lt_720/aspect_ratio_4_3/duration_5_10/shard-000000.tar",
                     "resolution_lt_720/aspect_ratio_9_16/duration_10_30/shard-000000.tar"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(c["id"] for c in manifest["unbucketed"]["clips"]) == ["clip-b", "clip-e"]
    assert all("under the lowest duration bin" in c["reason"] for c in manifest["unbucketed"]["clips"])
    for r in printed:
        if r["id"] in ("clip-b", "clip-e"):
            assert "webdataset" not in r and "fits no bucket" in r["errors"][0]["message"]
        else:
            assert r["webdataset"]["bucket"] in r["webdataset"]["tar"]
    # Other edges put every clip somewhere; 720p is its own resolution bin.
    p, printed = shard(["-o", str(tmp_path / "ds2"), "--bucket", "duration,resolution", "--duration-bins", "0,4", str(f)])
    assert p.returncode == 0, p.stderr
    assert [r["webdataset"]["bucket"] for r in printed] == ["duration_4_inf/resolution_lt_720", "duration_0_4/resolution_720",
                                                       "duration_4_inf/resolution_lt_720", "duration_4_inf/resolution_lt_720",
                                                       "duration_0_4/resolution_lt_720"]


def test_shard_bytes_limit(records, tmp_path):
    f, recs = records
    out = tmp_path / "ds"
    limit = max(pathlib.Path(r["path"]).stat().st_size for r in recs) + 4096
    p, _ = shard(["-o", str(out), "--shard-size", "0", "--shard-bytes", str(limit), str(f)])
    assert p.returncode == 0, p.stderr
    for tar in out.glob("shard-*.tar"):
        idx = json.loads(tar.with_name(tar.name.replace(".tar", ".idx.json")).read_text())
        assert sum(m["size"] for s in idx["samples"] for m in s["members"]) <= limit
    n = sum(1 for _ in wds.WebDataset(sorted(str(t) for t in out.glob("shard-*.tar")), shardshuffle=False))
    assert n == len(recs)


def digest(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_killed_run_keeps_complete_shards_and_ends_identical(records, tmp_path):
    f, _ = records
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    args = ["--shard-size", "2", "--embedding", str(f)]
    p, want = shard(["-o", str(whole), *args])
    assert p.returncode == 0, p.stderr
    p, _ = shard(["-o", str(cut), *args], env={"REEL_CRASH_AT": "shard-sample:5"})  # shard 2 half written
    assert p.returncode == -9
    done = {t.name: (t.stat().st_ino, t.stat().st_mtime_ns) for t in cut.glob("shard-*.tar")}
    assert sorted(done) == ["shard-000000.tar", "shard-000001.tar"]
    assert list(cut.glob("*.tmp-*")), "the shard being written is a temp file"
    p, again = shard(["-o", str(cut), *args])
    assert p.returncode == 0, p.stderr
    for name, stat in done.items():  # kept, not rewritten
        t = cut / name
        assert (t.stat().st_ino, t.stat().st_mtime_ns) == stat
    assert not list(cut.glob("*.tmp-*"))
    assert digest(cut) == digest(whole)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "webdataset"} | {"tar": pathlib.Path(r["webdataset"]["tar"]).name} for r in rs]
    assert strip(again) == strip(want)


def test_sharded_runs_write_disjoint_names(records, tmp_path):
    f, recs = records
    out = tmp_path / "ds"
    seen = []
    for i in range(2):
        p, printed = shard(["-o", str(out), "--shard", f"{i}/2", str(f)])
        assert p.returncode == 0, p.stderr
        seen += [r["id"] for r in printed]
    names = sorted(p.name for p in out.iterdir())
    assert "manifest.shard-00000-of-00002.json" in names and "manifest.shard-00001-of-00002.json" in names
    tars = [n for n in names if n.endswith(".tar")]
    assert all(".shard-0000" in n for n in tars)
    keys = [s["__key__"] for s in wds.WebDataset([str(out / n) for n in tars], shardshuffle=False)]
    assert sorted(keys) == sorted(seen) == sorted(r["id"] for r in recs)  # each clip once, across the two runs


def test_bad_ids_and_missing_files_are_errors_not_paths(records, tmp_path):
    f, recs = records
    bad = [dict(recs[0], id="../../etc/x"), dict(recs[1], id="a.b"), dict(recs[2], path=str(tmp_path / "gone.mp4")), recs[3]]
    g = tmp_path / "bad.jsonl"
    g.write_text("".join(json.dumps(r) + "\n" for r in bad))
    out = tmp_path / "ds"
    p, printed = shard(["-o", str(out), str(g)])
    assert p.returncode == 3, p.stderr
    msgs = [r["errors"][0]["message"] if r.get("errors") else "" for r in printed]
    assert "cannot be a WebDataset key" in msgs[0] and "cannot be a WebDataset key" in msgs[1]
    assert "no clip file" in msgs[2] and msgs[3] == ""
    assert [s["__key__"] for s in wds.WebDataset([str(out / "shard-000000.tar")], shardshuffle=False)] == [recs[3]["id"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "ds"]
