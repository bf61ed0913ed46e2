// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the AWS shared credentials and config files.
#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::aws_config(data, size);
  return 0;
}
