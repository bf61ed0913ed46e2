// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/motion.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace reel {

MotionScorer::MotionScorer(double fps, double duration_s)
    : step_(std::max<int64_t>(1, std::lround(fps / 2))), max_frames_(std::max<int64_t>(10, std::lround(duration_s))) {}

void MotionScorer::push(const Frame& f) {
  const int64_t i = index_++;
  if (done() || i % step_ != 0 || f.pict_type == 'I' || f.motion_vectors.empty()) return;
  const int w = f.coded_width, h = f.coded_height;
  if (w_ == 0) {
    w_ = w, h_ = h;
    sum_.assign(static_cast<size_t>(w) * h, 0.0);
  }
  if (w != w_ || h != h_) return;  // a size change mid-clip: keep the first size
  flow_x_.assign(sum_.size(), 0.0f);
  flow_y_.assign(sum_.size(), 0.0f);
  for (const MotionVector& mv : f.motion_vectors) {
    const float vx = -static_cast<float>(mv.motion_x) / mv.motion_scale, vy = -static_cast<float>(mv.motion_y) / mv.motion_scale;
    const int x0 = std::max(0, mv.dst_x - mv.w / 2), y0 = std::max(0, mv.dst_y - mv.h / 2);
    const int x1 = std::min(w, mv.dst_x - mv.w / 2 + mv.w), y1 = std::min(h, mv.dst_y - mv.h / 2 + mv.h);
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        flow_x_[static_cast<size_t>(y) * w + x] = vx;
        flow_y_[static_cast<size_t>(y) * w + x] = vy;
      }
  }
  const double norm = 1.0 / (w + h);
  double frame_sum = 0;
  for (size_t p = 0; p < sum_.size(); ++p) {
    const double fx = flow_x_[p], fy = flow_y_[p];
    const double m = std::sqrt(fx * fx + fy * fy) * norm;
    sum_[p] += m;
    frame_sum += m;
  }
  total_ += frame_sum;
  ++frames_;
}

MotionScores MotionScorer::finish() const {
  MotionScores s;
  s.frames = frames_;
  if (frames_ == 0) {
    s.note = "no motion vectors in the sampled frames (intra-only codec, or a still clip coded as I-frames)";
    return s;
  }
  if (std::min(w_, h_) < 256) {
    s.note = "short side under 256 pixels";
    return s;
  }
  s.global_mean = total_ / (static_cast<double>(frames_) * sum_.size());
  cv::Mat mean(h_, w_, CV_32F);
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) mean.at<float>(y, x) = static_cast<float>(sum_[static_cast<size_t>(y) * w_ + x] / frames_);
  cv::Mat small;
  cv::resize(mean, small, cv::Size(), 1.0 / 256, 1.0 / 256, cv::INTER_LINEAR);
  double mn = 0;
  cv::minMaxLoc(small, &mn);
  s.per_patch_min_256 = mn;
  double box = 1e300;
  for (int py = 0; py + 256 <= h_; py += 256)
    for (int px = 0; px + 256 <= w_; px += 256) box = std::min(box, cv::mean(mean(cv::Rect(px, py, 256, 256)))[0]);
  s.per_patch_min_256_box = box;
  return s;
}

}  // namespace reel
