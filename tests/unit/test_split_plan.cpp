// SPDX-License-Identifier: Apache-2.0
// Span planning of reel split on synthetic timelines.
#include <gtest/gtest.h>

#include "reel/stages/split_plan.h"

using namespace reel;

namespace {

using Span = std::pair<int64_t, int64_t>;

// A constant-rate timeline: `frames` frames at `fps`, time base 1/fps.
SceneResult timeline(int64_t frames, int fps) {
  SceneResult s;
  s.frames = frames;
  s.info.tb_num = 1;
  s.info.tb_den = fps;
  s.info.fps = fps;
  for (int64_t i = 0; i < frames; ++i) s.frame_meta.push_back({i + 7, i % 25 == 0});  // first PTS 7
  s.first_pts = 7;
  s.duration_s = static_cast<double>(frames) / fps;
  return s;
}

int64_t covered(const std::vector<std::pair<int64_t, int64_t>>& spans) {
  int64_t n = 0;
  for (auto [a, b] : spans) n += b - a;
  return n;
}

TEST(SplitPlan, StrideKeepsAShortLastWindowOfAtLeastMinLen) {
  // 628 frames at 25 fps = 25.12 s; 4 s windows: six full ones and 1.12 s left over.
  const SceneResult s = timeline(628, 25);
  SpanPlan p{"stride", 4, 4, 1, 0, 0};
  auto spans = plan_spans(s, {}, p);
  ASSERT_EQ(spans.size(), 7u);
  EXPECT_EQ(covered(spans), 628);  // nothing lost
  EXPECT_EQ(spans.back(), (Span{600, 628}));
  p.min_len = 2;  // the 1.12 s tail is shorter than --min-len: dropped
  spans = plan_spans(s, {}, p);
  ASSERT_EQ(spans.size(), 6u);
  EXPECT_EQ(covered(spans), 600);
  // Overlapping windows (stride 2): the last window reaches the end.
  spans = plan_spans(s, {}, SpanPlan{"stride", 4, 2, 1, 0, 0});
  EXPECT_EQ(spans.back().second, 628);
  EXPECT_EQ(spans.size(), 12u);
  // Exact multiple: no empty or duplicate tail.
  spans = plan_spans(timeline(100, 25), {}, SpanPlan{"stride", 1, 1, 0, 0, 0});
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(covered(spans), 100);
}

TEST(SplitPlan, ScenesAreCutAtCutsCroppedAndLimited) {
  const SceneResult s = timeline(250, 25);  // 10 s
  SpanPlan p;
  auto spans = plan_spans(s, {100, 110, 200}, p);
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[1], (Span{100, 110}));
  p.min_len = 1;  // the 0.4 s shot goes
  EXPECT_EQ(plan_spans(s, {100, 110, 200}, p).size(), 3u);
  p.crop = 0.2;   // 5 frames off each end of every shot
  spans = plan_spans(s, {100, 110, 200}, p);
  EXPECT_EQ(spans[0], (Span{5, 95}));
  p = SpanPlan{};
  p.max_len = 3;  // a 4 s shot in pieces of at most 3 s; the 1 s rest kept
  spans = plan_spans(s, {100}, p);
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0], (Span{0, 75}));
  EXPECT_EQ(spans[1], (Span{75, 100}));
  // Cuts out of range or out of order are ignored.
  EXPECT_EQ(plan_spans(s, {0, 300, 50, 40}, SpanPlan{}).size(), 2u);
}

}  // namespace

namespace {

// The timeline a scan stopped by `enough` would have seen.
SceneResult scanned(int64_t frames, int fps, const std::function<bool(int64_t, double)>& enough) {
  SceneResult full = timeline(frames, fps);
  if (!enough) return full;
  for (int64_t n = 1; n <= frames; ++n) {
    if (enough(n, static_cast<double>(n - 1) / fps)) {
      SceneResult s = timeline(n, fps);
      s.partial = n < frames;
      s.duration_s = static_cast<double>(n) / fps;
      return s;
    }
  }
  return full;
}

TEST(SplitPlan, MaxClipsPlansTheFirstClipsFromTheStartOfTheVideoAlone) {
  SpanPlan p{"stride", 2, 2, 0, 0, 0};
  p.max_clips = 2;
  const auto all = plan_spans(timeline(1500, 25), {}, SpanPlan{"stride", 2, 2, 0, 0, 0});
  const SceneResult part = scanned(1500, 25, enough_for(p, {}));
  ASSERT_TRUE(part.partial);
  EXPECT_LT(part.frames, 110);  // 4 s and one frame of a 60 s video
  const auto first = plan_spans(part, {}, p);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], all[0]);
  EXPECT_EQ(first[1], all[1]);

  // Shots from upstream cuts: the scan reaches just past the second cut.
  SpanPlan q{"scenes", 0, 0, 0, 0, 0};
  q.max_clips = 2;
  const std::vector<int64_t> cuts = {80, 300, 900};
  const SceneResult part2 = scanned(1500, 25, enough_for(q, cuts));
  ASSERT_TRUE(part2.partial);
  EXPECT_EQ(part2.frames, 302);
  EXPECT_EQ(plan_spans(part2, cuts, q), (std::vector<Span>{{0, 80}, {80, 300}}));
  // A cut out of order is ignored by the plan, and so by the early stop.
  const std::vector<int64_t> shuffled = {300, 80, 900};
  const SceneResult part3 = scanned(1500, 25, enough_for(q, shuffled));
  EXPECT_EQ(part3.frames, 902);
  EXPECT_EQ(plan_spans(part3, shuffled, q), (std::vector<Span>{{0, 300}, {300, 900}}));
  // Fewer cuts than clips asked for: no early stop.
  EXPECT_FALSE(enough_for(q, {80}));
  EXPECT_FALSE(enough_for(SpanPlan{"stride", 2, 2, 0, 0, 0}, {}));
}

TEST(SplitPlan, APartialScanNeverTrustsASpanEndingAtItsLastFrame) {
  SceneResult s = timeline(100, 25);
  s.partial = true;
  // The last shot [60, 100) only ends where the scan stopped.
  EXPECT_EQ(plan_spans(s, {60}, SpanPlan{"scenes", 0, 0, 0, 0, 0}), (std::vector<Span>{{0, 60}}));
  s.partial = false;
  EXPECT_EQ(plan_spans(s, {60}, SpanPlan{"scenes", 0, 0, 0, 0, 0}), (std::vector<Span>{{0, 60}, {60, 100}}));
}

}  // namespace
