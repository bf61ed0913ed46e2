// SPDX-License-Identifier: Apache-2.0
// Fault injection for the crash tests: with REEL_CRASH_AT=NAME:N in the environment, the N-th
// call of crash_point("NAME") kills the process with SIGKILL, exactly as `kill -9` would at
// that instant (no destructor, no flush). Named points sit where a kill hurts most: between
// writing a temp file and renaming it, inside a ledger line, between the ledger and stdout.
// Without the variable a call costs one relaxed atomic load.
#pragma once

namespace reel {
// True if this call is the one to crash at (the caller may then tear a write first).
bool crash_due(const char* name);
// Kills the process now.
[[noreturn]] void crash_now();
inline void crash_point(const char* name) {
  if (crash_due(name)) crash_now();
}
}  // namespace reel
