# SPDX-License-Identifier: Apache-2.0
"""PyTorch definition of the Cosmos-family tokenizers, reel's own.

Written from the architecture description (notes/cosmos_tokenizer.md in the project's
reference material), config-driven exactly like the C++ builder in lib/src/model/tokenizer.cpp,
and using the official state_dict key names, so:
  * weights load from released checkpoints after `convert.py`,
  * the converter can check a conversion by running this model,
  * training (weights/train) uses the same network that reel runs in C++,
  * the tokenizer benchmark compares reel against this model in PyTorch eager mode.
It is checked against the reference golden files by weights/tests/test_cosmos_torch.py.

Tensors are B x C x T x H x W (video) or B x C x H x W (image), values in [-1, 1].
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- config


def config_for_arch(arch, channels=128, num_res_blocks=2):
    """Config dict of a released architecture ("CV8x8x8", "DI16x16", "CV4x8x8-360p", ...)."""
    lowres = arch.endswith("-360p")
    base = arch[:-5] if lowres else arch
    name = base[:2]
    video = name in ("CV", "DV")
    nums = [int(v) for v in base[2:].split("x")]
    cfg = dict(name=name, in_channels=3, out_channels=3, channels=channels, channels_mult=[2, 4, 4],
               num_res_blocks=num_res_blocks, z_channels=256 if name == "DI" else 16, patch_size=4,
               patch_method="haar", spatial_compression=nums[-1])
    if video:
        cfg.update(temporal_compression=nums[0], legacy_mode=False, num_groups=1,
                   encoder="FACTORIZED", decoder="FACTORIZED")
    else:
        cfg.update(encoder="Default", decoder="Default")
    if name in ("DV", "DI"):
        cfg.update(embedding_dim=6, levels=[8, 8, 8, 5, 5, 5], quantizer="FSQ")
    else:
        cfg.update(latent_channels=16)
    if lowres:
        cfg["patch_size"] = 2
        if base == "DV4x8x8":
            cfg["z_channels"] = 256
    elif base == "CV4x8x8":
        cfg["channels_mult"] = [2, 4]
    return cfg


def _ilog2(v):
    return int(round(math.log2(v)))


def arch_name(cfg):
    s = cfg["name"]
    if cfg["name"] in ("CV", "DV"):
        s += "%dx" % cfg["temporal_compression"]
    return s + "%dx%d" % (cfg["spatial_compression"], cfg["spatial_compression"])


# ---------------------------------------------------------------- Haar patcher


def _signed_sums(parts, scale):
    """out[s] = scale * sum_d (-1)^popcount(s & d) parts[d]: the Haar butterflies of every
    subband at once (the transform is its own inverse up to the scale)."""
    n = len(parts)
    out = []
    for s in range(n):
        acc = 0
        for d in range(n):
            acc = acc + (-1.0 if bin(s & d).count("1") % 2 else 1.0) * parts[d]
        out.append(acc * scale)
    return out


def _haar_level3d(x):
    # x: B C T H W, even sizes (odd ones reflect-pad one sample like the reference)
    pads = [0, x.shape[-1] % 2, 0, x.shape[-2] % 2, 0, x.shape[-3] % 2]
    if any(pads):
        x = F.pad(x, pads, mode="reflect")
    v = [x[:, :, dt::2, dh::2, dw::2] for dt in (0, 1) for dh in (0, 1) for dw in (0, 1)]
    return torch.cat(_signed_sums(v, 0.125), dim=1)


def _ihaar_level3d(x):
    b, c8, t, h, w = x.shape
    coef = x.reshape(b, 8, c8 // 8, t, h, w)
    y = x.new_zeros(b, c8 // 8, 2 * t, 2 * h, 2 * w)
    for d, part in enumerate(_signed_sums([coef[:, s] for s in range(8)], 1.0)):
        y[:, :, d >> 2::2, (d >> 1) & 1::2, d & 1::2] = part
    return y


def _haar_level2d(x):
    pads = [0, x.shape[-1] % 2, 0, x.shape[-2] % 2]
    if any(pads):
        x = F.pad(x, pads, mode="reflect")
    v = [x[:, :, dh::2, dw::2] for dw in (0, 1) for dh in (0, 1)]  # index 2*dw + dh
    return torch.cat(_signed_sums(v, 0.25), dim=1)


def _ihaar_level2d(x):
    b, c4, h, w = x.shape
    coef = x.reshape(b, 4, c4 // 4, h, w)
    y = x.new_zeros(b, c4 // 4, 2 * h, 2 * w)
    for d, part in enumerate(_signed_sums([coef[:, s] for s in range(4)], 1.0)):
        y[:, :, d & 1::2, d >> 1::2] = part
    return y


def haar_patch3d(x, patch):
    x = torch.cat([x[:, :, :1]] * (patch - 1) + [x], dim=2)
    for _ in range(_ilog2(patch)):
        x = _haar_level3d(x)
    return x


def haar_unpatch3d(x, patch):
    for _ in range(_ilog2(patch)):
        x = _ihaar_level3d(x)
    return x[:, :, patch - 1:]


def haar_patch2d(x, patch):
    for _ in range(_ilog2(patch)):
        x = _haar_level2d(x)
    return x


def haar_unpatch2d(x, patch):
    for _ in range(_ilog2(patch)):
        x = _ihaar_level2d(x)
    return x


# ---------------------------------------------------------------- video layers


class CausalConv3d(nn.Module):
    """Conv3d with first-frame replicate padding in time and zero padding in space."""

    def __init__(self, cin, cout, kernel=(1, 3, 3), stride=1, time_stride=1, padding=None):
        super().__init__()
        kt, kh, kw = kernel
        self.time_pad = (kt - 1) + (1 - time_stride)
        self.pad = kh // 2 if padding is None else padding
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride=(time_stride, stride, stride))

    def forward(self, x):
        if self.time_pad > 0:
            x = torch.cat([x[:, :, :1]] * self.time_pad + [x], dim=2)
        if self.pad:
            x = F.pad(x, (self.pad,) * 4)
        return self.conv3d(x)


class FrameNorm(nn.Module):
    """GroupNorm(1) of every frame on its own (statistics over C x H x W), eps 1e-6."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(1, c, eps=1e-6)

    def forward(self, x):
        b, c, t, h, w = x.shape
        y = self.norm(x.transpose(1, 2).reshape(b * t, c, h, w))
        return y.reshape(b, t, c, h, w).transpose(1, 2)


def _factorized(cin, cout):
    return nn.Sequential(CausalConv3d(cin, cout, (1, 3, 3)), CausalConv3d(cout, cout, (3, 1, 1)))


class ResBlock3d(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = FrameNorm(cin)
        self.conv1 = _factorized(cin, cout)
        self.norm2 = FrameNorm(cout)
        self.conv2 = _factorized(cout, cout)
        self.nin_shortcut = CausalConv3d(cin, cout, (1, 1, 1)) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if self.nin_shortcut is not None else x) + h


class Attn3d(nn.Module):
    def __init__(self, c, temporal):
        super().__init__()
        self.temporal = temporal
        self.norm = FrameNorm(c)
        self.q, self.k, self.v, self.proj_out = (CausalConv3d(c, c, (1, 1, 1)) for _ in range(4))

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, t, hh, ww = q.shape
        if self.temporal:  # per pixel over T, causal
            q, k, v = (z.permute(0, 3, 4, 2, 1).reshape(b * hh * ww, t, c) for z in (q, k, v))
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask) if hasattr(F, "scaled_dot_product_attention") \
                else torch.softmax((q @ k.transpose(1, 2) / math.sqrt(c)).masked_fill(~mask, float("-inf")), -1) @ v
            o = o.reshape(b, hh, ww, t, c).permute(0, 4, 3, 1, 2)
        else:  # per frame over H*W
            q, k, v = (z.permute(0, 2, 3, 4, 1).reshape(b * t, hh * ww, c) for z in (q, k, v))
            o = F.scaled_dot_product_attention(q, k, v) if hasattr(F, "scaled_dot_product_attention") \
                else torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), -1) @ v
            o = o.reshape(b, t, hh, ww, c).permute(0, 4, 1, 2, 3)
        return x + self.proj_out(o)


class Downsample3d(nn.Module):
    def __init__(self, c, spatial, temporal):
        super().__init__()
        self.spatial, self.temporal = spatial, temporal
        if spatial:
            self.conv1 = CausalConv3d(c, c, (1, 3, 3), stride=2, padding=0)
        if temporal:
            self.conv2 = CausalConv3d(c, c, (3, 1, 1), time_stride=2)
        if spatial or temporal:
            self.conv3 = CausalConv3d(c, c, (1, 1, 1))

    def forward(self, x):
        if not (self.spatial or self.temporal):
            return x
        if self.spatial:
            p = F.pad(x, (0, 1, 0, 1))
            x = self.conv1(p) + F.avg_pool3d(p, (1, 2, 2), (1, 2, 2))
        if self.temporal:
            p = torch.cat([x[:, :, :1], x], dim=2)
            x = self.conv2(p) + F.avg_pool3d(p, (2, 1, 1), (2, 1, 1))
        return self.conv3(x)


class Upsample3d(nn.Module):
    def __init__(self, c, spatial, temporal):
        super().__init__()
        self.spatial, self.temporal = spatial, temporal
        if temporal:
            self.conv1 = CausalConv3d(c, c, (3, 1, 1))
        if spatial:
            self.conv2 = CausalConv3d(c, c, (1, 3, 3))
        if spatial or temporal:
            self.conv3 = CausalConv3d(c, c, (1, 1, 1))

    def forward(self, x):
        if not (self.spatial or self.temporal):
            return x
        if self.temporal:
            x = x.repeat_interleave(2, dim=2)[:, :, 1:]
            x = self.conv1(x) + x
        if self.spatial:
            x = x.repeat_interleave(2, dim=3).repeat_interleave(2, dim=4)
            x = self.conv2(x) + x
        return self.conv3(x)


# ---------------------------------------------------------------- image layers


def _gn(c):
    return nn.GroupNorm(32, c, eps=1e-6)


class ResBlock2d(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = _gn(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = _gn(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if self.nin_shortcut is not None else x) + h


class Attn2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = _gn(c)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        h = self.norm(x)
        b, c, hh, ww = x.shape
        q, k, v = (z.reshape(b, c, hh * ww).transpose(1, 2) for z in (self.q(h), self.k(h), self.v(h)))
        o = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), -1) @ v
        return x + self.proj_out(o.transpose(1, 2).reshape(b, c, hh, ww))


class Down2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Up2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3))


# ---------------------------------------------------------------- networks


class _Level(nn.Module):
    pass


class _Mid(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        video = cfg["name"] in ("CV", "DV")
        self.video, self.patch = video, cfg["patch_size"]
        ch, mult, nrb = cfg["channels"], cfg["channels_mult"], cfg["num_res_blocks"]
        pc = cfg["in_channels"] * self.patch ** (3 if video else 2)
        Block, n = (ResBlock3d if video else ResBlock2d), len(mult)
        nsd = _ilog2(cfg["spatial_compression"]) - _ilog2(self.patch)
        ntd = _ilog2(cfg["temporal_compression"]) - _ilog2(self.patch) if video else 0
        self.conv_in = _factorized(pc, ch) if video else nn.Conv2d(pc, ch, 3, padding=1)
        self.down = nn.ModuleList()
        block_in = ch
        for i in range(n):
            lvl = _Level()
            lvl.block = nn.ModuleList()
            block_in = ch * ([1] + mult)[i]
            for _ in range(nrb):
                lvl.block.append(Block(block_in, ch * mult[i]))
                block_in = ch * mult[i]
            if i < n - 1:
                if video:
                    lvl.downsample = Downsample3d(block_in, i < nsd, i < ntd)
                elif i < nsd:
                    lvl.downsample = Down2d(block_in)
            self.down.append(lvl)
        self.mid = _Mid()
        self.mid.block_1 = Block(block_in, block_in)
        self.mid.attn_1 = nn.Sequential(Attn3d(block_in, False), Attn3d(block_in, True)) if video else Attn2d(block_in)
        self.mid.block_2 = Block(block_in, block_in)
        self.norm_out = FrameNorm(block_in) if video else _gn(block_in)
        self.conv_out = _factorized(block_in, cfg["z_channels"]) if video else nn.Conv2d(block_in, cfg["z_channels"], 3, padding=1)

    def forward(self, x):
        h = haar_patch3d(x, self.patch) if self.video else haar_patch2d(x, self.patch)
        h = self.conv_in(h)
        for lvl in self.down:
            for b in lvl.block:
                h = b(h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        video = cfg["name"] in ("CV", "DV")
        self.video, self.patch = video, cfg["patch_size"]
        ch, mult, nrb = cfg["channels"], cfg["channels_mult"], cfg["num_res_blocks"]
        pc = cfg["out_channels"] * self.patch ** (3 if video else 2)
        Block, n = (ResBlock3d if video else ResBlock2d), len(mult)
        nsu = _ilog2(cfg["spatial_compression"]) - _ilog2(self.patch)
        ntu = _ilog2(cfg["temporal_compression"]) - _ilog2(self.patch) if video else 0
        legacy = cfg.get("legacy_mode", False)
        block_in = ch * mult[-1]
        z = cfg["z_channels"]
        self.conv_in = _factorized(z, block_in) if video else nn.Conv2d(z, block_in, 3, padding=1)
        self.mid = _Mid()
        self.mid.block_1 = Block(block_in, block_in)
        self.mid.attn_1 = nn.Sequential(Attn3d(block_in, False), Attn3d(block_in, True)) if video else Attn2d(block_in)
        self.mid.block_2 = Block(block_in, block_in)
        levels = [None] * n
        for i in reversed(range(n)):
            lvl = _Level()
            lvl.block = nn.ModuleList()
            for _ in range(nrb + 1):
                lvl.block.append(Block(block_in, ch * mult[i]))
                block_in = ch * mult[i]
            if i != 0:
                if video:
                    r = n - 1 - i
                    t_up = (r < ntu) if legacy else (0 < r < ntu + 1)
                    s_up = t_up or (r < nsu and nsu > ntu)
                    lvl.upsample = Upsample3d(block_in, s_up, t_up)
                elif i >= n - nsu:
                    lvl.upsample = Up2d(block_in)
            levels[i] = lvl
        self.up = nn.ModuleList(levels)
        self.norm_out = FrameNorm(block_in) if video else _gn(block_in)
        self.conv_out = _factorized(block_in, pc) if video else nn.Conv2d(block_in, pc, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for lvl in reversed(self.up):
            for b in lvl.block:
                h = b(h)
            if hasattr(lvl, "upsample"):
                h = lvl.upsample(h)
        h = self.conv_out(F.silu(self.norm_out(h)))
        return haar_unpatch3d(h, self.patch) if self.video else haar_unpatch2d(h, self.patch)


class FSQ(nn.Module):
    """Finite scalar quantisation (round half to even), token ids 0..prod(levels)-1."""

    def __init__(self, levels):
        super().__init__()
        self.levels = list(levels)

    def forward(self, z):  # z: B D ...
        lv = torch.tensor(self.levels, dtype=torch.float32, device=z.device).view(1, -1, *([1] * (z.dim() - 2)))
        half_l = (lv - 1) * (1 + 1e-3) / 2
        offset = torch.where(lv % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half_l)
        bounded = torch.tanh(z.float() + shift) * half_l - offset
        q = bounded + (torch.round(bounded) - bounded).detach()  # straight-through estimator
        half_w = torch.floor(lv / 2)
        codes = q / half_w
        basis = torch.cumprod(torch.tensor([1] + self.levels[:-1], device=z.device), 0).view(lv.shape)
        idx = ((torch.round(bounded) + half_w) * basis).sum(1).to(torch.int32)
        return codes, idx

    def dequantize(self, idx):
        lv = torch.tensor(self.levels, device=idx.device)
        basis = torch.cumprod(torch.tensor([1] + self.levels[:-1], device=idx.device), 0)
        digits = (idx.long().unsqueeze(1) // basis.view(1, -1, *([1] * (idx.dim() - 1)))) % lv.view(1, -1, *([1] * (idx.dim() - 1)))
        half_w = (lv // 2).view(1, -1, *([1] * (idx.dim() - 1)))
        return (digits - half_w).float() / half_w.float()


class Tokenizer(nn.Module):
    """encoder + quant_conv (+ FSQ) and post_quant_conv + decoder, under the official key names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        self.video = cfg["name"] in ("CV", "DV")
        self.discrete = cfg["name"] in ("DV", "DI")
        lat = cfg["embedding_dim"] if self.discrete else cfg["latent_channels"]
        z = cfg["z_channels"]
        conv1 = (lambda a, b: CausalConv3d(a, b, (1, 1, 1))) if self.video else (lambda a, b: nn.Conv2d(a, b, 1))
        self.encoder = Encoder(cfg)
        self.quant_conv = conv1(z, lat)
        self.post_quant_conv = conv1(lat, z)
        self.decoder = Decoder(cfg)
        self.quantizer = FSQ(cfg["levels"]) if self.discrete else None

    def encode(self, x):
        z = self.quant_conv(self.encoder(x))
        if self.discrete:
            return self.quantizer(z)  # (codes, indices)
        return z

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))

    def decode_indices(self, idx):
        return self.decode(self.quantizer.dequantize(idx))

    def forward(self, x):
        z = self.encode(x)
        return self.decode(z[0] if self.discrete else z)


def load_h5(path, map_location="cpu"):
    """Builds a Tokenizer from a reel HDF5 model file (float32, float16 or bfloat16 tensors)."""
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config"])
        model = Tokenizer(cfg)
        sd = {}
        for k, ds in f["weights"].items():
            a = ds[...]
            if ds.attrs.get("dtype", "") in ("bfloat16", "bf16"):
                a = (a.astype(np.uint32) << 16).view(np.float32)
            sd[k] = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    missing, _ = model.load_state_dict(sd, strict=False)
    if missing:
        raise ValueError("%s: missing tensors: %s" % (path, ", ".join(missing[:5])))
    return model.to(map_location)


def save_h5(model, path, dtype="float32", extra_attrs=None):
    """Writes a reel HDF5 model file (weights/FORMAT.md); dtype float32|float16|bfloat16."""
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        f.attrs["config"] = json.dumps(model.cfg)
        f.attrs["format"] = "reel-tokenizer"
        f.attrs["format_version"] = 1
        f.attrs["model"] = arch_name(model.cfg)
        for k, v in (extra_attrs or {}).items():
            f.attrs[k] = v
        for k, t in model.state_dict().items():
            a = t.detach().cpu().float().numpy()
            if dtype == "bfloat16":
                bits = a.view(np.uint32)
                rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
                ds = f.create_dataset("weights/" + k, data=rounded)
                ds.attrs["dtype"] = "bfloat16"
            else:
                f.create_dataset("weights/" + k, data=a.astype(np.float16 if dtype == "float16" else np.float32))
