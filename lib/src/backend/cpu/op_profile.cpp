// SPDX-License-Identifier: Apache-2.0
#include "backend/cpu/op_profile.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace reel {
namespace {

struct Table {
  std::mutex mu;
  struct Entry {
    double seconds = 0;
    long calls = 0;
    uint64_t macs = 0;
  };
  std::map<std::string, Entry> t;
  ~Table() {
    double total = 0;
    for (auto& [k, v] : t) total += v.seconds;
    if (t.empty()) return;
    std::fprintf(stderr, "[profile] %-22s %9s %7s %6s %8s\n", "op", "seconds", "calls", "share", "GFLOP/s");
    for (auto& [k, v] : t) {
      std::fprintf(stderr, "[profile] %-22s %9.3f %7ld %5.1f%%", k.c_str(), v.seconds, v.calls, 100 * v.seconds / total);
      if (v.macs) std::fprintf(stderr, " %8.1f", 2e-9 * double(v.macs) / v.seconds);
      std::fprintf(stderr, "\n");
    }
  }
};

Table& table() {
  static Table t;
  return t;
}

}  // namespace

bool op_profile_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("REEL_PROFILE");
    return e && *e && std::string(e) != "0";
  }();
  return on;
}

void op_profile_add(const char* name, double seconds, uint64_t macs) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto& v = t.t[name];
  v.seconds += seconds;
  v.calls += 1;
  v.macs += macs;
}

void op_profile_reset() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.t.clear();
}

}  // namespace reel
