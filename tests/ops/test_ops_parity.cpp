// SPDX-License-Identifier: Apache-2.0
// The GEMM-based operators against direct loops written from the definitions, on random
// inputs with odd sizes, strides and single frames.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <span>

#include "../test_util.h"
#include "reel/model/ops.h"

using namespace reel;

namespace {

std::vector<float> rnd(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

Act act(int T, int C, int H, int W, uint32_t seed) {
  Act a(T, C, H, W);
  const std::vector<float> r = rnd(a.v.size(), seed);
  a.v.assign(r.begin(), r.end());
  return a;
}

struct ConvCase {
  int T, ci, co, H, W, k, stride, pt, pl, pb, pr;
};

TEST(OpsParity, Conv2dMatchesDirectLoops) {
  for (auto c : std::vector<ConvCase>{{2, 5, 7, 9, 11, 3, 1, 1, 1, 1, 1},
                                      {1, 3, 4, 8, 10, 3, 2, 0, 0, 1, 1},
                                      {3, 6, 2, 7, 5, 1, 1, 0, 0, 0, 0},
                                      {1, 17, 9, 13, 6, 3, 1, 1, 1, 1, 1}}) {
    Act x = act(c.T, c.ci, c.H, c.W, 1);
    auto w = rnd(static_cast<size_t>(c.co) * c.ci * c.k * c.k, 2), b = rnd(c.co, 3);
    ConvW cw{w.data(), b.data(), c.co, c.ci, 1, c.k, c.k};
    Act y = conv2d(x, cw, c.stride, c.pt, c.pl, c.pb, c.pr);
    for (int t = 0; t < c.T; ++t)
      for (int o = 0; o < c.co; ++o)
        for (int oy = 0; oy < y.H; ++oy)
          for (int ox = 0; ox < y.W; ++ox) {
            double acc = b[o];
            for (int i = 0; i < c.ci; ++i)
              for (int ky = 0; ky < c.k; ++ky)
                for (int kx = 0; kx < c.k; ++kx) {
                  int iy = oy * c.stride + ky - c.pt, ix = ox * c.stride + kx - c.pl;
                  if (iy < 0 || ix < 0 || iy >= c.H || ix >= c.W) continue;
                  acc += double(w[((o * c.ci + i) * c.k + ky) * c.k + kx]) * x.frame(t)[(i * c.H + iy) * c.W + ix];
                }
            ASSERT_NEAR(y.frame(t)[(o * y.H + oy) * y.W + ox], acc, 1e-4);
          }
  }
}

// Float32 error model for a convolution output y = b + sum_k w_k x_k over K = 9*ci terms: whatever order
// a BLAS kernel accumulates in (AVX2 and AVX-512 OpenBLAS kernels block differently), rounding errors
// behave as a random walk, |y_got - y| <~ c * sqrt(K) * u * S with u = 2^-24 and S = |b| + sum |w_k x_k|
// (the worst case grows with K, the typical one with sqrt(K)). Winograd computes the sum in a transformed
// basis whose constants enlarge the intermediate values: c is the growth of the transform, about 4 for
// F(2x2,3x3) (entries of B, G, A at most 1, two-term sums per dimension) and about 40 for F(4x4,3x3)
// (interpolation points 0, +-1, +-2: entries up to 8 in A and 5 in B). The bound is per element, so it
// holds for any channel count; a wrong tap or a missed tile is off by about S itself.
double worst_error_over_model(std::span<const float> got, const std::vector<double>& ref,
                              const std::vector<double>& abs_sum, int K) {
  const double u = std::ldexp(1.0, -24), walk = std::sqrt(static_cast<double>(K)) * u;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref[i]) / (walk * abs_sum[i]));
  return worst;
}

TEST(OpsParity, WinogradVariantsMatchDirectConvolution) {
  // Both Winograd paths, whatever REEL_CONV selects: several frames (tiles of all frames share
  // one GEMM), sizes that are not multiples of the tile, wide channels, nonzero mean inputs.
  struct Case {
    int T, ci, co, H, W;
  };
  // The last case is wide enough that F(4x4) splits its tiles into several GEMM chunks (the
  // path large frames take), with the weights transformed once up front.
  for (auto c : std::vector<Case>{{3, 64, 48, 13, 22}, {1, 8, 8, 4, 4}, {2, 130, 20, 9, 7}, {8, 2048, 4, 15, 14}}) {
    Act x = act(c.T, c.ci, c.H, c.W, 5);
    for (auto& v : x.v) v += 0.5f;
    auto w = rnd(static_cast<size_t>(c.co) * c.ci * 9, 6), b = rnd(c.co, 7);
    ConvW cw{w.data(), b.data(), c.co, c.ci, 1, 3, 3};
    std::vector<double> ref, abs_sum;
    for (int t = 0; t < c.T; ++t)
      for (int o = 0; o < c.co; ++o)
        for (int oy = 0; oy < c.H; ++oy)
          for (int ox = 0; ox < c.W; ++ox) {
            double acc = b[o], mag = std::fabs(b[o]);
            for (int i = 0; i < c.ci; ++i)
              for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx) {
                  const int iy = oy + ky - 1, ix = ox + kx - 1;
                  if (iy < 0 || ix < 0 || iy >= c.H || ix >= c.W) continue;
                  const double term = double(w[((o * c.ci + i) * 3 + ky) * 3 + kx]) * x.frame(t)[(i * c.H + iy) * c.W + ix];
                  acc += term;
                  mag += std::fabs(term);
                }
            ref.push_back(acc);
            abs_sum.push_back(mag);
          }
    Act f2 = conv3x3_winograd(x, cw), f4 = conv3x3_winograd_f4(x, cw);
    const int K = 9 * c.ci;
    const double e2 = worst_error_over_model(f2.v, ref, abs_sum, K), e4 = worst_error_over_model(f4.v, ref, abs_sum, K);
    EXPECT_LT(e2, 4.0) << "F(2x2) " << c.ci << "x" << c.H << "x" << c.W;
    EXPECT_LT(e4, 40.0) << "F(4x4) " << c.ci << "x" << c.H << "x" << c.W;
    std::printf("ci=%d  F(2x2) %.3f  F(4x4) %.3f  (x sqrt(K) u S)\n", c.ci, e2, e4);
  }
}

TEST(OpsParity, CausalTemporalConvMatchesDefinition) {
  for (auto [T, stride, pad] : std::vector<std::tuple<int, int, int>>{{1, 1, 2}, {2, 1, 2}, {3, 1, 2}, {5, 1, 2}, {6, 2, 1}, {9, 2, 1}}) {
    const int ci = 4, co = 3, kt = 3;
    Act x = act(T, ci, 3, 5, 4);
    auto w = rnd(co * ci * kt, 5), b = rnd(co, 6);
    Act y = conv_temporal(x, ConvW{w.data(), b.data(), co, ci, kt, 1, 1}, stride, pad);
    ASSERT_EQ(y.T, (T + pad - kt) / stride + 1);
    for (int j = 0; j < y.T; ++j)
      for (int o = 0; o < co; ++o)
        for (size_t p = 0; p < x.plane(); ++p) {
          double acc = b[o];
          for (int k = 0; k < kt; ++k) {
            int src = std::max(0, j * stride + k - pad);
            for (int i = 0; i < ci; ++i) acc += double(w[(o * ci + i) * kt + k]) * x.frame(src)[i * x.plane() + p];
          }
          ASSERT_NEAR(y.frame(j)[o * x.plane() + p], acc, 1e-5);
        }
  }
}

TEST(OpsParity, BlockedSpatialAttentionMatchesFullSoftmax) {
  const int T = 2, C = 8, H = 13, W = 11, N = H * W;
  Act q = act(T, C, H, W, 7), k = act(T, C, H, W, 8), v = act(T, C, H, W, 9), out;
  attention_spatial(q, k, v, out);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < N; ++i) {
      std::vector<double> s(N);
      double m = -1e30, sum = 0;
      for (int j = 0; j < N; ++j) {
        double d = 0;
        for (int c = 0; c < C; ++c) d += double(q.frame(t)[c * N + i]) * k.frame(t)[c * N + j];
        s[j] = d / std::sqrt(double(C));
        m = std::max(m, s[j]);
      }
      for (auto& x : s) sum += (x = std::exp(x - m));
      for (int c = 0; c < C; ++c) {
        double acc = 0;
        for (int j = 0; j < N; ++j) acc += s[j] / sum * v.frame(t)[c * N + j];
        ASSERT_NEAR(out.frame(t)[c * N + i], acc, 1e-5);
      }
    }
}

TEST(OpsParity, TemporalAttentionIsCausal) {
  Act q = act(5, 4, 2, 3, 1), k = act(5, 4, 2, 3, 2), v = act(5, 4, 2, 3, 3), o1, o2;
  attention_temporal_causal(q, k, v, o1);
  // Changing the last frame's keys/values must not change earlier outputs.
  for (size_t i = 4 * k.frame_size(); i < k.v.size(); ++i) k.v[i] += 1.0f, v.v[i] -= 1.0f;
  attention_temporal_causal(q, k, v, o2);
  for (size_t i = 0; i < 4 * o1.frame_size(); ++i) ASSERT_EQ(o1.v[i], o2.v[i]);
  // Frame 0 attends only to itself: its output is v[0].
  attention_temporal_causal(q, k, v, o2);
  for (size_t i = 0; i < o2.frame_size(); ++i) ASSERT_NEAR(o2.v[i], v.v[i], 1e-6);
}

TEST(OpsParity, SiluMatchesDefinitionOverTheWholeRange) {
  // SiLU uses its own vectorisable exp: compare with the double-precision definition from
  // deep negative (exp overflow territory) to large positive inputs.
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-120.0f, 120.0f);
  Act x(1, 1, 1, 20000);
  for (auto& v : x.v) v = u(rng);
  for (float v : {0.0f, -0.0f, 1e-8f, -1e-8f, 87.5f, -87.5f, 88.7f, -88.7f, 1e4f, -1e4f}) x.v.push_back(v);
  x.W = static_cast<int>(x.v.size());
  Act y = x;
  silu_(y);
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double v = x.v[i], ref = v / (1.0 + std::exp(-v));
    ASSERT_NEAR(y.v[i], ref, 4e-7 * std::max(1.0, std::fabs(ref)) + 1e-30) << "x = " << v;
  }
}

TEST(OpsParity, GroupNormWithSiluEqualsTheTwoPasses) {
  Act x = act(2, 12, 7, 9, 13);
  std::vector<float> g = rnd(12, 14), b = rnd(12, 15);
  Act two = x, fused = x;
  group_norm_(two, g.data(), b.data(), 4);
  silu_(two);
  group_norm_(fused, g.data(), b.data(), 4, 1e-6f, true);
  for (size_t i = 0; i < two.v.size(); ++i) ASSERT_EQ(fused.v[i], two.v[i]) << i;
}

TEST(OpsParity, GroupNormMatchesDoublePrecisionDefinition) {
  // Per frame and group: (x - mean) / sqrt(var + eps) * gamma + beta, on inputs far from zero
  // mean (the statistics are taken relative to the group's first value, then combined in double).
  const int T = 3, C = 12, H = 6, W = 7, groups = 4, cpg = C / groups;
  Act x = act(T, C, H, W, 31);
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] = 100.0f + 3.0f * x.v[i];
  std::vector<float> g = rnd(C, 32), b = rnd(C, 33);
  Act y = x;
  group_norm_(y, g.data(), b.data(), groups);
  const size_t n = static_cast<size_t>(cpg) * H * W;
  for (int t = 0; t < T; ++t)
    for (int gr = 0; gr < groups; ++gr) {
      const float* p = x.frame(t) + gr * n;
      double s = 0, ss = 0;
      for (size_t i = 0; i < n; ++i) s += p[i];
      const double mean = s / n;
      for (size_t i = 0; i < n; ++i) ss += (p[i] - mean) * (p[i] - mean);
      const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
      for (size_t i = 0; i < n; ++i) {
        const int c = gr * cpg + static_cast<int>(i / (H * W));
        ASSERT_NEAR(y.frame(t)[gr * n + i], (p[i] - mean) * inv * g[c] + b[c], 2e-5) << t << " " << gr << " " << i;
      }
    }
}

TEST(OpsParity, ConvPrologueEqualsNormalizingFirst) {
  // A convolution given a norm (+SiLU) as prologue must compute exactly what normalizing the
  // tensor first and convolving it does: same float operations, zero padding after the norm.
  // Covers Winograd F(4x4) in one and in several chunks, the strided im2col path and 1x1.
  struct Case {
    int T, ci, co, H, W, k, stride, pad;
  };
  for (auto c : std::vector<Case>{{3, 16, 8, 13, 10, 3, 1, 1}, {8, 2048, 4, 15, 14, 3, 1, 1}, {2, 6, 5, 9, 8, 3, 2, 1},
                                  {2, 6, 5, 4, 5, 1, 1, 0}}) {
    Act x = act(c.T, c.ci, c.H, c.W, 41);
    for (auto& v : x.v) v = 2.0f * v + 0.7f;
    std::vector<float> g = rnd(c.ci, 42), b = rnd(c.ci, 43);
    auto w = rnd(static_cast<size_t>(c.co) * c.ci * c.k * c.k, 44), bias = rnd(c.co, 45);
    ConvW cw{w.data(), bias.data(), c.co, c.ci, 1, c.k, c.k};
    for (bool then_silu : {false, true}) {
      const ChannelAffine pre = group_norm_affine(x, g.data(), b.data(), c.ci % 2 ? 1 : 2, 1e-6f, then_silu);
      const int pb = c.stride == 2 ? 1 : c.pad, pt = c.stride == 2 ? 0 : c.pad;
      Act fused = conv2d(x, cw, c.stride, pt, pt, pb, pb, &pre);
      Act two = conv2d(apply_affine(x, pre), cw, c.stride, pt, pt, pb, pb);
      ASSERT_EQ(fused.v.size(), two.v.size());
      for (size_t i = 0; i < two.v.size(); ++i) ASSERT_EQ(fused.v[i], two.v[i]) << c.ci << " silu " << then_silu << " @" << i;
      if (c.k == 3 && c.stride == 1) {
        Act f4 = conv3x3_winograd_f4(x, cw, &pre), f4_two = conv3x3_winograd_f4(apply_affine(x, pre), cw);
        for (size_t i = 0; i < f4.v.size(); ++i) ASSERT_EQ(f4.v[i], f4_two.v[i]) << i;
      }
    }
  }
}

TEST(OpsParity, GroupNormPerFrame) {
  Act x = act(3, 8, 5, 4, 11);
  for (size_t i = 0; i < x.frame_size(); ++i) x.frame(1)[i] = x.frame(1)[i] * 10 + 3;  // frame 1 scaled
  std::vector<float> g(8, 1.0f), b(8, 0.0f);
  Act y = x;
  group_norm_(y, g.data(), b.data(), 1);
  for (int t = 0; t < 3; ++t) {
    double s = 0, ss = 0;
    for (size_t i = 0; i < y.frame_size(); ++i) s += y.frame(t)[i], ss += double(y.frame(t)[i]) * y.frame(t)[i];
    EXPECT_NEAR(s / y.frame_size(), 0.0, 1e-5);
    EXPECT_NEAR(ss / y.frame_size(), 1.0, 1e-3);
  }
}

}  // namespace
