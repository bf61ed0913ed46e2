// SPDX-License-Identifier: Apache-2.0
// Shot-boundary detection on downscaled frames.
//
// Every detector turns consecutive frames into one score per frame (frame i against the
// frame before it) and then decides cuts from the score sequence, so detectors that look at
// a window around a frame (adaptive) work the same way as the simple threshold ones.
//   structure  (default) mean |difference| of luma on a 32-cell-wide grid after normalising
//              each frame to zero mean and unit spread (x100); a cut needs score >= threshold
//              (default 55) and a spike over both neighbouring frame pairs of >= threshold/3.
//              Immune to exposure flicker of archival film and to repeated frames.
//   content    mean |dH|,|dS|,|dV| of HSV frames, cut when >= threshold (default 27)
//   adaptive   content score divided by the mean of its +-2 neighbours, cut when the ratio
//              >= threshold (default 3) and the content score >= 15
//   histogram  1 - correlation of the 256-bin luma histograms, cut when >= threshold
//              (default 0.05)
//   transnetv2 the learned TransNetV2 network (media/transnet.h) on 48x27 frames: the score is
//              its per-frame probability that the frame ends a shot; boundaries where it is
//              > threshold (default 0.5), hard cuts and gradual transitions (transitions.h)
// A cut is the 0-based index of the first frame of a new shot; frame 0 is never a cut.
// Cuts closer than min_scene_len frames to the previous cut (or to frame 0) are dropped.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/media/decoder.h"
#include "reel/media/transitions.h"

namespace reel {

struct SceneOptions {
  std::string detector = "structure";
  double threshold = -1.0;   // < 0: the detector's default
  int min_scene_len = 15;    // frames
  int analysis_width = 256;  // frames are analysed at this width (aspect kept)
  int threads = 0;           // decoder threads
  std::string model;         // transnetv2: the ONNX file (empty: default_transnet_model())
  // transnetv2 on reel's kernels: where it computes. A worker thread takes the next target in
  // turn on its first video and keeps it (--devices: one worker per device); empty: the CPU.
  std::vector<ComputeTarget> targets;
};

// weights/transnetv2.onnx of the source tree (exported by the set-up).
std::string default_transnet_model();

struct FrameMeta {
  int64_t pts = 0;
  bool key = false;
};

struct SceneResult {
  VideoInfo info;
  int64_t frames = 0;               // frames decoded
  bool partial = false;             // the scan stopped before the end (scan_timeline's `enough`)
  int64_t first_pts = 0;            // PTS of frame 0
  double duration_s = 0.0;          // last frame time + one frame duration
  std::vector<int64_t> cuts;
  std::vector<float> scores;        // per frame; scores[0] = 0 (transnetv2: its `single` probability)
  std::vector<float> many;          // transnetv2: per-frame probability of lying inside a transition
  std::vector<Transition> transitions;  // gradual transitions (their cuts are in `cuts` too)
  std::vector<FrameMeta> frame_meta;
  std::vector<std::string> warnings;
  std::string detector;
  double threshold = 0.0;
};

// Default threshold of a detector; throws InvalidArgument for an unknown name.
double scene_default_threshold(const std::string& detector);
// Names of the available detectors.
const std::vector<std::string>& scene_detectors();

// Per-frame feature and score computation for one detector (streaming, O(1) memory).
class SceneScorer {
 public:
  explicit SceneScorer(std::string detector);
  // pixels: GRAY8 if wants_gray(), else RGB24, width x height, rows `stride` bytes apart (0:
  // packed). Returns the score against the previous frame (0 for the first).
  float push(const uint8_t* pixels, int width, int height, int stride = 0);
  bool wants_gray() const;
  // structure: the last frame's normalised luma grid and its mean luma before normalising.
  const std::vector<float>& feature() const { return prev_feat_; }
  float mean_luma() const { return mean_luma_; }
  // structure: per frame i, how far the picture before frame i is from the nearest of the
  // pictures kFlash frames around the change at i (frame i-1 against i+1..i+kFlash-1, frame i
  // against i-kFlash-1..i-2), on the score's scale. Small: the change at i is undone within a
  // few frames (a flash, a frame or two of another picture), so it is no cut. Frames whose
  // later neighbours have not been pushed yet hold what has been seen so far.
  const std::vector<float>& returns() const { return returns_; }
  static constexpr int kFlash = 6;

 private:
  std::string detector_;
  float mean_luma_ = 0.0f;
  std::vector<uint8_t> prev_, cur_;
  std::vector<float> prev_feat_;  // previous frame's histogram or structure grid
  std::vector<std::vector<float>> recent_;  // structure: the grids of the last kFlash frames, oldest first
  std::vector<float> returns_;
  bool have_prev_ = false;
};

// Cut decision over a whole score sequence. structure: `returns` (SceneScorer::returns, may be
// null) drops changes that are undone within a few frames.
std::vector<int64_t> scene_cuts_from_scores(const std::string& detector, const std::vector<float>& scores,
                                            double threshold, int min_scene_len,
                                            const std::vector<float>* returns = nullptr);

// Decodes `url` once at analysis resolution and detects cuts. Throws Error if the file
// cannot be opened or holds no decodable frame.
SceneResult detect_scenes(const std::string& url, const SceneOptions& options);

// The same decode without pixel conversion or scoring: frames, frame_meta, first_pts,
// duration and info as detect_scenes gives them, no scores and no cuts. For clip writing
// when the cuts are already known (reel scenes | reel split).
// `enough(frames, time_s)`, asked after each frame, may stop the scan early (partial = true):
// a split of the first clips of a long video then reads only the start of it.
SceneResult scan_timeline(const std::string& url, int threads,
                          const std::function<bool(int64_t frames, double time_s)>& enough = nullptr);

}  // namespace reel
