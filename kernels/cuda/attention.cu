// SPDX-License-Identifier: Apache-2.0
// Attention kernels. Causal temporal attention: one thread per pixel runs
// dm::causal_attention_pixel (the function the CPU suite checks) over the window's few latent
// frames. Spatial attention's scores come from cuBLAS a block of queries at a time
// (backend_cuda.cu); this file normalises each block's rows.
#include <cfloat>

#include "ops.cuh"

namespace reel::cuda {
namespace {

template <class T>
__global__ void k_causal_attention(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                   T* __restrict__ o, int Tn, int C, long HW, float scale) {
  const long ts = static_cast<long>(C) * HW;
  for (long p = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; p < HW; p += static_cast<long>(gridDim.x) * blockDim.x) {
    // Neighbouring threads read neighbouring pixels of the same (t, c): coalesced.
    auto ld = [=](const T* a) { return [=](int t, int c) { return Cvt<T>::ld(a[t * ts + c * HW + p]); }; };
    auto st = [=](int t, int c, float val) { o[t * ts + c * HW + p] = Cvt<T>::st(val); };
    dm::causal_attention_pixel(ld(q), ld(k), ld(v), st, Tn, C, scale);
  }
}

// One block per row: max, then sum of exp, then the normalised row in the storage dtype.
template <class T>
__global__ void k_softmax_rows(const float* __restrict__ s, T* __restrict__ p, int n) {
  __shared__ float red[32];
  const float* row = s + static_cast<long>(blockIdx.x) * n;
  T* out = p + static_cast<long>(blockIdx.x) * n;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) / 32;
  float m = -FLT_MAX;
  for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, row[j]);
  for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
  if (lane == 0) red[warp] = m;
  __syncthreads();
  m = -FLT_MAX;
  for (int w = 0; w < warps; ++w) m = fmaxf(m, red[w]);
  __syncthreads();
  float sum = 0.0f;
  for (int j = threadIdx.x; j < n; j += blockDim.x) sum += expf(row[j] - m);
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) red[warp] = sum;
  __syncthreads();
  sum = 0.0f;
  for (int w = 0; w < warps; ++w) sum += red[w];
  const float inv = 1.0f / sum;
  for (int j = threadIdx.x; j < n; j += blockDim.x) out[j] = Cvt<T>::st(expf(row[j] - m) * inv);
}

}  // namespace

void causal_attention(const Context& c, const void* q, const void* k, const void* v, void* o, int Tn, int C, size_t HW) {
  if (Tn > dm::kMaxCausalT)
    throw Error(Code::InvalidArgument, "temporal attention over " + std::to_string(Tn) + " latent frames; the CUDA kernel takes at most " +
                                           std::to_string(dm::kMaxCausalT) + " (a shorter --window)");
  const float scale = 1.0f / sqrtf(static_cast<float>(C));
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_causal_attention<T><<<blocks_for(static_cast<long>(HW), 128), 128, 0, c.stream()>>>(
                          static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(o), Tn,
                          C, static_cast<long>(HW), scale));
  REEL_CUDA_CHECK_LAUNCH("causal_attention");
}

void softmax_rows(const Context& c, const float* s, void* p, long rows, int n) {
  for (long r0 = 0; r0 < rows; r0 += 65535L * 32) {  // grid.x limit is 2^31-1; keep launches modest
    const long r = rows - r0 < 65535L * 32 ? rows - r0 : 65535L * 32;
    REEL_DTYPE_DISPATCH(c.dtype(), T,
                        k_softmax_rows<T><<<static_cast<unsigned>(r), 256, 0, c.stream()>>>(
                            s + r0 * n, static_cast<T*>(p) + r0 * n, n));
    REEL_CUDA_CHECK_LAUNCH("softmax_rows");
  }
}

}  // namespace reel::cuda
