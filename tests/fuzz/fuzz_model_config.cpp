// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: model config JSON.
#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::model_config(data, size);
  return 0;
}
