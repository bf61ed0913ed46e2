// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: model cards (JSON) of reel filter and reel embed.
#include <unistd.h>

#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::model_card(data, size, "/tmp/reel-fuzz-model_card-" + std::to_string(::getpid()));
  return 0;
}
