// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the reel subcommands: global options, the JSONL output channel,
// progress on stderr, interruption, and error records.
#pragma once
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "reel/core/status.h"

namespace reel::cli {

struct Globals {
  std::string log_level = "info";
  std::string progress = "auto";  // auto|always|never
  int threads = 0;                // 0 = all cores
};
Globals& globals();

// Set by SIGINT/SIGTERM; commands stop between records and exit 130.
extern std::atomic<bool> g_interrupted;

// Writes one record as a JSON line on stdout and flushes it (pipelines stream).
void emit(const nlohmann::json& record);

// {"stage": ..., "code": ..., "message": ...}
nlohmann::json error_entry(const std::string& stage, Code code, const std::string& message);

// Appends an error entry to record["errors"].
void add_error(nlohmann::json& record, const std::string& stage, Code code, const std::string& message);

// Progress line on stderr, redrawn in place at most twice a second, only on a TTY
// (and not under CI, --progress never, or TERM=dumb).
class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  void tick(int64_t done, const std::string& detail = "");
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// Footer shared by --help texts.
std::string exit_code_footer();

// Threads to use (globals().threads or the number of cores).
int thread_count();

}  // namespace reel::cli
