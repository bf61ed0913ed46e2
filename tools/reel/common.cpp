// SPDX-License-Identifier: Apache-2.0
#include "common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace reel::cli {

std::atomic<bool> g_interrupted{false};

Globals& globals() {
  static Globals g;
  return g;
}

int thread_count() {
  int t = globals().threads;
  if (t <= 0) t = static_cast<int>(std::thread::hardware_concurrency());
  return t > 0 ? t : 1;
}

void emit(const nlohmann::json& record) {
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

nlohmann::json error_entry(const std::string& stage, Code code, const std::string& message) {
  return {{"stage", stage}, {"code", code_name(code)}, {"message", message}};
}

void add_error(nlohmann::json& record, const std::string& stage, Code code, const std::string& message) {
  if (!record.contains("errors") || !record["errors"].is_array()) record["errors"] = nlohmann::json::array();
  record["errors"].push_back(error_entry(stage, code, message));
}

Progress::Progress(std::string label, int64_t total) : label_(std::move(label)), total_(total) {
  const std::string& mode = globals().progress;
  const char* term = std::getenv("TERM");
  bool tty = isatty(STDERR_FILENO) && !std::getenv("CI") && !(term && std::string(term) == "dumb");
  enabled_ = mode == "always" || (mode == "auto" && tty);
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::tick(int64_t done, const std::string& detail) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(500) && done < total_) return;
  last_ = now;
  double el = std::chrono::duration<double>(now - start_).count();
  fprintf(stderr, "\r%s %lld/%lld  %.1fs  %-40.40s", label_.c_str(), (long long)done, (long long)total_, el,
          detail.c_str());
  fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (enabled_ && drawn_) {
    fprintf(stderr, "\n");
    drawn_ = false;
  }
}

std::string exit_code_footer() {
  return "\nExit codes: 0 all records succeeded, 1 internal error, 2 usage error, 3 some records failed\n"
         "(their records carry \"errors\"), 4 model/weights error, 5 device unavailable, 130 interrupted.\n"
         "Records are JSON Lines on stdout; logs and progress go to stderr.";
}

}  // namespace reel::cli
