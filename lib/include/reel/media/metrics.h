// SPDX-License-Identifier: Apache-2.0
// Full-reference image quality on 8-bit planes (the luma plane, or each RGB channel).
//   mse / psnr   PSNR = 10 log10(255^2 / MSE); identical planes give +inf (reported as 100)
//   ssim         Wang et al.: 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255,
//                mean over the positions where the window fits entirely ("valid")
//   ms_ssim      5 scales (weights 0.0448 0.2856 0.3001 0.2363 0.1333), 2x2 average
//                downsampling between scales, contrast-structure terms at the first four
// Planes are row-major, width x height, one byte per sample.
#pragma once
#include <cstdint>
#include <vector>

namespace reel {

struct Plane {
  const uint8_t* data = nullptr;
  int width = 0, height = 0, stride = 0;  // stride in bytes between rows (pixel step 1)
  int step = 1;                           // bytes between samples of a row (3 for packed RGB)
};

double plane_mse(const Plane& a, const Plane& b);
double plane_mae(const Plane& a, const Plane& b);
double psnr_from_mse(double mse);
double plane_ssim(const Plane& a, const Plane& b);
// The SSIM of x264 and FFmpeg's ssim filter: unweighted 8x8 windows at a 4-pixel step
// (reproduces `ffmpeg -lavfi ssim` on the same planes).
double plane_ssim_8x8(const Plane& a, const Plane& b);
// weight_last_scale = false reproduces scikit-video's variant, which multiplies by the
// last scale's SSIM without its 0.1333 exponent (lower values than the paper's formula).
double plane_ms_ssim(const Plane& a, const Plane& b, bool weight_last_scale = true);

// Summary statistics of a list of values (NaNs ignored).
struct Stats {
  double mean = 0, median = 0, p5 = 0, p95 = 0, min = 0, max = 0;
  int n = 0;
};
Stats summarize(std::vector<double> v);

}  // namespace reel
