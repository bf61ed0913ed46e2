// SPDX-License-Identifier: Apache-2.0
// MotionScorer paints and sums per cell of the blocks' common grid; here it is checked against
// the definition done the plain way (a dense flow field painted per pixel, |flow| / (W + H) per
// pixel, summed) on random vectors: aligned and unaligned blocks, blocks that overlap (later
// ones win), blocks cut by the frame edge or lying outside it, and a clip whose grid gets finer
// partway through.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reel/filter/motion.h"

using namespace reel;

namespace {

struct Reference {  // the scorer's definition, per pixel
  int w, h, frames = 0;
  double total = 0;
  std::vector<double> sum;
  Reference(int w_, int h_) : w(w_), h(h_), sum(static_cast<size_t>(w_) * h_, 0.0) {}
  void push(const std::vector<MotionVector>& mvs) {
    std::vector<float> fx(sum.size(), 0.f), fy(sum.size(), 0.f);
    for (const MotionVector& mv : mvs) {
      const float vx = -static_cast<float>(mv.motion_x) / mv.motion_scale, vy = -static_cast<float>(mv.motion_y) / mv.motion_scale;
      for (int y = std::max(0, mv.dst_y - mv.h / 2); y < std::min(h, mv.dst_y - mv.h / 2 + mv.h); ++y)
        for (int x = std::max(0, mv.dst_x - mv.w / 2); x < std::min(w, mv.dst_x - mv.w / 2 + mv.w); ++x)
          fx[static_cast<size_t>(y) * w + x] = vx, fy[static_cast<size_t>(y) * w + x] = vy;
    }
    for (size_t p = 0; p < sum.size(); ++p) {
      const double m = std::sqrt(double(fx[p]) * fx[p] + double(fy[p]) * fy[p]) / (w + h);
      sum[p] += m;
      total += m;
    }
    ++frames;
  }
  double global_mean() const { return total / (static_cast<double>(frames) * sum.size()); }
  double box_min(int p) const {  // the minimum over whole p x p patches of the temporal mean
    double best = 1e300;
    for (int py = 0; py + p <= h; py += p)
      for (int px = 0; px + p <= w; px += p) {
        double s = 0;
        for (int y = py; y < py + p; ++y)
          for (int x = px; x < px + p; ++x) s += sum[static_cast<size_t>(y) * w + x];
        best = std::min(best, s / (static_cast<double>(p) * p * frames));
      }
    return best;
  }
};

// Blocks on a grid of `g` pixels tiling the (macroblock-padded) frame, some split in two
// vectors (bi-predicted), some missing (intra), plus `stray` blocks anywhere at any size.
std::vector<MotionVector> random_vectors(std::mt19937& rng, int w, int h, int g, int stray) {
  std::vector<MotionVector> mvs;
  std::uniform_int_distribution<int> mv(-64, 64), coin(0, 9);
  for (int y = 0; y < h + 16; y += g)
    for (int x = 0; x < w + 16; x += g) {
      if (coin(rng) == 0) continue;
      const int n = coin(rng) < 3 ? 2 : 1;
      for (int k = 0; k < n; ++k)
        mvs.push_back({static_cast<int16_t>(g), static_cast<int16_t>(g), static_cast<int16_t>(x + g / 2),
                       static_cast<int16_t>(y + g / 2), mv(rng), mv(rng), static_cast<uint16_t>(coin(rng) < 5 ? 4 : 2),
                       static_cast<int8_t>(k ? 1 : -1)});
    }
  std::uniform_int_distribution<int> px(-20, w + 20), py(-20, h + 20), size(1, 37);
  for (int k = 0; k < stray; ++k)
    mvs.push_back({static_cast<int16_t>(size(rng)), static_cast<int16_t>(size(rng)), static_cast<int16_t>(px(rng)),
                   static_cast<int16_t>(py(rng)), mv(rng), mv(rng), 4, -1});
  return mvs;
}

void expect_same(const std::vector<std::vector<MotionVector>>& clip, int w, int h) {
  MotionScorer scorer(2.0, 100.0);  // fps 2: every frame is sampled
  Reference ref(w, h);
  for (const auto& mvs : clip) {
    Frame f;
    f.coded_width = w, f.coded_height = h, f.pict_type = 'P', f.motion_vectors = mvs;
    scorer.push(f);
    ref.push(mvs);
  }
  const MotionScores s = scorer.finish();
  ASSERT_EQ(s.frames, ref.frames);
  // Both sum the same per-pixel doubles; only the order of the global sum differs.
  EXPECT_NEAR(s.global_mean, ref.global_mean(), 1e-12 * ref.global_mean());
  EXPECT_NEAR(s.per_patch_min_256_box, ref.box_min(256), 1e-6 * ref.box_min(256) + 1e-12);
}

}  // namespace

TEST(MotionGrid, AlignedBlocksMatchThePerPixelDefinition) {
  std::mt19937 rng(7);
  for (int g : {16, 8, 4}) {
    std::vector<std::vector<MotionVector>> clip;
    for (int i = 0; i < 3; ++i) clip.push_back(random_vectors(rng, 642, 362, g, 0));
    expect_same(clip, 642, 362);  // neither side a multiple of the grid: cut cells at the edge
  }
}

TEST(MotionGrid, UnalignedAndOverlappingBlocksMatch) {
  std::mt19937 rng(11);
  std::vector<std::vector<MotionVector>> clip;
  for (int i = 0; i < 3; ++i) clip.push_back(random_vectors(rng, 512, 300, 16, 40));
  expect_same(clip, 512, 300);
}

TEST(MotionGrid, AGridThatGetsFinerPartwayMatches) {
  std::mt19937 rng(13);
  const std::vector<std::vector<MotionVector>> clip = {random_vectors(rng, 600, 340, 16, 0), random_vectors(rng, 600, 340, 8, 0),
                                                       random_vectors(rng, 600, 340, 16, 0), random_vectors(rng, 600, 340, 4, 3)};
  expect_same(clip, 600, 340);
}
