// SPDX-License-Identifier: Apache-2.0
// EfficientNet-Lite0's weights as reel's kernels run them (private to lib/src/embed): the
// package's tensors (weights/efficientnet_lite0.py --h5, `format` reel-efficientnet-lite0),
// each checked for its shape, with every BatchNorm folded into the convolution before it. Read
// once by the CPU kernels (effnet_cpu) and the backend network (effnet_net) alike.
#pragma once
#include <string>
#include <vector>

namespace reel::effnet {

constexpr int kDim = 1280;

// A convolution with its BatchNorm folded in: y = w * x + b.
struct Conv {
  int co = 0, ci = 0, k = 1;  // ci: input channels per output channel (1 for depthwise)
  std::vector<float> w, b;
};

// An inverted-residual block: 1x1 expansion (and ReLU6) unless the ratio is 1, depthwise k x k
// at `stride` (and ReLU6), 1x1 projection, plus the input when the shapes allow.
struct Block {
  int cin = 0, mid = 0, cout = 0, k = 3, stride = 1;
  bool expand = false, skip = false;
  Conv ex, dw, pr;
};

// Stem 3x3 stride 2 (3 -> 32, ReLU6), the 16 blocks, head 1x1 (320 -> 1280, ReLU6).
struct Net {
  Conv stem, head;
  std::vector<Block> blocks;
};

// Throws Error(ModelError) naming the file and what is wrong with it.
Net load(const std::string& path);

// Output size of a k x k convolution with padding (k - 1) / 2 at stride s.
inline int out_size(int n, int k, int s) { return (n + 2 * ((k - 1) / 2) - k) / s + 1; }

}  // namespace reel::effnet
