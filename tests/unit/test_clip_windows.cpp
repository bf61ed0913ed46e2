// SPDX-License-Identifier: Apache-2.0
// Causal windows are independent: encoding a clip window by window (what reel eval's round
// trip does to hold one window in memory) gives exactly the latents of the whole clip.
#include <gtest/gtest.h>

#include <random>

#include "../test_util.h"
#include "reel/model/pipeline.h"

using namespace reel;

namespace {

TEST(ClipWindows, WindowByWindowEqualsWholeClip) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 4);
  const int w = 40, h = 24, frames = 40, window = 17;  // windows of 17, 17 and 6 (padded to 9)
  const auto clip = test::random_clip(frames, w, h, 3);
  ClipEncoder whole(*tok, w, h, window);
  for (const auto& f : clip) whole.push(f.data());
  const ClipLatents all = whole.finish();
  ASSERT_EQ(all.window_frames, (std::vector<int>{17, 17, 6}));
  const size_t plane = static_cast<size_t>(all.lat_h) * all.lat_w;
  int t0 = 0;
  for (int start = 0; start < frames; start += window) {
    ClipEncoder part(*tok, w, h, window);
    for (int i = start; i < std::min(frames, start + window); ++i) part.push(clip[i].data());
    const ClipLatents p = part.finish();
    ASSERT_EQ(p.channels, all.channels);
    for (int c = 0; c < p.channels; ++c)
      for (int t = 0; t < p.latent_t(); ++t)
        for (size_t i = 0; i < plane; ++i)
          ASSERT_EQ(p.latent[(static_cast<size_t>(c) * p.latent_t() + t) * plane + i],
                    all.latent[(static_cast<size_t>(c) * all.latent_t() + t0 + t) * plane + i])
              << "window at " << start << ", channel " << c << ", latent frame " << t;
    t0 += p.latent_t();
  }
  EXPECT_EQ(t0, all.latent_t());
}

}  // namespace
