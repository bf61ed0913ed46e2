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

}  // namespace reel::dm
