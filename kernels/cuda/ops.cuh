// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's kernels, as host functions on device pointers in the context's dtype
// (activations: (T, C, H, W), frame-major, as on the CPU). Each enqueues on the context's
// stream and returns without waiting. The per-element arithmetic is lib/src/backend/device_math.h,
// the same functions the CPU operators run.
#pragma once
#include <cstddef>
#include <cstdint>

#include "backend/device_math.h"
#include "context.cuh"

namespace reel::cuda {

// dtype conversions of n elements (the context's dtype on the device side).
void from_f32(const Context& c, const float* src, void* dst, size_t n);
void to_f32(const Context& c, const void* src, float* dst, size_t n);

// out[t][ch][p] = bias[ch] (if any) + add[t][ch][p] (if any): the C of a GEMM that accumulates
// onto it. Returns false (and writes nothing) when there is neither.
bool prefill(const Context& c, void* out, int T, int C, size_t HW, const void* bias, const void* add);
// out (T, C, Hp, Wp) = x placed at (pt, pl) with zeros around, through the affine map when given.
void prologue(const Context& c, const void* x, int T, int C, int H, int W, const DeviceAffine* pre, int pt, int pl, int Hp,
              int Wp, void* out);

void group_norm_stats(const Context& c, const void* x, int T, int C, size_t HW, const void* gamma, const void* beta,
                      int groups, float eps, const DeviceAffine& out);
void apply_affine(const Context& c, const void* x, void* y, int T, int C, size_t HW, const DeviceAffine& a);
void add_inplace(const Context& c, void* x, const void* y, size_t n);

void avg_pool_spatial_padded(const Context& c, const void* x, void* y, int T, int C, int H, int W);
void avg_pool_temporal_causal(const Context& c, const void* x, void* y, int T, size_t frame);
void upsample_spatial(const Context& c, const void* x, void* y, int T, int C, int H, int W);
void upsample_temporal(const Context& c, const void* x, void* y, int T_out, size_t frame);
void copy_frames(const Context& c, const void* x, void* y, size_t frames, size_t frame);

// The curation networks' element-wise ops (net_ops.cu). channel_post: channels [c0, c0 + co)
// of x (T, C, HW) through v -> scale * v + shift (when scale) and ReLU (when relu). relu_add:
// x = max(x, 0) + y (y may be null: ReLU alone).
void channel_post(const Context& c, void* x, int T, int C, int c0, int co, size_t HW, const void* scale, const void* shift,
                  bool relu);
void relu_add(const Context& c, void* x, const void* y, size_t n);
void avg_pool2(const Context& c, const void* x, void* y, int T, int C, int H, int W);
void spatial_mean(const Context& c, const void* x, void* y, long planes, size_t HW);
void pool2d(const Context& c, const void* x, void* y, int T, int C, int H, int W, int Ho, int Wo, bool max, int k, int stride,
            int pt, int pl);
void depthwise(const Context& c, const void* x, const void* w, const void* b, void* y, int T, int C, int H, int W, int Ho,
               int Wo, int k, int stride, int pad);
void clamp(const Context& c, void* x, float lo, float hi, size_t n);

// A 4:2:0 picture in device memory (planes as Yuv420 describes them) into a (1, 3, H, W)
// frame y at (pt, pl), zeros around it, on stream s (dm::yuv420_rgb, then dm::level_to_unit).
void yuv420_frame(const Context& c, cudaStream_t s, const Yuv420& p, void* y, int H, int W, int pt, int pl);

// (Co, Ci, kt) -> (Co, kt, Ci): the temporal convolution's taps in the order of stacked frames.
void reorder_taps(const Context& c, const void* w, void* out, int Co, int Ci, int kt);

// Causal attention along T at every pixel (T <= dm::kMaxCausalT).
void causal_attention(const Context& c, const void* q, const void* k, const void* v, void* o, int T, int C, size_t HW);
// p[r] = softmax(s[r]) for rows of n floats, stored in the context's dtype.
void softmax_rows(const Context& c, const float* s, void* p, long rows, int n);

// One Haar level and its inverse (video: 2x2x2 blocks, T halves; image: 2x2 blocks).
void haar_level(const Context& c, const void* x, void* y, int T, int C, int H, int W, bool video);
void haar_ilevel(const Context& c, const void* x, void* y, int T, int C8, int H, int W, bool video);

void fsq_encode(const Context& c, const void* z, void* codes, int32_t* idx, int T, size_t HW, const dm::FsqCodebook& cb);
void fsq_decode(const Context& c, const int32_t* idx, void* codes, int T, size_t HW, const dm::FsqCodebook& cb);

}  // namespace reel::cuda
