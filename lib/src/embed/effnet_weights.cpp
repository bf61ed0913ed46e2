// SPDX-License-Identifier: Apache-2.0
#include "effnet_weights.h"

#include <cmath>
#include <filesystem>

#include "reel/core/status.h"
#include "reel/io/h5.h"

namespace reel::effnet {

namespace {
// (expand ratio, kernel, stride, output channels, repeats) of the seven stages, as in
// weights/efficientnet_lite0.py; BatchNorm eps of the TensorFlow original.
constexpr int kStages[7][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2}, {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                               {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
constexpr double kBnEps = 1e-3;
constexpr const char* kFormat = "reel-efficientnet-lite0";

Conv load_conv(const h5::File& f, const std::string& ctx, const std::string& conv, const std::string& bn, int co, int ci, int k) {
  Conv c;
  c.co = co, c.ci = ci, c.k = k;
  c.w = h5::read_weight(f, conv + ".weight", {co, ci, k, k}, ctx);
  const auto g = h5::read_weight(f, bn + ".weight", {co}, ctx), be = h5::read_weight(f, bn + ".bias", {co}, ctx);
  const auto m = h5::read_weight(f, bn + ".running_mean", {co}, ctx), v = h5::read_weight(f, bn + ".running_var", {co}, ctx);
  const size_t per = static_cast<size_t>(ci) * k * k;
  c.b.resize(co);
  for (int o = 0; o < co; ++o) {
    const double s = g[o] / std::sqrt(static_cast<double>(v[o]) + kBnEps);
    for (size_t i = 0; i < per; ++i) c.w[o * per + i] = static_cast<float>(c.w[o * per + i] * s);
    c.b[o] = static_cast<float>(be[o] - m[o] * s);
  }
  return c;
}

}  // namespace

Net load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Code::ModelError, "EfficientNet-Lite0 weights " + path + ": not found (weights/efficientnet_lite0.py --h5 writes them)");
  const h5::File f(path, 'r', Code::ModelError);
  const std::string ctx = "EfficientNet-Lite0 weights " + path;
  if (!f.has_attr("/", "format") || f.read_attr_string("/", "format") != kFormat)
    throw Error(Code::ModelError, ctx + ": no `format` attribute " + kFormat + " (weights/efficientnet_lite0.py --h5 writes one)");
  Net w;
  w.stem = load_conv(f, ctx, "_conv_stem", "_bn0", 32, 3, 3);
  int cin = 32;
  for (const auto& st : kStages)
    for (int i = 0; i < st[4]; ++i) {
      Block b;
      const std::string p = "_blocks." + std::to_string(w.blocks.size()) + ".";
      b.cin = cin, b.mid = cin * st[0], b.cout = st[3], b.k = st[1], b.stride = i == 0 ? st[2] : 1;
      b.expand = st[0] != 1;
      b.skip = b.stride == 1 && b.cin == b.cout;
      if (b.expand) b.ex = load_conv(f, ctx, p + "_expand_conv", p + "_bn0", b.mid, b.cin, 1);
      b.dw = load_conv(f, ctx, p + "_depthwise_conv", p + "_bn1", b.mid, 1, b.k);
      b.pr = load_conv(f, ctx, p + "_project_conv", p + "_bn2", b.cout, b.mid, 1);
      w.blocks.push_back(std::move(b));
      cin = st[3];
    }
  w.head = load_conv(f, ctx, "_conv_head", "_bn1", kDim, 320, 1);
  return w;
}

}  // namespace reel::effnet
