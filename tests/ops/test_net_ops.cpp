// SPDX-License-Identifier: Apache-2.0
// The curation networks' ops on the CPU backend (the oracle the CUDA backend is held to)
// against their definitions written out as plain loops in double: the centred dilated temporal
// convolution between channel ranges with its BatchNorm and ReLU, the dense layer with bias,
// residual and ReLU, floor 2x2 pooling, per-frame means and ReLU with a residual. Random
// inputs; float32 sums of at most a few hundred terms agree with the double ones to 1e-5 of
// the largest value.
#include <gtest/gtest.h>

#include <cmath>
#include <array>
#include <random>

#include "../test_util.h"
#include "reel/core/backend.h"

namespace reel {
namespace {

std::vector<float> uniform(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

double max_abs(const Act& a) {
  double m = 0;
  for (float v : a.v) m = std::max(m, std::fabs(static_cast<double>(v)));
  return m;
}

TEST(NetOps, CentredDilatedTemporalConvolutionBetweenChannelRanges) {
  const auto be = make_backend(Device{}, 0);
  for (int T : {1, 5, 12})
    for (int d : {1, 2, 4, 8}) {
      SCOPED_TRACE("T " + std::to_string(T) + " dilation " + std::to_string(d));
      const int C_in = 10, in_c0 = 3, ci = 4, C_out = 9, out_c0 = 2, co = 5, kt = 3, H = 3, W = 5;
      const Act x = test::random_act(T, C_in, H, W, 7 * T + d);
      const auto w = uniform(static_cast<size_t>(co) * ci * kt, 11 + d), scale = uniform(co, 12, 0.5f, 2.0f),
                 shift = uniform(co, 13);
      Act before = test::random_act(T, C_out, H, W, 99);
      Tensor out = be->upload(before);
      const ConvWeights cw{be->weight(w.data(), w.size()), {}, co, ci, kt, 1, 1};
      const Backend::ChannelPost post{be->weight(scale.data(), co), be->weight(shift.data(), co), true};
      be->conv_time_into(be->upload(x), in_c0, cw, d, post, out, out_c0);
      const Act got = be->download(out);
      Act want = before;
      for (int t = 0; t < T; ++t)
        for (int o = 0; o < co; ++o)
          for (int p = 0; p < H * W; ++p) {
            double s = 0;
            for (int k = 0; k < kt; ++k) {
              const int src = t + (k - kt / 2) * d;
              if (src < 0 || src >= T) continue;
              for (int c = 0; c < ci; ++c)
                s += static_cast<double>(w[(static_cast<size_t>(o) * ci + c) * kt + k]) *
                     x.v[(static_cast<size_t>(src) * C_in + in_c0 + c) * H * W + p];
            }
            want.v[(static_cast<size_t>(t) * C_out + out_c0 + o) * H * W + p] = static_cast<float>(std::max(0.0, scale[o] * s + shift[o]));
          }
      const double bar = 1e-5 * max_abs(want);
      for (size_t i = 0; i < want.numel(); ++i) ASSERT_NEAR(got.v[i], want.v[i], bar) << i;  // other channels unchanged
    }
}

TEST(NetOps, DenseOverEachFrameWithBiasResidualAndRelu) {
  const auto be = make_backend(Device{}, 0);
  const int T = 7, C = 6, H = 3, W = 4, co = 9, K = C * H * W;
  const Act x = test::random_act(T, C, H, W, 1), add = test::random_act(T, co, 1, 1, 2);
  const auto w = uniform(static_cast<size_t>(co) * K, 3), b = uniform(co, 4);
  for (bool relu : {false, true}) {
    const Tensor r = be->upload(add);
    const Act got = be->download(be->dense(be->upload(x), be->weight(w.data(), w.size()), be->weight(b.data(), co), co, &r, relu));
    ASSERT_EQ(got.T, T);
    ASSERT_EQ(got.C, co);
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < co; ++o) {
        double s = b[o] + add.v[static_cast<size_t>(t) * co + o];
        for (int k = 0; k < K; ++k) s += static_cast<double>(w[static_cast<size_t>(o) * K + k]) * x.v[static_cast<size_t>(t) * K + k];
        if (relu) s = std::max(0.0, s);
        EXPECT_NEAR(got.v[static_cast<size_t>(t) * co + o], s, 1e-5 * std::sqrt(K)) << t << " " << o;
      }
  }
}

TEST(NetOps, PoolingMeansAndReluWithResidual) {
  const auto be = make_backend(Device{}, 0);
  const Act x = test::random_act(3, 4, 5, 7, 5), y = test::random_act(3, 4, 5, 7, 6);
  const Act pooled = be->download(be->avg_pool2(be->upload(x)));
  ASSERT_EQ(pooled.H, 2);  // the odd last row and column are dropped
  ASSERT_EQ(pooled.W, 3);
  for (int pc = 0; pc < 12; ++pc)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 3; ++w) {
        const float* s = x.v.data() + static_cast<size_t>(pc) * 35 + 2 * h * 7 + 2 * w;
        EXPECT_FLOAT_EQ(pooled.v[static_cast<size_t>(pc) * 6 + h * 3 + w], 0.25f * (s[0] + s[1] + s[7] + s[8]));
      }
  const Act mean = be->download(be->spatial_mean(be->upload(x)));
  ASSERT_EQ(mean.numel(), 12u);
  for (int pc = 0; pc < 12; ++pc) {
    double s = 0;
    for (int p = 0; p < 35; ++p) s += x.v[static_cast<size_t>(pc) * 35 + p];
    EXPECT_NEAR(mean.v[pc], s / 35, 1e-7);
  }
  Tensor a = be->upload(x);
  be->relu_add_(a, be->upload(y));
  const Act got = be->download(a);
  for (size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(got.v[i], std::max(0.0f, x.v[i]) + y.v[i]);
  Tensor r = be->upload(x);
  be->relu_(r);
  const Act rr = be->download(r);
  for (size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(rr.v[i], std::max(0.0f, x.v[i]));
}

// ResNet's stem pools 3x3 at stride 2 with TensorFlow's SAME padding (one row and column after
// the frame); the mean counts only the window's values inside the frame.
TEST(NetOps, PoolingWindowsWithPadding) {
  const auto be = make_backend(Device{}, 0);
  const Act x = test::random_act(2, 3, 6, 7, 21);
  for (bool max : {true, false})
    for (auto [k, stride, pt, pl, pb, pr] : std::vector<std::array<int, 6>>{{3, 2, 0, 0, 1, 1}, {3, 1, 1, 2, 1, 0}, {6, 1, 0, 0, 0, 0}}) {
      SCOPED_TRACE(std::string(max ? "max" : "mean") + " k " + std::to_string(k) + " stride " + std::to_string(stride));
      const Act got = be->download(be->pool2d(be->upload(x), max, k, stride, pt, pl, pb, pr));
      const int Ho = (6 + pt + pb - k) / stride + 1, Wo = (7 + pl + pr - k) / stride + 1;
      ASSERT_EQ(got.H, Ho);
      ASSERT_EQ(got.W, Wo);
      for (int pc = 0; pc < 6; ++pc)
        for (int oy = 0; oy < Ho; ++oy)
          for (int ox = 0; ox < Wo; ++ox) {
            double best = -1e30, sum = 0;
            int n = 0;
            for (int dy = 0; dy < k; ++dy)
              for (int dx = 0; dx < k; ++dx) {
                const int iy = oy * stride - pt + dy, ix = ox * stride - pl + dx;
                if (iy < 0 || iy >= 6 || ix < 0 || ix >= 7) continue;
                const double v = x.v[static_cast<size_t>(pc) * 42 + iy * 7 + ix];
                best = std::max(best, v), sum += v, ++n;
              }
            EXPECT_NEAR(got.v[(static_cast<size_t>(pc) * Ho + oy) * Wo + ox], max ? best : sum / n, 1e-6) << pc << " " << oy << " " << ox;
          }
    }
}

}  // namespace
}  // namespace reel
