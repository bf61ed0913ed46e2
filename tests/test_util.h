// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tests: data locations, tensor comparison, golden-file reading.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "reel/io/h5.h"
#include "reel/model/ops.h"

namespace reel::test {

inline std::string data_dir() { return REEL_TEST_DATA_DIR; }          // tests/
inline std::string videos_dir() { return REEL_SAMPLE_VIDEOS_DIR; }    // datasets/videos
inline std::string reel_binary() { return REEL_BINARY; }

// max |a - b| / RMS(ref): the error measure of the golden README.
inline double rel_error(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double mx = 0, ss = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    mx = std::max(mx, std::fabs(static_cast<double>(got[i]) - ref[i]));
    ss += static_cast<double>(ref[i]) * ref[i];
  }
  double rms = std::sqrt(ss / std::max<size_t>(1, ref.size()));
  return mx / (rms > 0 ? rms : 1.0);
}

// (1, C, T, H, W) or (1, C, H, W) dataset -> Act (T, C, H, W).
inline Act read_act(const h5::File& f, const std::string& ds) {
  auto shape = f.shape(ds);
  auto data = f.read_float(ds);
  int C = static_cast<int>(shape[1]);
  int T = shape.size() == 5 ? static_cast<int>(shape[2]) : 1;
  int H = static_cast<int>(shape[shape.size() - 2]), W = static_cast<int>(shape.back());
  Act a(T, C, H, W);
  const size_t HW = static_cast<size_t>(H) * W;
  for (int c = 0; c < C; ++c)
    for (int t = 0; t < T; ++t)
      for (size_t p = 0; p < HW; ++p) a.frame(t)[c * HW + p] = data[(static_cast<size_t>(c) * T + t) * HW + p];
  return a;
}

}  // namespace reel::test
