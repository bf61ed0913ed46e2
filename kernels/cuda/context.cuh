// SPDX-License-Identifier: Apache-2.0
// What every op of the CUDA backend shares: the device, the activation dtype, one stream with
// its cuDNN and cuBLAS handles, the stream-ordered memory pool, a workspace, and the
// Storage that holds a Tensor's device memory. One Context per backend instance; storages keep
// it alive (they free on its stream), so a Tensor may outlive the Backend object that made it.
#pragma once
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common.cuh"
#include "reel/core/backend.h"

namespace reel::cuda {

// The module's entry points (device.cu, backend_cuda.cu), handed to reel through the Plugin
// table of reel/cuda/cuda_backend.h.
int device_count(std::string* why_none);
std::string device_description(int index);
Backend* make_backend(int index, DType dtype);
const char* dtype_label(DType d);

[[noreturn]] void cudnn_fail(cudnnStatus_t s, const char* expr, const char* file, int line);
[[noreturn]] void cublas_fail(cublasStatus_t s, const char* expr, const char* file, int line);

#define REEL_CUDNN_CHECK(expr)                                                                 \
  do {                                                                                         \
    cudnnStatus_t reel_st_ = (expr);                                                           \
    if (reel_st_ != CUDNN_STATUS_SUCCESS) ::reel::cuda::cudnn_fail(reel_st_, #expr, __FILE__, __LINE__); \
  } while (0)
#define REEL_CUBLAS_CHECK(expr)                                                                  \
  do {                                                                                           \
    cublasStatus_t reel_st_ = (expr);                                                            \
    if (reel_st_ != CUBLAS_STATUS_SUCCESS) ::reel::cuda::cublas_fail(reel_st_, #expr, __FILE__, __LINE__); \
  } while (0)

// Element loads and stores: every kernel computes in float32 whatever the storage type.
template <class T>
struct Cvt;
template <>
struct Cvt<float> {
  static __host__ __device__ __forceinline__ float ld(float v) { return v; }
  static __host__ __device__ __forceinline__ float st(float v) { return v; }
};
template <>
struct Cvt<__half> {
  static __device__ __forceinline__ float ld(__half v) { return __half2float(v); }
  static __device__ __forceinline__ __half st(float v) { return __float2half_rn(v); }
};
template <>
struct Cvt<__nv_bfloat16> {
  static __device__ __forceinline__ float ld(__nv_bfloat16 v) { return __bfloat162float(v); }
  static __device__ __forceinline__ __nv_bfloat16 st(float v) { return __float2bfloat16_rn(v); }
};

// Runs `body` with `T` the storage type of `dtype`.
#define REEL_DTYPE_DISPATCH(dtype, T, ...)     \
  switch (dtype) {                             \
    case ::reel::DType::F32: {                 \
      using T = float;                         \
      __VA_ARGS__;                             \
      break;                                   \
    }                                          \
    case ::reel::DType::F16: {                 \
      using T = __half;                        \
      __VA_ARGS__;                             \
      break;                                   \
    }                                          \
    case ::reel::DType::BF16: {                \
      using T = __nv_bfloat16;                 \
      __VA_ARGS__;                             \
      break;                                   \
    }                                          \
  }

size_t dtype_size(DType d);
cudaDataType_t cuda_type(DType d);
cudnnDataType_t cudnn_type(DType d);

// Page-locked host buffers for copies that run while the host goes on (cudaMemcpyAsync from
// pageable memory stages through the driver's buffers and returns only once it has read them).
// A block is handed out again only after the event recorded at its last copy has completed.
// Blocks are kept for reuse up to a cap on the pinned total (pinning takes physical memory from
// the OS); past it, acquire() answers null and the caller copies from pageable memory.
class PinnedPool {
 public:
  struct Block {
    void* p = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;  // recorded after the block's last copy
    bool busy = false;
  };
  explicit PinnedPool(size_t cap_bytes) : cap_(cap_bytes) {}
  ~PinnedPool();
  PinnedPool(const PinnedPool&) = delete;
  PinnedPool& operator=(const PinnedPool&) = delete;
  Block* acquire(size_t bytes);
  // Returns the block once `stream` has done with it (its event recorded there), or at once
  // when stream is null (every copy of it has been waited for).
  void release(Block* b, cudaStream_t stream);

 private:
  Block* take(size_t bytes);  // marks it busy, under the lock
  std::mutex mu_;
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t pinned_ = 0, cap_;
};

class Context {
 public:
  Context(int device, DType dtype);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  DType dtype() const { return dtype_; }
  cudaStream_t stream() const { return stream_; }
  // A second stream for work a decoding thread does while the network runs on stream():
  // converting pictures to network input, never queued behind a pass.
  cudaStream_t side_stream() const { return side_; }
  // Host-to-device copies (upload): they overlap the pass queued on stream(), which waits for
  // them by event before it reads their tensor.
  cudaStream_t copy_stream() const { return copy_; }
  PinnedPool& pinned() const { return pinned_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  const std::string& description() const { return description_; }

  // Makes this context's device current on the calling thread (every op starts with it).
  void enter() const;
  // Stream-ordered allocation; running out is Error(OutOfMemory) naming `what` and the free
  // memory, never an abort.
  void* alloc(size_t bytes, const char* what) const;
  void* alloc_on(cudaStream_t s, size_t bytes, const char* what) const;
  void free(void* p) const;
  // Scratch that lives until the next call asks for more (cuDNN workspaces, attention scores).
  void* workspace(size_t bytes) const;
  size_t available() const;
  void sync() const;

 private:
  int device_;
  DType dtype_;
  cudaStream_t stream_ = nullptr, side_ = nullptr, copy_ = nullptr;
  mutable PinnedPool pinned_{size_t{1} << 30};
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudaMemPool_t pool_ = nullptr;
  mutable void* ws_ = nullptr;
  mutable size_t ws_bytes_ = 0;
  std::string description_;
};

// Device memory of one Tensor (or NormAffine): freed on its context's stream.
struct DeviceStorage : Storage {
  std::shared_ptr<const Context> ctx;
  void* p = nullptr;
  size_t bytes = 0;
  DeviceStorage(std::shared_ptr<const Context> c, size_t n, const char* what) : ctx(std::move(c)), bytes(n) {
    p = ctx->alloc(n, what);
  }
  // Allocated in the order of stream `s` (the side stream), freed on the context's stream once
  // the last Tensor sharing it goes.
  DeviceStorage(std::shared_ptr<const Context> c, cudaStream_t s, size_t n, const char* what) : ctx(std::move(c)), bytes(n) {
    p = ctx->alloc_on(s, n, what);
  }
  ~DeviceStorage() override {
    if (p) ctx->free(p);
  }
};

// A NormAffine's state: scale then shift, T*C floats each.
struct DeviceAffine : DeviceStorage {
  bool silu = false;
  DeviceAffine(std::shared_ptr<const Context> c, size_t planes, bool s)
      : DeviceStorage(std::move(c), 2 * planes * sizeof(float), "a GroupNorm's affine map"), silu(s) {}
  float* scale() const { return static_cast<float*>(p); }
  float* shift() const { return static_cast<float*>(p) + bytes / sizeof(float) / 2; }
};

// 1-D launch shape of a grid-stride loop over n items.
inline int blocks_for(long n, int threads = 256) {
  const long b = (n + threads - 1) / threads;
  return static_cast<int>(b < 1 ? 1 : (b > 65535L * 8 ? 65535L * 8 : b));
}

}  // namespace reel::cuda
