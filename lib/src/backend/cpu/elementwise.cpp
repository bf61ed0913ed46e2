// SPDX-License-Identifier: Apache-2.0
// Per-frame GroupNorm, SiLU, residual add, pooling and nearest-neighbour resampling.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "reel/core/status.h"
#include "backend/cpu/affine_row.h"
#include "backend/cpu/op_profile.h"
#include "backend/cpu/vec_math.h"
#include "backend/device_math.h"
#include "reel/model/ops.h"

namespace reel {

namespace {

// Sum over n floats of (p[i] - c), or of (p[i] - c)^2 when Square: float lanes within blocks
// of 4096 (vectorised), double across blocks.
template <bool Square>
double block_sum(const float* p, size_t n, float c) {
  double total = 0.0;
  for (size_t i0 = 0; i0 < n; i0 += 4096) {
    const size_t i1 = std::min(n, i0 + 4096);
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (size_t i = i0; i < i1; ++i) s += Square ? (p[i] - c) * (p[i] - c) : p[i] - c;
    total += s;
  }
  return total;
}

}  // namespace

ChannelAffine group_norm_affine(const Act& x, const float* gamma, const float* beta, int groups, float eps,
                                bool then_silu) {
  OpScope prof_("group_norm_stats");
  if (x.C % groups) throw Error(Code::Internal, "group_norm: channels not divisible by groups");
  const int cpg = x.C / groups, C = x.C;
  const size_t HW = x.plane();
  const int planes = x.T * C;
  ChannelAffine a;
  a.T = x.T;
  a.C = C;
  a.silu = then_silu;
  a.scale.resize(planes);
  a.shift.resize(planes);
  // Per-plane partial sums (the work splits evenly over threads even for GroupNorm(1) on a
  // few frames), combined per group in double. Two passes, mean then squared deviations: no
  // cancellation from E[x^2] - E[x]^2. The first pass is shifted by the group's first value.
  std::vector<double> part(planes);
  auto group_first = [&](int p) { return x.v[(static_cast<size_t>(p) / cpg) * cpg * HW]; };
#pragma omp parallel for schedule(static)
  for (int p = 0; p < planes; ++p) part[p] = block_sum<false>(x.v.data() + p * HW, HW, group_first(p));
  std::vector<float> mean(static_cast<size_t>(x.T) * groups);
  const double n = static_cast<double>(cpg) * HW;
  for (size_t g = 0; g < mean.size(); ++g) {
    double s = 0;
    for (int c = 0; c < cpg; ++c) s += part[g * cpg + c];
    mean[g] = static_cast<float>(group_first(static_cast<int>(g * cpg)) + s / n);
  }
#pragma omp parallel for schedule(static)
  for (int p = 0; p < planes; ++p) part[p] = block_sum<true>(x.v.data() + p * HW, HW, mean[p / cpg]);
  for (size_t g = 0; g < mean.size(); ++g) {
    double s = 0;
    for (int c = 0; c < cpg; ++c) s += part[g * cpg + c];
    const float inv = static_cast<float>(1.0 / std::sqrt(s / n + eps));
    for (int c = 0; c < cpg; ++c) {
      const size_t p = g * cpg + c;
      const int ch = static_cast<int>(p % C);
      dm::gn_channel(mean[g], inv, gamma[ch], beta[ch], &a.scale[p], &a.shift[p]);
    }
  }
  return a;
}

void apply_affine_row(const float* in, size_t n, float a, float b, bool then_silu, float* out) {
  if (then_silu) {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) out[i] = silu(in[i] * a + b);
  } else {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) out[i] = in[i] * a + b;
  }
}

namespace {
void apply_affine_to(const Act& x, const ChannelAffine& a, Act& y) {
  OpScope prof_(a.silu ? "norm_apply+silu" : "norm_apply");
  if (a.T != x.T || a.C != x.C) throw Error(Code::Internal, "apply_affine: shape mismatch");
  const size_t HW = x.plane();
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int p = 0; p < planes; ++p)
    apply_affine_row(x.v.data() + p * HW, HW, a.scale[p], a.shift[p], a.silu, y.v.data() + p * HW);
}
}  // namespace

void apply_affine_(Act& x, const ChannelAffine& a) { apply_affine_to(x, a, x); }

Act apply_affine(const Act& x, const ChannelAffine& a) {
  Act y(x.T, x.C, x.H, x.W, Act::Uninit{});
  apply_affine_to(x, a, y);
  return y;
}

void group_norm_(Act& x, const float* gamma, const float* beta, int groups, float eps, bool then_silu) {
  apply_affine_(x, group_norm_affine(x, gamma, beta, groups, eps, then_silu));
}

void silu_(Act& x) {
  OpScope prof_("silu");
  float* p = x.v.data();
  const long n = static_cast<long>(x.v.size());
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; ++i) p[i] = silu(p[i]);
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
  Act y(x.T, x.C, Ho, Wo, Act::Uninit{});
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int pi = 0; pi < planes; ++pi) {
    const float* in = x.v.data() + static_cast<size_t>(pi) * x.plane();
    float* out = y.v.data() + static_cast<size_t>(pi) * y.plane();
    auto at = [&](int iy, int ix) { return in[static_cast<size_t>(iy) * x.W + ix]; };
    for (int oy = 0; oy < Ho; ++oy)
      for (int ox = 0; ox < Wo; ++ox) out[static_cast<size_t>(oy) * Wo + ox] = dm::avg_pool2_padded(at, x.H, x.W, oy, ox);
  }
  return y;
}

Act avg_pool_temporal_causal(const Act& x) {
  OpScope prof_("pool/upsample");
  const int To = (x.T + 1) / 2;
  Act y(To, x.C, x.H, x.W, Act::Uninit{});
  const size_t n = x.frame_size();
  for (int j = 0; j < To; ++j) {
    int fa, fb;
    dm::causal_pool_frames(j, x.T, &fa, &fb);
    const float *a = x.frame(fa), *b = x.frame(fb);
    float* o = y.frame(j);
    for (size_t i = 0; i < n; ++i) o[i] = 0.5f * (a[i] + b[i]);
  }
  return y;
}

Act upsample_spatial(const Act& x) {
  OpScope prof_("pool/upsample");
  Act y(x.T, x.C, x.H * 2, x.W * 2, Act::Uninit{});
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
  Act y(2 * x.T - 1, x.C, x.H, x.W, Act::Uninit{});
  for (int j = 0; j < y.T; ++j) std::memcpy(y.frame(j), x.frame(dm::upsample_temporal_frame(j)), sizeof(float) * x.frame_size());
  return y;
}

}  // namespace reel
