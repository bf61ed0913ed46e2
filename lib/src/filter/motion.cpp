// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/motion.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace reel {

MotionScorer::MotionScorer(double fps, double duration_s)
    : step_(std::max<int64_t>(1, std::lround(fps / 2))), max_frames_(std::max<int64_t>(10, std::lround(duration_s))) {}

namespace {
// The coarsest grid (16, 8, 4, 2 or 1 pixels) on which every block of the frame starts and
// ends, so painting and accumulating per cell equals doing it per pixel.
int block_grid(const std::vector<MotionVector>& mvs) {
  int g = 16;
  for (const MotionVector& mv : mvs) {
    const int bits = (mv.dst_x - mv.w / 2) | (mv.dst_y - mv.h / 2) | mv.w | mv.h;
    while (g > 1 && (bits & (g - 1))) g >>= 1;
  }
  return g;
}
}  // namespace

// A sum over cells of g x g pixels (the last row and column of cells may be cut by the frame
// edge) whose every pixel has the same value as its cell.
void MotionScorer::refine(int g) {
  const int cw = (w_ + g - 1) / g, ch = (h_ + g - 1) / g, r = grid_ / g;
  std::vector<double> fine(static_cast<size_t>(cw) * ch);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) fine[static_cast<size_t>(y) * cw + x] = sum_[static_cast<size_t>(y / r) * cells_w_ + x / r];
  sum_.swap(fine);
  grid_ = g, cells_w_ = cw, cells_h_ = ch;
}

void MotionScorer::push(const Frame& f) {
  const int64_t i = index_++;
  const int w = f.coded_width, h = f.coded_height;
  if (w_ == 0) w_ = w, h_ = h;  // the clip's size, vectors or not
  if (done() || i % step_ != 0 || f.pict_type == 'I' || f.motion_vectors.empty()) return;
  if (w != w_ || h != h_) return;  // a size change mid-clip: keep the first size
  const int g = block_grid(f.motion_vectors);
  if (sum_.empty()) {
    grid_ = g, cells_w_ = (w + g - 1) / g, cells_h_ = (h + g - 1) / g;
    sum_.assign(static_cast<size_t>(cells_w_) * cells_h_, 0.0);
  } else if (g < grid_) {
    refine(g);  // grids are powers of two: the finer divides the coarser
  }
  const int G = grid_, cw = cells_w_, ch = cells_h_;
  mag_.assign(sum_.size(), 0.0);
  const double norm = 1.0 / (w + h);
  for (const MotionVector& mv : f.motion_vectors) {
    // Later vectors overwrite earlier ones, as painting the flow does.
    const float vx = -static_cast<float>(mv.motion_x) / mv.motion_scale, vy = -static_cast<float>(mv.motion_y) / mv.motion_scale;
    const double m = std::sqrt(static_cast<double>(vx) * vx + static_cast<double>(vy) * vy) * norm;
    const int x0 = std::max(0, mv.dst_x - mv.w / 2), y0 = std::max(0, mv.dst_y - mv.h / 2);
    const int x1 = std::min(w, mv.dst_x - mv.w / 2 + mv.w), y1 = std::min(h, mv.dst_y - mv.h / 2 + mv.h);
    if (x1 <= x0 || y1 <= y0) continue;
    for (int cy = y0 / G; cy < (y1 + G - 1) / G; ++cy)
      for (int cx = x0 / G; cx < (x1 + G - 1) / G; ++cx) mag_[static_cast<size_t>(cy) * cw + cx] = m;
  }
  double frame_sum = 0;
  for (int cy = 0; cy < ch; ++cy) {
    const int rows = std::min(G, h - cy * G);
    double row_sum = 0;
    for (int cx = 0; cx < cw; ++cx) {
      const size_t c = static_cast<size_t>(cy) * cw + cx;
      sum_[c] += mag_[c];
      row_sum += mag_[c] * std::min(G, w - cx * G);
    }
    frame_sum += row_sum * rows;
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
  std::vector<double> pixels(static_cast<size_t>(w_) * h_);
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x)
      pixels[static_cast<size_t>(y) * w_ + x] = sum_[static_cast<size_t>(y / grid_) * cells_w_ + x / grid_];
  return summarise(pixels, w_, h_, frames_, total_, 256.0);
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
