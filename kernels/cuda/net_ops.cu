// SPDX-License-Identifier: Apache-2.0
// Kernels of the curation networks' ops (TransNetV2): a per-channel affine + ReLU on a channel
// range of a tensor (BatchNorm after a branch's temporal convolution), ReLU with a residual,
// floor 2x2 pooling and per-frame channel means. Grid-stride loops in the context's dtype,
// arithmetic in float32 (the means in double, as the CPU operator).
#include "ops.cuh"

namespace reel::cuda {
namespace {

template <class T>
__global__ void k_channel_post(T* __restrict__ x, int C, int c0, int co, long HW, long n, const T* __restrict__ scale,
                               const T* __restrict__ shift, bool relu) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const long p = i % HW;
    const int c = static_cast<int>((i / HW) % co);
    const long t = i / (HW * co);
    T* v = x + (t * C + c0 + c) * HW + p;
    float u = Cvt<T>::ld(*v);
    if (scale) u = Cvt<T>::ld(scale[c]) * u + Cvt<T>::ld(shift[c]);
    if (relu) u = fmaxf(u, 0.0f);
    *v = Cvt<T>::st(u);
  }
}

template <class T>
__global__ void k_relu_add(T* __restrict__ x, const T* __restrict__ y, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const float a = y ? Cvt<T>::ld(y[i]) : 0.0f;
    x[i] = Cvt<T>::st(fmaxf(Cvt<T>::ld(x[i]), 0.0f) + a);
  }
}

template <class T>
__global__ void k_avg_pool2(const T* __restrict__ x, T* __restrict__ y, int H, int W, long n) {
  const int Ho = H / 2, Wo = W / 2;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % Wo), oy = static_cast<int>((i / Wo) % Ho);
    const long plane = i / (static_cast<long>(Wo) * Ho);
    const T* p = x + (plane * H + 2 * oy) * W + 2 * ox;
    y[i] = Cvt<T>::st(0.25f * (Cvt<T>::ld(p[0]) + Cvt<T>::ld(p[1]) + Cvt<T>::ld(p[W]) + Cvt<T>::ld(p[W + 1])));
  }
}

// One warp per (frame, channel) plane.
template <class T>
__global__ void k_spatial_mean(const T* __restrict__ x, T* __restrict__ y, long planes, long HW) {
  const long plane = blockIdx.x * static_cast<long>(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (plane >= planes) return;
  const T* p = x + plane * HW;
  double s = 0.0;
  for (long q = lane; q < HW; q += 32) s += Cvt<T>::ld(p[q]);
  for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
  if (lane == 0) y[plane] = Cvt<T>::st(static_cast<float>(s / static_cast<double>(HW)));
}

// One output element per thread: k*k products (k <= 5), a memory-bound op.
template <class T>
__global__ void k_depthwise(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b, T* __restrict__ y,
                            int C, int H, int W, int Ho, int Wo, int k, int stride, int pad, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % Wo), oy = static_cast<int>((i / Wo) % Ho);
    const long plane = i / (static_cast<long>(Wo) * Ho);
    const int c = static_cast<int>(plane % C);
    const T* s = x + plane * H * W;
    const T* wk = w + static_cast<long>(c) * k * k;
    float acc = b ? Cvt<T>::ld(b[c]) : 0.0f;
    for (int dy = 0; dy < k; ++dy) {
      const int iy = oy * stride + dy - pad;
      if (iy < 0 || iy >= H) continue;
      for (int dx = 0; dx < k; ++dx) {
        const int ix = ox * stride + dx - pad;
        if (ix >= 0 && ix < W) acc += Cvt<T>::ld(wk[dy * k + dx]) * Cvt<T>::ld(s[static_cast<long>(iy) * W + ix]);
      }
    }
    y[i] = Cvt<T>::st(acc);
  }
}

// One output element per thread, as the CPU operator: the in-frame part of the window.
template <class T>
__global__ void k_pool2d(const T* __restrict__ x, T* __restrict__ y, int H, int W, int Ho, int Wo, bool take_max, int k, int stride,
                         int pt, int pl, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % Wo), oy = static_cast<int>((i / Wo) % Ho);
    const T* s = x + (i / (static_cast<long>(Wo) * Ho)) * H * W;
    const int y0 = max(0, oy * stride - pt), y1 = min(H, oy * stride - pt + k);
    const int x0 = max(0, ox * stride - pl), x1 = min(W, ox * stride - pl + k);
    float acc = take_max ? Cvt<T>::ld(s[static_cast<long>(y0) * W + x0]) : 0.0f;
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) {
        const float v = Cvt<T>::ld(s[static_cast<long>(iy) * W + ix]);
        acc = take_max ? fmaxf(acc, v) : acc + v;
      }
    y[i] = Cvt<T>::st(take_max ? acc : acc / static_cast<float>((y1 - y0) * (x1 - x0)));
  }
}

template <class T>
__global__ void k_clamp(T* __restrict__ x, float lo, float hi, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    x[i] = Cvt<T>::st(fminf(fmaxf(Cvt<T>::ld(x[i]), lo), hi));
}

}  // namespace

void depthwise(const Context& c, const void* x, const void* w, const void* b, void* y, int T_, int C, int H, int W, int Ho,
               int Wo, int k, int stride, int pad) {
  const long n = static_cast<long>(T_) * C * Ho * Wo;
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_depthwise<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b), static_cast<T*>(y), C,
                          H, W, Ho, Wo, k, stride, pad, n));
  REEL_CUDA_CHECK_LAUNCH("depthwise");
}

void clamp(const Context& c, void* x, float lo, float hi, size_t n) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_clamp<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<T*>(x), lo, hi, static_cast<long>(n)));
  REEL_CUDA_CHECK_LAUNCH("clamp");
}

void channel_post(const Context& c, void* x, int T_, int C, int c0, int co, size_t HW, const void* scale, const void* shift,
                  bool relu) {
  const long n = static_cast<long>(T_) * co * static_cast<long>(HW);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_channel_post<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<T*>(x), C, c0, co, static_cast<long>(HW), n, static_cast<const T*>(scale),
                          static_cast<const T*>(shift), relu));
  REEL_CUDA_CHECK_LAUNCH("channel_post");
}

void relu_add(const Context& c, void* x, const void* y, size_t n) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_relu_add<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<T*>(x), static_cast<const T*>(y),
                                                                            static_cast<long>(n)));
  REEL_CUDA_CHECK_LAUNCH("relu_add");
}

void avg_pool2(const Context& c, const void* x, void* y, int T_, int C, int H, int W) {
  const long n = static_cast<long>(T_) * C * (H / 2) * (W / 2);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_avg_pool2<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), H,
                                                                             W, n));
  REEL_CUDA_CHECK_LAUNCH("avg_pool2");
}

void pool2d(const Context& c, const void* x, void* y, int T_, int C, int H, int W, int Ho, int Wo, bool max, int k, int stride,
            int pt, int pl) {
  const long n = static_cast<long>(T_) * C * Ho * Wo;
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_pool2d<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), H, W,
                                                                          Ho, Wo, max, k, stride, pt, pl, n));
  REEL_CUDA_CHECK_LAUNCH("pool2d");
}

void spatial_mean(const Context& c, const void* x, void* y, long planes, size_t HW) {
  const long blocks = (planes + 7) / 8;  // 8 warps a block
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_spatial_mean<T><<<blocks, 256, 0, c.stream()>>>(static_cast<const T*>(x), static_cast<T*>(y), planes,
                                                                         static_cast<long>(HW)));
  REEL_CUDA_CHECK_LAUNCH("spatial_mean");
}

}  // namespace reel::cuda
