# SPDX-License-Identifier: Apache-2.0
"""`reel report` exit codes and input handling (no browser needed)."""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build" / "tools" / "reel"))


def run(*args, stdin=None):
    return subprocess.run([REEL, "--log-level", "error", "report", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_missing_run_file_is_a_usage_error_and_writes_nothing(tmp_path):
    out = tmp_path / "r.html"
    r = run(str(tmp_path / "nope.jsonl"), "-o", str(out))
    assert r.returncode == 2
    assert "nope.jsonl" in r.stderr
    assert not out.exists()


def test_bad_lines_are_skipped_counted_and_exit_3(tmp_path):
    runs = tmp_path / "runs.jsonl"
    runs.write_text('{"id": "a", "eval": {"psnr_y": 30}}\nnot json\n[1, 2]\n{"id": "b", "eval": {"psnr_y": 20}}\n')
    out = tmp_path / "r.html"
    r = run(str(runs), "-o", str(out), "--no-thumbnails")
    assert r.returncode == 3
    assert json.loads(r.stdout)["skipped_lines"] == 2
    page = out.read_text()
    assert "2 clips, worst PSNR-Y first" in page
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, no temp file left


def test_records_with_the_same_id_merge_across_runs(tmp_path):
    split = tmp_path / "split.jsonl"
    split.write_text(json.dumps({"id": "x", "source": "v.mp4", "span": {"seconds": [1.0, 3.5]}}) + "\n")
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"id": "x", "eval": {"psnr_y": 31.5}}) + "\n" +
                  json.dumps({"aggregate": {"psnr_y": {"mean": 31.5}}, "clips": 1, "failed": 0}) + "\n")
    out = tmp_path / "r.html"
    r = run(str(split), str(ev), "-o", str(out), "--no-thumbnails")
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    data = json.loads(page.split('<script type="application/json" id="clip-data">')[1].split("</script>")[0])
    assert len(data["rows"]) == 1  # one clip, not two
    cols = data["cols"]
    row = data["rows"][0]
    assert row[cols.index("duration_s")] == 2.5
    assert row[cols.index("psnr_y")] == 31.5
    assert "Aggregate of" in page
