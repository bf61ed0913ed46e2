// SPDX-License-Identifier: Apache-2.0
// Which frame spans of a video become clips.
//
// scenes mode: one span per shot (between cuts), trimmed by `crop` seconds at both ends,
// dropped when shorter than min_len, and cut into pieces of at most max_len (a last piece
// shorter than min_len is dropped). A shot ends where a gradual transition begins and the next
// begins after it, so no clip holds frames of two shots (keep_transitions: shots meet at the
// transition's cut instead). stride mode: windows of clip_len seconds every stride
// seconds; the last window may be shorter than clip_len and is kept when it is at least
// min_len long, so no stretch of video longer than min_len is lost at the end.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "reel/media/scene_detect.h"

namespace reel {

struct SpanPlan {
  std::string mode = "scenes";  // scenes | stride
  double clip_len = 0, stride = 0, min_len = 0, max_len = 0, crop = 0;
  int64_t max_clips = 0;  // at most this many clips per video, the first ones (0: all)
  bool keep_transitions = false;
};

// Time of frame i in seconds from the first frame (i == frames: the end of the video).
double frame_time(const SceneResult& s, int64_t i);
// First frame whose time is >= t (frames if none).
int64_t frame_at(const SceneResult& s, double t);

// The spans, at most max_clips of them. On a partial scan (s.partial) a span that reaches
// the last frame scanned is not trusted and left out.
std::vector<std::pair<int64_t, int64_t>> plan_spans(const SceneResult& s, const std::vector<int64_t>& cuts,
                                                    const SpanPlan& plan, const std::vector<Transition>& transitions = {});

// For max_clips: when a scan of the timeline has seen enough frames for the first max_clips
// spans (stride windows, or shots between the cuts already known); nullptr: the whole video.
std::function<bool(int64_t, double)> enough_for(const SpanPlan& plan, const std::vector<int64_t>& cuts);

}  // namespace reel
