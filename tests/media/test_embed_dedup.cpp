// SPDX-License-Identifier: Apache-2.0
// reel embed + reel dedup on real clips: distinct sample videos plus planted copies of some
// (an x264 CRF 35 re-encode at 0.75 scale, a 90% centre crop, a 30 -> 15 fps change). Every
// planted copy is removed, no distinct clip is; records without a usable embedding become
// error records; a killed embed run resumes to the same file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/io/h5.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;
using test::reel_cmd;
using test::video;

namespace {

class EmbedDedup : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::temp_dir("embdedup"));
    auto ff = [](const std::string& args) { ASSERT_EQ(test::ffmpeg_in(*dir_, args).code, 0) << args; };
    const std::string x264 = " -c:v libx264 -preset veryfast -pix_fmt yuv420p -an ";
    const char* names[] = {"deb_imageio_cockatoo.mp4", "deb_kivy_cityCC0.mpg", "intel_asl_book.mkv", "moviepy_fire2.mp4",
                           "moviepy_video_with_failing_audio.mp4", "deb_opencv_vtest_12s.avi"};
    for (int i = 0; i < 6; ++i)
      ff("-i " + q(video(names[i])) + " -t 4 -vf \"scale=trunc(iw/2)*2:trunc(ih/2)*2\"" + x264 + "-crf 18 d" + std::to_string(i) + ".mp4");
    ff("-i d0.mp4 -vf \"scale=trunc(iw*0.75/2)*2:trunc(ih*0.75/2)*2\"" + x264 + "-crf 35 copy_reencode.mp4");
    ff("-i d1.mp4 -vf \"crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2\"" + x264 + "-crf 18 copy_crop.mp4");
    ff("-i d2.mp4 -vf fps=15" + x264 + "-crf 18 copy_fps.mp4");
    // Records: originals carry meta.original = 1, so --keep-by keeps them over their copies.
    std::ofstream in(*dir_ / "clips.jsonl");
    for (int i = 0; i < 6; ++i)
      in << nlohmann::json({{"path", (*dir_ / ("d" + std::to_string(i) + ".mp4")).string()}, {"meta", {{"original", 1}}}}).dump() << "\n";
    for (const char* c : {"copy_reencode.mp4", "copy_crop.mp4", "copy_fps.mp4"})
      in << nlohmann::json({{"path", (*dir_ / c).string()}, {"meta", {{"original", 0}}}}).dump() << "\n";
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  static fs::path* dir_;
};
fs::path* EmbedDedup::dir_ = nullptr;

std::string name_of(const nlohmann::json& r) { return fs::path(r["path"].get<std::string>()).filename().string(); }

}  // namespace

TEST_F(EmbedDedup, PlantedCopiesAreRemovedDistinctClipsAreKept) {
  const std::string emb = (*dir_ / "emb.h5").string(), rej = (*dir_ / "dups.jsonl").string();
  auto e = test::run(reel_cmd() + "embed -o " + q(emb) + " " + q((*dir_ / "clips.jsonl").string()) + " > " +
                     q((*dir_ / "embedded.jsonl").string()));
  ASSERT_EQ(e.code, 0) << e.out;
  const auto recs = test::jsonl(test::slurp((*dir_ / "embedded.jsonl").string()));
  ASSERT_EQ(recs.size(), 9u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i]["embedding"]["row"], i);
    EXPECT_EQ(recs[i]["embedding"]["dim"], 1280);
    EXPECT_EQ(recs[i]["embedding"]["phash"].size(), recs[i]["embedding"]["frames"].size());
    EXPECT_EQ(recs[i]["meta"]["original"], i < 6 ? 1 : 0);  // unknown keys pass through
  }
  h5::File f(emb, 'r');
  EXPECT_EQ(f.shape("embeddings"), (std::vector<int64_t>{9, 1280}));
  EXPECT_EQ(f.read_attr_string("/", "model"), "efficientnet_lite0");
  EXPECT_EQ(f.read_strings("ids")[6], (*dir_ / "copy_reencode.mp4").string());
  EXPECT_FALSE(fs::exists(emb + ".rows"));
  for (const char* mode : {"", "--no-phash "}) {  // the semantic pass alone finds them too
    auto d = test::run(reel_cmd() + "dedup " + mode + "--keep-by meta.original --rejected " + q(rej) + " " +
                       q((*dir_ / "embedded.jsonl").string()));
    ASSERT_EQ(d.code, 0) << mode;
    const auto kept = test::jsonl(d.out), dups = test::jsonl(test::slurp(rej));
    ASSERT_EQ(kept.size(), 6u) << mode;
    for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(name_of(kept[i]), "d" + std::to_string(i) + ".mp4") << mode;
    ASSERT_EQ(dups.size(), 3u) << mode;
    const char* of[] = {"d0.mp4", "d1.mp4", "d2.mp4"};
    for (int i = 0; i < 3; ++i) EXPECT_EQ(fs::path(dups[i]["dedup"]["duplicate_of"].get<std::string>()).filename(), of[i]) << mode;
    if (*mode) EXPECT_EQ(dups[1]["dedup"]["method"], "semantic");
  }
  // Inline vectors give the same answer without the file; --clusters 1 is the exact search.
  auto in = test::run(reel_cmd() + "embed --inline " + q((*dir_ / "clips.jsonl").string()) + " | " + reel_cmd() +
                      "dedup --clusters 1 --no-phash --keep-by meta.original");
  ASSERT_EQ(in.code, 0);
  EXPECT_EQ(test::jsonl(in.out).size(), 6u);
}

TEST_F(EmbedDedup, RecordsWithoutAUsableEmbeddingBecomeErrors) {
  const std::string emb = (*dir_ / "e2.h5").string();
  ASSERT_EQ(test::run(reel_cmd() + "embed -o " + q(emb) + " " + q((*dir_ / "d3.mp4").string()) + " " + q((*dir_ / "d4.mp4").string()) +
                      " > " + q((*dir_ / "e2.jsonl").string()))
                .code,
            0);
  // A 2-d "embedding" from another card: a dimension mismatch with the first file.
  ASSERT_EQ(test::run(reel_cmd() + "embed --model-card " + q(test::data_dir() + "/data/score_regressor.json") + " -o " +
                      q((*dir_ / "small.h5").string()) + " " + q((*dir_ / "d5.mp4").string()) + " > " + q((*dir_ / "small.jsonl").string()))
                .code,
            0);
  auto e2 = test::jsonl(test::slurp((*dir_ / "e2.jsonl").string()));
  auto moved = e2[1];
  moved["embedding"]["file"] = (*dir_ / "missing.h5").string();
  std::ofstream(*dir_ / "mixed.jsonl") << e2[0].dump() << "\n"
                                       << nlohmann::json({{"path", "no-embedding.mp4"}, {"id", "x"}}).dump() << "\n"
                                       << moved.dump() << "\n"
                                       << test::slurp((*dir_ / "small.jsonl").string());
  auto d = test::run(reel_cmd() + "dedup " + q((*dir_ / "mixed.jsonl").string()));
  EXPECT_EQ(d.code, 3);  // some inputs failed
  const auto out = test::jsonl(d.out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FALSE(out[0].contains("errors"));
  EXPECT_TRUE(out[0]["dedup"]["kept"].get<bool>());
  const char* want[] = {"no embedding", "cannot use the embeddings file", "dimension mismatch"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(out[i + 1].contains("errors")) << i;
    EXPECT_NE(out[i + 1]["errors"][0]["message"].get<std::string>().find(want[i]), std::string::npos) << out[i + 1].dump();
  }
}

TEST_F(EmbedDedup, AKilledEmbedResumesToTheSameFile) {
  const std::string clips = q((*dir_ / "clips.jsonl").string());
  const std::string whole = (*dir_ / "whole.h5").string(), part = (*dir_ / "part.h5").string();
  ASSERT_EQ(test::run(reel_cmd() + "embed -o " + q(whole) + " " + clips + " > " + q((*dir_ / "whole.jsonl").string())).code, 0);
  // Killed after the third record's ledger line: the log has their rows, the file is not there.
  auto k = test::run("REEL_CRASH_AT=ledger-line:3 " + reel_cmd() + "embed -o " + q(part) + " " + clips + " > /dev/null 2>&1");
  ASSERT_NE(k.code, 0);
  EXPECT_TRUE(fs::exists(part + ".rows"));
  auto r = test::run(reel_cmd() + "embed -o " + q(part) + " " + clips + " > " + q((*dir_ / "part.jsonl").string()) + " 2>&1");
  ASSERT_EQ(r.code, 0);
  auto a = test::jsonl(test::slurp((*dir_ / "whole.jsonl").string())), b = test::jsonl(test::slurp((*dir_ / "part.jsonl").string()));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    b[i]["embedding"]["file"] = a[i]["embedding"]["file"];
    EXPECT_EQ(a[i], b[i]) << i;
  }
  h5::File fa(whole, 'r'), fb(part, 'r');
  EXPECT_EQ(fa.read_strings("ids"), fb.read_strings("ids"));
  EXPECT_EQ(fa.read_float("embeddings"), fb.read_float("embeddings"));
  EXPECT_FALSE(fs::exists(part + ".rows"));
}
