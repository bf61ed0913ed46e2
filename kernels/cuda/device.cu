// SPDX-License-Identifier: Apache-2.0
// Device discovery (cudaGetDeviceCount), treating "no device" and "no/old driver" as zero
// devices with a reason rather than an error, and the module's exported entry point.
#include "context.cuh"
#include "reel/cuda/cuda_backend.h"

namespace reel::cuda {

int device_count(std::string* why_none) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error state
    if (why_none) *why_none = std::string("CUDA compiled, no usable device: ") + cudaGetErrorString(e);
    return 0;
  }
  if (n == 0 && why_none) *why_none = "CUDA compiled, no device present";
  return n;
}

std::string device_description(int index) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, index) != cudaSuccess) return "unknown";
  return std::string(p.name) + ", " + std::to_string(p.totalGlobalMem >> 20) + " MiB, sm_" +
         std::to_string(p.major) + std::to_string(p.minor);
}

}  // namespace reel::cuda

extern "C" __attribute__((visibility("default"))) const reel::cuda::Plugin* reel_cuda_plugin() {
  static const reel::cuda::Plugin table = [] {
    reel::cuda::Plugin p;
    p.device_count = reel::cuda::device_count;
    p.device_description = reel::cuda::device_description;
    p.make_backend = reel::cuda::make_backend;
    return p;
  }();
  return &table;
}
