// SPDX-License-Identifier: Apache-2.0
// Finding and opening the CUDA backend module (reel/cuda/cuda_backend.h explains why it is one).
#pragma once
#include <string>
#include <vector>

#include "reel/cuda/cuda_backend.h"

namespace reel {

// Where the module is looked for, in order: $REEL_CUDA_PLUGIN (a file), then libreel_cuda.so
// beside the executable, in ../lib from it, and in the directory the build put it in.
std::vector<std::string> cuda_plugin_candidates();

// Opens one module file; nullptr with *why set (dlerror's text, e.g. a missing libcudnn.so.9,
// or an ABI mismatch) when it cannot be used.
const cuda::Plugin* open_cuda_plugin(const std::string& path, std::string* why);

// The process's module, opened once (never closed); nullptr with *why when none is usable.
const cuda::Plugin* cuda_plugin(std::string* why);

}  // namespace reel
