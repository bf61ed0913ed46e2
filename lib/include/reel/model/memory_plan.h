// SPDX-License-Identifier: Apache-2.0
// Device memory planning for the tokenizer: how much a window of T frames at H x W takes on a
// backend, and the spatial tile that fits the backend's free memory (`--tile auto`).
//
// The model of the activations: the network's largest tensors are the res blocks' at the finest
// level of each side (channels x frames x pixels there); a res block keeps at most five such
// tensors alive at once (its input, which is also the residual, the first pair's output, the
// spatial conv's output, the block's output, and on CUDA the normalized, padded input cuDNN
// reads). The mid attention keeps seven at the coarsest level (x, the normed h, q, k, v, the
// attention's and the projection's outputs). The decoder's upsamplers produce a finer tensor
// with the coarser level's channels, so each level is counted with the larger of its own and
// the next level's width, the encoder's with the previous level's. On top: the workspace (cuDNN's and the attention's scores), which the
// CUDA backend caps at min(1 GiB, a quarter of free memory).
#pragma once
#include <cstddef>
#include <string>

#include "reel/model/tokenizer.h"

namespace reel {

struct MemoryPlan {
  size_t activations = 0;  // peak bytes of live activations
  size_t workspace = 0;    // the backend's transient scratch
  size_t total() const { return activations + workspace; }
};

// The plan for encoding (or decoding back to) a (frames, 3, h, w) window, elements of
// `element_bytes` (4 for fp32, 2 for bf16/fp16). h and w in input pixels.
MemoryPlan plan_window(const ModelConfig& c, bool encode, int frames, int h, int w, size_t element_bytes, size_t available);

// The tile for `--tile auto`: 0 (whole frames) when the whole window fits `available` bytes
// (with a tenth kept free for the pool's fragmentation), else the largest multiple of 64 pixels
// (at least 128) whose tile fits with its overlap. Throws Error(OutOfMemory) naming the sizes
// when even the smallest tile does not fit, and Error(InvalidArgument) for a discrete model that
// would need tiles (token ids cannot be blended).
int plan_tile(const ModelConfig& c, bool encode, int frames, int h, int w, int overlap, size_t element_bytes,
              size_t available, std::string* why = nullptr);

// The windows per pass for `--batch auto`: the most, up to max_batch, whose activations fit
// `available` together (a batch of n windows holds n times one window's activations; the
// workspace is shared), at least 1. The CPU (available = SIZE_MAX) answers 1.
int plan_batch(const ModelConfig& c, bool encode, int frames, int h, int w, size_t element_bytes, size_t available,
               int max_batch, std::string* why = nullptr);

// plan_tile for a tokenizer on its backend (its dtype and memory_available()); a CPU backend
// answers "whole frames".
int plan_tile(const Tokenizer& tok, bool encode, int frames, int h, int w, int overlap);

}  // namespace reel
