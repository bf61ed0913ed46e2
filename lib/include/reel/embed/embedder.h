// SPDX-License-Identifier: Apache-2.0
// A clip embedding from a model card's network (learned.h: the card format reel filter uses
// too): an ONNX file run through OpenCV DNN on the CPU, or, for a model file ending in .h5,
// EfficientNet-Lite0's weights run on reel's own CPU kernels (lib/src/embed/effnet_cpu.h; the
// default model, about twice OpenCV DNN's speed on it). An image model sees each sampled frame (one
// batched forward pass) and its outputs are averaged; a video model (input.frames = T) sees
// T frames at once, the last repeated when the clip has fewer. The result is L2-normalised.
// A two-part card's tower is the embedding network (its head is for scores).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/filter/learned.h"

namespace reel {

class Embedder {
 public:
  // Loads the network and checks the card against it: one forward pass at the card's input
  // must work and give card.dim values when the card names a dim. Throws ModelError.
  // EfficientNet-Lite0's HDF5 weights run on `target`: reel's tuned kernels on the CPU, the
  // backend network on CUDA. An ONNX model runs in OpenCV DNN on the CPU whatever the target.
  explicit Embedder(ModelCard card, const ComputeTarget& target = {});
  // Where the network runs ("cpu kernels", "cuda:0 (...)", "OpenCV DNN (cpu)").
  std::string describe() const;
  ~Embedder();
  const ModelCard& card() const { return card_; }
  int dim() const { return dim_; }
  const std::string& sha256() const { return sha256_; }  // of the model file
  // Frames: packed RGB24, all w x h, in clip order; at least one.
  std::vector<float> embed(const std::vector<const uint8_t*>& frames, int w, int h);

 private:
  std::vector<float> forward(std::vector<float>& blob, int n);
  ModelCard card_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int dim_ = 0;
  bool batched_ = true;
  std::string sha256_;
};

// The default card: EfficientNet-Lite0 (weights/efficientnet_lite0.h5, written by
// .ci/deps.sh) with NeMo Curator's frame rule, 224 x 224 short-side resize and centre crop,
// (x - 127) / 128, 1280-d pooled features.
std::string default_embed_card_path();

}  // namespace reel
