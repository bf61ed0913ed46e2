// SPDX-License-Identifier: Apache-2.0
// Gradual shot transitions (dissolves, fades, wipes): spans of frames that mix two shots.
//
// A hard cut is a frame index (the first frame of the new shot) and mixes nothing. A gradual
// transition is the span first..last (inclusive) of frames that belong to neither shot alone;
// its cut, for consumers that want one frame index per boundary, is the frame after its middle.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reel {

struct Transition {
  int64_t first = 0, last = 0;  // inclusive
  std::string kind;             // "fade" (through black), "gradual" (dissolve, wipe, ... not told apart)
  int64_t cut() const { return (first + last + 1) / 2; }
};

struct Boundaries {
  std::vector<int64_t> cuts;             // every boundary: hard cuts and each transition's cut(), increasing
  std::vector<Transition> transitions;   // the gradual ones
};

// From TransNetV2's probabilities. A run of frames with single > threshold marks a boundary
// (the package's own rule); its extent is the run widened over the neighbouring frames with
// many > threshold. An extent of at most `hard_frames` frames is a hard cut at its end + 1
// (TransNetV2 marks the last frame of the old shot), a longer one a gradual transition.
// Boundaries closer than min_scene_len frames to the previous one (or to frame 0) are dropped.
Boundaries transnet_boundaries(const std::vector<float>& single, const std::vector<float>& many, double threshold,
                               int min_scene_len, int hard_frames = 2);

// Marks transitions whose middle frame is dark (mean luma <= dark_luma) as "fade". mean_luma: one per frame.
void label_fades(std::vector<Transition>* transitions, const std::vector<float>& mean_luma, double dark_luma = 24.0);

}  // namespace reel
