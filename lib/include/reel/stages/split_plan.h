// SPDX-License-Identifier: Apache-2.0
// Which frame spans of a video become clips.
//
// scenes mode: one span per shot (between cuts), trimmed by `crop` seconds at both ends,
// dropped when shorter than min_len, and cut into pieces of at most max_len (a last piece
// shorter than min_len is dropped). stride mode: windows of clip_len seconds every stride
// seconds; the last window may be shorter than clip_len and is kept when it is at least
// min_len long, so no stretch of video longer than min_len is lost at the end.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "reel/media/scene_detect.h"

namespace reel {

struct SpanPlan {
  std::string mode = "scenes";  // scenes | stride
  double clip_len = 0, stride = 0, min_len = 0, max_len = 0, crop = 0;
};

// Time of frame i in seconds from the first frame (i == frames: the end of the video).
double frame_time(const SceneResult& s, int64_t i);
// First frame whose time is >= t (frames if none).
int64_t frame_at(const SceneResult& s, double t);

std::vector<std::pair<int64_t, int64_t>> plan_spans(const SceneResult& s, const std::vector<int64_t>& cuts,
                                                    const SpanPlan& plan);

}  // namespace reel
