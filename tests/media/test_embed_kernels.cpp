// SPDX-License-Identifier: Apache-2.0
// reel embed's default model on reel's own CPU kernels (weights/efficientnet_lite0.h5) against
// OpenCV DNN running the ONNX export of the same weights (which the set-up checks against
// PyTorch): random frames at the card's size and at another, both threading paths, and the
// weights checked tensor by tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "reel/core/status.h"
#include "reel/embed/embedder.h"
#include "reel/io/h5.h"
#include "embed/effnet_cpu.h"
#include "embed/effnet_net.h"

namespace reel {
namespace {

namespace fs = std::filesystem;

struct Cards {
  fs::path dir;
  std::string h5, onnx;
  Cards() {
    const fs::path card = default_embed_card_path();
    h5 = (card.parent_path() / "efficientnet_lite0.h5").string();
    onnx = (card.parent_path() / "efficientnet_lite0.onnx").string();
    dir = fs::temp_directory_path() / ("reel_embed_kernels_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  ~Cards() { fs::remove_all(dir); }
  bool have() const { return fs::exists(h5) && fs::exists(onnx); }
  // The default card with another model file and input size.
  std::string card(const std::string& name, const std::string& model, int w, int h) const {
    nlohmann::json j;
    std::ifstream(default_embed_card_path()) >> j;
    j["model"] = model;
    j["input"]["size"] = {w, h};
    const std::string p = (dir / (name + ".json")).string();
    std::ofstream(p) << j.dump();
    return p;
  }
};

std::vector<uint8_t> random_frame(std::mt19937& rng, int w, int h, bool smooth) {
  std::vector<uint8_t> f(static_cast<size_t>(w) * h * 3);
  std::uniform_int_distribution<int> byte(0, 255);
  if (!smooth) {
    for (auto& v : f) v = static_cast<uint8_t>(byte(rng));
    return f;
  }
  // Broad colour gradients with noise: activations more like a picture's than white noise gives.
  const int a = byte(rng), b = byte(rng), c = byte(rng);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        const int v = (k == 0 ? a + x : k == 1 ? b + y : c + x - y) + byte(rng) / 8;
        f[(static_cast<size_t>(y) * w + x) * 3 + k] = static_cast<uint8_t>(v & 255);
      }
  return f;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// The vectors are unit length; the two paths fold BatchNorm and sum in different orders, so
// they differ by float32 rounding through 18 layers (1e-6 seen); 2e-5 is far below any change
// of the network (a wrong tap or channel moves them by 1e-2 or more).
constexpr float kTol = 2e-5f;

TEST(EmbedKernels, EfficientNetOnReelKernelsEqualsOpenCvDnn) {
  const Cards c;
  if (!c.have()) GTEST_SKIP() << "no weights/efficientnet_lite0.{h5,onnx} (bash .ci/setup makes them)";
  std::mt19937 rng(11);
  for (const auto& [w, h] : {std::pair{224, 224}, std::pair{160, 128}}) {
    Embedder ours(load_model_card(c.card("h5", c.h5, w, h))), dnn(load_model_card(c.card("onnx", c.onnx, w, h)));
    EXPECT_EQ(ours.dim(), 1280);
    const int fw = w + 37, fh = h + 21;  // resized and cropped by the card first
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 0; i < 5; ++i) frames.push_back(random_frame(rng, fw, fh, i % 2 == 1));
    std::vector<const uint8_t*> ptrs;
    for (const auto& f : frames) ptrs.push_back(f.data());
    EXPECT_LT(max_abs_diff(ours.embed(ptrs, fw, fh), dnn.embed(ptrs, fw, fh)), kTol) << w << "x" << h << ", 5 frames";
    // One frame: the threads split the layers (not the frames) of one forward pass.
    const std::vector<float> one = ours.embed({ptrs[1]}, fw, fh);
    EXPECT_LT(max_abs_diff(one, dnn.embed({ptrs[1]}, fw, fh)), kTol) << w << "x" << h << ", 1 frame";
    EXPECT_LT(max_abs_diff(one, ours.embed({ptrs[1], ptrs[1]}, fw, fh)), 1e-6f) << "the two threading paths";
  }
}

TEST(EmbedKernels, WeightsAreCheckedTensorByTensor) {
  const Cards c;
  const std::string bad = (c.dir / "bad.h5").string();
  {
    h5::File f(bad, 'w');
    f.write_attr_string("/", "format", "reel-efficientnet-lite0");
    const float v[2] = {0, 0};
    f.write_float("_conv_stem.weight", {2}, v);
  }
  try {
    Embedder e(load_model_card(c.card("bad", bad, 224, 224)));
    ADD_FAILURE() << "loaded a bad weights file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::ModelError);
    EXPECT_NE(std::string(e.what()).find("_conv_stem.weight: wrong shape: got [2], expected [32, 3, 3, 3]"), std::string::npos)
        << e.what();
  }
  {
    h5::File f(bad, 'w');
    const float v[2] = {0, 0};
    f.write_float("x", {2}, v);
  }
  try {
    Embedder e(load_model_card(c.card("bad", bad, 224, 224)));
    ADD_FAILURE() << "loaded an HDF5 file without the format attribute";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::ModelError);
    EXPECT_NE(std::string(e.what()).find("no `format` attribute reel-efficientnet-lite0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace reel

namespace reel {
namespace {

// The network built from the backend op set (the GPU path of reel embed) on the CPU backend
// against the hand-tuned CPU kernels: the same folded weights, summed in other orders through
// 18 layers, so float32 noise only (1e-4 of the largest feature, measured about 1e-6).
TEST(EmbedKernels, BackendNetworkEqualsTheCpuKernels) {
  const fs::path h5 = fs::path(default_embed_card_path()).parent_path() / "efficientnet_lite0.h5";
  if (!fs::exists(h5)) GTEST_SKIP() << "no " << h5 << " (bash .ci/setup makes it)";
  const EffNetLite0Cpu cpu(h5.string());
  const EffNetLite0Net net(h5.string(), ComputeTarget{});
  EXPECT_NE(net.describe().find("cpu"), std::string::npos);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto [n, h, w] : std::vector<std::array<int, 3>>{{2, 224, 224}, {1, 97, 161}}) {
    std::vector<float> x(static_cast<size_t>(n) * 3 * h * w);
    for (float& v : x) v = u(rng);
    const auto ref = cpu.features(x.data(), n, h, w), got = net.features(x.data(), n, h, w);
    ASSERT_EQ(got.size(), ref.size());
    float amax = 0, dmax = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      amax = std::max(amax, std::fabs(ref[i]));
      dmax = std::max(dmax, std::fabs(got[i] - ref[i]));
    }
    EXPECT_GT(amax, 0.1f);
    EXPECT_LT(dmax, 1e-4f * amax) << n << "x" << h << "x" << w << ": " << dmax << " of " << amax;
    RecordProperty("max_rel_" + std::to_string(h), std::to_string(dmax / amax));
  }
}

}  // namespace
}  // namespace reel
