// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's plugin interface. The backend (kernels/) is a loadable module,
// libreel_cuda.so, that reel opens with dlopen the first time a CUDA device is asked about:
// cuDNN and cuBLAS weigh about 1 GB of shared libraries, and a binary linked against them
// would map them on every run, CPU-only runs and `reel --help` included (about 300 MB of
// resident memory and half a second at start). A machine without the module, without cuDNN
// or without a driver reports zero CUDA devices with the reason, and every CPU path works.
//
// No CUDA types appear here, so the library's headers stay CUDA-free. The module is built
// with the binary from the same tree; kCudaPluginAbi guards against a stale module.
#pragma once
#include <string>

#include "reel/core/backend.h"

namespace reel::cuda {

// Bump whenever this table, Backend, Tensor or Storage change layout or meaning.
constexpr int kCudaPluginAbi = 1;

struct Plugin {
  int abi = kCudaPluginAbi;
  // Number of usable devices; 0 with *why_none set when there is none (no driver, ...).
  int (*device_count)(std::string* why_none) = nullptr;
  std::string (*device_description)(int index) = nullptr;
  // The compute backend on device `index` (its own stream, cuDNN and cuBLAS handles and memory
  // pool; activations and weights in `dtype`), owned by the caller. Throws
  // Error(DeviceUnavailable) without a device.
  Backend* (*make_backend)(int index, DType dtype) = nullptr;
};

}  // namespace reel::cuda

// The module's one exported symbol.
extern "C" const reel::cuda::Plugin* reel_cuda_plugin();
