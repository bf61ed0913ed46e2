# SPDX-License-Identifier: Apache-2.0
"""The project's PyTorch definition against the reference golden files (tests/golden/data)."""
import glob
import os
import sys

import h5py
import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import cosmos_torch as ct  # noqa: E402

GOLDEN = sorted(glob.glob(os.path.join(HERE, "..", "..", "tests", "golden", "data", "*.h5")))


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.sqrt((b ** 2).mean()), 1e-12)


@pytest.mark.parametrize("path", GOLDEN, ids=[os.path.basename(p) for p in GOLDEN])
def test_matches_reference(path):
    torch.set_num_threads(2)
    model = ct.load_h5(path).eval()
    with h5py.File(path, "r") as f, torch.no_grad():
        for k in f["cases"]:
            c = f["cases"][k]
            x = torch.from_numpy(c["input"][...])
            if model.discrete:
                codes, idx = model.encode(x)
                assert rel(codes, c["codes"][...]) < 1e-4
                assert (idx.numpy() == c["indices"][...]).mean() == 1.0
                rec = model.decode_indices(torch.from_numpy(c["indices"][...]))
            else:
                z = model.encode(x)
                assert rel(z, c["latent"][...]) < 1e-4
                rec = model.decode(torch.from_numpy(c["latent"][...]))
            assert rel(rec, c["recon"][...]) < 1e-4


def test_parameter_counts_match_released():
    want = {"CV8x8x8": 105653696, "CV4x8x8": 73192128, "DV8x16x16": 110898294, "DI16x16": 83723958}
    for arch, n in want.items():
        m = ct.Tokenizer(ct.config_for_arch(arch))
        assert sum(p.numel() for p in m.parameters()) == n, arch
