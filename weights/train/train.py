#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Train a small Cosmos-architecture tokenizer on real video (reel's default model).

Uses the project's PyTorch definition (weights/cosmos_torch.py), so the result runs in reel's
C++ tokenizer unchanged. Data: random spatio-temporal crops (T frames, S x S pixels, random
horizontal flips) from videos decoded once into memory at a reduced size; a fixed set of crops
from held-out videos for validation PSNR. Loss: L1 + w * (1 - SSIM) per frame. AdamW with
warm-up and cosine decay, a fixed seed, JSON-lines logs, checkpoints every --ckpt-every steps
(resumable with --resume), and export to reel's HDF5 format (float16) at the end.

    train.py --train A.mp4 B.webm ... --val C.mp4 --out run/ --minutes 100
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cosmos_torch as ct  # noqa: E402


def decode_video(path, short_side, max_frames):
    """uint8 T x H x W x 3, short side scaled to `short_side` (cv2 if present, else ffmpeg)."""
    try:
        import cv2
        cap = cv2.VideoCapture(path)
        frames = []
        while len(frames) < max_frames:
            ok, f = cap.read()
            if not ok:
                break
            h, w = f.shape[:2]
            s = short_side / min(h, w)
            f = cv2.resize(f, (int(round(w * s / 2)) * 2, int(round(h * s / 2)) * 2), interpolation=cv2.INTER_AREA)
            frames.append(f[:, :, ::-1])
        if frames:
            return np.stack(frames)
    except ImportError:
        pass
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", path], capture_output=True, text=True, check=True).stdout.split(",")
    w, h = int(probe[0]), int(probe[1])
    s = short_side / min(w, h)
    W, H = int(round(w * s / 2)) * 2, int(round(h * s / 2)) * 2
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-frames:v", str(max_frames), "-vf",
                          "scale=%d:%d:flags=area" % (W, H), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def crops(videos, n, T, S, rng, flip=True):
    out = np.empty((n, 3, T, S, S), np.float32)
    for i in range(n):
        v = videos[rng.randrange(len(videos))]
        t0 = rng.randrange(v.shape[0] - T + 1)
        y0 = rng.randrange(v.shape[1] - S + 1)
        x0 = rng.randrange(v.shape[2] - S + 1)
        c = v[t0:t0 + T, y0:y0 + S, x0:x0 + S]
        if flip and rng.random() < 0.5:
            c = c[:, :, ::-1]
        out[i] = c.transpose(3, 0, 1, 2) / 127.5 - 1.0
    return torch.from_numpy(out)


def gaussian_window(size=11, sigma=1.5, device="cpu"):
    g = torch.exp(-((torch.arange(size, device=device) - size // 2) ** 2) / (2 * sigma ** 2))
    g = (g / g.sum()).float()
    return (g[:, None] * g[None, :]).expand(3, 1, size, size).contiguous()


def ssim(a, b, win):
    # a, b: N x 3 x H x W in [0, 1]
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = F.conv2d(a, win, groups=3), F.conv2d(b, win, groups=3)
    saa = F.conv2d(a * a, win, groups=3) - mu_a ** 2
    sbb = F.conv2d(b * b, win, groups=3) - mu_b ** 2
    sab = F.conv2d(a * b, win, groups=3) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))
    return m.mean()


def frames_of(x):  # B C T H W -> (B T) C H W in [0, 1]
    return ((x.transpose(1, 2).reshape(-1, x.shape[1], x.shape[3], x.shape[4]) + 1) / 2).clamp(0, 1)


def zero_init_residuals(model):
    """Last conv of every residual branch and of the decoder start at zero: the network starts
    near the identity of its skip paths and trains faster from scratch."""
    for name, mod in model.named_modules():
        if name.endswith("conv2.1.conv3d") or name.endswith("proj_out.conv3d") or name == "decoder.conv_out.1.conv3d":
            torch.nn.init.zeros_(mod.weight)
            torch.nn.init.zeros_(mod.bias)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="CV4x8x8")
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--res-blocks", type=int, default=2)
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--short-side", type=int, default=192)
    ap.add_argument("--max-frames", type=int, default=1500, help="per video, to bound memory")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ssim-weight", type=float, default=0.2)
    ap.add_argument("--steps", type=int, default=1000000)
    ap.add_argument("--minutes", type=float, default=100.0, help="wall-clock budget")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--decay-steps", type=int, default=20000, help="cosine decay length")
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--ckpt-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    log = open(os.path.join(a.out, "log.jsonl"), "a")

    def emit(**kw):
        kw["time"] = round(time.time() - t_start, 1)
        line = json.dumps(kw)
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    t_start = time.time()
    train_v = [decode_video(p, a.short_side, a.max_frames) for p in a.train]
    val_v = [decode_video(p, a.short_side, a.max_frames) for p in a.val]
    train_v = [v for v in train_v if v.shape[0] >= a.frames and min(v.shape[1:3]) >= a.crop]
    emit(event="data", train_videos=len(train_v), train_frames=int(sum(v.shape[0] for v in train_v)),
         val_videos=len(val_v), device=dev)
    val_x = crops(val_v, 16, a.frames, a.crop, random.Random(1234), flip=False)

    cfg = ct.config_for_arch(a.arch, a.channels, a.res_blocks)
    model = ct.Tokenizer(cfg)
    zero_init_residuals(model)
    model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.99), weight_decay=1e-4)
    step = 0
    ckpt = os.path.join(a.out, "checkpoint.pt")
    if a.resume and os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        random.setstate(st["py_rng"])
        emit(event="resume", step=step)
    rng = random
    win = gaussian_window(device=dev)
    use_amp = dev == "cuda"

    def lr_at(s):
        if s < a.warmup:
            return a.lr * (s + 1) / a.warmup
        p = min(1.0, (s - a.warmup) / max(1, a.decay_steps - a.warmup))
        return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    def validate():
        model.eval()
        with torch.no_grad():
            se, n = 0.0, 0
            for i in range(0, val_x.shape[0], 4):
                x = val_x[i:i + 4].to(dev)
                y = model(x).clamp(-1, 1)
                # PSNR in 8-bit units, as reel eval computes it.
                qx = torch.round((x + 1) * 127.5)
                qy = torch.round((y + 1) * 127.5)
                se += float(((qx - qy) ** 2).sum())
                n += qx.numel()
        model.train()
        mse = se / n
        return 10 * math.log10(255 ** 2 / max(mse, 1e-10))

    def save_ckpt():
        tmp = ckpt + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "py_rng": random.getstate(),
                    "cfg": cfg}, tmp)
        os.replace(tmp, ckpt)

    model.train()
    deadline = t_start + a.minutes * 60
    loss_avg = None
    while step < a.steps and time.time() < deadline:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x = crops(train_v, a.batch, a.frames, a.crop, rng).to(dev, non_blocking=True)
        if use_amp:
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                y = model(x)
        else:
            y = model(x)
        y = y.float()
        l1 = (y - x).abs().mean()
        loss = l1 + a.ssim_weight * (1 - ssim(frames_of(y), frames_of(x), win))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        loss_avg = float(loss) if loss_avg is None else 0.98 * loss_avg + 0.02 * float(loss)
        if step % 50 == 0:
            emit(event="train", step=step, loss=round(loss_avg, 5), lr=lr_at(step))
        if step % a.val_every == 0:
            emit(event="val", step=step, psnr=round(validate(), 3))
        if step % a.ckpt_every == 0:
            save_ckpt()
    save_ckpt()
    psnr = validate()
    emit(event="final", step=step, psnr=round(psnr, 3), minutes=round((time.time() - t_start) / 60, 2))
    model.cpu().eval()
    out = os.path.join(a.out, "model.h5")
    ct.save_h5(model, out, dtype="float16", extra_attrs={
        "training": json.dumps({"steps": step, "train": [os.path.basename(p) for p in a.train],
                                "val": [os.path.basename(p) for p in a.val], "device": dev,
                                "crop": [a.frames, a.crop, a.crop], "short_side": a.short_side,
                                "val_psnr_crops": round(psnr, 3), "seed": a.seed})})
    emit(event="export", path=out)


if __name__ == "__main__":
    main()
