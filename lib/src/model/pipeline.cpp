// SPDX-License-Identifier: Apache-2.0
#include "reel/model/pipeline.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "reel/core/status.h"
#include "reel/model/memory_plan.h"
#include "reel/model/tiling.h"

namespace reel {

int ClipLatents::latent_t() const { return std::accumulate(window_latent_frames.begin(), window_latent_frames.end(), 0); }

void rgb_to_act_frame(const uint8_t* rgb, int w, int h, Act& a, int t, int pad_top, int pad_left) {
  float* f = a.frame(t);
  const size_t plane = a.plane();
  for (int c = 0; c < 3; ++c) std::fill(f + c * plane, f + (c + 1) * plane, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        f[c * plane + static_cast<size_t>(y + pad_top) * a.W + x + pad_left] =
            static_cast<float>(rgb[(static_cast<size_t>(y) * w + x) * 3 + c] / 255.0 * 2.0 - 1.0);
}

void act_frame_to_rgb(const Act& a, int t, int pad_top, int pad_left, int w, int h, uint8_t* rgb) {
  const float* f = a.frame(t);
  const size_t plane = a.plane();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        float v = (f[c * plane + static_cast<size_t>(y + pad_top) * a.W + x + pad_left] + 1.0f) * 0.5f;
        v = std::clamp(v, 0.0f, 1.0f);
        rgb[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(v * 255.0f + 0.5f);
      }
}

ClipEncoder::ClipEncoder(const Tokenizer& tok, int width, int height, int window, int tile, int tile_overlap)
    : tok_(tok), tile_(tile), overlap_(tile_overlap) {
  const ModelConfig& c = tok.config();
  const int tc = c.video ? c.temporal_compression : 1;
  if (window < 0 || (window > 0 && c.video && (window - 1) % tc))
    throw Error(Code::InvalidArgument, "--window must be 0 or 1 + k*" + std::to_string(tc));
  out_.window = c.video ? window : 1;
  out_.width = width;
  out_.height = height;
  const int align = std::max(16, c.spatial_compression);
  out_.padded_h = (height + align - 1) / align * align;
  out_.padded_w = (width + align - 1) / align * align;
  out_.pad_top = (out_.padded_h - height) / 2;
  out_.pad_left = (out_.padded_w - width) / 2;
  out_.channels = c.latent_dim();
  out_.lat_h = out_.padded_h / c.spatial_compression;
  out_.lat_w = out_.padded_w / c.spatial_compression;
}

void ClipEncoder::push(const uint8_t* rgb) {
  pending_.emplace_back(rgb, rgb + static_cast<size_t>(out_.width) * out_.height * 3);
  ++out_.frames;
  if (out_.window > 0 && static_cast<int>(pending_.size()) == out_.window) flush();
}

void ClipEncoder::flush() {
  if (pending_.empty()) return;
  const ModelConfig& c = tok_.config();
  const int tc = c.video ? c.temporal_compression : 1;
  const int L = static_cast<int>(pending_.size());
  const int pad = c.video ? (tc - (L - 1) % tc) % tc : 0;
  const int front = pad / 2, back = pad - front;
  Act x(L + pad, 3, out_.padded_h, out_.padded_w);
  for (int t = 0; t < L + pad; ++t) {
    int src = std::clamp(t - front, 0, L - 1);
    rgb_to_act_frame(pending_[src].data(), out_.width, out_.height, x, t, out_.pad_top, out_.pad_left);
  }
  std::vector<int32_t> idx;
  const int tile = tile_ < 0 ? plan_tile(tok_, true, x.T, x.H, x.W, overlap_) : tile_;
  Act z = (tile > 0 && !c.discrete) ? encode_tiled(tok_, x, tile, overlap_) : tok_.encode(x, c.discrete ? &idx : nullptr);
  // Kept per window; finish() lays them out as (C, t_total, h, w) once.
  windows_.push_back(std::move(z));
  out_.indices.insert(out_.indices.end(), idx.begin(), idx.end());
  out_.window_frames.push_back(L);
  out_.window_pad_front.push_back(front);
  out_.window_pad_back.push_back(back);
  out_.window_latent_frames.push_back(windows_.back().T);
  pending_.clear();
}

ClipLatents ClipEncoder::finish() {
  flush();
  const int T = out_.latent_t();
  const size_t plane = static_cast<size_t>(out_.lat_h) * out_.lat_w;
  out_.latent.assign(static_cast<size_t>(out_.channels) * T * plane, 0.0f);
  int t0 = 0;
  for (const Act& z : windows_) {
    for (int ch = 0; ch < out_.channels; ++ch)
      for (int t = 0; t < z.T; ++t)
        std::copy_n(z.frame(t) + ch * plane, plane, out_.latent.data() + (static_cast<size_t>(ch) * T + t0 + t) * plane);
    t0 += z.T;
  }
  windows_.clear();
  return std::move(out_);
}

void decode_clip(const Tokenizer& tok, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink,
                 int tile, int tile_overlap) {
  const ModelConfig& c = tok.config();
  const int T = lat.latent_t();
  const size_t plane = static_cast<size_t>(lat.lat_h) * lat.lat_w;
  if (lat.indices.empty() && lat.channels != c.latent_dim()) throw Error(Code::InvalidData, "latent channels do not match the model");
  std::vector<uint8_t> rgb(static_cast<size_t>(lat.width) * lat.height * 3);
  int t0 = 0;
  for (size_t w = 0; w < lat.window_latent_frames.size(); ++w) {
    const int tl = lat.window_latent_frames[w];
    Act out;
    if (c.discrete && !lat.indices.empty()) {
      std::vector<int32_t> idx(lat.indices.begin() + t0 * plane, lat.indices.begin() + (t0 + tl) * plane);
      out = tok.decode_indices(idx, tl, lat.lat_h, lat.lat_w);
    } else {
      Act z(tl, lat.channels, lat.lat_h, lat.lat_w);
      for (int ch = 0; ch < lat.channels; ++ch)
        for (int t = 0; t < tl; ++t)
          std::copy_n(lat.latent.data() + (static_cast<size_t>(ch) * T + t0 + t) * plane, plane, z.frame(t) + ch * plane);
      const int t = tile < 0 ? plan_tile(tok, false, tok.output_frames(tl), lat.padded_h, lat.padded_w, tile_overlap) : tile;
      out = decode_tiled(tok, z, t, tile_overlap);
    }
    const int front = lat.window_pad_front[w];
    for (int t = 0; t < lat.window_frames[w]; ++t) {
      act_frame_to_rgb(out, front + t, lat.pad_top, lat.pad_left, lat.width, lat.height, rgb.data());
      sink(rgb.data());
    }
    t0 += tl;
  }
}

}  // namespace reel
