#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Convert Cosmos tokenizer checkpoints to reel's HDF5 model format (weights/FORMAT.md).

Inputs: the official TorchScript archives (encoder.jit + decoder.jit, or autoencoder.jit) or
PyTorch state dicts (.pt/.pth, plain or under "state_dict"/"model"). Keys keep their official
names; the prefixes of the split archives (decoder.jit's inv_quant.quantizer.*) and constant
buffers (Haar wavelets, FSQ tables) are dropped; unused resampling convs some releases carry
are kept (reel ignores them). Every tensor the architecture needs is checked by name and shape
against the project's PyTorch definition before anything is written.

    convert.py encoder.jit decoder.jit --arch CV8x8x8 -o cv8x8x8.h5 [--dtype bfloat16] [--check]

--check runs the converted model (reel's PyTorch definition) and the original TorchScript on a
random clip and compares the reconstructions; --cases N also stores N such clips with the
TorchScript outputs as golden cases, so `reel tokenize verify OUT.h5` checks the C++ path.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cosmos_torch as ct  # noqa: E402

BUFFERS = ("wavelets", "_arange", "patch_size_buffer", "_levels", "_basis", "implicit_codebook")


def load_any(path):
    """(state_dict, torchscript module or None) of one input file."""
    try:
        m = torch.jit.load(path, map_location="cpu")
        return {k: v for k, v in m.state_dict().items()}, m
    except (RuntimeError, ValueError):
        obj = torch.load(path, map_location="cpu")
        for key in ("state_dict", "model", "ema"):
            if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
                obj = obj[key]
        if not isinstance(obj, dict):
            raise SystemExit("%s: neither a TorchScript archive nor a state dict" % path)
        return obj, None


def normalise(sd):
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v) or k.split(".")[-1] in BUFFERS:
            continue
        for pre in ("inv_quant.", "module.", "network."):
            if k.startswith(pre):
                k = k[len(pre):]
        out[k] = v
    return out


def convert(inputs, cfg, out, dtype="bfloat16", cases=0, check=False, seed=0):
    sd, mods = {}, []
    for p in inputs:
        s, m = load_any(p)
        sd.update(normalise(s))
        if m is not None:
            mods.append(m)
    model = ct.Tokenizer(cfg)
    expected = model.state_dict()
    errors = []
    for k, t in expected.items():
        if k not in sd:
            errors.append("missing tensor %s (expected shape %s)" % (k, list(t.shape)))
        elif tuple(sd[k].shape) != tuple(t.shape):
            errors.append("%s: shape %s, expected %s" % (k, list(sd[k].shape), list(t.shape)))
    if errors:
        raise SystemExit("cannot convert: " + "; ".join(errors[:10]))
    unused = sorted(set(sd) - set(expected))
    model.load_state_dict({k: sd[k].float() for k in expected})
    model.eval()
    tmp = out + ".tmp-%d" % os.getpid()
    ct.save_h5(model, tmp, dtype=dtype, extra_attrs={"source": json.dumps([os.path.basename(p) for p in inputs]),
                                                     "unused_tensors": json.dumps(unused)})
    # Unused tensors are kept (reel ignores them) so nothing of the release is lost.
    with h5py.File(tmp, "a") as f:
        for k in unused:
            f.create_dataset("weights/" + k, data=sd[k].float().numpy())
    report = {"output": out, "arch": ct.arch_name(cfg), "tensors": len(expected), "unused": len(unused)}
    if check or cases:
        torch.manual_seed(seed)
        shapes = [(1, 3, 1 + 2 * cfg.get("temporal_compression", 1), 64, 64)] if model.video else [(1, 3, 64, 64)]
        with torch.no_grad(), h5py.File(tmp, "a") as f:
            for i in range(max(cases, 1)):
                x = torch.rand(*shapes[0]) * 2 - 1
                ref = run_jit(mods, x, model.discrete) if mods else None
                if model.discrete:
                    codes, idx = model.encode(x)
                    rec = model.decode_indices(idx)
                else:
                    lat = model.encode(x)
                    rec = model.decode(lat)
                if ref is not None:
                    err = float((rec - ref).abs().max() / ref.pow(2).mean().sqrt())
                    report.setdefault("check_rel_error", []).append(err)
                    if check and err > 1e-3:
                        raise SystemExit("check failed: reconstruction differs from the TorchScript by %.3g" % err)
                if i < cases:
                    g = f.create_group("cases/%d" % i)
                    g["input"] = x.numpy()
                    if model.discrete:
                        g["codes"], g["indices"] = codes.numpy(), idx.numpy()
                    else:
                        g["latent"] = lat.numpy()
                    g["recon"] = (ref if ref is not None else rec).numpy()
    os.replace(tmp, out)
    return report


def run_jit(mods, x, discrete):
    """Reconstruction by the original TorchScript: autoencoder, or encoder then decoder."""
    if len(mods) == 1:
        y = mods[0](x)
        return y[0] if isinstance(y, (tuple, list)) else y
    enc, dec = mods[0], mods[1]
    z = enc(x)
    if isinstance(z, (tuple, list)):
        z = z[0]
    return dec(z)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="encoder.jit decoder.jit | autoencoder.jit | state dict .pt")
    ap.add_argument("--arch", required=True, help="CV8x8x8, DV8x16x16, CI8x8, ... (-360p for patch-2 variants)")
    ap.add_argument("--config", help="JSON config overriding --arch (reference constructor arguments)")
    ap.add_argument("--legacy-mode", action="store_true", help="pre-Sep-2024 decoder layout (tc=8 video models)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--check", action="store_true", help="compare with the TorchScript on a random clip")
    ap.add_argument("--cases", type=int, default=0, help="store N golden cases from the TorchScript outputs")
    a = ap.parse_args(argv)
    cfg = ct.config_for_arch(a.arch)
    if a.config:
        cfg.update(json.loads(a.config))
    if a.legacy_mode:
        cfg["legacy_mode"] = True
    print(json.dumps(convert(a.inputs, cfg, a.output, a.dtype, a.cases, a.check)))


if __name__ == "__main__":
    main()
