// SPDX-License-Identifier: Apache-2.0
// EfficientNet-Lite0's feature network on reel's own CPU kernels (private to lib/src/embed):
// BatchNorm folded into the convolutions at load time, the 1x1 convolutions as one GEMM per
// frame (OpenBLAS), the depthwise ones in vectorised loops over padded rows (stride 2 through
// even/odd column phases, so every inner loop is contiguous), bias, ReLU6 and the residual add
// applied while a channel is still in cache. A thread per frame when there are frames enough.
// Weights: weights/efficientnet_lite0.py --h5 (the package's tensors under their own names,
// `format` reel-efficientnet-lite0), each checked for its shape.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace reel {

class EffNetLite0Cpu {
 public:
  explicit EffNetLite0Cpu(const std::string& h5_path);  // throws Error(ModelError)
  ~EffNetLite0Cpu();
  // n frames, planar RGB already normalised, (n, 3, h, w) -> (n, 1280) globally pooled
  // features. Any h, w >= 1 (the network is fully convolutional).
  std::vector<float> features(const float* x, int n, int h, int w) const;
  static constexpr int kDim = 1280;

 private:
  struct Weights;
  std::unique_ptr<Weights> w_;
};

// Whether a card's model file is one EffNetLite0Cpu reads (HDF5 with that format attribute).
bool is_effnet_weights(const std::string& path);

}  // namespace reel
