// SPDX-License-Identifier: Apache-2.0
// Caption windows as NeMo Curator and Cosmos-Curate cut them (utils/windowing_utils.py), so
// captions are comparable with theirs:
//   - windows of `window` native frames (256); a remainder of at least `min_remainder` (128)
//     frames becomes a window of its own, a smaller one joins the last window; a clip with
//     fewer than `min_frames` (4) frames gets no window;
//   - frames sent per window: its duration x `fps` (2), rounded to an even number, clamped to
//     min_frames...max_frames (4...768) and never more than the window has, picked evenly.
#pragma once
#include <cstdint>
#include <vector>

namespace reel {

struct WindowOptions {
  int window = 256;
  int min_remainder = 128;
  double fps = 2;
  int min_frames = 4, max_frames = 768;
};

struct CaptionWindow {
  int64_t start_frame = 0, end_frame = 0;  // [start, end) in the clip's frames
  std::vector<int64_t> frames;             // sorted indices to send
};

std::vector<CaptionWindow> caption_windows(int64_t frames, double native_fps, const WindowOptions& o = {});

}  // namespace reel
