// SPDX-License-Identifier: Apache-2.0
// Logging to stderr with FFmpeg-style levels and a component prefix ("[split] ...").
// stdout is reserved for data (JSON Lines); nothing here ever writes to it.
// Tests may swap the sink with log_set_sink().
#pragma once
#include <functional>
#include <string>

namespace reel {

enum class LogLevel { Quiet = 0, Error, Warning, Info, Verbose, Debug, Trace };

void log_set_level(LogLevel level);
LogLevel log_level();
// Parses "quiet|error|warning|info|verbose|debug|trace"; returns false if unknown.
bool log_parse_level(const std::string& name, LogLevel* out);
void log_set_sink(std::function<void(LogLevel, const std::string&)> sink);  // nullptr = stderr

void log_message(LogLevel level, const char* component, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace reel

#define REEL_LOG(level, component, ...)                                   \
  do {                                                                    \
    if (static_cast<int>(level) <= static_cast<int>(::reel::log_level())) \
      ::reel::log_message(level, component, __VA_ARGS__);                 \
  } while (0)
#define REEL_ERROR(c, ...) REEL_LOG(::reel::LogLevel::Error, c, __VA_ARGS__)
#define REEL_WARN(c, ...) REEL_LOG(::reel::LogLevel::Warning, c, __VA_ARGS__)
#define REEL_INFO(c, ...) REEL_LOG(::reel::LogLevel::Info, c, __VA_ARGS__)
#define REEL_VERBOSE(c, ...) REEL_LOG(::reel::LogLevel::Verbose, c, __VA_ARGS__)
#define REEL_DEBUG(c, ...) REEL_LOG(::reel::LogLevel::Debug, c, __VA_ARGS__)
