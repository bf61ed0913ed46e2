// SPDX-License-Identifier: Apache-2.0
#include "reel/model/tiling.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "reel/core/status.h"

namespace reel {
namespace {

// Tile origins along one axis of length n (tile size s, overlap o): evenly covering [0, n).
std::vector<int> origins(int n, int s, int o, int align) {
  if (s >= n) return {0};
  std::vector<int> out;
  const int step = std::max(align, s - o);
  for (int p = 0;; p += step) {
    if (p + s >= n) {
      out.push_back((n - s) / align * align);
      break;
    }
    out.push_back(p);
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Act crop(const Act& x, int y0, int x0, int h, int w) {
  Act out(x.T, x.C, h, w);
  for (int t = 0; t < x.T; ++t)
    for (int c = 0; c < x.C; ++c)
      for (int y = 0; y < h; ++y)
        std::copy_n(x.frame(t) + (static_cast<size_t>(c) * x.H + y0 + y) * x.W + x0, w,
                    out.frame(t) + (static_cast<size_t>(c) * h + y) * w);
  return out;
}

}  // namespace

Act blend_tiles(const Act& x, int tile_in, int overlap_in, int align_in, double out_per_in,
                const std::function<Act(const Act&)>& fn) {
  const auto ys = origins(x.H, tile_in, overlap_in, align_in), xs = origins(x.W, tile_in, overlap_in, align_in);
  Act out;
  std::vector<float> wsum;
  for (size_t iy = 0; iy < ys.size(); ++iy)
    for (size_t ix = 0; ix < xs.size(); ++ix) {
      const int th = std::min(tile_in, x.H), tw = std::min(tile_in, x.W);
      Act r = fn(crop(x, ys[iy], xs[ix], th, tw));
      if (out.v.empty()) {
        out = Act(r.T, r.C, static_cast<int>(x.H * out_per_in), static_cast<int>(x.W * out_per_in));
        std::fill(out.v.begin(), out.v.end(), 0.0f);
        wsum.assign(static_cast<size_t>(out.H) * out.W, 0.0f);
      }
      const int oy = static_cast<int>(ys[iy] * out_per_in), ox = static_cast<int>(xs[ix] * out_per_in);
      const int ov_y = iy + 1 < ys.size() ? static_cast<int>((ys[iy] + th - ys[iy + 1]) * out_per_in) : 0;
      const int ov_x = ix + 1 < xs.size() ? static_cast<int>((xs[ix] + tw - xs[ix + 1]) * out_per_in) : 0;
      const int pv_y = iy > 0 ? static_cast<int>((ys[iy - 1] + th - ys[iy]) * out_per_in) : 0;
      const int pv_x = ix > 0 ? static_cast<int>((xs[ix - 1] + tw - xs[ix]) * out_per_in) : 0;
      for (int y = 0; y < r.H; ++y)
        for (int xx = 0; xx < r.W; ++xx) {
          float wy = 1.0f, wx = 1.0f;
          if (pv_y > 0 && y < pv_y) wy = std::min(wy, (y + 0.5f) / pv_y);
          if (ov_y > 0 && y >= r.H - ov_y) wy = std::min(wy, (r.H - y - 0.5f) / ov_y);
          if (pv_x > 0 && xx < pv_x) wx = std::min(wx, (xx + 0.5f) / pv_x);
          if (ov_x > 0 && xx >= r.W - ov_x) wx = std::min(wx, (r.W - xx - 0.5f) / ov_x);
          const float w = wy * wx;
          wsum[static_cast<size_t>(oy + y) * out.W + ox + xx] += w;
          for (int t = 0; t < r.T; ++t)
            for (int c = 0; c < r.C; ++c)
              out.frame(t)[(static_cast<size_t>(c) * out.H + oy + y) * out.W + ox + xx] +=
                  w * r.frame(t)[(static_cast<size_t>(c) * r.H + y) * r.W + xx];
        }
    }
  for (int t = 0; t < out.T; ++t)
    for (int c = 0; c < out.C; ++c)
      for (size_t p = 0; p < wsum.size(); ++p) out.frame(t)[c * wsum.size() + p] /= std::max(wsum[p], 1e-12f);
  return out;
}

Act encode_tiled(const Tokenizer& tok, const Act& x, int tile, int overlap) {
  const ModelConfig& c = tok.config();
  if (tile <= 0 || (tile >= x.H && tile >= x.W)) return tok.encode(x);
  if (c.discrete) throw Error(Code::InvalidArgument, "--tile is for continuous models (token ids cannot be blended)");
  const int sc = c.spatial_compression;
  const int align = std::max(16, sc);
  tile = std::max(align, tile / align * align);
  overlap = std::clamp(overlap / sc * sc, 0, tile / 2);
  return blend_tiles(x, tile, overlap, align, 1.0 / sc, [&](const Act& t) { return tok.encode(t); });
}

Act decode_tiled(const Tokenizer& tok, const Act& z, int tile, int overlap) {
  const ModelConfig& c = tok.config();
  const int sc = c.spatial_compression;
  if (tile <= 0 || (tile >= z.H * sc && tile >= z.W * sc)) return tok.decode(z);
  const int align = std::max(16, sc) / sc;  // latent units
  const int tl = std::max(align, tile / sc / align * align);
  const int ol = std::clamp(overlap / sc, 0, tl / 2);
  return blend_tiles(z, tl, ol, align, sc, [&](const Act& t) { return tok.decode(t); });
}

}  // namespace reel
