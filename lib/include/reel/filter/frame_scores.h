// SPDX-License-Identifier: Apache-2.0
// The per-frame values of a network scorer (safety, learned scores): every `step`-th decoded
// frame that carries pixels, at most `max_frames` of them, then reduced over the clip.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "reel/media/decoder.h"

namespace reel {

class FrameScores {
 public:
  FrameScores(int64_t step, int max_frames) : step_(step < 1 ? 1 : step), max_(max_frames) {}
  // True if this frame (offered in decode order) is one to score.
  bool wants(const Frame& f) {
    const int64_t i = index_++;
    return static_cast<int>(v_.size()) < max_ && i % step_ == 0 && !f.data.empty();
  }
  void add(double v) { v_.push_back(v); }
  // For scorers that run their network once per clip: frame i's value, known at the end.
  void set(size_t i, double v) { v_[i] = v; }
  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  double min() const { return *std::min_element(v_.begin(), v_.end()); }
  double max() const { return *std::max_element(v_.begin(), v_.end()); }
  double mean() const { return std::accumulate(v_.begin(), v_.end(), 0.0) / v_.size(); }

 private:
  int64_t step_, index_ = 0;
  int max_;
  std::vector<double> v_;
};

}  // namespace reel
