// SPDX-License-Identifier: Apache-2.0
// ClipMetrics on frames with known answers.
#include <gtest/gtest.h>

#include <cmath>

#include "reel/media/clip_metrics.h"

using namespace reel;

namespace {

TEST(ClipMetrics, ConstantOffsetAndFlicker) {
  const int w = 32, h = 24;
  std::vector<uint8_t> ref(w * h), dist(w * h);
  ClipMetrics m(true, false);
  // Frame 0: reference 100, reconstruction 110 (MSE 100). Frame 1: reference steps to 120,
  // the reconstruction stays at 110 (MSE 100 again, temporal change 20 vs 0: flicker 20).
  for (int f = 0; f < 2; ++f) {
    std::fill(ref.begin(), ref.end(), f ? 120 : 100);
    std::fill(dist.begin(), dist.end(), 110);
    m.add_luma(ref.data(), dist.data(), w, h);
  }
  const auto r = m.result(2);
  EXPECT_EQ(r["frames"], 2);
  EXPECT_NEAR(r["mse_y"].get<double>(), 100.0, 1e-12);
  EXPECT_NEAR(r["mae_y"].get<double>(), 10.0, 1e-12);
  EXPECT_NEAR(r["psnr_y"].get<double>(), 10 * std::log10(255.0 * 255.0 / 100.0), 1e-9);
  EXPECT_NEAR(r["psnr_y_clip"].get<double>(), 10 * std::log10(255.0 * 255.0 / 100.0), 1e-9);
  EXPECT_NEAR(r["flicker"].get<double>(), 20.0, 1e-12);
  EXPECT_EQ(r["per_frame"]["psnr_y"].size(), 2u);
  EXPECT_FALSE(r.contains("ms_ssim_y"));
}

TEST(ClipMetrics, ClipPsnrIsOfTheTotalErrorNotTheMeanOfFrames) {
  const int w = 8, h = 8;
  std::vector<uint8_t> a(w * h, 50), b0(w * h, 50), b1(w * h, 60);
  ClipMetrics m(false, false);
  m.add_luma(a.data(), b0.data(), w, h);  // identical: PSNR 100 (capped)
  m.add_luma(a.data(), b1.data(), w, h);  // MSE 100
  const auto r = m.result(0);
  EXPECT_NEAR(r["psnr_y_clip"].get<double>(), 10 * std::log10(255.0 * 255.0 / 50.0), 1e-9);
  EXPECT_GT(r["psnr_y"].get<double>(), r["psnr_y_clip"].get<double>());
  EXPECT_FALSE(r.contains("per_frame"));
}

TEST(ClipMetrics, Bt601Luma) {
  const uint8_t white[3] = {255, 255, 255}, red[3] = {255, 0, 0}, green[3] = {0, 255, 0};
  EXPECT_EQ(luma601(white), 255);
  EXPECT_EQ(luma601(red), 76);
  EXPECT_EQ(luma601(green), 150);
}

}  // namespace
