// SPDX-License-Identifier: Apache-2.0
// Per-frame GroupNorm, SiLU, residual add, pooling and nearest-neighbour resampling.
#include <cmath>
#include <cstring>

#include "reel/core/status.h"
#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

void group_norm_(Act& x, const float* gamma, const float* beta, int groups, float eps) {
  OpScope prof_("group_norm");
  if (x.C % groups) throw Error(Code::Internal, "group_norm: channels not divisible by groups");
  const int cpg = x.C / groups;
  const size_t HW = x.plane();
  const int jobs = x.T * groups;
#pragma omp parallel for schedule(static)
  for (int job = 0; job < jobs; ++job) {
    const int t = job / groups, g = job % groups;
    float* base = x.frame(t) + static_cast<size_t>(g) * cpg * HW;
    const size_t n = static_cast<size_t>(cpg) * HW;
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += base[i];
    const double mean = s / n;
    double v = 0.0;
    for (size_t i = 0; i < n; ++i) {
      double d = base[i] - mean;
      v += d * d;
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(v / n + eps));
    const float m = static_cast<float>(mean);
    for (int c = 0; c < cpg; ++c) {
      const int ch = g * cpg + c;
      const float a = inv * gamma[ch], b = beta[ch] - m * inv * gamma[ch];
      float* p = base + static_cast<size_t>(c) * HW;
      for (size_t i = 0; i < HW; ++i) p[i] = p[i] * a + b;
    }
  }
}

void silu_(Act& x) {
  OpScope prof_("silu");
  float* p = x.v.data();
  const long n = static_cast<long>(x.v.size());
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; ++i) p[i] = p[i] / (1.0f + std::exp(-p[i]));
}

void add_(Act& x, const Act& y) {
  OpScope prof_("add");
  if (x.v.size() != y.v.size()) throw Error(Code::Internal, "add: shape mismatch");
  float* p = x.v.data();
  const float* q = y.v.data();
  const long n = static_cast<long>(x.v.size());
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; ++i) p[i] += q[i];
}

Act avg_pool_spatial_padded(const Act& x) {
  OpScope prof_("pool/upsample");
  const int Ho = (x.H + 1) / 2, Wo = (x.W + 1) / 2;
  Act y(x.T, x.C, Ho, Wo);
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int pi = 0; pi < planes; ++pi) {
    const float* in = x.v.data() + static_cast<size_t>(pi) * x.plane();
    float* out = y.v.data() + static_cast<size_t>(pi) * y.plane();
    for (int oy = 0; oy < Ho; ++oy)
      for (int ox = 0; ox < Wo; ++ox) {
        float s = 0.0f;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) {
            int iy = 2 * oy + dy, ix = 2 * ox + dx;
            if (iy < x.H && ix < x.W) s += in[static_cast<size_t>(iy) * x.W + ix];
          }
        out[static_cast<size_t>(oy) * Wo + ox] = s * 0.25f;
      }
  }
  return y;
}

Act avg_pool_temporal_causal(const Act& x) {
  OpScope prof_("pool/upsample");
  const int To = (x.T + 1) / 2;
  Act y(To, x.C, x.H, x.W);
  const size_t n = x.frame_size();
  for (int j = 0; j < To; ++j) {
    const float* a = x.frame(std::max(0, 2 * j - 1));
    const float* b = x.frame(std::min(x.T - 1, 2 * j));
    float* o = y.frame(j);
    for (size_t i = 0; i < n; ++i) o[i] = 0.5f * (a[i] + b[i]);
  }
  return y;
}

Act upsample_spatial(const Act& x) {
  OpScope prof_("pool/upsample");
  Act y(x.T, x.C, x.H * 2, x.W * 2);
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int pi = 0; pi < planes; ++pi) {
    const float* in = x.v.data() + static_cast<size_t>(pi) * x.plane();
    float* out = y.v.data() + static_cast<size_t>(pi) * y.plane();
    for (int iy = 0; iy < x.H; ++iy) {
      float* r0 = out + static_cast<size_t>(2 * iy) * y.W;
      for (int ix = 0; ix < x.W; ++ix) r0[2 * ix] = r0[2 * ix + 1] = in[static_cast<size_t>(iy) * x.W + ix];
      std::memcpy(r0 + y.W, r0, sizeof(float) * y.W);
    }
  }
  return y;
}

Act upsample_temporal(const Act& x) {
  OpScope prof_("pool/upsample");
  Act y(2 * x.T - 1, x.C, x.H, x.W);
  for (int j = 0; j < y.T; ++j) std::memcpy(y.frame(j), x.frame((j + 1) / 2), sizeof(float) * x.frame_size());
  return y;
}

}  // namespace reel
