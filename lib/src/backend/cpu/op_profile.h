// SPDX-License-Identifier: Apache-2.0
// Wall time per operator kind, for finding where the tokenizer spends its time:
// REEL_PROFILE=1 prints a table to stderr at exit. Off (one branch per op) otherwise.
#pragma once
#include <chrono>
#include <cstdint>

namespace reel {

void ops_mac_add(uint64_t n);  // the global counter behind ops_mac_count()
bool op_profile_enabled();
// macs: multiply-adds of the direct (textbook) computation, for an effective GFLOP/s column.
void op_profile_add(const char* name, double seconds, uint64_t macs = 0);

class OpScope {
 public:
  explicit OpScope(const char* name) : name_(op_profile_enabled() ? name : nullptr) {
    if (name_) t0_ = std::chrono::steady_clock::now();
  }
  ~OpScope() {
    if (name_) op_profile_add(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(), macs_);
  }
  // Counts an op's multiply-adds once for both consumers: the global counter (tokenize bench's
  // GFLOP/s) and this op's profile line.
  void macs(uint64_t n) {
    ops_mac_add(n);
    macs_ += n;
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  const char* name_;
  uint64_t macs_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace reel
