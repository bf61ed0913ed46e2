// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: tokenizer weights files (HDF5), checked tensor by tensor.
#include <unistd.h>

#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::weights_file(data, size, "/tmp/reel-fuzz-weights_file-" + std::to_string(::getpid()));
  return 0;
}
