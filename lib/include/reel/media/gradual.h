// SPDX-License-Identifier: Apache-2.0
// Gradual shot transitions (dissolves, fades, wipes, slides) from cheap per-frame features.
//
// A gradual transition from shot A to shot B over frames s..e leaves three traces: the frames
// before s and after e are different pictures (their normalised luma layout and their colour
// histogram both differ), the picture is steady on either side of the change (within a shot,
// frames k apart differ far less than across it), and the frames in between move from A to B.
// A pan or zoom changes the layout but keeps the colours and changes as fast outside any
// window as inside it; an exposure ramp changes the histogram but not the normalised layout;
// a flash is over within a few frames and leaves the same picture behind. Each test alone
// fails on some of them; together they separate them.
//
// find_gradual tests windows [t-k, t+k] at several scales k against those three traces and
// places each transition's first and last frame where the frames stop resembling A and start
// resembling B. find_fades finds fades through black from the mean luma alone (the
// structure detector's cheap path).
#pragma once
#include <cstdint>
#include <vector>

#include "reel/media/transitions.h"

namespace reel {

// Per-frame features: the structure detector's normalised luma grid, a 4x4x4 RGB histogram of a
// small view of the frame, and the mean luma.
struct ShotFeatures {
  int grid = 0;             // values per frame in z
  std::vector<float> z;     // frames x grid
  std::vector<float> hist;  // frames x 64, each row sums to 1 (empty: no colour)
  std::vector<float> luma;  // 0..255
  int64_t frames() const { return static_cast<int64_t>(luma.size()); }
  // rgb may be null (no colour); pixels: its pixel count.
  void push(const std::vector<float>& grid_z, const uint8_t* rgb, int pixels, float mean_luma);
};

struct GradualOptions {
  double structure = 45.0;  // least layout change across a window (the structure score's scale)
  double colour = 0.30;     // least colour-histogram change across a window (total variation, 0..1)
  double steadiness = 2.0;  // the change across must be this many times the change beside the window
};

// Gradual transitions; windows holding one of `hard_cuts` are not tested.
std::vector<Transition> find_gradual(const ShotFeatures& f, const std::vector<int64_t>& hard_cuts,
                                     const GradualOptions& o = {});

// Fades through black: a run of dark frames (mean luma <= dark) with the picture dimming into it
// and brightening out of it, between two lit frames.
std::vector<Transition> find_fades(const std::vector<float>& luma, double dark = 20.0);

// Hard cuts and transitions into one list: cuts inside (or next to) a transition are dropped,
// then boundaries closer than min_scene_len to the previous one.
Boundaries merge_boundaries(const std::vector<int64_t>& hard_cuts, std::vector<Transition> transitions, int min_scene_len,
                            int64_t frames);

}  // namespace reel
