// SPDX-License-Identifier: Apache-2.0
// Element-wise kernels of the CUDA backend: dtype conversion, the GEMM prefill (bias and
// residual), the normalising prologue of a convolution (GroupNorm affine + SiLU + zero padding
// in one pass), GroupNorm statistics, residual adds, pooling and resampling. Grid-stride loops;
// index maps and arithmetic from backend/device_math.h.
#include "ops.cuh"

namespace reel::cuda {
namespace {

template <class T>
__global__ void k_from_f32(const float* __restrict__ s, T* __restrict__ d, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    d[i] = Cvt<T>::st(s[i]);
}
template <class T>
__global__ void k_to_f32(const T* __restrict__ s, float* __restrict__ d, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    d[i] = Cvt<T>::ld(s[i]);
}

template <class T>
__global__ void k_prefill(T* __restrict__ out, int C, long HW, long n, const T* __restrict__ bias, const T* __restrict__ add) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    float v = bias ? Cvt<T>::ld(bias[(i / HW) % C]) : 0.0f;
    if (add) v += Cvt<T>::ld(add[i]);
    out[i] = Cvt<T>::st(v);
  }
}

template <class T>
__global__ void k_prologue(const T* __restrict__ x, int C, int H, int W, const float* __restrict__ scale,
                           const float* __restrict__ shift, bool silu, int pt, int pl, int Hp, int Wp, long n,
                           T* __restrict__ out) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int xx = static_cast<int>(i % Wp), yy = static_cast<int>((i / Wp) % Hp);
    const long plane = i / (static_cast<long>(Wp) * Hp);  // t * C + c
    const int sy = yy - pt, sx = xx - pl;
    float v = 0.0f;
    if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
      v = Cvt<T>::ld(x[(plane * H + sy) * W + sx]);
      if (scale) v = dm::affine_act(v, scale[plane], shift[plane], silu);
    }
    out[i] = Cvt<T>::st(v);
  }
}

// Sum over the block in double (float partials per thread, as the CPU: float lanes, double
// across them). Every thread gets the total.
__device__ double block_sum(double v) {
  __shared__ double part[32];
  __shared__ double total;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    double s = lane < static_cast<int>((blockDim.x + 31) / 32) ? part[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) total = s;
  }
  __syncthreads();
  const double r = total;
  __syncthreads();  // part[] and total are reused by the next call
  return r;
}

// One block per (frame, group): the group's cpg planes are one contiguous run of cpg * HW values.
// Two passes (mean, then squared deviations), the first shifted by the group's first value,
// as the CPU reference computes them.
template <class T>
__global__ void k_group_norm(const T* __restrict__ x, int C, long HW, int groups, const T* __restrict__ gamma,
                             const T* __restrict__ beta, float eps, float* __restrict__ scale, float* __restrict__ shift) {
  const int g = blockIdx.x % groups, t = blockIdx.x / groups;
  const int cpg = C / groups;
  const long n = cpg * HW;
  const T* p = x + (static_cast<long>(t) * C + static_cast<long>(g) * cpg) * HW;
  const float first = Cvt<T>::ld(p[0]);
  float s = 0.0f;
  for (long i = threadIdx.x; i < n; i += blockDim.x) s += Cvt<T>::ld(p[i]) - first;
  const float mean = static_cast<float>(first + block_sum(s) / static_cast<double>(n));
  float q = 0.0f;
  for (long i = threadIdx.x; i < n; i += blockDim.x) {
    const float d = Cvt<T>::ld(p[i]) - mean;
    q += d * d;
  }
  const double var = block_sum(q) / static_cast<double>(n);
  const float inv = static_cast<float>(1.0 / sqrt(var + eps));
  for (int c = threadIdx.x; c < cpg; c += blockDim.x) {
    const int ch = g * cpg + c;
    dm::gn_channel(mean, inv, Cvt<T>::ld(gamma[ch]), Cvt<T>::ld(beta[ch]), &scale[static_cast<long>(t) * C + ch],
                   &shift[static_cast<long>(t) * C + ch]);
  }
}

template <class T>
__global__ void k_apply_affine(const T* __restrict__ x, T* __restrict__ y, long HW, long n, const float* __restrict__ scale,
                               const float* __restrict__ shift, bool silu) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const long plane = i / HW;
    y[i] = Cvt<T>::st(dm::affine_act(Cvt<T>::ld(x[i]), scale[plane], shift[plane], silu));
  }
}

template <class T>
__global__ void k_add(T* __restrict__ x, const T* __restrict__ y, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    x[i] = Cvt<T>::st(Cvt<T>::ld(x[i]) + Cvt<T>::ld(y[i]));
}

template <class T>
__global__ void k_avg_pool_spatial(const T* __restrict__ x, T* __restrict__ y, int H, int W, long n) {
  const int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % Wo), oy = static_cast<int>((i / Wo) % Ho);
    const T* in = x + (i / (static_cast<long>(Wo) * Ho)) * H * W;
    auto at = [&](int iy, int ix) { return Cvt<T>::ld(in[static_cast<long>(iy) * W + ix]); };
    y[i] = Cvt<T>::st(dm::avg_pool2_padded(at, H, W, oy, ox));
  }
}

template <class T>
__global__ void k_avg_pool_temporal(const T* __restrict__ x, T* __restrict__ y, int T_in, long frame, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    int a, b;
    dm::causal_pool_frames(static_cast<int>(i / frame), T_in, &a, &b);
    const long e = i % frame;
    y[i] = Cvt<T>::st(0.5f * (Cvt<T>::ld(x[a * frame + e]) + Cvt<T>::ld(x[b * frame + e])));
  }
}

template <class T>
__global__ void k_upsample_spatial(const T* __restrict__ x, T* __restrict__ y, int H, int W, long n) {
  const int Ho = 2 * H, Wo = 2 * W;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % Wo), oy = static_cast<int>((i / Wo) % Ho);
    const long plane = i / (static_cast<long>(Wo) * Ho);
    y[i] = x[(plane * H + oy / 2) * W + ox / 2];
  }
}

template <class T>
__global__ void k_upsample_temporal(const T* __restrict__ x, T* __restrict__ y, long frame, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    y[i] = x[dm::upsample_temporal_frame(static_cast<int>(i / frame)) * frame + i % frame];
}

template <class T>
__global__ void k_reorder_taps(const T* __restrict__ w, T* __restrict__ out, int Ci, int kt, long n) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ci = static_cast<int>(i % Ci), k = static_cast<int>((i / Ci) % kt);
    const long co = i / (static_cast<long>(Ci) * kt);
    out[i] = w[(co * Ci + ci) * kt + k];
  }
}

}  // namespace

void from_f32(const Context& c, const float* src, void* dst, size_t n) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_from_f32<T><<<blocks_for(n), 256, 0, c.stream()>>>(src, static_cast<T*>(dst), static_cast<long>(n)));
  REEL_CUDA_CHECK_LAUNCH("from_f32");
}

void to_f32(const Context& c, const void* src, float* dst, size_t n) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_to_f32<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(src), dst, static_cast<long>(n)));
  REEL_CUDA_CHECK_LAUNCH("to_f32");
}

bool prefill(const Context& c, void* out, int T_, int C, size_t HW, const void* bias, const void* add) {
  if (!bias && !add) return false;
  const long n = static_cast<long>(T_) * C * static_cast<long>(HW);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_prefill<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<T*>(out), C, static_cast<long>(HW), n,
                                                                           static_cast<const T*>(bias),
                                                                           static_cast<const T*>(add)));
  REEL_CUDA_CHECK_LAUNCH("prefill");
  return true;
}

void prologue(const Context& c, const void* x, int T_, int C, int H, int W, const DeviceAffine* pre, int pt, int pl, int Hp,
              int Wp, void* out) {
  const long n = static_cast<long>(T_) * C * Hp * Wp;
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_prologue<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<const T*>(x), C, H, W, pre ? pre->scale() : nullptr, pre ? pre->shift() : nullptr,
                          pre && pre->silu, pt, pl, Hp, Wp, n, static_cast<T*>(out)));
  REEL_CUDA_CHECK_LAUNCH("prologue");
}

void group_norm_stats(const Context& c, const void* x, int T_, int C, size_t HW, const void* gamma, const void* beta,
                      int groups, float eps, const DeviceAffine& out) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_group_norm<T><<<T_ * groups, 512, 0, c.stream()>>>(
                          static_cast<const T*>(x), C, static_cast<long>(HW), groups, static_cast<const T*>(gamma),
                          static_cast<const T*>(beta), eps, out.scale(), out.shift()));
  REEL_CUDA_CHECK_LAUNCH("group_norm_stats");
}

void apply_affine(const Context& c, const void* x, void* y, int T_, int C, size_t HW, const DeviceAffine& a) {
  const long n = static_cast<long>(T_) * C * static_cast<long>(HW);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_apply_affine<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<const T*>(x), static_cast<T*>(y), static_cast<long>(HW), n, a.scale(), a.shift(), a.silu));
  REEL_CUDA_CHECK_LAUNCH("apply_affine");
}

void add_inplace(const Context& c, void* x, const void* y, size_t n) {
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_add<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<T*>(x), static_cast<const T*>(y),
                                                                       static_cast<long>(n)));
  REEL_CUDA_CHECK_LAUNCH("add");
}

void avg_pool_spatial_padded(const Context& c, const void* x, void* y, int T_, int C, int H, int W) {
  const long n = static_cast<long>(T_) * C * ((H + 1) / 2) * ((W + 1) / 2);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_avg_pool_spatial<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(x),
                                                                                    static_cast<T*>(y), H, W, n));
  REEL_CUDA_CHECK_LAUNCH("avg_pool_spatial");
}

void avg_pool_temporal_causal(const Context& c, const void* x, void* y, int T_in, size_t frame) {
  const long n = static_cast<long>((T_in + 1) / 2) * static_cast<long>(frame);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_avg_pool_temporal<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<const T*>(x), static_cast<T*>(y), T_in, static_cast<long>(frame), n));
  REEL_CUDA_CHECK_LAUNCH("avg_pool_temporal");
}

void upsample_spatial(const Context& c, const void* x, void* y, int T_, int C, int H, int W) {
  const long n = static_cast<long>(T_) * C * 4L * H * W;
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_upsample_spatial<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(x),
                                                                                    static_cast<T*>(y), H, W, n));
  REEL_CUDA_CHECK_LAUNCH("upsample_spatial");
}

void upsample_temporal(const Context& c, const void* x, void* y, int T_out, size_t frame) {
  const long n = static_cast<long>(T_out) * static_cast<long>(frame);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_upsample_temporal<T><<<blocks_for(n), 256, 0, c.stream()>>>(
                          static_cast<const T*>(x), static_cast<T*>(y), static_cast<long>(frame), n));
  REEL_CUDA_CHECK_LAUNCH("upsample_temporal");
}

void copy_frames(const Context& c, const void* x, void* y, size_t frames, size_t frame) {
  REEL_CUDA_CHECK(cudaMemcpyAsync(y, x, frames * frame * dtype_size(c.dtype()), cudaMemcpyDeviceToDevice, c.stream()));
}

void reorder_taps(const Context& c, const void* w, void* out, int Co, int Ci, int kt) {
  const long n = static_cast<long>(Co) * Ci * kt;
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_reorder_taps<T><<<blocks_for(n), 256, 0, c.stream()>>>(static_cast<const T*>(w),
                                                                                static_cast<T*>(out), Ci, kt, n));
  REEL_CUDA_CHECK_LAUNCH("reorder_taps");
}

}  // namespace reel::cuda
