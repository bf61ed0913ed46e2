// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: stdin record lines.
#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::input_line(data, size);
  return 0;
}
