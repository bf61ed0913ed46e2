// SPDX-License-Identifier: Apache-2.0
// reel run's shared frames: planners per consumer, take once, the memory cap drops the oldest.
#include <gtest/gtest.h>

#include "reel/pipeline/frame_share.h"

namespace reel {
namespace {

FrameShare::Shared frames_of(size_t count, size_t bytes) {
  FrameShare::Shared s;
  for (size_t i = 0; i < count; ++i) {
    Frame f;
    f.index = static_cast<int64_t>(i);
    f.data.assign(bytes, static_cast<uint8_t>(i));
    s.frames.push_back(std::move(f));
    s.indices.push_back(static_cast<int64_t>(i));
  }
  return s;
}

TEST(FrameShare, PlannersTakeOnceAndTheCapDropsTheOldest) {
  FrameShare share(1000);
  const int a = share.add_consumer("embed", [](const VideoInfo& info, const nlohmann::json&) -> std::optional<FrameShare::Want> {
    return FrameShare::Want{DecodeOptions{}, {0, info.width}};
  });
  const int b = share.add_consumer("caption", [](const VideoInfo&, const nlohmann::json& r) -> std::optional<FrameShare::Want> {
    if (r.value("skip", false)) return std::nullopt;
    return FrameShare::Want{DecodeOptions{}, {}};  // nothing wanted: not planned
  });
  VideoInfo info;
  info.width = 7;
  auto plan = share.plan(info, nlohmann::json::object());
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].first, a);
  EXPECT_EQ(plan[0].second.indices, (std::vector<int64_t>{0, 7}));

  share.put("x.mp4", a, frames_of(2, 300));  // 600 bytes
  share.put("y.mp4", a, frames_of(1, 300));  // 900
  share.put("z.mp4", a, frames_of(1, 300));  // over 1000: x goes
  FrameShare::Shared got;
  EXPECT_FALSE(share.take("x.mp4", a, &got));
  ASSERT_TRUE(share.take("y.mp4", a, &got));
  EXPECT_EQ(got.frames.size(), 1u);
  EXPECT_FALSE(share.take("y.mp4", a, &got));  // once
  EXPECT_FALSE(share.take("z.mp4", b, &got));  // another consumer's slot
  share.put("big.mp4", a, frames_of(4, 300));  // larger than the cap: not kept
  EXPECT_FALSE(share.take("big.mp4", a, &got));
  ASSERT_TRUE(share.take("z.mp4", a, &got));
  EXPECT_EQ(share.summary(), "embed: 2 of 5 clips from the shared decode; caption: 0 of 1 clips from the shared decode");
}

}  // namespace
}  // namespace reel
