// SPDX-License-Identifier: Apache-2.0
#include "reel/media/feature_net.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "reel/core/status.h"
#include "reel/io/uuid.h"

namespace reel {

std::vector<int> parse_shape(const std::string& s) {
  // Accepts "1x3x16x224x224" and "1,3,16,224,224".
  std::string t = s;
  for (char& c : t)
    if (c == 'x' || c == 'X') c = ',';
  std::vector<int> dims;
  std::istringstream in(t);
  std::string p;
  while (std::getline(in, p, ',')) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(p, &used);
    } catch (...) {
      used = 0;
    }
    if (p.empty() || used != p.size() || v <= 0)
      throw Error(Code::InvalidArgument, "bad shape '" + s + "': '" + p + "' is not a positive integer");
    dims.push_back(v);
  }
  if (dims.size() != 4 && dims.size() != 5)
    throw Error(Code::InvalidArgument, "bad shape '" + s + "': expected NxCxHxW or NxCxTxHxW");
  return dims;
}

namespace {

class OpenCvFeatureNet final : public FeatureNet {
 public:
  explicit OpenCvFeatureNet(const FeatureNetSpec& spec) : spec_(spec) {
    const auto& d = spec.shape;
    if (d.size() != 4 && d.size() != 5) throw Error(Code::InvalidArgument, "feature network shape needs 4 or 5 dims");
    if (d[0] != 1) throw Error(Code::InvalidArgument, "feature network batch (first dim) must be 1, got " + std::to_string(d[0]));
    if (d[1] != 3) throw Error(Code::InvalidArgument, "feature network channels (second dim) must be 3 (RGB), got " + std::to_string(d[1]));
    if (!std::filesystem::is_regular_file(spec.path)) throw Error(Code::NotFound, "no such feature network: " + spec.path);
    std::ifstream f(spec.path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    sha_ = sha256_hex(bytes.data(), bytes.size());
    try {
      net_ = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    } catch (const cv::Exception& e) {
      throw Error(Code::ModelError, spec.path + ": not a loadable ONNX network: " + e.msg);
    }
    if (net_.empty()) throw Error(Code::ModelError, spec.path + ": empty ONNX network");
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    t_ = d.size() == 5 ? d[2] : 1;
    h_ = d[d.size() - 2];
    w_ = d[d.size() - 1];
  }

  int frames_per_sample() const override { return t_; }
  const std::string& sha256() const override { return sha_; }

  std::vector<float> run(const std::vector<const uint8_t*>& frames, int w, int h) override {
    if (static_cast<int>(frames.size()) != t_)
      throw Error(Code::InvalidArgument, "feature network takes " + std::to_string(t_) + " frames, got " + std::to_string(frames.size()));
    cv::Mat blob(static_cast<int>(spec_.shape.size()), spec_.shape.data(), CV_32F);
    float* dst = blob.ptr<float>();
    const size_t plane = size_t(h_) * w_;
    const float scale = (spec_.hi - spec_.lo) / 255.f;
    cv::Mat resized;
    for (int t = 0; t < t_; ++t) {
      cv::Mat src(h, w, CV_8UC3, const_cast<uint8_t*>(frames[t]));
      if (w == w_ && h == h_) {
        resized = src;
      } else {
        const int interp = (w_ < w && h_ < h) ? cv::INTER_AREA : cv::INTER_LINEAR;
        cv::resize(src, resized, cv::Size(w_, h_), 0, 0, interp);
      }
      // Layout: channel-major; for video nets the time axis sits between C and H.
      for (int c = 0; c < 3; ++c) {
        float* p = dst + (size_t(c) * t_ + t) * plane;
        for (int y = 0; y < h_; ++y) {
          const uint8_t* row = resized.ptr<uint8_t>(y);
          for (int x = 0; x < w_; ++x) p[size_t(y) * w_ + x] = spec_.lo + scale * row[3 * x + c];
        }
      }
    }
    cv::Mat out;
    try {
      net_.setInput(blob);
      out = net_.forward();
    } catch (const cv::Exception& e) {
      throw Error(Code::ModelError, spec_.path + ": forward pass failed (is the shape right?): " + e.msg);
    }
    const float* o = out.ptr<float>();
    return std::vector<float>(o, o + out.total());
  }

 private:
  FeatureNetSpec spec_;
  cv::dnn::Net net_;
  std::string sha_;
  int t_ = 1, h_ = 0, w_ = 0;
};

}  // namespace

std::unique_ptr<FeatureNet> FeatureNet::open(const FeatureNetSpec& spec) { return std::make_unique<OpenCvFeatureNet>(spec); }

void FeatureSampler::push(const uint8_t* rgb, int w, int h) {
  const int t = net_->frames_per_sample();
  w_ = w, h_ = h;
  const size_t n = size_t(w) * h * 3;
  if (t == 1) {
    if (index_++ % stride_ == 0) out_.push_back(net_->run({rgb}, w, h));
    return;
  }
  if (static_cast<int>(window_.size()) < t) window_.emplace_back(rgb, rgb + n);
  ++index_;
}

std::vector<std::vector<float>> FeatureSampler::finish() {
  const int t = net_->frames_per_sample();
  if (t > 1 && !window_.empty()) {
    std::vector<const uint8_t*> ptrs;
    for (int i = 0; i < t; ++i) ptrs.push_back(window_[std::min<size_t>(i, window_.size() - 1)].data());
    out_.push_back(net_->run(ptrs, w_, h_));
  }
  window_.clear();
  index_ = 0;
  return std::move(out_);
}

}  // namespace reel
