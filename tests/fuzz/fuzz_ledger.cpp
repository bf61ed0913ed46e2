// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: resume ledgers.
#include <unistd.h>

#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::ledger_file(data, size, "/tmp/reel-fuzz-ledger-" + std::to_string(::getpid()));
  return 0;
}
