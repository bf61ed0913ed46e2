// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: S3's XML answers (listings, uploads, errors).
#include "fuzz_entry.h"
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reel::fuzz::s3_xml(data, size);
  return 0;
}
