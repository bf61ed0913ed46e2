// SPDX-License-Identifier: Apache-2.0
// Per-clip reconstruction quality, accumulated frame by frame (nothing but the previous
// frame pair is kept): PSNR/MSE/MAE/SSIM/SSIM-8x8/MS-SSIM on luma, PSNR/SSIM on RGB, the
// clip-level PSNR of the total squared error (TokenBench's convention), and flicker, how
// much the reconstruction's frame-to-frame change departs from the source's.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reel {

class ClipMetrics {
 public:
  ClipMetrics(bool ssim = true, bool ms_ssim = true) : ssim_(ssim), ms_ssim_(ms_ssim) {}
  // Luma planes of one frame pair (reference, distorted), w x h.
  void add_luma(const uint8_t* ref, const uint8_t* dist, int w, int h);
  // Packed RGB24 of the same pair.
  void add_rgb(const uint8_t* ref, const uint8_t* dist, int w, int h);
  double last_psnr_y() const;
  int64_t frames() const;
  // Means over frames; per_frame: 0 none, 1 psnr_y only (for plots), 2 every series.
  nlohmann::json result(int per_frame) const;

 private:
  bool ssim_, ms_ssim_;
  std::map<std::string, std::vector<double>> per_frame_;
  double sse_y_ = 0;
  int64_t samples_y_ = 0;
  std::vector<uint8_t> prev_ref_, prev_dist_;
  double flicker_sum_ = 0;
  int64_t flicker_n_ = 0;
};

// BT.601 luma of one packed RGB pixel, rounded.
uint8_t luma601(const uint8_t* rgb);

}  // namespace reel
