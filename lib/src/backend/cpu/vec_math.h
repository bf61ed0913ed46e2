// SPDX-License-Identifier: Apache-2.0
// Scalar math written so that loops calling it vectorise (SiLU, softmax).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace reel {

// exp(x) written so that the compiler vectorises it (glibc's vector expf is only declared
// under -ffast-math; the build's -fno-trapping-math lets nearbyint and the clamps vectorise):
// x = n ln2 + r with |r| <= ln2/2, 2^n from the exponent bits, e^r by a degree-6 Taylor
// polynomial. Relative error below 2e-7 on [-87, 88]; inputs are clamped there.
inline float exp_vec(float x) {
  x = std::min(88.0f, std::max(-87.0f, x));
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;  // ln2 in two parts
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float silu(float v) { return v / (1.0f + exp_vec(-v)); }

}  // namespace reel
