// SPDX-License-Identifier: Apache-2.0
#include "reel/model/pipeline.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/model/memory_plan.h"
#include "reel/model/tiling.h"
#include "reel/model/window_batcher.h"

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

PassOptions resolve_passes(const Tokenizer& tok, bool encode, int frames, int h, int w, const PassOptions& asked) {
  PassOptions p = asked;
  if (p.tile < 0) p.tile = plan_tile(tok, encode, frames, h, w, p.overlap);
  if (p.tile > 0) {
    if (asked.batch > 1)
      REEL_INFO("tokenize", "--batch %d: windows are tiled (%d px), so they go through one at a time", asked.batch, p.tile);
    p.batch = 1;
  } else if (p.batch < 0) {
    const Backend& be = tok.backend();
    std::string why;
    p.batch = plan_batch(tok.config(), encode, frames, h, w, be.dtype() == DType::F32 ? 4 : 2, be.memory_available(), kMaxBatch, &why);
    if (be.memory_available() != SIZE_MAX)
      REEL_VERBOSE("tokenize", "--batch auto, %s on %s: %s", encode ? "encode" : "decode", be.describe().c_str(), why.c_str());
  }
  p.batch = std::max(p.batch, 1);
  return p;
}

TokenizerUse::TokenizerUse(WindowBatcher& b) : tok(&b.tokenizer()), batcher(&b) {}

int padded_extent(const ModelConfig& c, int pixels) {
  const int align = std::max(16, c.spatial_compression);
  return (pixels + align - 1) / align * align;
}

Act frames_of(const Act& a, int t0, int n) {
  Act s(n, a.C, a.H, a.W, Act::Uninit{});
  std::copy_n(a.frame(t0), static_cast<size_t>(n) * a.frame_size(), s.v.begin());
  return s;
}

Act join_frames(const std::vector<const Act*>& parts) {
  const Act& f = *parts[0];
  Act x(static_cast<int>(parts.size()) * f.T, f.C, f.H, f.W, Act::Uninit{});
  for (size_t i = 0; i < parts.size(); ++i) std::copy(parts[i]->v.begin(), parts[i]->v.end(), x.frame(static_cast<int>(i) * f.T));
  return x;
}

Act decode_pass(const Tokenizer& tok, const Act& z, int n, const PassOptions& plan) {
  return plan.tile > 0 ? decode_tiled(tok, z, plan.tile, plan.overlap) : tok.decode_batch(z, n);
}

Act encode_windows(const Tokenizer& tok, const std::vector<const WindowInput*>& windows, const PassOptions& plan,
                   std::vector<int32_t>* ids) {
  PendingPass p = launch_windows(tok, windows, plan);
  if (ids) *ids = std::move(p.ids);
  return p.z->wait();
}

PendingPass launch_windows(const Tokenizer& tok, const std::vector<const WindowInput*>& windows, const PassOptions& plan) {
  const int n = static_cast<int>(windows.size());
  const bool discrete = tok.config().discrete, tiled = plan.tile > 0 && !discrete;
  const Backend& be = tok.backend();
  PendingPass out;
  bool host = true;
  for (const WindowInput* w : windows) host = host && w->frames.empty();
  Tensor x;
  if (host) {
    Act joined;
    if (n > 1) {
      std::vector<const Act*> parts;
      for (const WindowInput* w : windows) parts.push_back(&w->x);
      joined = join_frames(parts);
    }
    const Act& hx = n == 1 ? windows[0]->x : joined;
    if (tiled) {
      out.z = std::make_unique<ReadyDownload>(encode_tiled(tok, hx, plan.tile, plan.overlap));
      return out;
    }
    x = be.upload(hx);
  } else {
    std::vector<Tensor> parts;
    for (const WindowInput* w : windows) {
      if (w->frames.empty()) parts.push_back(be.upload(w->x));
      else parts.insert(parts.end(), w->frames.begin(), w->frames.end());
    }
    x = be.concat_frames(parts);
    parts.clear();  // the frames go as soon as the joined input holds them
    if (tiled) {
      out.z = std::make_unique<ReadyDownload>(encode_tiled(tok, be.download(x), plan.tile, plan.overlap));
      return out;
    }
  }
  out.z = tok.encode_batch_async(x, n, discrete ? &out.ids : nullptr);
  return out;
}

ClipEncoder::ClipEncoder(TokenizerUse use, int width, int height, int window, const PassOptions& passes)
    : tok_(*use.tok), batcher_(use.batcher), passes_(passes) {
  const ModelConfig& c = tok_.config();
  const int tc = c.video ? c.temporal_compression : 1;
  if (window < 0 || (window > 0 && c.video && (window - 1) % tc))
    throw Error(Code::InvalidArgument, "--window must be 0 or 1 + k*" + std::to_string(tc));
  out_.window = c.video ? window : 1;
  out_.width = width;
  out_.height = height;
  out_.padded_h = padded_extent(c, height);
  out_.padded_w = padded_extent(c, width);
  out_.pad_top = (out_.padded_h - height) / 2;
  out_.pad_left = (out_.padded_w - width) / 2;
  out_.channels = c.latent_dim();
  out_.lat_h = out_.padded_h / c.spatial_compression;
  out_.lat_w = out_.padded_w / c.spatial_compression;
}

void ClipEncoder::push(const uint8_t* rgb) {
  pending_.emplace_back(rgb, rgb + static_cast<size_t>(out_.width) * out_.height * 3);
  if (!pending_frames_.empty()) frames_on_backend();  // the window is on the backend already
  ++out_.frames;
  if (out_.window > 0 && static_cast<int>(pending_.size() + pending_frames_.size()) == out_.window) stage_window();
}

void ClipEncoder::push_planes(const Yuv420& picture) {
  if (picture.width != out_.width || picture.height != out_.height)
    throw Error(Code::InvalidData, "a frame of " + std::to_string(picture.width) + "x" + std::to_string(picture.height) + " in a clip of " +
                                       std::to_string(out_.width) + "x" + std::to_string(out_.height) + " (the size changed midway)");
  frames_on_backend();
  pending_frames_.push_back(tok_.backend().yuv420_frame(picture, out_.padded_h, out_.padded_w, out_.pad_top, out_.pad_left));
  ++out_.frames;
  if (out_.window > 0 && static_cast<int>(pending_frames_.size()) == out_.window) stage_window();
}

// The RGB frames held come after those already on the backend (only one of the two lists is
// ever non-empty before a call).
void ClipEncoder::frames_on_backend() {
  const Backend& be = tok_.backend();
  for (const auto& rgb : pending_) {
    Act a(1, 3, out_.padded_h, out_.padded_w, Act::Uninit{});
    rgb_to_act_frame(rgb.data(), out_.width, out_.height, a, 0, out_.pad_top, out_.pad_left);
    pending_frames_.push_back(be.upload(a));
  }
  pending_.clear();
}

// The window being filled becomes a padded window waiting for its pass; a pass runs when the
// batch is full or a window of another length comes (the clip's short last one).
void ClipEncoder::stage_window() {
  const int L = static_cast<int>(pending_.size() + pending_frames_.size());
  if (L == 0) return;
  const ModelConfig& c = tok_.config();
  const int tc = c.video ? c.temporal_compression : 1;
  const int pad = c.video ? (tc - (L - 1) % tc) % tc : 0;
  const int front = pad / 2, back = pad - front;
  if (!staged_.empty() && staged_.front().T() != L + pad) encode_staged();
  WindowInput in;
  if (!pending_frames_.empty()) {
    for (int t = 0; t < L + pad; ++t) in.frames.push_back(pending_frames_[std::clamp(t - front, 0, L - 1)]);
    pending_frames_.clear();
  } else {
    in.x = Act(L + pad, 3, out_.padded_h, out_.padded_w);
    for (int t = 0; t < L + pad; ++t)
      rgb_to_act_frame(pending_[std::clamp(t - front, 0, L - 1)].data(), out_.width, out_.height, in.x, t, out_.pad_top,
                       out_.pad_left);
    pending_.clear();
  }
  out_.window_frames.push_back(L);
  out_.window_pad_front.push_back(front);
  out_.window_pad_back.push_back(back);
  out_.window_latent_frames.push_back(tok_.latent_frames(L + pad));
  if (batcher_) {
    handed_.push_back(batcher_->encode(std::move(in)));
    return;
  }
  // Passes are planned once per window length (the last window may be shorter).
  if (resolved_t_ != L + pad) {
    resolved_ = resolve_passes(tok_, true, L + pad, out_.padded_h, out_.padded_w, passes_);
    resolved_t_ = L + pad;
  }
  staged_.push_back(std::move(in));
  if (static_cast<int>(staged_.size()) >= resolved_.batch) encode_staged();
}

void ClipEncoder::encode_staged() {
  for (; !handed_.empty(); handed_.pop_front()) {
    EncodedWindow e = handed_.front().get();  // rethrows the pass's error
    out_.indices.insert(out_.indices.end(), e.ids.begin(), e.ids.end());
    windows_.push_back(std::move(e.z));
  }
  if (staged_.empty()) return;
  const int n = static_cast<int>(staged_.size());
  std::vector<const WindowInput*> inputs;
  for (const WindowInput& w : staged_) inputs.push_back(&w);
  std::vector<int32_t> idx;
  Act z = encode_windows(tok_, inputs, resolved_, tok_.config().discrete ? &idx : nullptr);
  const int tl = z.T / n;
  for (int i = 0; i < n; ++i) windows_.push_back(n == 1 ? std::move(z) : frames_of(z, i * tl, tl));
  // Token ids are (t, h, w) with the batch's windows one after another: already in clip order.
  out_.indices.insert(out_.indices.end(), idx.begin(), idx.end());
  staged_.clear();
}

ClipLatents ClipEncoder::finish() {
  stage_window();
  encode_staged();
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

namespace {

// Latent frames [t0, t0 + n) of a clip, out of its (C, t, h, w) layout.
Act latent_frames(const ClipLatents& lat, int t0, int n) {
  const int T = lat.latent_t();
  const size_t plane = static_cast<size_t>(lat.lat_h) * lat.lat_w;
  Act z(n, lat.channels, lat.lat_h, lat.lat_w, Act::Uninit{});
  for (int ch = 0; ch < lat.channels; ++ch)
    for (int t = 0; t < n; ++t)
      std::copy_n(lat.latent.data() + (static_cast<size_t>(ch) * T + t0 + t) * plane, plane, z.frame(t) + ch * plane);
  return z;
}

std::vector<int32_t> token_frames(const ClipLatents& lat, int t0, int n) {
  const size_t plane = static_cast<size_t>(lat.lat_h) * lat.lat_w;
  return std::vector<int32_t>(lat.indices.begin() + static_cast<std::ptrdiff_t>(t0 * plane),
                              lat.indices.begin() + static_cast<std::ptrdiff_t>((t0 + n) * plane));
}

// Whether decode reads token ids; a continuous latent must have the model's channels.
bool check_latents(const ModelConfig& c, const ClipLatents& lat) {
  if (lat.indices.empty() && lat.channels != c.latent_dim()) throw Error(Code::InvalidData, "latent channels do not match the model");
  return c.discrete && !lat.indices.empty();
}

void decode_direct(const Tokenizer& tok, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink,
                   const PassOptions& passes) {
  const bool ids = check_latents(tok.config(), lat);
  std::vector<uint8_t> rgb(static_cast<size_t>(lat.width) * lat.height * 3);
  const size_t nw = lat.window_latent_frames.size();
  PassOptions pass;
  int planned_for = -1;
  int t0 = 0;
  for (size_t w = 0; w < nw;) {
    const int tl = lat.window_latent_frames[w];
    if (planned_for != tl) {
      pass = resolve_passes(tok, false, tok.output_frames(tl), lat.padded_h, lat.padded_w, passes);
      planned_for = tl;
    }
    // The run of windows of this length that goes through in one pass.
    int n = 1;
    if (pass.tile <= 0)
      while (n < pass.batch && w + n < nw && lat.window_latent_frames[w + n] == tl) ++n;
    const Act out = ids ? tok.decode_indices_batch(token_frames(lat, t0, n * tl), n, n * tl, lat.lat_h, lat.lat_w)
                        : decode_pass(tok, latent_frames(lat, t0, n * tl), n, pass);
    const int to = out.T / n;
    for (int i = 0; i < n; ++i, ++w) {
      const int front = lat.window_pad_front[w];
      for (int t = 0; t < lat.window_frames[w]; ++t) {
        act_frame_to_rgb(out, i * to + front + t, lat.pad_top, lat.pad_left, lat.width, lat.height, rgb.data());
        sink(rgb.data());
      }
    }
    t0 += n * tl;
  }
}

// At most this many windows of one clip are with the batcher at once: decoded windows are
// large (17 frames of 720p are 188 MB of floats), and other clips' windows fill the passes.
constexpr size_t kClipWindowsInFlight = 4;

void decode_batched(WindowBatcher& batcher, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink) {
  const bool ids = check_latents(batcher.tokenizer().config(), lat);
  std::vector<uint8_t> rgb(static_cast<size_t>(lat.width) * lat.height * 3);
  const size_t nw = lat.window_latent_frames.size();
  std::deque<std::future<Act>> flight;
  size_t next = 0, done = 0;
  int t0 = 0;
  while (done < nw) {
    while (next < nw && flight.size() < kClipWindowsInFlight) {
      const int tl = lat.window_latent_frames[next];
      if (ids) flight.push_back(batcher.decode_ids(token_frames(lat, t0, tl), tl, lat.lat_h, lat.lat_w));
      else flight.push_back(batcher.decode(latent_frames(lat, t0, tl)));
      t0 += tl;
      ++next;
    }
    const Act out = flight.front().get();
    flight.pop_front();
    for (int t = 0; t < lat.window_frames[done]; ++t) {
      act_frame_to_rgb(out, lat.window_pad_front[done] + t, lat.pad_top, lat.pad_left, lat.width, lat.height, rgb.data());
      sink(rgb.data());
    }
    ++done;
  }
}

}  // namespace

void decode_clip(TokenizerUse use, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink,
                 const PassOptions& passes) {
  if (use.batcher) decode_batched(*use.batcher, lat, sink);
  else decode_direct(*use.tok, lat, sink, passes);
}

}  // namespace reel
