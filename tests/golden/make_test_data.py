#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Copy the reference golden files (../shared/golden/cosmos) into tests/golden/data.

The weights of the golden files are exactly representable in bfloat16 (as in the released
checkpoints), so they are stored as bfloat16 (uint16 with attribute dtype="bfloat16"),
which halves the size and exercises the bf16 loading path; everything else (inputs, taps,
latents, reconstructions) is copied bit for bit. Run once after the reference data changes:
    /usr/bin/python3 tests/golden/make_test_data.py ../shared/golden/cosmos tests/golden/data
"""
import os
import sys

import h5py
import numpy as np


def to_bf16_bits(a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    bits = a.view(np.uint32)
    if np.any(bits & 0xFFFF):
        raise SystemExit("tensor is not bf16-exact; keep it as float32")
    return (bits >> 16).astype(np.uint16)


def main(src_dir, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith(".h5"):
            continue
        with h5py.File(os.path.join(src_dir, name), "r") as src, \
                h5py.File(os.path.join(dst_dir, name), "w") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v
            for k, ds in src["weights"].items():
                out = dst.create_dataset("weights/" + k, data=to_bf16_bits(ds[...]),
                                         compression="gzip", compression_opts=9, shuffle=True)
                out.attrs["dtype"] = "bfloat16"

            def copy(path, obj):
                if isinstance(obj, h5py.Dataset):
                    dst.create_dataset(path, data=obj[...], compression="gzip", compression_opts=9,
                                       shuffle=True)
            src["cases"].visititems(lambda p, o: copy("cases/" + p, o))
        print(name, os.path.getsize(os.path.join(dst_dir, name)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
