// SPDX-License-Identifier: Apache-2.0
// Haar wavelet levels on the GPU: one thread per block position and input channel computes all
// 8 (video) or 4 (image) subbands of its 2x2x2 / 2x2 block, or inverts them, exactly as
// lib/src/backend/cpu/haar.cpp (dm::haar_block: signed sums, /8 or /4; reflect padding of
// odd sizes). Any storage dtype; arithmetic in float32.
#include "ops.cuh"

namespace reel::cuda {
namespace {

using dm::refl;

template <class T>
__global__ void k_haar3d(const T* __restrict__ x, T* __restrict__ y, int Tn, int C, int H, int W) {
  const int To = (Tn + 1) / 2, Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  const long total = static_cast<long>(To) * C * Ho * Wo;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % Wo, h = (i / Wo) % Ho, c = (i / (static_cast<long>(Wo) * Ho)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(Wo) * Ho * C));
    float v[8];
    for (int d = 0; d < 8; ++d) {
      const int tt = refl(2 * t + (d >> 2), Tn), hh = refl(2 * h + ((d >> 1) & 1), H), ww = refl(2 * w + (d & 1), W);
      v[d] = Cvt<T>::ld(x[((static_cast<long>(tt) * C + c) * H + hh) * W + ww]);
    }
    float sb[8];
    dm::haar_block<8>(v, 0.125f, sb);
    for (int s = 0; s < 8; ++s) y[((static_cast<long>(t) * 8 * C + s * C + c) * Ho + h) * Wo + w] = Cvt<T>::st(sb[s]);
  }
}

template <class T>
__global__ void k_haar2d(const T* __restrict__ x, T* __restrict__ y, int Tn, int C, int H, int W) {
  const int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  const long total = static_cast<long>(Tn) * C * Ho * Wo;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % Wo, h = (i / Wo) % Ho, c = (i / (static_cast<long>(Wo) * Ho)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(Wo) * Ho * C));
    float v[4];
    for (int d = 0; d < 4; ++d) {  // d = 2*dw + dh
      const int hh = refl(2 * h + (d & 1), H), ww = refl(2 * w + (d >> 1), W);
      v[d] = Cvt<T>::ld(x[((static_cast<long>(t) * C + c) * H + hh) * W + ww]);
    }
    float sb[4];
    dm::haar_block<4>(v, 0.25f, sb);
    for (int s = 0; s < 4; ++s) y[((static_cast<long>(t) * 4 * C + s * C + c) * Ho + h) * Wo + w] = Cvt<T>::st(sb[s]);
  }
}

// Inverse video level: x (T, 8C, H, W) -> y (2T, C, 2H, 2W); pixel index d = 4dt + 2dh + dw.
template <class T>
__global__ void k_ihaar3d(const T* __restrict__ x, T* __restrict__ y, int Tn, int C, int H, int W) {
  const long total = static_cast<long>(Tn) * C * H * W;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % W, h = (i / W) % H, c = (i / (static_cast<long>(W) * H)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(W) * H * C));
    float coef[8];
    for (int s = 0; s < 8; ++s) coef[s] = Cvt<T>::ld(x[((static_cast<long>(t) * 8 * C + s * C + c) * H + h) * W + w]);
    float px[8];
    dm::haar_block<8>(coef, 1.0f, px);
    for (int d = 0; d < 8; ++d) {
      const int tt = 2 * t + (d >> 2), hh = 2 * h + ((d >> 1) & 1), ww = 2 * w + (d & 1);
      y[((static_cast<long>(tt) * C + c) * 2 * H + hh) * 2 * W + ww] = Cvt<T>::st(px[d]);
    }
  }
}

// Inverse image level: x (T, 4C, H, W) -> y (T, C, 2H, 2W); pixel index d = 2dw + dh.
template <class T>
__global__ void k_ihaar2d(const T* __restrict__ x, T* __restrict__ y, int Tn, int C, int H, int W) {
  const long total = static_cast<long>(Tn) * C * H * W;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % W, h = (i / W) % H, c = (i / (static_cast<long>(W) * H)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(W) * H * C));
    float coef[4];
    for (int s = 0; s < 4; ++s) coef[s] = Cvt<T>::ld(x[((static_cast<long>(t) * 4 * C + s * C + c) * H + h) * W + w]);
    float px[4];
    dm::haar_block<4>(coef, 1.0f, px);
    for (int d = 0; d < 4; ++d) {
      const int hh = 2 * h + (d & 1), ww = 2 * w + (d >> 1);
      y[((static_cast<long>(t) * C + c) * 2 * H + hh) * 2 * W + ww] = Cvt<T>::st(px[d]);
    }
  }
}

}  // namespace

void haar_level(const Context& c, const void* x, void* y, int Tn, int C, int H, int W, bool video) {
  const long work = static_cast<long>(video ? (Tn + 1) / 2 : Tn) * C * ((H + 1) / 2) * ((W + 1) / 2);
  REEL_DTYPE_DISPATCH(c.dtype(), T, {
    if (video) k_haar3d<T><<<blocks_for(work), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), Tn, C, H, W);
    else k_haar2d<T><<<blocks_for(work), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), Tn, C, H, W);
  });
  REEL_CUDA_CHECK_LAUNCH(video ? "haar3d" : "haar2d");
}

void haar_ilevel(const Context& c, const void* x, void* y, int Tn, int C8, int H, int W, bool video) {
  const int C = C8 / (video ? 8 : 4);
  const long work = static_cast<long>(Tn) * C * H * W;
  REEL_DTYPE_DISPATCH(c.dtype(), T, {
    if (video) k_ihaar3d<T><<<blocks_for(work), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), Tn, C, H, W);
    else k_ihaar2d<T><<<blocks_for(work), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), Tn, C, H, W);
  });
  REEL_CUDA_CHECK_LAUNCH(video ? "ihaar3d" : "ihaar2d");
}

}  // namespace reel::cuda
