// SPDX-License-Identifier: Apache-2.0
// Haar wavelet patcher on the GPU: one thread per output coefficient position and input
// channel computes all 8 (video) or 4 (image) subbands of its 2x2x2 / 2x2 block, exactly as
// lib/src/backend/cpu/haar.cpp (sum with signs, /8 or /4, reflect padding of odd sizes).
// Layout (T, C, H, W), frame-major, float32. Levels run back to back on the device.
#include <cstring>

#include "backend/device_math.h"
#include "common.cuh"
#include "reel/cuda/cuda_backend.h"
#include "reel/model/ops.h"

namespace reel::cuda {
namespace {

using dm::refl;

__global__ void haar3d_level(const float* __restrict__ x, float* __restrict__ y, int T, int C, int H, int W) {
  const int To = (T + 1) / 2, Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  const long total = static_cast<long>(To) * C * Ho * Wo;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % Wo, h = (i / Wo) % Ho, c = (i / (static_cast<long>(Wo) * Ho)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(Wo) * Ho * C));
    float v[8];
    for (int d = 0; d < 8; ++d) {
      const int tt = refl(2 * t + (d >> 2), T), hh = refl(2 * h + ((d >> 1) & 1), H), ww = refl(2 * w + (d & 1), W);
      v[d] = x[((static_cast<long>(tt) * C + c) * H + hh) * W + ww];
    }
    float sb[8];
    dm::haar_block<8>(v, 0.125f, sb);
    for (int s = 0; s < 8; ++s) y[((static_cast<long>(t) * 8 * C + s * C + c) * Ho + h) * Wo + w] = sb[s];
  }
}

__global__ void haar2d_level(const float* __restrict__ x, float* __restrict__ y, int T, int C, int H, int W) {
  const int Ho = (H + 1) / 2, Wo = (W + 1) / 2;
  const long total = static_cast<long>(T) * C * Ho * Wo;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < total; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int w = i % Wo, h = (i / Wo) % Ho, c = (i / (static_cast<long>(Wo) * Ho)) % C;
    const int t = static_cast<int>(i / (static_cast<long>(Wo) * Ho * C));
    float v[4];
    for (int d = 0; d < 4; ++d) {  // d = 2*dw + dh
      const int hh = refl(2 * h + (d & 1), H), ww = refl(2 * w + (d >> 1), W);
      v[d] = x[((static_cast<long>(t) * C + c) * H + hh) * W + ww];
    }
    float sb[4];
    dm::haar_block<4>(v, 0.25f, sb);
    for (int s = 0; s < 4; ++s) y[((static_cast<long>(t) * 4 * C + s * C + c) * Ho + h) * Wo + w] = sb[s];
  }
}

int levels_of(int patch) {
  int n = 0;
  while ((1 << n) < patch) ++n;
  return n;
}

void require_device(int device) {
  std::string why;
  int n = device_count(&why);
  if (device < 0 || device >= n) throw Error(Code::DeviceUnavailable, "cuda:" + std::to_string(device) + ": " + why);
  REEL_CUDA_CHECK(cudaSetDevice(device));
}

Act run_levels(Act cur, int patch, bool video, int device) {
  require_device(device);
  for (int l = 0; l < levels_of(patch); ++l) {
    const int To = video ? (cur.T + 1) / 2 : cur.T;
    Act next(To, cur.C * (video ? 8 : 4), (cur.H + 1) / 2, (cur.W + 1) / 2);
    DeviceBuffer<float> din(cur.v.size()), dout(next.v.size());
    REEL_CUDA_CHECK(cudaMemcpy(din.ptr, cur.v.data(), cur.v.size() * sizeof(float), cudaMemcpyHostToDevice));
    const long work = static_cast<long>(next.v.size()) / (video ? 8 : 4);
    const int threads = 256;
    const int blocks = static_cast<int>(std::min<long>((work + threads - 1) / threads, 65535));
    if (video) haar3d_level<<<blocks, threads>>>(din.ptr, dout.ptr, cur.T, cur.C, cur.H, cur.W);
    else haar2d_level<<<blocks, threads>>>(din.ptr, dout.ptr, cur.T, cur.C, cur.H, cur.W);
    REEL_CUDA_CHECK_LAUNCH(video ? "haar3d_level" : "haar2d_level");
    REEL_CUDA_CHECK(cudaMemcpy(next.v.data(), dout.ptr, next.v.size() * sizeof(float), cudaMemcpyDeviceToHost));
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

Act haar_patch3d(const Act& x, int patch, int device) {
  Act cur(x.T + patch - 1, x.C, x.H, x.W);
  for (int i = 0; i < patch; ++i) std::memcpy(cur.frame(i), x.frame(0), sizeof(float) * x.frame_size());
  if (x.T > 1) std::memcpy(cur.frame(patch), x.frame(1), sizeof(float) * x.frame_size() * (x.T - 1));
  return run_levels(std::move(cur), patch, true, device);
}

Act haar_patch2d(const Act& x, int patch, int device) { return run_levels(x, patch, false, device); }

}  // namespace reel::cuda
