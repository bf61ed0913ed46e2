// SPDX-License-Identifier: Apache-2.0
#include "reel/media/clip_metrics.h"

#include <cmath>

#include "reel/media/metrics.h"

namespace reel {

uint8_t luma601(const uint8_t* p) { return static_cast<uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])); }

void ClipMetrics::add_luma(const uint8_t* r, const uint8_t* d, int w, int h) {
  Plane a{r, w, h, w, 1}, b{d, w, h, w, 1};
  const double mse = plane_mse(a, b);
  sse_y_ += mse * w * h;
  samples_y_ += static_cast<int64_t>(w) * h;
  per_frame_["psnr_y"].push_back(psnr_from_mse(mse));
  per_frame_["mse_y"].push_back(mse);
  per_frame_["mae_y"].push_back(plane_mae(a, b));
  if (ssim_) per_frame_["ssim_y"].push_back(plane_ssim(a, b));
  if (ssim_) per_frame_["ssim_y_8x8"].push_back(plane_ssim_8x8(a, b));
  if (ms_ssim_) per_frame_["ms_ssim_y"].push_back(plane_ms_ssim(a, b));
  const size_t n = static_cast<size_t>(w) * h;
  if (prev_ref_.size() == n) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::fabs((double(d[i]) - prev_dist_[i]) - (double(r[i]) - prev_ref_[i]));
    flicker_sum_ += s / n;
    ++flicker_n_;
  }
  prev_ref_.assign(r, r + n);
  prev_dist_.assign(d, d + n);
}

void ClipMetrics::add_rgb(const uint8_t* r, const uint8_t* d, int w, int h) {
  double mse = 0, ss = 0;
  for (int c = 0; c < 3; ++c) {
    Plane a{r + c, w, h, w * 3, 3}, b{d + c, w, h, w * 3, 3};
    mse += plane_mse(a, b) / 3;
    if (ssim_) ss += plane_ssim(a, b) / 3;
  }
  per_frame_["psnr_rgb"].push_back(psnr_from_mse(mse));
  if (ssim_) per_frame_["ssim_rgb"].push_back(ss);
}

double ClipMetrics::last_psnr_y() const {
  auto it = per_frame_.find("psnr_y");
  return it == per_frame_.end() || it->second.empty() ? 0.0 : it->second.back();
}

int64_t ClipMetrics::frames() const {
  auto it = per_frame_.find("psnr_y");
  return it == per_frame_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

nlohmann::json ClipMetrics::result(int frames_mode) const {
  nlohmann::json j;
  for (auto& [k, v] : per_frame_) j[k] = summarize(v).mean;
  j["frames"] = frames();
  if (samples_y_) j["psnr_y_clip"] = psnr_from_mse(sse_y_ / samples_y_);
  if (flicker_n_) j["flicker"] = flicker_sum_ / flicker_n_;
  if (frames_mode == 2) {
    nlohmann::json pf;
    for (auto& [k, v] : per_frame_) pf[k] = v;
    j["per_frame"] = pf;
  } else if (frames_mode == 1 && per_frame_.count("psnr_y")) {
    j["per_frame"] = {{"psnr_y", per_frame_.at("psnr_y")}};
  }
  return j;
}

}  // namespace reel
