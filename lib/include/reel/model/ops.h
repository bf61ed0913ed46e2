// SPDX-License-Identifier: Apache-2.0
// CPU operators of the tokenizer, on one clip's activations.
//
// Layout: Act holds T frames of C x H x W floats, frame-major ([T][C][H][W]), so every
// per-frame operation (spatial conv, per-frame norm, spatial attention) reads one
// contiguous block. These functions are the reference (the oracle other backends are
// tested against); the convolutions run on OpenBLAS sgemm.
#pragma once
#include <cstdint>
#include <vector>

#include "reel/core/picture.h"
#include "reel/core/tensor.h"

namespace reel {

// Multiply-accumulates performed by the convolutions and attention since the last reset
// (for GFLOP/s reports; counted per call, not per element, so it costs nothing).
uint64_t ops_mac_count();
void ops_mac_reset();
// Forgets the REEL_PROFILE=1 table so far (tokenize bench --only decode drops the encode it needs).
void op_profile_reset();
// Threads used by the CPU operators (OpenMP loops and OpenBLAS).
void ops_set_threads(int n);

// Weights of one convolution, PyTorch order (Co, Ci, kt, kh, kw); bias may be null.
struct ConvW {
  const float* w = nullptr;
  const float* b = nullptr;
  int co = 0, ci = 0, kt = 1, kh = 1, kw = 1;
};

// What a GroupNorm (then optionally SiLU) does to each element once its statistics are known:
// v -> scale[t][c] * v + shift[t][c], then SiLU. A convolution given one as its prologue applies
// it while reading its input, so the normalized tensor is never written out and read back.
struct ChannelAffine {
  int T = 0, C = 0;
  std::vector<float> scale, shift;  // (T, C)
  bool silu = false;
};

// 2-D convolution applied to every frame: zero padding (top, left, bottom, right), stride.
// 3x3 stride-1 "same" convolutions take the Winograd F(4x4,3x3) path (REEL_CONV=winograd2
// picks F(2x2,3x3), REEL_CONV=im2col the plain GEMM path); everything else is im2col + GEMM.
// With `pre`, the convolution's input is pre(x) (the padding stays zero, as in the network).
Act conv2d(const Act& x, const ConvW& w, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
           const ChannelAffine* pre = nullptr);
Act conv2d_im2col(const Act& x, const ConvW& w, int stride, int pad_t, int pad_l, int pad_b, int pad_r);
Act conv3x3_winograd(const Act& x, const ConvW& w);                                     // F(2x2,3x3)
Act conv3x3_winograd_f4(const Act& x, const ConvW& w, const ChannelAffine* pre = nullptr);  // F(4x4,3x3)
// Causal temporal convolution (kh = kw = 1): the first frame is repeated `time_pad` times
// in front; out[j] = b + sum_k W_k x[max(0, j*stride + k - time_pad)].
Act conv_temporal(const Act& x, const ConvW& w, int time_stride, int time_pad);
// GroupNorm over each frame on its own (statistics over C/groups x H x W), eps 1e-6;
// then_silu applies SiLU in the same pass (the norm -> activation pairs of the res blocks).
void group_norm_(Act& x, const float* gamma, const float* beta, int groups, float eps = 1e-6f, bool then_silu = false);
// The same GroupNorm as an affine map for a later pass (a convolution prologue, apply_affine).
ChannelAffine group_norm_affine(const Act& x, const float* gamma, const float* beta, int groups, float eps = 1e-6f,
                                bool then_silu = false);
void apply_affine_(Act& x, const ChannelAffine& a);
Act apply_affine(const Act& x, const ChannelAffine& a);
void silu_(Act& x);
void add_(Act& x, const Act& y);
// Average of 2x2 blocks after zero padding (0 before, 1 after) on H and W.
Act avg_pool_spatial_padded(const Act& x);
// mean(x[max(0, 2j-1)], x[2j]) for j = 0 .. (T+1)/2 - 1 (the causal temporal average).
Act avg_pool_temporal_causal(const Act& x);
// Nearest-neighbour x2 in H and W.
Act upsample_spatial(const Act& x);
// Every frame twice, the first copy dropped: T -> 2T - 1.
Act upsample_temporal(const Act& x);

// Single-head attention within each frame (queries and keys: the H*W positions), streamed
// over blocks of queries so the H*W x H*W score matrix never exists at once.
// q, k, v, out: (T, C, H, W).
void attention_spatial(const Act& q, const Act& k, const Act& v, Act& out);
// Causal single-head attention along T at every pixel.
void attention_temporal_causal(const Act& q, const Act& k, const Act& v, Act& out);

// Haar wavelet patcher. Video: frame 0 repeated patch-1 more times, log2(patch) levels,
// subband index 4t+2h+w, channel = subband * C_in + c. Image (T treated as a batch of
// images): subband index 2w+h.
Act haar_patch3d(const Act& x, int patch);
Act haar_unpatch3d(const Act& x, int patch);
Act haar_patch2d(const Act& x, int patch);
Act haar_unpatch2d(const Act& x, int patch);

// Finite scalar quantisation. z: (T, D, H, W) with D = levels.size().
// codes: same shape, values in [-1, 1]; indices: (T, H, W) in [0, prod(levels)).
void fsq_quantize(const Act& z, const std::vector<int>& levels, Act* codes, std::vector<int32_t>* indices);
Act fsq_dequantize(const std::vector<int32_t>& indices, int T, int H, int W, const std::vector<int>& levels);

// Centred temporal convolution into channels [out_c0, out_c0 + Co) of `out` from channels
// [in_c0, in_c0 + Ci) of x; taps (kt, Co, Ci) (each tap's Co x Ci matrix contiguous), zeros
// outside [0, T); then v -> scale[c] * v + shift[c] (when scale) and ReLU (when relu). Taps are
// summed in order k = 0 .. kt-1, a frame at a time (a thread per frame).
void conv_time_into(const Act& x, int in_c0, const float* taps, int co, int ci, int kt, int dilation, const float* scale,
                    const float* shift, bool relu, Act& out, int out_c0);
void relu_add_(Act& x, const Act& y);  // x = max(x, 0) + y
void relu_(Act& x);
Act avg_pool2(const Act& x);     // 2x2 mean, floor
Act spatial_mean(const Act& x);  // (T, C, 1, 1)
// k x k max or in-frame mean pooling at `stride`, padding (top, left, bottom, right), floor.
Act pool2d(const Act& x, bool max, int k, int stride, int pt, int pl, int pb, int pr);
// Depthwise k x k convolution, zero padding `pad`, stride s; w (C, 1, k, k), b (C) or null.
Act conv2d_depthwise(const Act& x, const float* w, const float* b, int k, int stride, int pad);
void clamp_(Act& x, float lo, float hi);
// (T, co, 1, 1) = each frame's C*H*W values . w^T (w: co x C*H*W) + b (may be null) + add (may
// be null), then ReLU when relu: one GEMM over all frames.
Act dense(const Act& x, const float* w, const float* b, int co, const Act* add, bool relu);

// A host 4:2:0 picture as RGB24 levels (dm::yuv420_rgb: the reference the backends' yuv420_frame
// computes), and as frame t of a (T, 3, H, W) activation at (pad_top, pad_left), zeros around
// it, mapped as rgb_to_act_frame maps RGB24.
void yuv420_to_rgb24(const Yuv420& p, uint8_t* rgb);
void yuv420_to_frame(const Yuv420& p, Act& a, int t, int pad_top, int pad_left);

}  // namespace reel
