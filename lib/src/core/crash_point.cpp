// SPDX-License-Identifier: Apache-2.0
#include "reel/core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace reel {
namespace {
struct Plan {
  std::string name;
  long at = 0;
  std::atomic<long> hits{0};
  Plan() {
    const char* v = std::getenv("REEL_CRASH_AT");
    if (!v) return;
    const char* colon = std::strrchr(v, ':');
    if (!colon) return;
    name.assign(v, colon);
    at = std::strtol(colon + 1, nullptr, 10);
  }
};
Plan& plan() {
  static Plan p;
  return p;
}
}  // namespace

bool crash_due(const char* name) {
  Plan& p = plan();
  if (p.at <= 0 || p.name != name) return false;
  return p.hits.fetch_add(1) + 1 == p.at;
}

void crash_now() {
  ::kill(::getpid(), SIGKILL);
  _exit(137);
}

}  // namespace reel
