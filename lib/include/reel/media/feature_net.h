// SPDX-License-Identifier: Apache-2.0
// A user's ONNX feature network (an I3D for FVD, an Inception for FID, any image or video
// encoder) run on decoded RGB frames, through OpenCV's dnn module on the CPU.
//
// The input shape is given by the user because ONNX files often leave it symbolic:
//   N x C x H x W        image network: one frame per sample
//   N x C x T x H x W    video network: T consecutive frames per sample
// C must be 3 (RGB order). Frames are resized to H x W (area averaging when shrinking,
// bilinear when enlarging) and mapped linearly from [0, 255] to [lo, hi]. The first output
// is flattened to one feature vector per sample. N is the batch the network is run with.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reel {

struct FeatureNetSpec {
  std::string path;
  std::vector<int> shape;  // 4 or 5 dims, see above
  float lo = 0.f, hi = 1.f;
};

// Parses "1x3x16x224x224" (or with commas); throws Error(InvalidArgument).
std::vector<int> parse_shape(const std::string& s);

class FeatureNet {
 public:
  // Loads the network; throws Error(NotFound|ModelError|InvalidArgument).
  static std::unique_ptr<FeatureNet> open(const FeatureNetSpec& spec);
  virtual ~FeatureNet() = default;

  // Frames per sample: T for a video network, 1 for an image network.
  virtual int frames_per_sample() const = 0;
  // Runs one sample of frames_per_sample() packed RGB24 frames (each w x h) and returns its
  // feature vector.
  virtual std::vector<float> run(const std::vector<const uint8_t*>& frames, int w, int h) = 0;
  virtual const std::string& sha256() const = 0;
};

// Picks the frames of a clip that feed a FeatureNet and collects one feature per sample:
// an image network sees every `stride`-th frame, a video network the first T frames (the
// FVD convention; shorter clips repeat their last frame).
class FeatureSampler {
 public:
  FeatureSampler(FeatureNet* net, int stride) : net_(net), stride_(stride < 1 ? 1 : stride) {}
  // Offers the next frame of the clip.
  void push(const uint8_t* rgb, int w, int h);
  // Ends the clip; returns the feature vectors of its samples.
  std::vector<std::vector<float>> finish();

 private:
  FeatureNet* net_;
  int stride_;
  int64_t index_ = 0;
  int w_ = 0, h_ = 0;
  std::vector<std::vector<uint8_t>> window_;
  std::vector<std::vector<float>> out_;
};

}  // namespace reel
