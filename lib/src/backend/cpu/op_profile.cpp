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
  std::map<std::string, std::pair<double, long>> t;  // name -> seconds, calls
  ~Table() {
    double total = 0;
    for (auto& [k, v] : t) total += v.first;
    if (t.empty()) return;
    std::fprintf(stderr, "[profile] %-22s %9s %7s %6s\n", "op", "seconds", "calls", "share");
    for (auto& [k, v] : t)
      std::fprintf(stderr, "[profile] %-22s %9.3f %7ld %5.1f%%\n", k.c_str(), v.first, v.second, 100 * v.first / total);
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

void op_profile_add(const char* name, double seconds) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto& v = t.t[name];
  v.first += seconds;
  v.second += 1;
}

}  // namespace reel
