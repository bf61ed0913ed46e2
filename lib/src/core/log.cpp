// SPDX-License-Identifier: Apache-2.0
#include "reel/core/log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace reel {
namespace {
LogLevel g_level = LogLevel::Info;
std::function<void(LogLevel, const std::string&)> g_sink;
std::mutex g_mutex;
const char* kNames[] = {"quiet", "error", "warning", "info", "verbose", "debug", "trace"};
}  // namespace

void log_set_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

bool log_parse_level(const std::string& name, LogLevel* out) {
  for (int i = 0; i < 7; ++i) {
    if (name == kNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void log_set_sink(std::function<void(LogLevel, const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

void log_message(LogLevel level, const char* component, const char* fmt, ...) {
  char body[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  std::string line = std::string("[") + component + "] " +
                     (level == LogLevel::Error ? "error: " : level == LogLevel::Warning ? "warning: " : "") +
                     body;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(level, line);
  } else {
    fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace reel
