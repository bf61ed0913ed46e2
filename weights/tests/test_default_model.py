# SPDX-License-Identifier: Apache-2.0
"""The shipped default model: the PyTorch definition and reel's C++ agree on its weights."""
import json
import os
import shutil
import subprocess
import sys

import h5py
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import cosmos_torch as ct  # noqa: E402

MODEL = os.path.join(HERE, "..", "reel-cv4x8x8-w32.h5")
REEL = os.environ.get("REEL_BIN", os.path.join(HERE, "..", "..", "build", "tools", "reel"))


def test_pytorch_and_cpp_agree_on_shipped_weights(tmp_path):
    torch.manual_seed(3)
    model = ct.load_h5(MODEL).eval()
    assert ct.arch_name(model.cfg) == "CV4x8x8"
    path = str(tmp_path / "model_with_cases.h5")
    shutil.copy(MODEL, path)
    os.chmod(path, 0o644)
    with h5py.File(path, "a") as f, torch.no_grad():
        for i, shape in enumerate([(1, 3, 17, 64, 96), (1, 3, 9, 48, 48)]):
            x = torch.rand(*shape) * 2 - 1
            z = model.encode(x)
            g = f.create_group("cases/%d" % i)
            g["input"], g["latent"], g["recon"] = x.numpy(), z.numpy(), model.decode(z).numpy()
    r = subprocess.run([REEL, "--log-level", "error", "tokenize", "verify", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(recs) == 2
    for rec in recs:
        assert rec["pass"], rec
        assert rec["latent"] < 1e-4 and rec["recon"] < 1e-4
