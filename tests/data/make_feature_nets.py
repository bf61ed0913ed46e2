#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Makes the two tiny ONNX feature networks the tests feed to `reel eval --features`, and
the features PyTorch computes for a known input (the C++ tests compare against them).

    /usr/bin/python3 tests/data/make_feature_nets.py   # rewrites tests/data/feature_net_*
"""
import json
import pathlib

import torch

HERE = pathlib.Path(__file__).resolve().parent


def frame(t, h, w):
    """The deterministic RGB frame the C++ test builds too: (7x + 13y + 50c + 11t) mod 256."""
    y = torch.arange(h).view(h, 1, 1)
    x = torch.arange(w).view(1, w, 1)
    c = torch.arange(3).view(1, 1, 3)
    return ((7 * x + 13 * y + 50 * c + 11 * t) % 256).to(torch.uint8)


def to_input(frames, lo, hi):
    """[T] of HxWx3 uint8 -> 1x3xTxHxW float in [lo, hi] (the layout reel feeds)."""
    v = torch.stack(frames).permute(3, 0, 1, 2).float()
    return (lo + v * (hi - lo) / 255.0).unsqueeze(0)


def main():
    torch.manual_seed(7)
    image = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    video = torch.nn.Sequential(
        torch.nn.Conv3d(3, 8, 3, stride=(1, 2, 2), padding=1), torch.nn.ReLU(),
        # A fixed-size pool: OpenCV 4.6 cannot import a 3-D GlobalAveragePool.
        torch.nn.AvgPool3d((4, 12, 16)), torch.nn.Flatten()).eval()
    expected = {}
    with torch.no_grad():
        xi = to_input([frame(0, 32, 48)], 0.0, 1.0)[:, :, 0]
        torch.onnx.export(image, xi, HERE / "feature_net_image.onnx", opset_version=11,
                          input_names=["frames"], output_names=["features"])
        expected["image"] = {"shape": [1, 3, 32, 48], "range": [0.0, 1.0], "features": image(xi)[0].tolist()}
        xv = to_input([frame(t, 24, 32) for t in range(4)], -1.0, 1.0)
        torch.onnx.export(video, xv, HERE / "feature_net_video.onnx", opset_version=11,
                          input_names=["frames"], output_names=["features"])
        expected["video"] = {"shape": [1, 3, 4, 24, 32], "range": [-1.0, 1.0], "features": video(xv)[0].tolist()}
    (HERE / "feature_nets.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
