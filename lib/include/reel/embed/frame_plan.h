// SPDX-License-Identifier: Apache-2.0
// Which frames of a clip a model card samples (learned.h: "sampling"), as frame indices.
#pragma once
#include <cstdint>
#include <vector>

#include "reel/filter/learned.h"

namespace reel {

// Sorted, distinct indices in [0, frames) for a clip of `frames` frames at `fps`:
//   fps:     every round(fps / card.fps)-th frame from 0, at most card.max_frames;
//   uniform: card.frames indices evenly spread, first and last frame included;
//   nemo:    frames at card.fps (index round(k * fps / rate)); while that gives fewer than
//            card.frames, the rate doubles, up to card.max_fps; then card.frames of those
//            evenly spread (all of them when there are fewer).
// A clip shorter than what is asked gives what it has (never an index past its end).
std::vector<int64_t> plan_frames(const ModelCard& card, int64_t frames, double fps);

}  // namespace reel
