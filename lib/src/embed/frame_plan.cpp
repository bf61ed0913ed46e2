// SPDX-License-Identifier: Apache-2.0
#include "reel/embed/frame_plan.h"

#include <algorithm>
#include <cmath>

namespace reel {

namespace {
// n of the given indices, evenly spread (numpy.linspace(0, m - 1, n) rounded).
std::vector<int64_t> spread(const std::vector<int64_t>& from, int n) {
  const int64_t m = static_cast<int64_t>(from.size());
  if (m <= n) return from;
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    const double pos = n == 1 ? 0.0 : static_cast<double>(i) * (m - 1) / (n - 1);
    out.push_back(from[static_cast<size_t>(std::llround(pos))]);
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int64_t> at_rate(int64_t frames, double fps, double rate) {
  std::vector<int64_t> out;
  for (int64_t k = 0;; ++k) {
    const int64_t i = std::llround(k * fps / rate);
    if (i >= frames) break;
    if (out.empty() || i != out.back()) out.push_back(i);
  }
  return out;
}
}  // namespace

std::vector<int64_t> plan_frames(const ModelCard& card, int64_t frames, double fps) {
  if (frames <= 0) return {};
  if (!(fps > 0)) fps = 25;
  if (card.sampling == "fps") {
    const int64_t step = std::max<int64_t>(1, std::llround(fps / card.fps));
    std::vector<int64_t> out;
    for (int64_t i = 0; i < frames && static_cast<int>(out.size()) < card.max_frames; i += step) out.push_back(i);
    return out;
  }
  std::vector<int64_t> all(static_cast<size_t>(frames));
  for (int64_t i = 0; i < frames; ++i) all[static_cast<size_t>(i)] = i;
  if (card.sampling == "uniform") return spread(all, card.frames);
  double rate = card.fps;
  std::vector<int64_t> picked = at_rate(frames, fps, rate);
  while (static_cast<int>(picked.size()) < card.frames && rate * 2 <= card.max_fps) {
    rate *= 2;
    picked = at_rate(frames, fps, rate);
  }
  return spread(picked, card.frames);
}

}  // namespace reel
