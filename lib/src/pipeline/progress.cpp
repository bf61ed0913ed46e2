// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "reel/core/log.h"

namespace reel {

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

ProgressReporter::ProgressReporter(std::string stage, Shard shard, ProgressOptions options)
    : stage_(std::move(stage)), shard_(std::move(shard)), opt_(std::move(options)) {
  const char* term = std::getenv("TERM");
  const bool tty = isatty(STDERR_FILENO) && !std::getenv("CI") && !(term && std::string(term) == "dumb");
  bar_ = opt_.mode == "always" || (opt_.mode == "auto" && tty);
  start_ = last_bar_ = last_json_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() {
  if (drawn_) std::fputc('\n', stderr);
}

std::string ProgressReporter::line(const RunCounts& c) const {
  const double el = since(start_);
  const double rate = el > 0 ? (c.done - c.resumed) / el : 0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s%s %lld", stage_.c_str(), shard_.suffix().c_str(), static_cast<long long>(c.done));
  std::string s = buf;
  if (c.total >= 0) s += "/" + std::to_string(c.total);
  std::snprintf(buf, sizeof buf, " done, %lld failed, %.1f/s, %.0fs", static_cast<long long>(c.failed), rate, el);
  s += buf;
  if (c.total > 0 && rate > 0) {
    std::snprintf(buf, sizeof buf, ", ETA %.0fs", (c.total - c.done) / rate);
    s += buf;
  }
  return s;
}

void ProgressReporter::update(const RunCounts& c, bool force) {
  if (bar_ && (force || since(last_bar_) >= 0.5)) {
    last_bar_ = std::chrono::steady_clock::now();
    std::fprintf(stderr, "\r%-78.78s", line(c).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  if (opt_.json && (force || since(last_json_) >= opt_.interval_s)) {
    last_json_ = std::chrono::steady_clock::now();
    const double el = since(start_);
    const double rate = el > 0 ? (c.done - c.resumed) / el : 0;
    nlohmann::json j = {{"progress", stage_},   {"shard", {shard_.index, shard_.count}},
                        {"done", c.done},       {"failed", c.failed},
                        {"passed", c.passed},   {"resumed", c.resumed},
                        {"records", c.records}, {"items_per_s", rate},
                        {"elapsed_s", el}};
    j["total"] = c.total >= 0 ? nlohmann::json(c.total) : nlohmann::json();
    j["eta_s"] = c.total > 0 && rate > 0 ? nlohmann::json((c.total - c.done) / rate) : nlohmann::json();
    if (drawn_) std::fputc('\n', stderr), drawn_ = false;
    std::fprintf(stderr, "%s\n", j.dump().c_str());
    std::fflush(stderr);
  }
}

void ProgressReporter::finish(const RunCounts& c, bool interrupted) {
  if (drawn_) {
    std::fprintf(stderr, "\r%-78.78s\n", line(c).c_str());
    drawn_ = false;
  }
  const double el = since(start_);
  if (opt_.json) {
    nlohmann::json j = {{"summary", stage_},     {"shard", {shard_.index, shard_.count}},
                        {"done", c.done},        {"failed", c.failed},
                        {"passed", c.passed},    {"resumed", c.resumed},
                        {"records", c.records},  {"elapsed_s", el},
                        {"interrupted", interrupted}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
    std::fflush(stderr);
  } else {
    REEL_INFO(stage_.c_str(), "%s: %lld inputs done (%lld failed, %lld passed through with upstream errors, %lld resumed), "
              "%lld records, %.1fs%s",
              shard_.sharded() ? ("shard " + std::to_string(shard_.index) + "/" + std::to_string(shard_.count)).c_str() : "summary",
              static_cast<long long>(c.done), static_cast<long long>(c.failed), static_cast<long long>(c.passed),
              static_cast<long long>(c.resumed), static_cast<long long>(c.records), el, interrupted ? ", interrupted" : "");
  }
}

}  // namespace reel
