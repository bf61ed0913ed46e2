// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/learned.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <type_traits>

#include "reel/core/status.h"
#include "card_net.h"
#include "core/json_int.h"
#include "reel/core/log.h"

namespace fs = std::filesystem;

namespace reel {

namespace {
[[noreturn]] void bad(const std::string& card, const std::string& what) {
  throw Error(Code::ModelError, "model card " + card + ": " + what);
}

template <typename T>
T pick(const nlohmann::json& j, const char* key, T def, const std::string& card, std::initializer_list<T> allowed = {}) {
  if (!j.contains(key)) return def;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto v = json_int(j[key]);
    if (!v) bad(card, std::string(key) + " must be an integer that fits in 32 bits");
    return static_cast<T>(*v);
  }
  try {
    T v = j[key].get<T>();
    if (allowed.size() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) bad(card, std::string("bad value of ") + key);
    return v;
  } catch (const nlohmann::json::exception&) {
    bad(card, std::string("bad type of ") + key);
  }
}
}  // namespace

ModelCard load_model_card(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(Code::ModelError, "model card " + path + " not found");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    bad(path, std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) bad(path, "not a JSON object");
  ModelCard c;
  c.path = path;
  const fs::path dir = fs::absolute(path).parent_path();
  c.name = pick<std::string>(j, "name", "", path);
  if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    bad(path, "\"name\" must be a lower-case identifier (it becomes scores.<name>)");
  const std::string model = pick<std::string>(j, "model", "", path);
  if (model.empty()) bad(path, "\"model\" (the ONNX file) is missing");
  c.model = (dir / model).string();
  const std::string head = pick<std::string>(j, "head", "", path);
  if (!head.empty()) c.head = (dir / head).string();
  c.normalize_features = pick<bool>(j, "normalize_features", false, path);
  const nlohmann::json in_spec = j.value("input", nlohmann::json::object());
  if (in_spec.contains("size")) {
    const auto size = in_spec["size"];
    if (!size.is_array() || size.size() != 2 || !json_int(size[0], 1, 4096) || !json_int(size[1], 1, 4096))
      bad(path, "input.size must be [width, height], each 1..4096");
    c.width = static_cast<int>(*json_int(size[0], 1, 4096)), c.height = static_cast<int>(*json_int(size[1], 1, 4096));
  }
  c.resize = pick<std::string>(in_spec, "resize", c.resize, path, {"short_side", "exact"});
  c.crop = pick<std::string>(in_spec, "crop", c.crop, path, {"center", "none"});
  c.interpolation = pick<std::string>(in_spec, "interpolation", c.interpolation, path, {"bilinear", "bicubic", "area"});
  c.channels = pick<std::string>(in_spec, "channels", c.channels, path, {"RGB", "BGR"});
  c.layout = pick<std::string>(in_spec, "layout", c.layout, path, {"NCHW", "NHWC", "NCTHW", "NTCHW"});
  c.clip_frames = pick<int>(in_spec, "frames", 0, path);
  if ((c.layout == "NCTHW" || c.layout == "NTCHW") != (c.clip_frames > 0))
    bad(path, "a video model needs both input.frames and an NCTHW or NTCHW layout");
  if (c.clip_frames < 0 || c.clip_frames > 1024) bad(path, "input.frames must be 1..1024");
  c.scale = pick<double>(in_spec, "scale", c.scale, path);
  for (const char* key : {"mean", "std"}) {
    if (!in_spec.contains(key)) continue;
    const auto v = in_spec[key];
    if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number())
      bad(path, std::string("input.") + key + " must list 3 numbers");
    for (int i = 0; i < 3; ++i) (key[0] == 'm' ? c.mean : c.std)[i] = v[i].get<double>();
  }
  for (double s : c.std)
    if (!(s > 0)) bad(path, "input.std must be positive");
  if (!(c.scale > 0)) bad(path, "input.scale must be positive");
  c.output_index = pick<int>(j.value("output", nlohmann::json::object()), "index", 0, path);
  c.output_name = pick<std::string>(j.value("output", nlohmann::json::object()), "name", "", path);
  c.sampling = pick<std::string>(j, "sampling", c.sampling, path, {"fps", "uniform", "nemo"});
  c.frames = pick<int>(j, "frames", c.frames, path);
  c.max_fps = pick<double>(j, "max_fps", c.max_fps, path);
  c.pool = pick<std::string>(j, "pool", c.pool, path, {"mean"});
  c.dim = pick<int>(j, "dim", 0, path);
  c.dedup_eps = pick<double>(j, "dedup_eps", 0, path);
  if (c.dedup_eps < 0 || c.dedup_eps >= 2) bad(path, "dedup_eps must be in [0, 2)");
  if (c.frames < 1 || c.frames > 4096 || !(c.max_fps > 0) || c.dim < 0) bad(path, "frames, max_fps and dim must be positive");
  c.reduce = pick<std::string>(j, "reduce", c.reduce, path, {"min", "mean", "max"});
  c.fps = pick<double>(j, "fps", c.fps, path);
  c.max_frames = pick<int>(j, "max_frames", c.max_frames, path);
  if (!(c.fps > 0) || c.max_frames < 1) bad(path, "fps and max_frames must be positive");
  if (j.contains("threshold")) {
    const auto t = j["threshold"];
    if (!t.is_object() || t.size() != 1 || !(t.contains("min") || t.contains("max")) || !t.begin()->is_number())
      bad(path, "threshold must be {\"min\": v} or {\"max\": v}");
    c.has_threshold = true;
    c.threshold_min = t.contains("min");
    c.threshold = t.begin()->get<double>();
  }
  return c;
}

struct LearnedModel::Impl {
  cv::dnn::Net tower, head;
  std::unique_ptr<OnnxGraph> graph;  // the tower on a GPU, when reel's ops cover it
  bool has_head = false;
};

std::unique_ptr<OnnxGraph> card_graph(const ModelCard& card, const ComputeTarget& target, const char* component) {
  std::string why;
  if (target.device.kind == DeviceKind::Cpu) why = "OpenCV's kernels are faster on the CPU";
  else if (card.clip_frames > 0) why = "a video model";
  else if (!card.output_name.empty()) why = "an output other than the last (output.name)";
  if (why.empty()) {
    const std::vector<int> shape = card.layout == "NHWC" ? std::vector<int>{1, card.height, card.width, 3}
                                                         : std::vector<int>{1, 3, card.height, card.width};
    try {
      auto g = OnnxGraph::compile(card.model, shape, target, &why);
      if (g) {
        REEL_INFO(component, "model card %s: %s on %s", card.path.c_str(), card.model.c_str(), g->describe().c_str());
        return g;
      }
    } catch (const Error& e) {
      bad(card.path, e.what());
    }
  }
  if (target.device.kind == DeviceKind::Cpu)
    REEL_INFO(component, "model card %s: %s in OpenCV DNN on the CPU", card.path.c_str(), card.model.c_str());
  else
    REEL_WARN(component, "model card %s: %s in OpenCV DNN on the CPU, not %s: %s", card.path.c_str(), card.model.c_str(),
              target.describe().c_str(), why.c_str());
  return nullptr;
}

cv::dnn::Net load_card_net(const std::string& file, const std::string& card) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) bad(card, "model file " + file + " not found");
  try {
    cv::dnn::Net n = cv::dnn::readNetFromONNX(file);
    n.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    n.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return n;
  } catch (const cv::Exception& e) {
    bad(card, file + " does not load as ONNX in OpenCV 4.6: " + e.what());
  }
}

LearnedModel::LearnedModel(ModelCard card, const ComputeTarget& target) : card_(std::move(card)), impl_(std::make_unique<Impl>()) {
  if (card_.clip_frames > 0) bad(card_.path, "reel filter scores frames: a video model (input.frames) is for reel embed");
  impl_->graph = card_graph(card_, target, "filter");
  if (!impl_->graph) impl_->tower = load_card_net(card_.model, card_.path);
  if (!card_.head.empty()) impl_->head = load_card_net(card_.head, card_.path), impl_->has_head = true;
  // The card must describe its model: one forward pass at the card's input.
  std::vector<uint8_t> grey(static_cast<size_t>(card_.width) * card_.height * 3, 128);
  try {
    (void)score(grey.data(), card_.width, card_.height);
  } catch (const cv::Exception& e) {
    bad(card_.path, "does not match its model (input " + std::to_string(card_.width) + "x" + std::to_string(card_.height) + " " +
                        card_.layout + "): " + e.what());
  }
}

LearnedModel::~LearnedModel() = default;

std::vector<float> LearnedModel::preprocess(const uint8_t* rgb, int w, int h) const { return preprocess_frame(card_, rgb, w, h); }

std::vector<float> preprocess_frame(const ModelCard& c, const uint8_t* rgb, int w, int h) {
  cv::Mat f;
  cv::Mat(h, w, CV_8UC3, const_cast<uint8_t*>(rgb)).convertTo(f, CV_32FC3);
  const int interp = c.interpolation == "bicubic" ? cv::INTER_CUBIC : c.interpolation == "area" ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::Mat r;
  if (c.resize == "exact") {
    cv::resize(f, r, cv::Size(c.width, c.height), 0, 0, interp);
  } else {
    // The short side to the target's (the larger of the two ratios), then the crop.
    const double k = std::max(static_cast<double>(c.width) / w, static_cast<double>(c.height) / h);
    const int rw = std::max(c.width, static_cast<int>(std::lround(w * k))), rh = std::max(c.height, static_cast<int>(std::lround(h * k)));
    cv::resize(f, r, cv::Size(rw, rh), 0, 0, interp);
    if (c.crop == "center") r = r(cv::Rect((rw - c.width) / 2, (rh - c.height) / 2, c.width, c.height)).clone();
  }
  if (r.cols != c.width || r.rows != c.height) cv::resize(r, r, cv::Size(c.width, c.height), 0, 0, interp);
  std::vector<float> out(static_cast<size_t>(c.width) * c.height * 3);
  const size_t plane = static_cast<size_t>(c.width) * c.height;
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x) {
      const cv::Vec3f p = r.at<cv::Vec3f>(y, x);  // R, G, B
      for (int ch = 0; ch < 3; ++ch) {
        const int src = c.channels == "RGB" ? ch : 2 - ch;
        const float v = static_cast<float>((p[src] / c.scale - c.mean[ch]) / c.std[ch]);
        const size_t px = static_cast<size_t>(y) * c.width + x;
        out[c.layout != "NHWC" ? ch * plane + px : px * 3 + ch] = v;
      }
    }
  return out;
}

double LearnedModel::score(const uint8_t* rgb, int w, int h) {
  std::vector<float> in = preprocess(rgb, w, h);
  cv::Mat out;
  if (impl_->graph) {
    const std::vector<float> f = impl_->graph->forward(in.data(), 1);
    out = cv::Mat(1, static_cast<int>(f.size()), CV_32F, const_cast<float*>(f.data())).clone();
  } else {
    const int nchw[] = {1, 3, card_.height, card_.width}, nhwc[] = {1, card_.height, card_.width, 3};
    cv::Mat blob(4, card_.layout == "NCHW" ? nchw : nhwc, CV_32F, in.data());
    impl_->tower.setInput(blob);
    out = impl_->tower.forward().clone();
  }
  if (impl_->has_head) {
    cv::Mat feat = out.reshape(1, 1);
    if (card_.normalize_features) {
      const double n = cv::norm(feat);
      if (n > 0) feat /= n;
    }
    impl_->head.setInput(feat);
    out = impl_->head.forward().clone();
  }
  if (card_.output_index < 0 || static_cast<size_t>(card_.output_index) >= out.total())
    throw Error(Code::ModelError, "model card " + card_.path + ": output.index " + std::to_string(card_.output_index) +
                                      " but the network gives " + std::to_string(out.total()) + " values");
  return out.ptr<float>()[card_.output_index];
}

nlohmann::json LearnedScorer::finish() const {
  nlohmann::json j{{"frames", scores_.size()}};
  if (scores_.empty()) return j;
  const std::string& r = m_.card().reduce;
  j["score"] = r == "min" ? scores_.min() : r == "max" ? scores_.max() : scores_.mean();
  return j;
}

}  // namespace reel
