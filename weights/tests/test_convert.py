# SPDX-License-Identifier: Apache-2.0
"""Converter round trip: a TorchScript pair shaped like the official encoder.jit/decoder.jit
(traced from the project's definition with random weights) -> reel HDF5 -> reel's C++
(`reel tokenize verify` on cases recorded from the TorchScript) and the Python loader."""
import json
import os
import subprocess
import sys

import h5py
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import convert  # noqa: E402
import cosmos_torch as ct  # noqa: E402

REEL = os.environ.get("REEL_BIN", os.path.join(HERE, "..", "..", "build", "tools", "reel"))


class EncoderJit(torch.nn.Module):  # like the release: Sequential(encoder, quant_conv[, quantizer])
    def __init__(self, m):
        super().__init__()
        self.encoder, self.quant_conv = m.encoder, m.quant_conv

    def forward(self, x):
        return self.quant_conv(self.encoder(x))


class DecoderJit(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.post_quant_conv, self.decoder = m.post_quant_conv, m.decoder

    def forward(self, z):
        return self.decoder(self.post_quant_conv(z))


@pytest.mark.parametrize("arch", ["CV8x8x8", "CV4x8x8"])
def test_torchscript_to_reel(tmp_path, arch):
    torch.manual_seed(1)
    cfg = ct.config_for_arch(arch, channels=8, num_res_blocks=1)
    m = ct.Tokenizer(cfg).eval()
    # bf16-exact weights, as in the releases, so the bfloat16 file is lossless.
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    x = torch.rand(1, 3, 1 + 2 * cfg["temporal_compression"], 32, 32) * 2 - 1
    enc = torch.jit.trace(EncoderJit(m), x)
    dec = torch.jit.trace(DecoderJit(m), enc(x))
    enc.save(str(tmp_path / "encoder.jit"))
    dec.save(str(tmp_path / "decoder.jit"))
    out = str(tmp_path / "model.h5")
    rep = convert.convert([str(tmp_path / "encoder.jit"), str(tmp_path / "decoder.jit")], cfg, out,
                          dtype="bfloat16", cases=2, check=True)
    assert rep["tensors"] == len(m.state_dict())
    assert max(rep["check_rel_error"]) < 1e-5
    with h5py.File(out, "r") as f:
        assert f["weights/encoder.conv_in.0.conv3d.weight"].attrs["dtype"] == "bfloat16"
    back = ct.load_h5(out)
    for k, v in m.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    # The C++ half is part of the test: a missing binary is a failure, not a skip.
    assert os.path.exists(REEL), f"reel binary not found at {REEL}: build it (bash .ci/build.sh) or set REEL_BIN"
    r = subprocess.run([REEL, "--log-level", "error", "tokenize", "verify", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(recs) == 2 and all(rec["pass"] for rec in recs)


def test_missing_tensor_is_reported(tmp_path):
    cfg = ct.config_for_arch("CV8x8x8", channels=8, num_res_blocks=1)
    sd = ct.Tokenizer(cfg).state_dict()
    del sd["decoder.conv_out.1.conv3d.weight"]
    torch.save(sd, str(tmp_path / "sd.pt"))
    with pytest.raises(SystemExit, match="missing tensor decoder.conv_out.1.conv3d.weight"):
        convert.convert([str(tmp_path / "sd.pt")], cfg, str(tmp_path / "o.h5"))
    assert not os.path.exists(tmp_path / "o.h5")
