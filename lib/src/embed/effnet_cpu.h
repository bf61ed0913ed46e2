// SPDX-License-Identifier: Apache-2.0
// EfficientNet-Lite0's feature network on reel's own CPU kernels (private to lib/src/embed):
// BatchNorm folded into the convolutions at load time, the 1x1 convolutions as OpenBLAS GEMMs
// that add onto the bias (and residual) written just before, block by block while it is in
// cache; the depthwise ones as register-blocked loops over zero-padded rows (stride 2 through
// even/odd column phases, so every inner loop is contiguous) that apply their producer's ReLU6
// as they copy. A thread per frame when there are frames enough, else threads within a frame.
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

}  // namespace reel
