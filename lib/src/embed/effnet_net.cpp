// SPDX-License-Identifier: Apache-2.0
#include "effnet_net.h"

#include <algorithm>

#include "effnet_weights.h"
#include "reel/core/status.h"

namespace reel {

namespace {
struct DevConv {
  ConvWeights c;
  int k = 1;
};
struct DevBlock {
  const effnet::Block* host = nullptr;
  DevConv ex, dw, pr;
};
}  // namespace

struct EffNetLite0Net::Weights {
  effnet::Net host;  // the CPU backend reads these arrays in place
  DevConv stem, head;
  std::vector<DevBlock> blocks;
};

EffNetLite0Net::EffNetLite0Net(const std::string& path, const ComputeTarget& target) : w_(std::make_unique<Weights>()) {
  w_->host = effnet::load(path);
  backend_ = make_backend(target.device, 0, target.dtype);
  Backend& be = *backend_;
  auto up = [&](const effnet::Conv& c) {
    DevConv d;
    d.k = c.k;
    d.c = ConvWeights{be.weight(c.w.data(), c.w.size()), be.weight(c.b.data(), c.b.size()), c.co, c.ci, 1, c.k, c.k};
    return d;
  };
  w_->stem = up(w_->host.stem);
  w_->head = up(w_->host.head);
  for (const effnet::Block& b : w_->host.blocks) {
    DevBlock d;
    d.host = &b;
    if (b.expand) d.ex = up(b.ex);
    d.dw = up(b.dw);
    d.pr = up(b.pr);
    w_->blocks.push_back(d);
  }
}

EffNetLite0Net::~EffNetLite0Net() = default;

std::vector<float> EffNetLite0Net::features(const float* x, int n, int h, int w) const {
  if (n < 1 || h < 1 || w < 1) throw Error(Code::InvalidArgument, "EfficientNet-Lite0: no frames to run");
  const Backend& be = *backend_;
  Act in(n, 3, h, w, Act::Uninit{});
  std::copy_n(x, in.numel(), in.v.begin());
  Tensor a = be.conv2d(be.upload(in), w_->stem.c, 2, 1, 1, 1, 1);
  be.clamp_(a, 0.0f, 6.0f);
  for (const DevBlock& b : w_->blocks) {
    Tensor e = a;
    if (b.host->expand) {
      e = be.conv2d(a, b.ex.c, 1, 0, 0, 0, 0);
      be.clamp_(e, 0.0f, 6.0f);
    }
    Tensor d = be.conv2d_depthwise(e, b.dw.c, b.host->stride, (b.dw.k - 1) / 2);
    be.clamp_(d, 0.0f, 6.0f);
    a = be.conv2d(d, b.pr.c, 1, 0, 0, 0, 0, nullptr, b.host->skip ? &a : nullptr);
  }
  Tensor f = be.conv2d(a, w_->head.c, 1, 0, 0, 0, 0);
  be.clamp_(f, 0.0f, 6.0f);
  const Act m = be.download(be.spatial_mean(f));
  return std::vector<float>(m.v.begin(), m.v.end());
}

}  // namespace reel
