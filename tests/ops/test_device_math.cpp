// SPDX-License-Identifier: Apache-2.0
// The per-element arithmetic the CPU operators and the CUDA kernels share
// (lib/src/backend/device_math.h), checked on the host: what passes here is what the kernels
// compute, device or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>

#include "backend/device_math.h"
#include "reel/model/ops.h"

namespace reel {
namespace {

TEST(DeviceMath, ReflectIndex) {
  EXPECT_EQ(dm::refl(0, 4), 0);
  EXPECT_EQ(dm::refl(3, 4), 3);
  EXPECT_EQ(dm::refl(4, 4), 2);  // one past the end reflects about the last sample
  EXPECT_EQ(dm::refl(1, 1), 0);
  EXPECT_EQ(dm::refl(2, 2), 0);
}

// The subbands of a block are its signed sums; the same map with scale 1 gives the block back.
TEST(DeviceMath, HaarBlockIsItsOwnInverse) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  float x[8], s[8], back[8];
  for (float& v : x) v = u(rng);
  dm::haar_block<8>(x, 0.125f, s);
  float low = 0, high_t = 0;
  for (int d = 0; d < 8; ++d) low += x[d] / 8, high_t += ((d >> 2) ? -x[d] : x[d]) / 8;
  EXPECT_NEAR(s[0], low, 1e-6f);     // subband 0: the mean
  EXPECT_NEAR(s[4], high_t, 1e-6f);  // subband 4 (t high, h and w low): sign on the odd frame
  dm::haar_block<8>(s, 1.0f, back);
  for (int d = 0; d < 8; ++d) EXPECT_NEAR(back[d], x[d], 1e-6f) << d;
  float y[4], s4[4], b4[4];
  for (float& v : y) v = u(rng);
  dm::haar_block<4>(y, 0.25f, s4);
  dm::haar_block<4>(s4, 1.0f, b4);
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(b4[d], y[d], 1e-6f) << d;
  const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  dm::haar_block<8>(ones, 0.125f, s);
  EXPECT_EQ(s[0], 1.0f);
  for (int k = 1; k < 8; ++k) EXPECT_EQ(s[k], 0.0f) << k;
}

// FSQ levels: integers in [-L/2, L/2 - (L even)], monotone in v, and the reference's float32
// expression (tanh, then round half to even) value for value.
TEST(DeviceMath, FsqLevelIsTheReferenceQuantiser) {
  for (int L : {8, 5, 7, 4}) {
    const dm::FsqAxis a = dm::fsq_axis(L);
    EXPECT_FLOAT_EQ(a.half_l, (L - 1) * 1.001f / 2);
    EXPECT_EQ(a.offset, L % 2 == 0 ? 0.5f : 0.0f);
    float prev = -1e9f;
    for (int i = -4000; i <= 4000; ++i) {
      const float v = i * 0.0025f;
      const float q = dm::fsq_level(v, a);
      ASSERT_EQ(q, std::nearbyint(std::tanh(v + a.shift) * a.half_l - a.offset)) << "L " << L << " v " << v;
      ASSERT_EQ(q, std::floor(q));
      ASSERT_GE(q, prev);
      prev = q;
    }
    EXPECT_EQ(dm::fsq_level(-10, a), -(L / 2));
    EXPECT_EQ(dm::fsq_level(10, a), L / 2 - (L % 2 == 0 ? 1 : 0));
  }
}

TEST(DeviceMath, Bfloat16RoundsToNearestEven) {
  EXPECT_EQ(dm::float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(dm::float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // halfway: to the even 1.0
  EXPECT_EQ(dm::float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // halfway: to the even 0x3F82
  EXPECT_EQ(dm::float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -9)), 0x3F81);  // past halfway: up
  EXPECT_TRUE(std::isnan(dm::bf16_to_float(dm::float_to_bf16(std::nanf("")))));
  // Every bf16 value survives the round trip through float32.
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = dm::bf16_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(dm::float_to_bf16(f), h) << std::hex << h;
  }
}

TEST(DeviceMath, Silu) {
  EXPECT_EQ(dm::silu(0), 0.0f);
  EXPECT_NEAR(dm::silu(1), 1 / (1 + std::exp(-1.0f)), 1e-7f);
  EXPECT_NEAR(dm::silu(30), 30.0f, 1e-5f);
  EXPECT_NEAR(dm::silu(-30), 0.0f, 1e-10f);
}

// The CUDA backend's causal convolution is two GEMM batches: a copied head for the first j0
// outputs and x in place for the rest. Every output must read exactly the frames the
// definition names (causal_tap_frame), for the shapes the tokenizer uses and odd ones.
TEST(DeviceMath, CausalConvolutionSplitReadsTheDefinedFrames) {
  for (int T = 1; T <= 12; ++T)
    for (int kt : {1, 2, 3, 4})
      for (int stride : {1, 2, 3})
        for (int pad = 0; pad <= kt; ++pad) {
          if (T + pad < kt) continue;
          const int To = (T + pad - kt) / stride + 1;
          int j0 = 0, head = 0;
          dm::causal_conv_split(To, stride, pad, kt, &j0, &head);
          ASSERT_LE(j0, To);
          for (int j = 0; j < To; ++j)
            for (int k = 0; k < kt; ++k) {
              const int want = std::min(dm::causal_tap_frame(j, k, stride, pad), T - 1);
              int got;
              if (j < j0) {
                const int i = j * stride + k;  // row of the head
                ASSERT_LT(i, head);
                got = dm::causal_head_frame(i, pad, T);
              } else {
                got = j * stride - pad + k;  // x in place
                ASSERT_GE(got, 0);
                ASSERT_LT(got, T);
              }
              ASSERT_EQ(got, want) << "T " << T << " kt " << kt << " stride " << stride << " pad " << pad << " j " << j << " k " << k;
            }
        }
}

// The causal attention kernel's per-pixel function against the CPU operator.
TEST(DeviceMath, CausalAttentionPixelIsTheCpuOperator) {
  for (auto [T, C, H, W] : std::vector<std::array<int, 4>>{{5, 16, 3, 4}, {1, 8, 2, 2}, {9, 32, 2, 3}}) {
    Act q(T, C, H, W), k(T, C, H, W), v(T, C, H, W);
    std::mt19937 rng(T * 7 + C);
    std::uniform_real_distribution<float> u(-2, 2);
    for (Act* a : {&q, &k, &v})
      for (auto& x : a->v) x = u(rng);
    Act ref;
    attention_temporal_causal(q, k, v, ref);
    Act got(T, C, H, W);
    const long HW = static_cast<long>(H) * W, ts = C * HW;
    for (long p = 0; p < HW; ++p) {
      auto ld = [&](const Act& a) { return [&a, p, ts, HW](int t, int c) { return a.v[t * ts + c * HW + p]; }; };
      auto st = [&](int t, int c, float val) { got.v[t * ts + c * HW + p] = val; };
      dm::causal_attention_pixel(ld(q), ld(k), ld(v), st, T, C, 1.0f / std::sqrt(static_cast<float>(C)));
    }
    for (size_t i = 0; i < ref.v.size(); ++i) ASSERT_NEAR(got.v[i], ref.v[i], 2e-6f) << i;
  }
}

// The FSQ codebook functions both kernels and the CPU run: a code round-trips through its id.
TEST(DeviceMath, FsqEncodeDecodeRoundTrip) {
  const int levels[6] = {8, 8, 8, 5, 5, 5};
  dm::FsqCodebook cb;
  ASSERT_TRUE(dm::fsq_codebook(levels, 6, &cb));
  EXPECT_FALSE(dm::fsq_codebook(levels, 17, &cb));
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-3, 3);
  for (int n = 0; n < 2000; ++n) {
    float z[6], codes[6], back[6];
    for (float& x : z) x = u(rng);
    const int64_t idx = dm::fsq_encode(z, 1, cb, codes);
    ASSERT_GE(idx, 0);
    ASSERT_LT(idx, 8 * 8 * 8 * 5 * 5 * 5);
    dm::fsq_decode(idx, cb, back, 1);
    for (int i = 0; i < 6; ++i) ASSERT_EQ(back[i], codes[i]) << n << " axis " << i;
  }
}

}  // namespace
}  // namespace reel
