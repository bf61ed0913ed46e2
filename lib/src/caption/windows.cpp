// SPDX-License-Identifier: Apache-2.0
#include "reel/caption/windows.h"

#include <algorithm>
#include <cmath>

namespace reel {

std::vector<CaptionWindow> caption_windows(int64_t frames, double native_fps, const WindowOptions& o) {
  std::vector<CaptionWindow> out;
  if (frames < o.min_frames || o.window < 1) return out;
  if (!(native_fps > 0)) native_fps = 25;
  for (int64_t s = 0; s < frames; s += o.window) {
    const int64_t e = std::min<int64_t>(frames, s + o.window);
    if (!out.empty() && e - s < o.min_remainder) {
      out.back().end_frame = e;  // a short remainder joins the last window
      break;
    }
    out.push_back({s, e, {}});
  }
  for (CaptionWindow& w : out) {
    const int64_t len = w.end_frame - w.start_frame;
    int64_t n = 2 * std::llround(len / native_fps * o.fps / 2);  // an even count
    n = std::clamp<int64_t>(n, o.min_frames, o.max_frames);
    n = std::min(n, len);
    for (int64_t i = 0; i < n; ++i) {
      const double pos = n == 1 ? 0.0 : static_cast<double>(i) * (len - 1) / (n - 1);
      const int64_t f = w.start_frame + std::llround(pos);
      if (w.frames.empty() || f != w.frames.back()) w.frames.push_back(f);
    }
  }
  return out;
}

}  // namespace reel
