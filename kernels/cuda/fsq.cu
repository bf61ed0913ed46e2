// SPDX-License-Identifier: Apache-2.0
// Finite scalar quantisation on the GPU: one thread per latent position, the codebook passed by
// value; dm::fsq_encode / fsq_decode are the functions the CPU backend runs.
#include "ops.cuh"

namespace reel::cuda {
namespace {

template <class T>
__global__ void k_fsq_encode(const T* __restrict__ z, T* __restrict__ codes, int32_t* __restrict__ idx, long HW, long n,
                             dm::FsqCodebook cb) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const long t = i / HW, p = i % HW;
    float zi[dm::FsqCodebook::kMaxAxes], ci[dm::FsqCodebook::kMaxAxes];
    const long base = t * cb.D * HW + p;
    for (int a = 0; a < cb.D; ++a) zi[a] = Cvt<T>::ld(z[base + a * HW]);
    idx[i] = static_cast<int32_t>(dm::fsq_encode(zi, 1, cb, ci));
    for (int a = 0; a < cb.D; ++a) codes[base + a * HW] = Cvt<T>::st(ci[a]);
  }
}

template <class T>
__global__ void k_fsq_decode(const int32_t* __restrict__ idx, T* __restrict__ codes, long HW, long n, dm::FsqCodebook cb) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const long t = i / HW, p = i % HW;
    float ci[dm::FsqCodebook::kMaxAxes];
    dm::fsq_decode(idx[i], cb, ci, 1);
    const long base = t * cb.D * HW + p;
    for (int a = 0; a < cb.D; ++a) codes[base + a * HW] = Cvt<T>::st(ci[a]);
  }
}

}  // namespace

void fsq_encode(const Context& c, const void* z, void* codes, int32_t* idx, int Tn, size_t HW, const dm::FsqCodebook& cb) {
  const long n = static_cast<long>(Tn) * static_cast<long>(HW);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_fsq_encode<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(z), static_cast<T*>(codes),
                                                                              idx, static_cast<long>(HW), n, cb));
  REEL_CUDA_CHECK_LAUNCH("fsq_encode");
}

void fsq_decode(const Context& c, const int32_t* idx, void* codes, int Tn, size_t HW, const dm::FsqCodebook& cb) {
  const long n = static_cast<long>(Tn) * static_cast<long>(HW);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_fsq_decode<T><<<blocks_for(n), 256, 0, c.stream()>>>(idx, static_cast<T*>(codes),
                                                                              static_cast<long>(HW), n, cb));
  REEL_CUDA_CHECK_LAUNCH("fsq_decode");
}

}  // namespace reel::cuda
