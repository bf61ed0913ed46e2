// SPDX-License-Identifier: Apache-2.0
// EfficientNet-Lite0's feature network on a compute backend (private to lib/src/embed), built
// from the backend op set: conv2d for the stem and the 1x1 convolutions (the projection adds
// the block's input as it is written), conv2d_depthwise, clamp_ for ReLU6 and spatial_mean for
// the global pooling, the frames of a clip as one batch. The GPU path of reel embed; on the CPU
// the hand-tuned kernels of effnet_cpu stay the default, and this network on the CPU backend is
// tested against them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"

namespace reel {

class EffNetLite0Net {
 public:
  // throws Error(ModelError) for the file, Error(DeviceUnavailable) or InvalidArgument for the target.
  EffNetLite0Net(const std::string& h5_path, const ComputeTarget& target);
  ~EffNetLite0Net();
  // As EffNetLite0Cpu::features: n frames of planar, normalised RGB (n, 3, h, w) -> (n, 1280).
  std::vector<float> features(const float* x, int n, int h, int w) const;
  std::string describe() const { return backend_->describe(); }

 private:
  struct Weights;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Weights> w_;
};

}  // namespace reel
