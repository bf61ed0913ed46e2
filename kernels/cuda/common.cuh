// SPDX-License-Identifier: Apache-2.0
// Error handling shared by the CUDA kernels: every runtime call goes through
// REEL_CUDA_CHECK, which turns a failure into reel::Error with the call and location
// (never an abort), and every launch is followed by a cudaGetLastError() check.
// REEL_CUDA_SYNC=1 synchronises after each launch so asynchronous faults surface where
// they happen.
#pragma once
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

#include "reel/core/status.h"

namespace reel::cuda {

[[noreturn]] inline void cuda_fail(cudaError_t e, const char* expr, const char* file, int line) {
  Code c = (e == cudaErrorMemoryAllocation) ? Code::OutOfMemory
           : (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) ? Code::DeviceUnavailable
                                                                           : Code::Internal;
  throw Error(c, std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + expr +
                     " at " + file + ":" + std::to_string(line));
}

inline void check_launch(const char* name, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) {
    static const bool sync = std::getenv("REEL_CUDA_SYNC") && std::getenv("REEL_CUDA_SYNC")[0] == '1';
    if (sync) e = cudaDeviceSynchronize();
  }
  if (e != cudaSuccess) cuda_fail(e, name, file, line);
}

// Device buffer owned by RAII.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceBuffer(size_t count);
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace reel::cuda

#define REEL_CUDA_CHECK(expr)                                                       \
  do {                                                                              \
    cudaError_t reel_err_ = (expr);                                                 \
    if (reel_err_ != cudaSuccess) ::reel::cuda::cuda_fail(reel_err_, #expr, __FILE__, __LINE__); \
  } while (0)
#define REEL_CUDA_CHECK_LAUNCH(name) ::reel::cuda::check_launch(name, __FILE__, __LINE__)

template <typename T>
reel::cuda::DeviceBuffer<T>::DeviceBuffer(size_t count) : n(count) {
  REEL_CUDA_CHECK(cudaMalloc(&ptr, count * sizeof(T) + 1));
}
