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
#include <functional>
#include <vector>

#include "reel/media/transitions.h"

namespace reel {

// Per-frame features: the structure detector's normalised luma grid, a 4x4x4 RGB histogram of a
// small view of the frame, the view itself when it is kViewWidth x kViewHeight (what
// TransNetV2 reads), and the mean luma. The grid, histogram and view (6.4 KB a frame) are held
// from frame `base` on only; the mean luma of every frame is kept.
struct ShotFeatures {
  static constexpr int kViewWidth = 48, kViewHeight = 27, kViewBytes = kViewWidth * kViewHeight * 3;
  int grid = 0;             // values per frame in z
  int64_t base = 0;         // first frame held in z, hist and rgb
  std::vector<float> z;     // (frames - base) x grid
  std::vector<float> hist;  // (frames - base) x 64, each row sums to 1 (empty: no colour)
  std::vector<uint8_t> rgb;  // (frames - base) x kViewBytes (empty: no view of that size)
  std::vector<float> luma;  // every frame, 0..255
  // Frame i's view (base <= i < frames(), rgb not empty).
  const uint8_t* view(int64_t i) const { return rgb.data() + static_cast<size_t>(i - base) * kViewBytes; }
  int64_t frames() const { return static_cast<int64_t>(luma.size()); }
  // view_rgb may be null (no colour); pixels: its pixel count.
  void push(const std::vector<float>& grid_z, const uint8_t* view_rgb, int pixels, float mean_luma);
  // Lets go of the grid, histogram and view of frames before `frame`.
  void drop_before(int64_t frame);
};

struct GradualOptions {
  double structure = 45.0;  // least layout change across a window (the structure score's scale)
  double colour = 0.30;     // least colour-histogram change across a window (total variation, 0..1)
  double steadiness = 2.0;  // the change across must be this many times the mean change beside the window
  double steadiness_each = 1.6;  // ... and this many times the change on either side of it
  // A change over this many frames or fewer is a fast transition or a jolt of motion (a head
  // turning away, a whip pan ending on another view), and the three tests pass both alike:
  // confirm_short, when set, decides whether such a span is a transition.
  int short_span = 6;
  std::function<bool(const ShotFeatures&, int64_t first, int64_t last)> confirm_short;
  // A window whose picture changes across it (layout and colour) while it also changes beside
  // it fails the steadiness test whether a slow dissolve runs over moving shots or the camera
  // moves. confirm_moving, when set, decides for the strongest such window in each place that
  // no kept window overlaps (its span longer than short_span: a few frames amid motion are the
  // motion's); unset, they are dropped.
  std::function<bool(const ShotFeatures&, int64_t first, int64_t last)> confirm_moving;
};

// Gradual transitions whose window centres lie in [lo, hi) (hi < 0: to the last frame), from
// the frames held; windows holding one of `hard_cuts` are not tested. Windows up to
// kGradualContext frames outside the range still compete with those inside it, so a range
// gives what the whole video would wherever that much is held on both sides.
std::vector<Transition> find_gradual(const ShotFeatures& f, const std::vector<int64_t>& hard_cuts,
                                     const GradualOptions& o = {}, int64_t lo = 0, int64_t hi = -1);
constexpr int64_t kGradualContext = 160;

// find_gradual over a stream of frames in bounded memory: every `chunk` frames it searches the
// frames whose context is complete and lets go of what no later window reaches.
class GradualStream {
 public:
  explicit GradualStream(GradualOptions o = {}, int64_t chunk = 2048) : o_(o), chunk_(chunk) {}
  ShotFeatures& features() { return f_; }
  // After each push: whether the next search is due (then call search with the hard cuts so far).
  bool due() const { return f_.frames() - next_ >= chunk_ + 2 * kHeld; }
  void search(const std::vector<int64_t>& hard_cuts_so_far);
  // The rest, with the final hard cuts; returns every transition found, in order.
  std::vector<Transition> finish(const std::vector<int64_t>& hard_cuts);

 private:
  // Frames a window centred at t reads: t +- 2 x the largest scale, plus the competitors' reach.
  static constexpr int64_t kHeld = kGradualContext + 2 * 26 + 2;
  GradualOptions o_;
  int64_t chunk_;
  ShotFeatures f_;
  int64_t next_ = 0;  // first window centre not searched yet
  std::vector<Transition> found_;
};

// Fades through black: a run of dark frames (mean luma <= dark) with the picture dimming into it
// and brightening out of it, between two lit frames.
std::vector<Transition> find_fades(const std::vector<float>& luma, double dark = 20.0);

// Hard cuts and transitions into one list: cuts inside (or next to) a transition are dropped,
// then boundaries closer than min_scene_len to the previous one.
Boundaries merge_boundaries(const std::vector<int64_t>& hard_cuts, std::vector<Transition> transitions, int min_scene_len,
                            int64_t frames);

}  // namespace reel
