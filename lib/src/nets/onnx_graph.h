// SPDX-License-Identifier: Apache-2.0
// Internal to lib/: an ONNX network, as OpenCV's importer reads it, run on a reel compute
// backend (CPU or CUDA). OpenCV parses the file; reel's op set does the arithmetic, so the
// networks reel ships and users' exports run on a GPU although Debian's OpenCV has no CUDA.
//
// Covered: convolutions (plain and depthwise, with BatchNorm and per-channel scales folded in,
// residual sums fused into them), ReLU, ReLU6, max and mean pooling, global mean pooling,
// flattening reshapes, dense layers and a final softmax, on one input and one output. A
// network with any other layer stays on OpenCV DNN, and compile() names the layer.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"

namespace reel {

class OnnxGraph {
 public:
  // The network in `onnx_path` for inputs of `input_shape` ([1, C, H, W], or [1, H, W, C] when
  // the network transposes its input first), on `target`. nullptr, with *why, when some layer is
  // not covered. A compiled network is checked once against OpenCV DNN on a random input and
  // throws Error(ModelError) when it differs by more than its dtype's rounding.
  static std::unique_ptr<OnnxGraph> compile(const std::string& onnx_path, const std::vector<int>& input_shape,
                                            const ComputeTarget& target, std::string* why);
  ~OnnxGraph();

  // n inputs one after another, each in the layout of input_shape; n outputs of output_size().
  std::vector<float> forward(const float* x, int n) const;
  size_t input_size() const;
  size_t output_size() const;
  // "cuda:0 bf16, reel kernels (126 layers)".
  std::string describe() const;

 private:
  struct Plan;
  explicit OnnxGraph(std::unique_ptr<Plan> plan);
  std::vector<float> run(const float* x, int n) const;  // forward() before the final softmax
  std::unique_ptr<Plan> plan_;
};

}  // namespace reel
