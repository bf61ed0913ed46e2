// SPDX-License-Identifier: Apache-2.0
// Technical quality of a clip from its decoded frames, at a fixed analysis size (frames
// scaled to kQualityWidth pixels wide) so that no score depends on the resolution:
//   sharpness       variance of the 3x3 Laplacian of luma (BT.601), mean over sampled frames
//   brightness      mean luma (0-255); dark / bright: fractions of pixels at <= 16 / >= 239
//   contrast        standard deviation of luma (RMS contrast)
//   colourfulness   Hasler & Suesstrunk's M (sigma_rgyb + 0.3 mu_rgyb)
// sampled at `sample_fps` frames per second (the frames sample_step() picks; decode with
// convert_every = sample_step() so only those are converted), and over every frame (on the
// decoder's 64-pixel-wide luma thumbnail, luma_thumb_width = kThumbWidth):
//   black_fraction  frames of which >= 98% of pixels are <= 25 (FFmpeg blackdetect's defaults)
//   frozen_fraction frames whose mean absolute luma difference to the previous frame is
//                   below 0.5 levels (repeated or frozen frames)
//   longest_frozen_s the longest run of such frames, in seconds
//   repeat_period   the cadence of repeated frames, when they repeat in a pattern: the
//                   smallest period p (2..12) whose repeated-frame flags agree with those p
//                   frames later in >= 95% of the clip, with between 5% and 60% of frames
//                   repeated in runs that recur at least every 2p frames (a 24 fps film
//                   shown at 30 fps by duplication: 5); 0 if none
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "reel/media/decoder.h"

namespace reel {

constexpr int kQualityWidth = 384;
constexpr int kThumbWidth = 64;

class QualityScorer {
 public:
  QualityScorer(double fps, double sample_fps = 2.0);
  int64_t sample_step() const { return step_; }
  // The next decoded frame: RGB24 on sampled frames (empty on the others; scaled to the
  // analysis width here if it comes in another width), and its luma thumbnail (computed from
  // the RGB when the decoder gave none).
  void push(const Frame& f);
  int64_t frames() const { return frames_; }
  nlohmann::json finish() const;

 private:
  double fps_;
  int64_t step_, frames_ = 0, sampled_ = 0, black_ = 0, frozen_ = 0, run_ = 0, longest_run_ = 0;
  double sharp_ = 0, bright_ = 0, dark_ = 0, light_ = 0, contrast_ = 0, colour_ = 0;
  std::vector<uint8_t> thumb_, prev_thumb_;
  std::vector<bool> repeated_;  // per frame after the first: a repeat of the previous one
  void sample(const uint8_t* rgb, int w, int h);
};

}  // namespace reel
