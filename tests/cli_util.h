// SPDX-License-Identifier: Apache-2.0
// Runs the reel binary (or any shell command) for end-to-end tests.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace reel::test {

struct RunResult {
  int code = -1;
  std::string out;  // stdout
};

// Runs `cmd` through /bin/sh; stderr goes to the test log.
inline RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::vector<nlohmann::json> jsonl(const std::string& s) {
  std::vector<nlohmann::json> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A fresh empty directory under the build tree's temp area.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("reel-test-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// A whole file as bytes ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline std::string q(const std::string& s) { return "'" + s + "'"; }

// ffmpeg (quiet, overwriting) with `args`, run inside `dir`: how fixtures make their clips.
inline RunResult ffmpeg_in(const std::filesystem::path& dir, const std::string& args) {
  return run("cd " + q(dir.string()) + " && ffmpeg -v error -y " + args);
}

// The reel binary, quoted, with logs limited to errors; append arguments.
inline std::string reel_cmd() { return q(REEL_BINARY) + " --log-level error "; }

}  // namespace reel::test
