// SPDX-License-Identifier: Apache-2.0
// Progress of a stage run on stderr: a bar redrawn in place on a TTY, and/or JSON status
// lines for cluster logs (--progress-json), and one summary line at the end.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "reel/pipeline/shard.h"

namespace reel {

struct ProgressOptions {
  std::string mode = "auto";  // auto (TTY only, not under CI or TERM=dumb) | always | never
  bool json = false;          // {"progress": ...} lines on stderr
  double interval_s = 10;     // between JSON lines
};

struct RunCounts {
  int64_t read = 0;        // inputs this process owns
  int64_t done = 0;        // inputs finished (any outcome)
  int64_t failed = 0;      // inputs this stage could not process (their records carry errors)
  int64_t passed = 0;      // inputs that arrived with errors and were passed through
  int64_t resumed = 0;     // inputs finished by an earlier run (from the ledger)
  int64_t records = 0;     // records printed
  int64_t total = -1;      // inputs expected, -1 if unknown (stdin)
};

class ProgressReporter {
 public:
  ProgressReporter(std::string stage, Shard shard, ProgressOptions options);
  ~ProgressReporter();
  void update(const RunCounts& c, bool force = false);
  void finish(const RunCounts& c, bool interrupted);

 private:
  std::string line(const RunCounts& c) const;
  std::string stage_;
  Shard shard_;
  ProgressOptions opt_;
  bool bar_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_bar_, last_json_;
};

}  // namespace reel
