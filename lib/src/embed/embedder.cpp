// SPDX-License-Identifier: Apache-2.0
#include "reel/embed/embedder.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include "../filter/card_net.h"
#include "effnet_cpu.h"
#include "effnet_net.h"
#include "reel/core/status.h"
#include "reel/io/uuid.h"

namespace reel {

struct Embedder::Impl {
  cv::dnn::Net net;
  std::unique_ptr<EffNetLite0Cpu> effnet;   // a card whose model is reel's HDF5 weights, on the CPU
  std::unique_ptr<EffNetLite0Net> on_device;  // ... on a GPU backend
  std::unique_ptr<OnnxGraph> graph;           // an ONNX card's network on a GPU backend
};

Embedder::Embedder(ModelCard card, const ComputeTarget& target) : card_(std::move(card)), impl_(std::make_unique<Impl>()) {
  if (card_.model.ends_with(".h5")) {
    // HDF5 weights run on reel's own kernels; only EfficientNet-Lite0's exist so far.
    if (card_.layout != "NCHW" || card_.clip_frames > 0)
      throw Error(Code::ModelError, "model card " + card_.path + ": " + card_.model +
                                        " is EfficientNet-Lite0 weights for reel's kernels: an image model, layout NCHW");
    try {
      if (target.device.kind == DeviceKind::Cpu) impl_->effnet = std::make_unique<EffNetLite0Cpu>(card_.model);
      else impl_->on_device = std::make_unique<EffNetLite0Net>(card_.model, target);
    } catch (const Error& e) {
      if (e.code() != Code::ModelError) throw;
      throw Error(Code::ModelError, "model card " + card_.path + ": " + e.what());
    }
  } else {
    impl_->graph = card_graph(card_, target, "embed");
    if (!impl_->graph) impl_->net = load_card_net(card_.model, card_.path);
  }
  {
    std::ifstream in(card_.model, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    sha256_ = sha256_hex(bytes.data(), bytes.size());
  }
  std::vector<uint8_t> grey(static_cast<size_t>(card_.width) * card_.height * 3, 128);
  std::vector<float> v;
  try {
    v = embed({grey.data()}, card_.width, card_.height);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "model card " + card_.path + ": does not match its model (input " + std::to_string(card_.width) +
                                      "x" + std::to_string(card_.height) + " " + card_.layout + "): " + e.what());
  }
  dim_ = static_cast<int>(v.size());
  if (card_.dim > 0 && dim_ != card_.dim)
    throw Error(Code::ModelError, "model card " + card_.path + ": wrong embedding size: got [" + std::to_string(dim_) +
                                      "], expected [" + std::to_string(card_.dim) + "]");
}

Embedder::~Embedder() = default;

std::string Embedder::describe() const {
  if (impl_->on_device) return impl_->on_device->describe();
  if (impl_->graph) return impl_->graph->describe();
  return impl_->effnet ? "cpu (reel's kernels, fp32)" : "OpenCV DNN (cpu)";
}

std::vector<float> Embedder::forward(std::vector<float>& blob, int n) {
  const int H = card_.height, W = card_.width, T = card_.clip_frames;
  if (impl_->effnet) return impl_->effnet->features(blob.data(), n, H, W);
  if (impl_->on_device) return impl_->on_device->features(blob.data(), n, H, W);
  if (impl_->graph) return impl_->graph->forward(blob.data(), n);
  std::vector<int> shape;
  if (card_.layout == "NCHW") shape = {n, 3, H, W};
  else if (card_.layout == "NHWC") shape = {n, H, W, 3};
  else if (card_.layout == "NCTHW") shape = {n, 3, T, H, W};
  else shape = {n, T, 3, H, W};
  cv::Mat in(static_cast<int>(shape.size()), shape.data(), CV_32F, blob.data());
  impl_->net.setInput(in);
  cv::Mat out = card_.output_name.empty() ? impl_->net.forward() : impl_->net.forward(card_.output_name);
  const float* p = out.ptr<float>();
  return std::vector<float>(p, p + out.total());
}

std::vector<float> Embedder::embed(const std::vector<const uint8_t*>& frames, int w, int h) {
  if (frames.empty()) throw Error(Code::InvalidData, "no frame to embed");
  const size_t per = static_cast<size_t>(card_.width) * card_.height * 3, plane = per / 3;
  std::vector<float> pooled;
  if (card_.clip_frames > 0) {
    const int T = card_.clip_frames;
    std::vector<float> blob(per * T);
    for (int t = 0; t < T; ++t) {
      const std::vector<float> f = preprocess_frame(card_, frames[std::min<size_t>(t, frames.size() - 1)], w, h);
      for (int c = 0; c < 3; ++c) {
        // NCTHW: plane c of frame t at (c * T + t); NTCHW: frame t whole at t.
        const size_t dst = card_.layout == "NCTHW" ? (static_cast<size_t>(c) * T + t) * plane : (static_cast<size_t>(t) * 3 + c) * plane;
        std::copy(f.begin() + c * plane, f.begin() + (c + 1) * plane, blob.begin() + dst);
      }
    }
    pooled = forward(blob, 1);
  } else {
    const int n = static_cast<int>(frames.size());
    std::vector<float> blob(per * n);
    for (int i = 0; i < n; ++i) {
      const std::vector<float> f = preprocess_frame(card_, frames[i], w, h);
      std::copy(f.begin(), f.end(), blob.begin() + i * per);
    }
    std::vector<float> out;
    if (batched_ && n > 1) {
      try {
        out = forward(blob, n);
      } catch (const cv::Exception&) {
        batched_ = false;  // a graph fixed at batch 1 (a Reshape to [1, -1]): one frame at a time
      }
    }
    if (out.empty() || out.size() % n != 0) {
      out.clear();
      for (int i = 0; i < n; ++i) {
        std::vector<float> one(blob.begin() + i * per, blob.begin() + (i + 1) * per);
        const std::vector<float> o = forward(one, 1);
        out.insert(out.end(), o.begin(), o.end());
      }
    }
    const size_t d = out.size() / n;
    pooled.assign(d, 0.f);
    for (int i = 0; i < n; ++i)
      for (size_t k = 0; k < d; ++k) pooled[k] += out[i * d + k];
    for (float& v : pooled) v /= static_cast<float>(n);
  }
  double norm = 0;
  for (float v : pooled) norm += static_cast<double>(v) * v;
  norm = std::sqrt(norm);
  if (!(norm > 0) || !std::isfinite(norm)) throw Error(Code::InvalidData, "the model gave a zero or non-finite embedding");
  for (float& v : pooled) v = static_cast<float>(v / norm);
  return pooled;
}

std::string default_embed_card_path() { return REEL_DEFAULT_EMBED_CARD; }

}  // namespace reel
