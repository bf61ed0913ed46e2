// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/quality.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace reel {

QualityScorer::QualityScorer(double fps, double sample_fps)
    : fps_(fps > 0 ? fps : 25.0), step_(std::max<int64_t>(1, std::lround(fps_ / sample_fps))) {}

void QualityScorer::push(const Frame& f) {
  // Every frame: black and frozen detection on a small luma thumbnail.
  if (!f.thumb.empty()) {
    thumb_ = f.thumb;
  } else if (!f.data.empty()) {
    const cv::Mat frame(f.height, f.width, CV_8UC3, const_cast<uint8_t*>(f.data.data()));
    cv::Mat luma, thumb;
    cv::cvtColor(frame, luma, cv::COLOR_RGB2GRAY);
    cv::resize(luma, thumb, cv::Size(kThumbWidth, std::max(1, f.height * kThumbWidth / std::max(1, f.width))), 0, 0,
               cv::INTER_AREA);
    thumb_.assign(thumb.data, thumb.data + thumb.total());
  } else {
    thumb_.clear();  // neither: this frame counts, but is compared with nothing
  }
  const size_t n = thumb_.size();
  if (n) {
    size_t low = 0;
    for (uint8_t v : thumb_) low += v <= 25;
    if (low >= 0.98 * n) ++black_;
  }
  bool frozen = false;
  if (n && prev_thumb_.size() == n) {
    double d = 0;
    for (size_t i = 0; i < n; ++i) d += std::abs(static_cast<int>(thumb_[i]) - prev_thumb_[i]);
    frozen = d / n < 0.5;
  }
  if (n && !prev_thumb_.empty()) repeated_.push_back(frozen);
  if (frozen) {
    ++frozen_;
    longest_run_ = std::max(longest_run_, ++run_);
  } else {
    run_ = 0;
  }
  prev_thumb_.swap(thumb_);
  if (frames_++ % step_ == 0 && !f.data.empty()) sample(f.data.data(), f.width, f.height);
}

// Sampled frames: sharpness, exposure, contrast, colourfulness.
void QualityScorer::sample(const uint8_t* rgb_in, int w_in, int h_in) {
  cv::Mat frame(h_in, w_in, CV_8UC3, const_cast<uint8_t*>(rgb_in));
  if (w_in != kQualityWidth) {  // frames decoded for OCR come wider: area-average to the analysis width
    cv::Mat scaled;
    const int hq = std::max(2, static_cast<int>(std::lround(static_cast<double>(h_in) * kQualityWidth / w_in / 2)) * 2);
    cv::resize(frame, scaled, cv::Size(kQualityWidth, hq), 0, 0, w_in > kQualityWidth ? cv::INTER_AREA : cv::INTER_LINEAR);
    frame = scaled;
  }
  const int w = frame.cols, h = frame.rows;
  const uint8_t* rgb = frame.data;
  cv::Mat luma;
  cv::cvtColor(frame, luma, cv::COLOR_RGB2GRAY);  // BT.601 weights
  ++sampled_;
  cv::Mat lap;
  cv::Laplacian(luma, lap, CV_64F, 1);
  cv::Scalar lm, ls;
  cv::meanStdDev(lap, lm, ls);
  sharp_ += ls[0] * ls[0];
  cv::Scalar m, s;
  cv::meanStdDev(luma, m, s);
  bright_ += m[0];
  contrast_ += s[0];
  const double total = static_cast<double>(luma.total());
  dark_ += cv::countNonZero(luma <= 16) / total;
  light_ += cv::countNonZero(luma >= 239) / total;
  double srg = 0, syb = 0, qrg = 0, qyb = 0;
  for (int i = 0; i < w * h; ++i) {
    const double r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    const double rg = r - g, yb = 0.5 * (r + g) - b;
    srg += rg, syb += yb, qrg += rg * rg, qyb += yb * yb;
  }
  const double N = static_cast<double>(w) * h, mrg = srg / N, myb = syb / N;
  const double vrg = std::max(0.0, qrg / N - mrg * mrg), vyb = std::max(0.0, qyb / N - myb * myb);
  colour_ += std::sqrt(vrg + vyb) + 0.3 * std::sqrt(mrg * mrg + myb * myb);
}

nlohmann::json QualityScorer::finish() const {
  nlohmann::json j;
  j["frames"] = frames_;
  j["sampled"] = sampled_;
  if (sampled_ == 0) return j;
  const double k = 1.0 / sampled_;
  j["sharpness"] = sharp_ * k;
  j["brightness"] = bright_ * k;
  j["dark"] = dark_ * k;
  j["bright"] = light_ * k;
  j["contrast"] = contrast_ * k;
  j["colourfulness"] = colour_ * k;
  j["black_fraction"] = static_cast<double>(black_) / frames_;
  j["frozen_fraction"] = frames_ > 1 ? static_cast<double>(frozen_) / (frames_ - 1) : 0.0;
  j["longest_frozen_s"] = longest_run_ / fps_;
  int period = 0;
  const size_t n = repeated_.size();
  const double share = n ? static_cast<double>(std::count(repeated_.begin(), repeated_.end(), true)) / n : 0.0;
  if (n >= 24 && share >= 0.05 && share <= 0.6) {
    // Repeats must recur through the clip (one frozen stretch is no cadence): count the runs.
    size_t runs = 0;
    for (size_t i = 0; i < n; ++i) runs += repeated_[i] && (i == 0 || !repeated_[i - 1]);
    for (size_t p = 2; p <= 12 && !period; ++p) {
      size_t agree = 0;
      for (size_t i = 0; i + p < n; ++i) agree += repeated_[i] == repeated_[i + p];
      if (agree >= 0.95 * (n - p) && runs * 2 * p >= n) period = static_cast<int>(p);
    }
  }
  j["repeat_period"] = period;
  return j;
}

}  // namespace reel
