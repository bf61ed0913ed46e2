// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/motion.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace reel {

MotionScorer::MotionScorer(double fps, double duration_s)
    : step_(std::max<int64_t>(1, std::lround(fps / 2))), max_frames_(std::max<int64_t>(10, std::lround(duration_s))) {}

void MotionScorer::push(const Frame& f) {
  const int64_t i = index_++;
  const int w = f.coded_width, h = f.coded_height;
  if (w_ == 0) w_ = w, h_ = h;  // the clip's size, vectors or not
  if (done() || i % step_ != 0 || f.pict_type == 'I' || f.motion_vectors.empty()) return;
  if (sum_.empty()) sum_.assign(static_cast<size_t>(w_) * h_, 0.0);
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

namespace {
// global_mean, the bilinear 1/patch sample and the box-patch minimum of a temporal-mean map.
MotionScores summarise(const std::vector<double>& sum, int w, int h, int frames, double total, double patch) {
  MotionScores s;
  s.frames = frames;
  s.global_mean = total / (static_cast<double>(frames) * sum.size());
  cv::Mat mean(h, w, CV_32F);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) mean.at<float>(y, x) = static_cast<float>(sum[static_cast<size_t>(y) * w + x] / frames);
  cv::Mat small;
  cv::resize(mean, small, cv::Size(), 1.0 / patch, 1.0 / patch, cv::INTER_LINEAR);
  double mn = 0;
  cv::minMaxLoc(small, &mn);
  s.per_patch_min_256 = mn;
  const int p = std::max(1, static_cast<int>(std::lround(patch)));
  double box = 1e300;
  for (int py = 0; py + p <= h; py += p)
    for (int px = 0; px + p <= w; px += p) box = std::min(box, cv::mean(mean(cv::Rect(px, py, p, p)))[0]);
  s.per_patch_min_256_box = box;
  return s;
}
}  // namespace

MotionScores MotionScorer::finish() const {
  MotionScores s;
  s.frames = frames_;
  if (w_ > 0 && std::min(w_, h_) < 256) {
    s.note = "short side under 256 pixels";
    return s;
  }
  if (frames_ == 0) {
    s.note = "no motion vectors in the sampled frames (intra-only codec, or a decoder that exports none)";
    return s;
  }
  return summarise(sum_, w_, h_, frames_, total_, 256.0);
}

struct FlowMotionScorer::Impl {
  cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_ULTRAFAST);
  cv::Mat flow;
};

FlowMotionScorer::FlowMotionScorer(double fps, double duration_s, int source_w, int source_h)
    : impl_(new Impl),
      step_(std::max<int64_t>(1, std::lround(fps / 2))),
      max_frames_(std::max<int64_t>(10, std::lround(duration_s))),
      source_w_(source_w),
      source_h_(source_h) {}

FlowMotionScorer::~FlowMotionScorer() { delete impl_; }

void FlowMotionScorer::push(const uint8_t* gray, int w, int h) {
  const int64_t i = index_++;
  const size_t n = static_cast<size_t>(w) * h;
  // Sampled frame i is compared with frame i - 1, as a P-frame's vectors point one frame back.
  if (!done() && i % step_ == 0 && prev_.size() == n && i > 0) {
    if (w_ == 0) w_ = w, h_ = h, sum_.assign(n, 0.0);
    if (w == w_ && h == h_) {
      const cv::Mat a(h, w, CV_8U, prev_.data()), b(h, w, CV_8U, const_cast<uint8_t*>(gray));
      impl_->dis->calc(a, b, impl_->flow);
      const double norm = 1.0 / (w + h);
      double frame_sum = 0;
      for (int y = 0; y < h; ++y) {
        const cv::Vec2f* row = impl_->flow.ptr<cv::Vec2f>(y);
        for (int x = 0; x < w; ++x) {
          const double m = std::sqrt(double(row[x][0]) * row[x][0] + double(row[x][1]) * row[x][1]) * norm;
          sum_[static_cast<size_t>(y) * w + x] += m;
          frame_sum += m;
        }
      }
      total_ += frame_sum;
      ++frames_;
    }
  }
  prev_.assign(gray, gray + n);
}

MotionScores FlowMotionScorer::finish() const {
  MotionScores s;
  if (std::min(source_w_, source_h_) < 256) {
    s.note = "short side under 256 pixels";
    return s;
  }
  if (frames_ == 0) {
    s.note = "fewer than two frames";
    return s;
  }
  // 256 source pixels in analysis pixels.
  return summarise(sum_, w_, h_, frames_, total_, 256.0 * w_ / source_w_);
}

}  // namespace reel
