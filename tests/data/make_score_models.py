#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Makes the small ONNX networks and model cards `reel filter --model-card` is tested with, and
the scores PyTorch computes for a known clip, preprocessing included (the C++ test builds the
same clip and compares reel's scores with these):

    /usr/bin/python3 tests/data/make_score_models.py   # rewrites tests/data/score_*

- score_regressor: one network, NCHW RGB, short side to 48 then a centre crop of 64x48,
  CLIP's mean/std, mean over frames;
- score_tower + score_head: a two-part model in the LAION aesthetic layout (an image tower,
  its features L2-normalised, a linear head), NHWC BGR, stretched to 40x40, minimum over frames.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
W, H, FRAMES = 640, 360, 3
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def frame(t):
    """The RGB frame the C++ test writes too: (7x + 13y + 50c + 11t) mod 256, H x W x 3."""
    y = torch.arange(H).view(H, 1, 1)
    x = torch.arange(W).view(1, W, 1)
    c = torch.arange(3).view(1, 1, 3)
    return ((7 * x + 13 * y + 50 * c + 11 * t) % 256).to(torch.float32)


def preprocess(img, size, resize, mean, std, channels, layout):
    """What reel does: float bilinear resize (half-pixel centres, no antialias), crop, scale."""
    w, h = size
    x = img.permute(2, 0, 1).unsqueeze(0)  # 1x3xHxW, RGB
    if resize == "exact":
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    else:
        k = max(w / W, h / H)
        rw, rh = max(w, round(W * k)), max(h, round(H * k))
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", align_corners=False)
        x0, y0 = (rw - w) // 2, (rh - h) // 2
        x = x[:, :, y0:y0 + h, x0:x0 + w]
    x = x / 255.0
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    if channels == "BGR":
        x = x.flip(1)
    return x.permute(0, 2, 3, 1).contiguous() if layout == "NHWC" else x.contiguous()


class ToNchw(torch.nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def main():
    torch.manual_seed(11)
    regressor = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 2)).eval()
    tower = torch.nn.Sequential(
        ToNchw(), torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 16)).eval()
    head = torch.nn.Sequential(torch.nn.Linear(16, 4), torch.nn.Linear(4, 1)).eval()  # no activations, like LAION's
    frames = [frame(t) for t in range(FRAMES)]
    expected = {"width": W, "height": H, "frames": FRAMES}
    with torch.no_grad():
        cards = {
            "score_regressor": {"name": "regressor", "model": "score_regressor.onnx",
                                "input": {"size": [64, 48], "resize": "short_side", "crop": "center",
                                          "interpolation": "bilinear", "channels": "RGB", "layout": "NCHW",
                                          "scale": 255, "mean": CLIP_MEAN, "std": CLIP_STD},
                                "output": {"index": 1}, "reduce": "mean", "fps": 1, "max_frames": 16,
                                "threshold": {"min": -100.0}},
            "score_twopart": {"name": "twopart", "model": "score_tower.onnx", "head": "score_head.onnx",
                              "normalize_features": True,
                              "input": {"size": [40, 40], "resize": "exact", "interpolation": "bilinear",
                                        "channels": "BGR", "layout": "NHWC", "scale": 255,
                                        "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
                              "output": {"index": 0}, "reduce": "min", "fps": 1, "max_frames": 16},
        }
        ci = cards["score_regressor"]["input"]
        x = preprocess(frames[0], ci["size"], ci["resize"], ci["mean"], ci["std"], ci["channels"], ci["layout"])
        torch.onnx.export(regressor, x, HERE / "score_regressor.onnx", opset_version=11)
        per = [regressor(preprocess(f, ci["size"], ci["resize"], ci["mean"], ci["std"], ci["channels"], ci["layout"]))[0, 1].item()
               for f in frames]
        expected["regressor"] = {"per_frame": per, "score": sum(per) / len(per)}
        ci = cards["score_twopart"]["input"]
        x = preprocess(frames[0], ci["size"], ci["resize"], ci["mean"], ci["std"], ci["channels"], ci["layout"])
        torch.onnx.export(tower, x, HERE / "score_tower.onnx", opset_version=11)
        torch.onnx.export(head, torch.zeros(1, 16), HERE / "score_head.onnx", opset_version=11)
        per = []
        for f in frames:
            feat = tower(preprocess(f, ci["size"], ci["resize"], ci["mean"], ci["std"], ci["channels"], ci["layout"]))
            per.append(head(feat / feat.norm(dim=-1, keepdim=True))[0, 0].item())
        expected["twopart"] = {"per_frame": per, "score": min(per)}
    for name, card in cards.items():
        (HERE / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    (HERE / "score_models_expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
