// SPDX-License-Identifier: Apache-2.0
#include <cstdint>

#include "context.cuh"
#include "reel/cuda/cuda_backend.h"

namespace reel::cuda {

void cudnn_fail(cudnnStatus_t s, const char* expr, const char* file, int line) {
  throw Error(Code::Internal, std::string("cuDNN error ") + cudnnGetErrorString(s) + " in " + expr + " at " + file + ":" +
                                  std::to_string(line));
}

void cublas_fail(cublasStatus_t s, const char* expr, const char* file, int line) {
  const Code c = s == CUBLAS_STATUS_ALLOC_FAILED ? Code::OutOfMemory : Code::Internal;
  throw Error(c, std::string("cuBLAS error ") + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) + ") in " + expr +
                     " at " + file + ":" + std::to_string(line));
}

size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 2; }
// The module links nothing of reel's library, so it names dtypes itself.
const char* dtype_label(DType d) { return d == DType::F32 ? "fp32" : d == DType::F16 ? "fp16" : "bf16"; }
cudaDataType_t cuda_type(DType d) {
  return d == DType::F32 ? CUDA_R_32F : d == DType::F16 ? CUDA_R_16F : CUDA_R_16BF;
}
cudnnDataType_t cudnn_type(DType d) {
  return d == DType::F32 ? CUDNN_DATA_FLOAT : d == DType::F16 ? CUDNN_DATA_HALF : CUDNN_DATA_BFLOAT16;
}

Context::Context(int device, DType dtype) : device_(device), dtype_(dtype) {
  std::string why;
  const int n = device_count(&why);
  if (device < 0 || device >= n)
    throw Error(Code::DeviceUnavailable, "cuda:" + std::to_string(device) + " is not available: " +
                                             (n == 0 ? why : std::to_string(n) + " CUDA device(s) present"));
  REEL_CUDA_CHECK(cudaSetDevice(device));
  REEL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  REEL_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  REEL_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
  REEL_CUDNN_CHECK(cudnnCreate(&cudnn_));
  REEL_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  REEL_CUBLAS_CHECK(cublasCreate(&cublas_));
  REEL_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  // Plain fp32 arithmetic for fp32 (no TF32): the fp32 backend is held to 1e-5 of the CPU.
  REEL_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
  // Freed blocks stay in the pool for the next window instead of going back to the driver.
  REEL_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool_, device));
  uint64_t keep = UINT64_MAX;
  REEL_CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep));
  // An allocation on the side stream must never wait for the network's stream: without this the
  // pool may reuse a block freed there by making the side stream wait for that free, and a
  // decoding thread would wait behind a pass. (Reuse within a stream is unaffected.)
  int no = 0;
  REEL_CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolReuseAllowInternalDependencies, &no));
  description_ = "cuda:" + std::to_string(device) + " (" + device_description(device) + ", " + dtype_label(dtype) + ")";
}

Context::~Context() {
  cudaSetDevice(device_);
  if (ws_) cudaFreeAsync(ws_, stream_);
  if (stream_) cudaStreamSynchronize(stream_);
  if (cublas_) cublasDestroy(cublas_);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (stream_) cudaStreamDestroy(stream_);
  for (cudaStream_t s : {side_, copy_}) {
    if (!s) continue;
    cudaStreamSynchronize(s);
    cudaStreamDestroy(s);
  }
}

PinnedPool::~PinnedPool() {
  for (auto& b : blocks_) {
    if (b->done) {
      cudaEventSynchronize(b->done);
      cudaEventDestroy(b->done);
    }
    cudaFreeHost(b->p);
  }
}

PinnedPool::Block* PinnedPool::acquire(size_t bytes) {
  Block* best = take(bytes);
  // Its last copy may still be in flight (released behind a stream): the host writes next.
  if (best) REEL_CUDA_CHECK(cudaEventSynchronize(best->done));
  return best;
}

PinnedPool::Block* PinnedPool::take(size_t bytes) {
  std::lock_guard<std::mutex> lk(mu_);
  // The smallest idle block that holds `bytes`, else a new one; idle blocks too small for
  // anything asked lately go when a new block would pass the cap.
  Block* best = nullptr;
  for (const auto& b : blocks_)
    if (!b->busy && b->bytes >= bytes && (!best || b->bytes < best->bytes)) best = b.get();
  if (!best) {
    const size_t want = (bytes + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);  // whole MiB: reusable by neighbours
    for (auto it = blocks_.begin(); it != blocks_.end() && pinned_ + want > cap_;) {
      if ((*it)->busy) {
        ++it;
        continue;
      }
      cudaEventSynchronize((*it)->done);
      cudaEventDestroy((*it)->done);
      cudaFreeHost((*it)->p);
      pinned_ -= (*it)->bytes;
      it = blocks_.erase(it);
    }
    if (pinned_ + want > cap_) return nullptr;
    auto b = std::make_unique<Block>();
    REEL_CUDA_CHECK(cudaEventCreateWithFlags(&b->done, cudaEventDisableTiming));
    if (cudaHostAlloc(&b->p, want, cudaHostAllocDefault) != cudaSuccess) {
      cudaGetLastError();  // no pinned memory to be had: the caller copies from pageable memory
      cudaEventDestroy(b->done);
      return nullptr;
    }
    b->bytes = want;
    pinned_ += want;
    best = b.get();
    blocks_.push_back(std::move(b));
  }
  best->busy = true;
  return best;
}

void PinnedPool::release(Block* b, cudaStream_t stream) {
  if (!b) return;
  if (stream) REEL_CUDA_CHECK(cudaEventRecord(b->done, stream));
  std::lock_guard<std::mutex> lk(mu_);
  b->busy = false;
}

void Context::enter() const { REEL_CUDA_CHECK(cudaSetDevice(device_)); }

void* Context::alloc(size_t bytes, const char* what) const { return alloc_on(stream_, bytes, what); }

void* Context::alloc_on(cudaStream_t s, size_t bytes, const char* what) const {
  void* p = nullptr;
  const cudaError_t e = cudaMallocAsync(&p, bytes ? bytes : 1, s);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw Error(Code::OutOfMemory, "cuda:" + std::to_string(device_) + ": out of memory: " + std::to_string(bytes >> 20) +
                                       " MiB for " + what + " (" + std::to_string(free_b >> 20) + " MiB free of " +
                                       std::to_string(total_b >> 20) + " MiB); a smaller --tile or --window needs less");
  }
  if (e != cudaSuccess) cuda_fail(e, "cudaMallocAsync", __FILE__, __LINE__);
  return p;
}

void Context::free(void* p) const {
  cudaSetDevice(device_);
  cudaFreeAsync(p, stream_);  // never throws from a destructor; a fault shows at the next sync
}

void* Context::workspace(size_t bytes) const {
  if (bytes <= ws_bytes_) return ws_;
  if (ws_) REEL_CUDA_CHECK(cudaFreeAsync(ws_, stream_));
  ws_ = nullptr;
  ws_bytes_ = 0;
  ws_ = alloc(bytes, "a convolution or attention workspace");
  ws_bytes_ = bytes;
  return ws_;
}

size_t Context::available() const {
  enter();
  size_t free_b = 0, total_b = 0;
  REEL_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  size_t reserved = 0, used = 0;
  REEL_CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved));
  REEL_CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used));
  return free_b + (reserved > used ? reserved - used : 0);
}

void Context::sync() const { REEL_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

}  // namespace reel::cuda
