// SPDX-License-Identifier: Apache-2.0
// Clip writing: stream-copied clips hold exactly the source frames of their (keyframe-
// aligned) span, re-encoded clips start on the requested frame, ids are deterministic and
// a re-run skips complete clips.
#include <gtest/gtest.h>

#include <filesystem>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/io/uuid.h"
#include "reel/media/clip_writer.h"
#include "reel/media/decoder.h"

namespace fs = std::filesystem;
using namespace reel;

using test::video;

namespace {


std::vector<std::vector<uint8_t>> gray_frames(const std::string& path, int width = 96) {
  DecodeOptions o;
  o.format = PixelFormat::GRAY8;
  o.out_width = width;
  o.out_height = width * 9 / 16 / 2 * 2;
  auto d = VideoDecoder::open(path, o);
  std::vector<std::vector<uint8_t>> out;
  Frame f;
  while (d->next(&f)) out.push_back(f.data);
  return out;
}

double mse(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s / a.size();
}

// Index of the source frame nearest to `f` among frames around `near` (off-by-a-few
// errors are what this catches; far-apart frames of a test card can look alike).
int nearest(const std::vector<std::vector<uint8_t>>& src, const std::vector<uint8_t>& f, int near) {
  int best = -1;
  double bm = 1e30;
  for (size_t i = std::max(0, near - 6); i < std::min<size_t>(src.size(), near + 7); ++i) {
    double m = mse(src[i], f);
    if (m < bm) bm = m, best = static_cast<int>(i);
  }
  return best;
}

TEST(Split, ExactReencodeStartsOnTheRequestedFrame) {
  // The SMPTE card's burned-in timecode makes every frame distinct.
  const std::string src = video("moviepy_smpte-2997.mp4");
  auto scan = detect_scenes(src, SceneOptions{});
  auto src_frames = gray_frames(src, 320);
  auto dir = test::temp_dir("exact");
  for (auto [s, e] : std::vector<std::pair<int, int>>{{0, 10}, {37, 61}, {113, 140}, {240, 251}}) {
    SCOPED_TRACE(std::to_string(s));
    auto out = dir / ("c" + std::to_string(s) + ".mp4");
    auto r = write_clip_encode(src, scan, s, e, EncodeOptions{}, out);
    EXPECT_EQ(r.start, s);
    EXPECT_EQ(r.end, e);
    auto clip = gray_frames(out.string(), 320);
    ASSERT_EQ(static_cast<int>(clip.size()), e - s);
    // The card repeats some frames, so the requested frame must be among the nearest.
    const int a = nearest(src_frames, clip.front(), s), b = nearest(src_frames, clip.back(), e - 1);
    EXPECT_LE(mse(clip.front(), src_frames[s]), mse(clip.front(), src_frames[a]) + 0.5);
    EXPECT_LE(mse(clip.back(), src_frames[e - 1]), mse(clip.back(), src_frames[b]) + 0.5);
    if (s > 0) {
      EXPECT_LT(mse(clip.front(), src_frames[s]), mse(clip.front(), src_frames[s - 1]) + 1e-9);
    }
  }
  fs::remove_all(dir);
}

TEST(Split, CounterVideoExactFrames) {
  const std::string src = video("pyscenedetect_counter.mp4");
  auto scan = detect_scenes(src, SceneOptions{});
  ASSERT_EQ(scan.frames, 30);
  auto src_frames = gray_frames(src, 192);
  auto dir = test::temp_dir("counter");
  for (int s : {3, 11, 26}) {
    auto out = dir / ("c" + std::to_string(s) + ".mp4");
    write_clip_encode(src, scan, s, s + 4, EncodeOptions{}, out);
    auto clip = gray_frames(out.string(), 192);
    ASSERT_EQ(clip.size(), 4u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(nearest(src_frames, clip[i], s + i), s + i);
  }
  fs::remove_all(dir);
}

TEST(Split, StreamCopyIsBitExactOnWholeGops) {
  const std::string src = video("deb_kivy_cityCC0.mpg");
  auto scan = detect_scenes(src, SceneOptions{});
  auto src_frames = gray_frames(src);
  auto dir = test::temp_dir("copy");
  for (auto [s, e] : std::vector<std::pair<int, int>>{{0, 116}, {116, 190}, {20, 150}}) {
    auto [k0, k1] = copy_span(scan.frame_meta, s, e);
    ASSERT_LT(k0, k1);
    EXPECT_TRUE(scan.frame_meta[k0].key);
    EXPECT_GE(k0, s);
    EXPECT_LE(k1, e);
    auto out = dir / ("c" + std::to_string(s) + ".mp4");
    auto r = write_clip_copy(src, scan, s, e, out);
    EXPECT_EQ(r.start, k0);
    EXPECT_EQ(r.end, k1);
    auto clip = gray_frames(out.string());
    ASSERT_EQ(static_cast<int64_t>(clip.size()), k1 - k0);
    for (size_t i = 0; i < clip.size(); ++i) ASSERT_EQ(mse(clip[i], src_frames[k0 + i]), 0.0) << "frame " << i;
  }
  fs::remove_all(dir);
}

// The cockatoo sample has IDR frames at 0, 76 and 145 and plain I-frames at 156 and 160: a copy
// may only start and stop at the IDRs. (Counting the I-frames as keyframes once made [145, 160)
// a "whole GOP" whose copy never met a sync sample at 160 and ran on to the end: 135 frames in a
// clip whose record said 15.)
TEST(Split, StreamCopyStartsAndStopsOnlyAtRandomAccessPoints) {
  const std::string src = video("deb_imageio_cockatoo.mp4");
  auto scan = detect_scenes(src, SceneOptions{});
  std::vector<int64_t> keys;
  for (size_t i = 0; i < scan.frame_meta.size(); ++i)
    if (scan.frame_meta[i].key) keys.push_back(static_cast<int64_t>(i));
  EXPECT_EQ(keys, (std::vector<int64_t>{0, 76, 145}));
  auto dir = test::temp_dir("copy_idr");
  EXPECT_THROW(write_clip_copy(src, scan, 145, 200, dir / "none.mp4"), Error);  // no IDR after 145 before 200
  auto r = write_clip_copy(src, scan, 70, 150, dir / "gop.mp4");
  EXPECT_EQ(r.start, 76);
  EXPECT_EQ(r.end, 145);
  EXPECT_EQ(static_cast<int64_t>(gray_frames((dir / "gop.mp4").string()).size()), 145 - 76);
  fs::remove_all(dir);
}

TEST(Split, CopySpanShrinksInwardToKeyframes) {
  using P = std::pair<int64_t, int64_t>;
  std::vector<FrameMeta> f(40);
  for (int i = 0; i < 40; i += 12) f[i].key = true;  // keyframes 0, 12, 24, 36
  EXPECT_EQ(copy_span(f, 0, 40), P(0, 40));
  EXPECT_EQ(copy_span(f, 1, 30), P(12, 24));
  EXPECT_EQ(copy_span(f, 12, 36), P(12, 36));
  auto none = copy_span(f, 13, 23);
  EXPECT_GE(none.first, none.second);
}

TEST(Split, ClipIdsAreDeterministicUuidV5) {
  // RFC 4122 appendix-style check with the DNS namespace.
  EXPECT_EQ(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  EXPECT_EQ(uuid_v5(kReelClipNamespace, "a#0-10"), uuid_v5(kReelClipNamespace, "a#0-10"));
  EXPECT_NE(uuid_v5(kReelClipNamespace, "a#0-10"), uuid_v5(kReelClipNamespace, "a#0-11"));
}

}  // namespace
