// SPDX-License-Identifier: Apache-2.0
// Hardware video decoding (NVDEC through FFmpeg's hwaccel). A decode that asks for it and
// cannot have it (no device, a codec or profile NVDEC does not take) decodes on the CPU and says
// so in the log for every file: a batch job must not fail because one node lacks a GPU, nor
// slow down without a word.
#pragma once
#include <string>

namespace reel {

enum class HwAccel {
  Default,  // the process-wide choice (the CLI's --hwaccel)
  None,     // CPU decode
  Cuda,     // NVDEC, frames copied to host memory only when pixels are wanted
};

// "none" | "cuda"; anything else is InvalidArgument.
HwAccel parse_hwaccel(const std::string& name);

// Process-wide (--hwaccel): what decoders with HwAccel::Default use. Default: None.
void set_default_hwaccel(HwAccel a);
HwAccel default_hwaccel();

// Whether FFmpeg can open a CUDA device here (tried once per process; `why` gets FFmpeg's
// answer when it cannot).
bool cuda_decode_available(std::string* why = nullptr);

}  // namespace reel
