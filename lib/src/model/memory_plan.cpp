// SPDX-License-Identifier: Apache-2.0
#include "reel/model/memory_plan.h"

#include <algorithm>
#include <cstdint>

#include "reel/core/log.h"
#include "reel/core/status.h"

namespace reel {
namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }
std::string mib(size_t b) { return std::to_string(b >> 20) + " MiB"; }

}  // namespace

MemoryPlan plan_window(const ModelConfig& c, bool encode, int frames, int h, int w, size_t element_bytes, size_t available) {
  const int n = static_cast<int>(c.channels_mult.size());
  const int nsd = c.num_spatial_downs(), ntd = c.video ? c.num_temporal_downs() : 0;
  const int p = c.patch_size;
  // Frames after the Haar patcher (frame 0 repeated p - 1 times, then T halves per level).
  const int t0 = c.video ? 1 + (std::max(frames, 1) - 1) / p : frames;
  size_t level_max = 0, mid = 0;
  for (int i = 0; i < n; ++i) {
    const int s = p << std::min(i, nsd), tt = std::max(1, ceil_div(t0, 1 << std::min(i, ntd)));
    // The encoder enters level i with level i-1's width (its downsampler's output); the decoder
    // enters it with level i+1's (its upsampler's output).
    const int other = encode ? (i > 0 ? c.channels_mult[i - 1] : 1) : c.channels_mult[std::min(i + 1, n - 1)];
    const int ch = c.channels * std::max(c.channels_mult[i], other);
    const size_t elems = static_cast<size_t>(ch) * tt * ceil_div(h, s) * ceil_div(w, s);
    level_max = std::max(level_max, elems);
    if (i == n - 1) mid = elems;
  }
  // The clip itself and the patcher's output sit beside the first level's tensors.
  const size_t io = static_cast<size_t>(frames) * c.in_channels * h * w * 2;
  MemoryPlan plan;
  plan.activations = (std::max(5 * level_max, 7 * mid) + io) * element_bytes;
  plan.workspace = std::min<size_t>(size_t(1) << 30, available / 4);
  return plan;
}

int plan_tile(const ModelConfig& c, bool encode, int frames, int h, int w, int overlap, size_t element_bytes,
              size_t available, std::string* why) {
  if (available == SIZE_MAX) return 0;
  const size_t usable = available - available / 10;
  const MemoryPlan whole = plan_window(c, encode, frames, h, w, element_bytes, available);
  if (whole.total() <= usable) {
    if (why) *why = "whole frames need " + mib(whole.total()) + " of " + mib(available) + " free";
    return 0;
  }
  if (c.discrete)
    throw Error(Code::InvalidArgument, "a " + std::to_string(w) + "x" + std::to_string(h) + " window needs " + mib(whole.total()) +
                                           " of device memory, " + mib(available) +
                                           " are free, and a discrete model cannot be tiled: use a shorter --window");
  for (int tile = (std::max(h, w) - 1) / 64 * 64; tile >= 128; tile -= 64) {
    const int side = std::min(tile + overlap, std::max(h, w));
    const MemoryPlan t = plan_window(c, encode, frames, std::min(side, h), std::min(side, w), element_bytes, available);
    if (t.total() <= usable) {
      if (why)
        *why = "whole frames need " + mib(whole.total()) + " of " + mib(available) + " free; tiles of " + std::to_string(tile) +
               " px need " + mib(t.total());
      return tile;
    }
  }
  const MemoryPlan smallest = plan_window(c, encode, frames, std::min(128 + overlap, h), std::min(128 + overlap, w), element_bytes, available);
  throw Error(Code::OutOfMemory, "a window of " + std::to_string(frames) + " frames needs " + mib(smallest.total()) +
                                     " of device memory even in 128 px tiles, and " + mib(available) +
                                     " are free: use a shorter --window or another device");
}

int plan_batch(const ModelConfig& c, bool encode, int frames, int h, int w, size_t element_bytes, size_t available,
               int max_batch, std::string* why) {
  if (available == SIZE_MAX) return 1;
  const size_t usable = available - available / 10;
  const MemoryPlan one = plan_window(c, encode, frames, h, w, element_bytes, available);
  // n windows hold n times one window's tensors, plus, while an op along T runs window by
  // window, the joined result beside its parts: a sixth more of the batch's largest.
  auto need = [&](int n) { return n == 1 ? one.total() : n * one.activations / 5 * 6 + one.workspace; };
  int n = 1;
  while (n < max_batch && need(n + 1) <= usable) ++n;
  if (why) *why = std::to_string(n) + (n == 1 ? " window needs " : " windows need ") + mib(need(n)) + " of " + mib(available) + " free";
  return n;
}

int plan_tile(const Tokenizer& tok, bool encode, int frames, int h, int w, int overlap) {
  const Backend& be = tok.backend();
  const size_t avail = be.memory_available();
  std::string why;
  const int tile = plan_tile(tok.config(), encode, frames, h, w, overlap, be.dtype() == DType::F32 ? 4 : 2, avail, &why);
  if (avail != SIZE_MAX)
    REEL_VERBOSE("tokenize", "--tile auto, %s on %s: %s -> %s", encode ? "encode" : "decode", be.describe().c_str(), why.c_str(),
                 tile ? ("tiles of " + std::to_string(tile) + " px").c_str() : "whole frames");
  return tile;
}

}  // namespace reel
