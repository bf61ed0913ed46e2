// SPDX-License-Identifier: Apache-2.0
#include "reel/model/golden.h"

#include <algorithm>
#include <cmath>

#include "reel/core/status.h"

namespace reel {

Act read_ncthw(const h5::File& f, const std::string& ds) {
  auto shape = f.shape(ds);
  if (shape.size() != 4 && shape.size() != 5) throw Error(Code::InvalidData, ds + ": expected 4 or 5 dimensions");
  if (shape[0] != 1) throw Error(Code::InvalidData, ds + ": only batch size 1 is supported");
  auto data = f.read_float(ds);
  const int C = static_cast<int>(shape[1]);
  const int T = shape.size() == 5 ? static_cast<int>(shape[2]) : 1;
  const int H = static_cast<int>(shape[shape.size() - 2]), W = static_cast<int>(shape.back());
  Act a(T, C, H, W);
  const size_t HW = static_cast<size_t>(H) * W;
  for (int c = 0; c < C; ++c)
    for (int t = 0; t < T; ++t)
      std::copy_n(data.data() + (static_cast<size_t>(c) * T + t) * HW, HW, a.frame(t) + c * HW);
  return a;
}

double rel_error(std::span<const float> got, std::span<const float> ref) {
  if (got.size() != ref.size()) return INFINITY;
  double mx = 0, ss = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    mx = std::max(mx, std::fabs(static_cast<double>(got[i]) - ref[i]));
    ss += static_cast<double>(ref[i]) * ref[i];
  }
  const double rms = std::sqrt(ss / std::max<size_t>(1, ref.size()));
  return mx / (rms > 0 ? rms : 1.0);
}

}  // namespace reel
