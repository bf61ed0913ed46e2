// SPDX-License-Identifier: Apache-2.0
// Clip motion from the codec's motion vectors, defined as NeMo Curator and Cosmos-Curate
// define it (their motion_vector_backend), so the numbers mean what their users know:
//   - frames: every round(fps/2)-th decoded frame that is not an I-frame; sampling stops after
//     max(10, round(duration_s)) frames that carried vectors;
//   - dense flow: every vector's block (w x h, centred at its destination) is painted with
//     -motion / motion_scale in x and y; pixels without a vector are 0;
//   - per pixel m = |flow| / (W + H) (coded size);
//   - global_mean: the mean of m over every sampled frame and pixel;
//   - per_patch_min_256: the minimum of cv::resize(temporal mean of m, fx = fy = 1/256) with
//     bilinear interpolation (a bilinear sample of the map, their formula);
//   - per_patch_min_256_box: reel's addition, the minimum over whole 256 x 256 patches of the
//     temporal mean (a true patch mean).
// A short side under 256 pixels scores -1 with a note, as theirs does. A clip without any
// vector (intra-only codecs, decoders that export none such as VP8/VP9/AV1) is measured by
// FlowMotionScorer instead: OpenCV's DIS optical flow between consecutive frames at a low
// analysis width, on the same sampled frames, with the same normalisation (flow in analysis
// pixels over analysis W + H, which does not depend on the scale) and patches of 256 source
// pixels; "method" says which was used.
// Painting and summing run per cell of the coarsest grid (16, 8, 4, 2 or 1 px) every block of
// the frame lies on, which equals the per-pixel definition (tests/unit/test_motion_grid.cpp)
// at 1/16 to 1/256 of the work for codec-aligned blocks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reel/media/decoder.h"

namespace reel {

struct MotionScores {
  double global_mean = -1, per_patch_min_256 = -1, per_patch_min_256_box = -1;
  int frames = 0;        // sampled frames that carried vectors
  std::string note;      // why a score is -1
};

class MotionScorer {
 public:
  MotionScorer(double fps, double duration_s);
  // Offers the next decoded frame (with motion_vectors, coded size set).
  void push(const Frame& f);
  bool done() const { return frames_ >= max_frames_; }
  MotionScores finish() const;

 private:
  int64_t step_, max_frames_;
  int64_t index_ = 0;
  void refine(int g);
  int frames_ = 0, w_ = 0, h_ = 0;
  int grid_ = 1, cells_w_ = 0, cells_h_ = 0;  // sum_ holds cells of grid_ x grid_ pixels
  double total_ = 0;
  std::vector<double> mag_;  // this frame's m per cell
  std::vector<double> sum_;  // per cell, over sampled frames
};

// DIS optical flow (ultrafast preset) on GRAY8 frames decoded at kFlowWidth.
constexpr int kFlowWidth = 320;

class FlowMotionScorer {
 public:
  // source_w/h: the clip's coded size (for the 256-pixel patches).
  FlowMotionScorer(double fps, double duration_s, int source_w, int source_h);
  ~FlowMotionScorer();
  void push(const uint8_t* gray, int w, int h);
  bool done() const { return frames_ >= max_frames_; }
  MotionScores finish() const;

 private:
  struct Impl;
  Impl* impl_;
  int64_t step_, max_frames_, index_ = 0;
  int frames_ = 0, w_ = 0, h_ = 0, source_w_, source_h_;
  double total_ = 0;
  std::vector<uint8_t> prev_;
  std::vector<double> sum_;
};

}  // namespace reel
