// SPDX-License-Identifier: Apache-2.0
// Per-element arithmetic shared by the CPU operators (lib/src/backend/cpu) and the CUDA kernels
// (kernels/cuda): one definition, compiled by g++ for the host and by nvcc for the device, so the
// CPU test suite (tests/ops/test_device_math.cpp) checks what the kernels compute. No CUDA header
// is needed: REEL_HD is __host__ __device__ under nvcc and nothing otherwise.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define REEL_HD __host__ __device__ __forceinline__
#else
#define REEL_HD inline
#endif

namespace reel::dm {

// Index i of an axis of length n, reflected at the end by one sample (the reference pads odd
// sizes (0, 1) with mode "reflect"): n -> n - 2.
REEL_HD int refl(int i, int n) { return i < n ? i : (n >= 2 ? n - 2 : 0); }

REEL_HD int parity(unsigned x) {
#if defined(__CUDA_ARCH__)
  return __popc(x) & 1;
#else
  return __builtin_popcount(x) & 1;
#endif
}

// Haar level of one block: out[s] = scale * sum_d (-1)^popcount(s & d) in[d], every subband at
// once (N = 8 for a 2x2x2 video block, 4 for a 2x2 image block; d and s index 4t+2h+w or 2w+h).
// The same map with scale 1 inverts a level: the sign matrix is its own inverse up to N.
template <int N>
REEL_HD void haar_block(const float* in, float scale, float* out) {
  for (int s = 0; s < N; ++s) {
    float acc = 0.0f;
    for (int d = 0; d < N; ++d) acc += parity(static_cast<unsigned>(s & d)) ? -in[d] : in[d];
    out[s] = acc * scale;
  }
}

// Finite scalar quantisation of one value on an axis of L levels, as the reference computes it
// in float32: half_l = (L-1)(1+1e-3)/2, offset = 0.5 for even L, shift = atanh(offset/half_l),
// q = round_half_even(tanh(v + shift) * half_l - offset); the code is q / (L/2) and the digit of
// the token id q + L/2.
struct FsqAxis {
  float half_l = 0, offset = 0, shift = 0, half_w = 0;
};
inline FsqAxis fsq_axis(int levels) {  // host only: the constants of one axis
  FsqAxis a;
  a.half_l = static_cast<float>((levels - 1) * (1.0f + 1e-3f) / 2.0f);
  a.offset = levels % 2 == 0 ? 0.5f : 0.0f;
  a.shift = std::atanh(a.offset / a.half_l);
  a.half_w = static_cast<float>(levels / 2);
  return a;
}
REEL_HD float fsq_level(float v, const FsqAxis& a) {  // q, a whole number in [-L/2, L/2]
  return nearbyintf(tanhf(v + a.shift) * a.half_l - a.offset);  // round half to even
}

// SiLU: x * sigmoid(x).
REEL_HD float silu(float x) { return x / (1.0f + expf(-x)); }

// The constants of one FSQ codebook: an axis per latent channel, and each digit's weight in the
// token id (the cumulative product of the levels). Fixed-size so a kernel takes it by value.
struct FsqCodebook {
  static constexpr int kMaxAxes = 16;
  int D = 0;
  int levels[kMaxAxes] = {};
  int64_t basis[kMaxAxes] = {};
  FsqAxis axis[kMaxAxes];
};
inline bool fsq_codebook(const int* levels, int D, FsqCodebook* cb) {  // host only; false if D > kMaxAxes
  if (D < 1 || D > FsqCodebook::kMaxAxes) return false;
  cb->D = D;
  int64_t b = 1;
  for (int i = 0; i < D; ++i) {
    cb->levels[i] = levels[i];
    cb->axis[i] = fsq_axis(levels[i]);
    cb->basis[i] = b;
    b *= levels[i];
  }
  return true;
}
// One latent position: z[i * stride] for the D axes -> codes (same stride) and the token id.
REEL_HD int64_t fsq_encode(const float* z, long stride, const FsqCodebook& cb, float* codes) {
  int64_t idx = 0;
  for (int i = 0; i < cb.D; ++i) {
    const float q = fsq_level(z[i * stride], cb.axis[i]);
    codes[i * stride] = q / cb.axis[i].half_w;
    idx += static_cast<int64_t>(q + cb.axis[i].half_w) * cb.basis[i];
  }
  return idx;
}
// A token id back to its codes; the caller has checked 0 <= idx < prod(levels).
REEL_HD void fsq_decode(int64_t idx, const FsqCodebook& cb, float* codes, long stride) {
  for (int i = 0; i < cb.D; ++i) {
    const int digit = static_cast<int>(idx % cb.levels[i]);
    idx /= cb.levels[i];
    const float hw = static_cast<float>(cb.levels[i] / 2);
    codes[i * stride] = (digit - hw) / hw;
  }
}

// GroupNorm of one channel once its group's mean and 1/sqrt(var + eps) are known:
// v -> scale * v + shift (then SiLU when asked).
REEL_HD void gn_channel(float mean, float inv_std, float gamma, float beta, float* scale, float* shift) {
  *scale = inv_std * gamma;
  *shift = beta - mean * inv_std * gamma;
}
REEL_HD float affine_act(float v, float scale, float shift, bool then_silu) {
  const float y = v * scale + shift;
  return then_silu ? silu(y) : y;
}

// Resampler index maps. The causal temporal average of output j reads frames a and b; the
// temporal upsample's output j is input frame (j + 1) / 2; a causal convolution's tap k of
// output j reads input frame max(0, j * stride + k - pad) (frame 0 repeated in front).
REEL_HD void causal_pool_frames(int j, int T, int* a, int* b) {
  *a = 2 * j - 1 < 0 ? 0 : 2 * j - 1;
  *b = 2 * j < T - 1 ? 2 * j : T - 1;
}
REEL_HD int upsample_temporal_frame(int j) { return (j + 1) / 2; }
REEL_HD int causal_tap_frame(int j, int k, int stride, int pad) {
  const int i = j * stride + k - pad;
  return i < 0 ? 0 : i;
}
// How the CUDA backend runs a causal convolution as GEMMs: from output j0 on, output j's kt
// input frames are the consecutive frames j*stride - pad ... of x itself; the first j0 outputs
// read a "head" of `head_frames` frames, head frame i being x's frame
// causal_head_frame(i, pad, T) (frame 0 repeated in front, clamped at the end).
REEL_HD void causal_conv_split(int To, int stride, int pad, int kt, int* j0, int* head_frames) {
  int j = (pad + stride - 1) / stride;
  *j0 = j < To ? j : To;
  *head_frames = *j0 > 0 ? (*j0 - 1) * stride + kt : 0;
}
REEL_HD int causal_head_frame(int i, int pad, int T) {
  const int f = i - pad < 0 ? 0 : i - pad;
  return f < T - 1 ? f : T - 1;
}
// 2x2 average after zero padding (0 before, 1 after) of output (oy, ox) of an H x W plane.
template <class Load>
REEL_HD float avg_pool2_padded(Load at, int H, int W, int oy, int ox) {
  float s = 0.0f;
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int iy = 2 * oy + dy, ix = 2 * ox + dx;
      if (iy < H && ix < W) s += at(iy, ix);
    }
  return s * 0.25f;
}

// Causal single-head attention along T at one pixel: element (t, c) of q, k, v and out at
// load(t, c) / store(t, c, value). Scores and sums in float32, the running maximum subtracted
// before exp. T <= kMaxCausalT (the latent frames of one window).
constexpr int kMaxCausalT = 64;
template <class Load, class Store>
REEL_HD void causal_attention_pixel(Load q, Load k, Load v, Store out, int T, int C, float scale) {
  float s[kMaxCausalT];
  for (int t = 0; t < T; ++t) {
    float m = -3.0e38f;
    for (int u = 0; u <= t; ++u) {
      float acc = 0.0f;
      for (int c = 0; c < C; ++c) acc += q(t, c) * k(u, c);
      s[u] = acc * scale;
      m = s[u] > m ? s[u] : m;
    }
    float sum = 0.0f;
    for (int u = 0; u <= t; ++u) {
      s[u] = expf(s[u] - m);
      sum += s[u];
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < C; ++c) {
      float acc = 0.0f;
      for (int u = 0; u <= t; ++u) acc += s[u] * v(u, c);
      out(t, c, acc * inv);
    }
  }
}

// bfloat16: the top 16 bits of a float32, rounded to nearest even (NaN kept quiet), as PyTorch
// and the CUDA intrinsics __float2bfloat16_rn do.
REEL_HD uint16_t float_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
REEL_HD float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// ---- 8-bit 4:2:0 pictures to RGB levels, in integers so host and device agree bit for bit ----

// A colour matrix and range as 16.16 fixed point: R = (ys (Y - yo) + rv Cr) >> 16 and so on, with
// the chroma differences Cb, Cr counted in eighths of a level (the bilinear weights below).
struct YuvFixed {
  int32_t yo = 16, ys = 0, rv = 0, gu = 0, gv = 0, bu = 0;
};
inline YuvFixed yuv_fixed(bool bt709, bool full_range) {  // host only
  const double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
  const double ys = full_range ? 1.0 : 255.0 / 219.0, cs = (full_range ? 1.0 : 255.0 / 224.0) * 65536.0 / 8.0;
  YuvFixed m;
  m.yo = full_range ? 0 : 16;
  m.ys = static_cast<int32_t>(std::lround(ys * 65536.0));
  m.rv = static_cast<int32_t>(std::lround(cs * 2.0 * (1.0 - kr)));
  m.gu = static_cast<int32_t>(std::lround(cs * 2.0 * kb * (1.0 - kb) / kg));
  m.gv = static_cast<int32_t>(std::lround(cs * 2.0 * kr * (1.0 - kr) / kg));
  m.bu = static_cast<int32_t>(std::lround(cs * 2.0 * (1.0 - kb)));
  return m;
}

REEL_HD int clamp_level(int32_t v) { return v < 0 ? 0 : (v > 255 ? 255 : static_cast<int>(v)); }

// The RGB levels of luma pixel (px, py) of a w x h picture. Chroma is interpolated bilinearly at
// MPEG-2 / H.264 siting (a chroma sample sits on the even luma columns, midway between two luma
// rows), edges clamped: horizontal weights (2, 0) or (1, 1) halves, vertical (1, 3) or (3, 1)
// quarters, so a chroma value is a whole number of eighths.
REEL_HD void yuv420_rgb(const uint8_t* y, int y_pitch, const uint8_t* u, const uint8_t* v, int uv_pitch, int uv_step, int w, int h,
                        int px, int py, const YuvFixed& m, int rgb[3]) {
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  const int x0 = px >> 1, x1 = (px & 1) && x0 + 1 < cw ? x0 + 1 : x0;
  const int wx0 = (px & 1) ? 1 : 2, wx1 = 2 - wx0;
  int r0, r1, wy0;  // chroma rows and the upper one's weight in quarters
  if (py & 1) {
    r0 = py >> 1;
    r1 = r0 + 1 < ch ? r0 + 1 : r0;
    wy0 = 3;
  } else {
    r1 = py >> 1;
    r0 = r1 > 0 ? r1 - 1 : 0;
    wy0 = 1;
  }
  const int wy1 = 4 - wy0;
  auto sample = [&](const uint8_t* plane, int cx, int cy) {
    return static_cast<int32_t>(plane[static_cast<long>(cy) * uv_pitch + static_cast<long>(cx) * uv_step]);
  };
  auto chroma = [&](const uint8_t* plane) {  // in eighths, minus 128 levels
    return wy0 * (wx0 * sample(plane, x0, r0) + wx1 * sample(plane, x1, r0)) +
           wy1 * (wx0 * sample(plane, x0, r1) + wx1 * sample(plane, x1, r1)) - 8 * 128;
  };
  const int32_t cb = chroma(u), cr = chroma(v);
  const int32_t luma = m.ys * (static_cast<int32_t>(y[static_cast<long>(py) * y_pitch + px]) - m.yo) + 32768;
  rgb[0] = clamp_level((luma + m.rv * cr) >> 16);
  rgb[1] = clamp_level((luma - m.gu * cb - m.gv * cr) >> 16);
  rgb[2] = clamp_level((luma + m.bu * cb) >> 16);
}

// An 8-bit level as network input, exactly as the host route maps RGB24 (rgb_to_act_frame).
REEL_HD float level_to_unit(int level) { return static_cast<float>(level / 255.0 * 2.0 - 1.0); }

}  // namespace reel::dm
