// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: reel run's pipeline files.
#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::pipeline_file(data, size);
  return 0;
}
