// SPDX-License-Identifier: Apache-2.0
// Learned scores from a user's ONNX models, described by a model card (JSON beside them):
//
//   {"name": "aesthetic",                  score name: scores.<name>.score
//    "model": "clip_vitl14_image.onnx",    relative to the card
//    "head": "sac_head.onnx",              optional: a second network on the first one's output
//    "normalize_features": true,           L2-normalise the first output before the head (CLIP)
//    "input": {"size": [224, 224],         width, height the network takes
//              "resize": "short_side",     short_side (then crop) | exact (stretch to size)
//              "crop": "center",           center | none
//              "interpolation": "bicubic", bilinear | bicubic | area
//              "channels": "RGB",          RGB | BGR
//              "layout": "NCHW",           NCHW | NHWC
//              "scale": 255,               pixel / scale, then (x - mean) / std per channel
//              "mean": [0.4815, 0.4578, 0.4082], "std": [0.2686, 0.2613, 0.2758]},
//    "output": {"index": 0},               element of the (last network's) first output
//    "reduce": "min",                      min | mean | max over the sampled frames
//    "fps": 1, "max_frames": 16,           frames per second sampled, at most this many
//    "threshold": {"min": 3.5}}            optional default rule (min or max)
//
// reel embed reads the same card, with these fields besides (its defaults in brackets):
//    "sampling": "nemo",                   fps: every round(native/fps)-th frame, at most max_frames;
//                                          uniform: "frames" frames evenly over the clip;
//                                          nemo: NeMo Curator's rule, frames at "fps" [2], the rate
//                                          doubled (up to "max_fps" [20]) while that gives fewer
//                                          than "frames" [8], then "frames" of them evenly
//    "frames": 8, "max_fps": 20,
//    "input": {"frames": 8, "layout": "NCTHW"},  a video model: one forward pass on that many
//                                          frames (NCTHW | NTCHW); image models see one frame each
//    "output": {"name": "features"},       which output tensor ("" = the network's last)
//    "pool": "mean",                       image models: mean of the per-frame outputs
//    "dim": 1280,                          optional: the embedding size the model must give
//    "dedup_eps": 0.2                      optional: reel dedup's --eps for this model (measured)
// Embeddings are L2-normalised after pooling (a video model's output as it comes).
//
// Resizing is done in float (no 8-bit rounding), so a PyTorch reference with bilinear
// interpolate (align_corners=False, no antialias) reproduces the input exactly. The card is
// checked against its model when loaded: a forward pass at the card's input size must work
// and yield the output element, otherwise ModelError names the card and what did not match.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/filter/frame_scores.h"
#include "reel/media/decoder.h"

namespace reel {

struct ModelCard {
  std::string name, model, head, path;  // path: the card file
  bool normalize_features = false;
  int width = 224, height = 224;
  std::string resize = "short_side", crop = "center", interpolation = "bilinear", channels = "RGB", layout = "NCHW";
  double scale = 255;
  double mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
  int output_index = 0;
  std::string reduce = "mean";
  double fps = 1;
  int max_frames = 16;
  bool has_threshold = false, threshold_min = true;
  double threshold = 0;
  // reel embed
  std::string sampling = "fps";  // fps | uniform | nemo (embed's default card sets nemo)
  int frames = 8;                // frame count of uniform and nemo sampling
  double max_fps = 20;
  int clip_frames = 0;           // > 0: a video model taking this many frames (layout NCTHW or NTCHW)
  std::string output_name;       // "" = the last output
  std::string pool = "mean";
  int dim = 0;                   // > 0: the embedding size the model must give
  double dedup_eps = 0;          // > 0: reel dedup's default eps for this model's embeddings
};

// The network input for one packed RGB24 frame: resized, cropped and normalised per the card,
// in its channel order, as HWC for an NHWC card and CHW planes for every other layout.
std::vector<float> preprocess_frame(const ModelCard& card, const uint8_t* rgb, int w, int h);

// Parses and validates a card (paths resolved against its folder). Throws ModelError.
ModelCard load_model_card(const std::string& path);

class LearnedModel {
 public:
  // Loads the networks and checks them (ModelError). On a GPU target the tower runs on reel's
  // backend when its layers are covered (the log says which path it takes); the head, a small
  // network on the features, in OpenCV DNN.
  explicit LearnedModel(ModelCard card, const ComputeTarget& target = {});
  ~LearnedModel();
  const ModelCard& card() const { return card_; }
  // The network input for one packed RGB24 frame (card layout, channel order and statistics).
  std::vector<float> preprocess(const uint8_t* rgb, int w, int h) const;
  double score(const uint8_t* rgb, int w, int h);

 private:
  ModelCard card_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class LearnedScorer {
 public:
  LearnedScorer(LearnedModel& m, int64_t step) : m_(m), scores_(step, m.card().max_frames) {}
  void push(const Frame& f) {
    if (scores_.wants(f)) scores_.add(m_.score(f.data.data(), f.width, f.height));
  }
  nlohmann::json finish() const;

 private:
  LearnedModel& m_;
  FrameScores scores_;
};

}  // namespace reel
