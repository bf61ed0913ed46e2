// SPDX-License-Identifier: Apache-2.0
// The dedup core against plain references: NeMo's frame rule on known clip lengths, the DCT
// hash, k-means on separable data, semantic dedup against an O(n^2) loop, and the row log's
// recovery from a torn write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "reel/dedup/semdedup.h"
#include "reel/embed/embedding_store.h"
#include "reel/embed/frame_plan.h"
#include "reel/embed/phash.h"
#include "reel/io/h5.h"
#include "cli_util.h"

using namespace reel;
namespace fs = std::filesystem;

TEST(FramePlan, NemoRuleDoublesTheRateForShortClips) {
  ModelCard c;
  c.sampling = "nemo", c.fps = 2, c.frames = 8, c.max_fps = 20;
  // 10 s at 25 fps: 20 frames at 2 fps (round(12.5 k): 0, 13, 25, 38, ...), 8 of them at
  // positions round(19 i / 7) = 0, 3, 5, 8, 11, 14, 16, 19.
  EXPECT_EQ(plan_frames(c, 250, 25), (std::vector<int64_t>{0, 38, 63, 100, 138, 175, 200, 238}));
  // 2 s at 30 fps: 4 at 2 fps, 8 at 4 fps (every 7.5th): all 8 of them.
  EXPECT_EQ(plan_frames(c, 60, 30), (std::vector<int64_t>{0, 8, 15, 23, 30, 38, 45, 53}));
  // 5 frames at 30 fps: 1 at 2 and 4 fps, 2 at 8, 3 at 16; 32 fps is past max_fps 20.
  EXPECT_EQ(plan_frames(c, 5, 30), (std::vector<int64_t>{0, 2, 4}));
  c.sampling = "uniform";
  EXPECT_EQ(plan_frames(c, 100, 25), (std::vector<int64_t>{0, 14, 28, 42, 57, 71, 85, 99}));
  c.sampling = "fps", c.fps = 1, c.max_frames = 3;
  EXPECT_EQ(plan_frames(c, 250, 25), (std::vector<int64_t>{0, 25, 50}));
}

TEST(Phash, CopiesAreCloseDifferentPicturesAreNot) {
  std::mt19937 rng(3);
  auto picture = [&](int w, int h, int seed) {
    std::vector<uint8_t> v(static_cast<size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          v[(static_cast<size_t>(y) * w + x) * 3 + c] =
              static_cast<uint8_t>(127 + 100 * std::sin(0.05 * (x + seed * 7) * (1 + c) + 0.03 * y * seed));
    return v;
  };
  auto a = picture(320, 180, 1), b = picture(320, 180, 2);
  auto noisy = a;
  std::uniform_int_distribution<int> n(-6, 6);
  for (auto& p : noisy) p = static_cast<uint8_t>(std::clamp(p + n(rng), 0, 255));
  EXPECT_EQ(hamming(dct_hash(a.data(), 320, 180), dct_hash(a.data(), 320, 180)), 0);
  EXPECT_LE(hamming(dct_hash(a.data(), 320, 180), dct_hash(noisy.data(), 320, 180)), 3);
  EXPECT_GE(hamming(dct_hash(a.data(), 320, 180), dct_hash(b.data(), 320, 180)), 16);
  uint64_t h = 0;
  EXPECT_TRUE(parse_hash_hex(hash_hex(0x0123456789abcdefULL), &h));
  EXPECT_EQ(h, 0x0123456789abcdefULL);
  EXPECT_FALSE(parse_hash_hex("xyz", &h));
}

namespace {
std::vector<float> unit_rows(std::mt19937_64& rng, int64_t n, int d) {
  std::normal_distribution<float> g;
  std::vector<float> x(static_cast<size_t>(n) * d);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < d; ++j) s += std::pow(x[i * d + j] = g(rng), 2);
    for (int j = 0; j < d; ++j) x[i * d + j] /= static_cast<float>(std::sqrt(s));
  }
  return x;
}
}  // namespace

TEST(KMeans, FindsSeparatedBlobs) {
  std::mt19937_64 rng(5);
  const int d = 16, k = 6;
  const int64_t per = 300;
  const std::vector<float> centres = unit_rows(rng, k, d);
  std::normal_distribution<float> g(0, 0.02f);
  std::vector<float> x;
  for (int64_t i = 0; i < per * k; ++i)
    for (int j = 0; j < d; ++j) x.push_back(10 * centres[(i % k) * d + j] + g(rng));
  for (const char* init : {"kmeans||", "kmeans++"}) {
    KMeansOptions o;
    o.k = k, o.init = init;
    const KMeansResult r = kmeans(x.data(), per * k, d, o);
    // Every blob is one cluster: items i and i + k always share a label, i and i + 1 never.
    for (int64_t i = 0; i + k < per * k; ++i) ASSERT_EQ(r.assign[i], r.assign[i + k]) << init;
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) EXPECT_NE(r.assign[a], r.assign[b]) << init;
  }
}

TEST(SemDedup, OneClusterEqualsTheQuadraticDefinition) {
  std::mt19937_64 rng(9);
  const int d = 24;
  const int64_t n = 1500;
  std::vector<float> x = unit_rows(rng, n, d);
  // Plant copies: row i + 1000 = row i plus a little noise, for i < 300.
  std::normal_distribution<float> g(0, 0.05f);
  for (int64_t i = 0; i < 300; ++i) {
    double s = 0;
    for (int j = 0; j < d; ++j) s += std::pow(x[(1000 + i) * d + j] = x[i * d + j] + g(rng), 2);
    for (int j = 0; j < d; ++j) x[(1000 + i) * d + j] /= static_cast<float>(std::sqrt(s));
  }
  const std::vector<float> orig = x;
  for (const char* rank : {"hard", "easy", "random"}) {
    std::vector<float> work = orig;
    SemDedupOptions o;
    o.clusters = 1, o.eps = 0.05, o.rank = rank, o.nn = true;
    const SemDedupResult r = semantic_dedup(work.data(), n, d, o);
    // The reference: the same ranking (recomputed here), then every earlier-ranked pair.
    std::vector<double> mean(d, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) mean[j] += orig[i * d + j] / n;
    double mn = 0;
    for (double m : mean) mn += m * m;
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    if (std::string(rank) != "random") {
      std::vector<double> dist(n);
      for (int64_t i = 0; i < n; ++i) {
        double dot = 0;
        for (int j = 0; j < d; ++j) dot += orig[i * d + j] * mean[j];
        dist[i] = 1 - dot / std::sqrt(mn);
      }
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return std::string(rank) == "hard" ? dist[a] > dist[b] : dist[a] < dist[b];
      });
    } else {  // random rank: every removal names an item at least that similar
      int removed = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (r.duplicate_of[i] < 0) continue;
        ++removed;
        double s = 0;
        for (int j = 0; j < d; ++j) s += orig[i * d + j] * orig[r.duplicate_of[i] * d + j];
        EXPECT_GE(s, 0.95 - 1e-5);
      }
      EXPECT_GE(removed, 290);
      continue;
    }
    int removed = 0;
    for (int64_t p = 0; p < n; ++p) {
      const int64_t i = order[p];
      double best = -2;
      int64_t arg = -1;
      for (int64_t q = 0; q < p; ++q) {
        double s = 0;
        for (int j = 0; j < d; ++j) s += orig[i * d + j] * orig[order[q] * d + j];
        if (s > best) best = s, arg = order[q];
      }
      const bool dup = arg >= 0 && best >= 1 - 0.05;
      removed += dup;
      ASSERT_EQ(r.duplicate_of[i], dup ? arg : -1) << rank << " item " << i;
      if (arg >= 0) ASSERT_NEAR(r.max_sim[i], best, 1e-5) << rank << " item " << i;
    }
    EXPECT_GE(removed, 290) << rank;  // the planted copies (a few land under 0.95 by chance)
  }
}

TEST(SemDedup, ClusteredFindsThePlantedCopiesOfStructuredData) {
  std::mt19937_64 rng(21);
  const int d = 32;
  const int64_t n = 6000;
  const std::vector<float> topics = unit_rows(rng, 30, d);
  std::normal_distribution<float> g(0, 1 / std::sqrt(static_cast<float>(d)));
  std::uniform_int_distribution<int> pick(0, 29);
  std::vector<float> x(static_cast<size_t>(n) * d);
  for (int64_t i = 0; i < n; ++i) {
    const int t = pick(rng);
    for (int j = 0; j < d; ++j) x[i * d + j] = i >= 5000 ? x[(i - 5000) * d + j] + 0.2f * g(rng) : topics[t * d + j] + g(rng);
    double s = 0;
    for (int j = 0; j < d; ++j) s += x[i * d + j] * x[i * d + j];
    for (int j = 0; j < d; ++j) x[i * d + j] /= static_cast<float>(std::sqrt(s));
  }
  SemDedupOptions o;
  o.clusters = 12, o.eps = 0.1;
  const SemDedupResult r = semantic_dedup(x.data(), n, d, o);
  int pairs = 0, wrong = 0;
  for (int64_t i = 0; i < 1000; ++i) pairs += r.duplicate_of[i] >= 0 || r.duplicate_of[5000 + i] >= 0;
  for (int64_t i = 1000; i < 5000; ++i) wrong += r.duplicate_of[i] >= 0;
  // A pair split by a cluster boundary is missed (the price of clustering; --clusters 1 is
  // exact): at 12 clusters over 30 topics in 32-d, about 2% of them.
  EXPECT_GE(pairs, 970);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(r.clusters, 12);
}

TEST(EmbeddingStore, ATornRowIsCutAndResumedRowsAreReused) {
  const fs::path dir = test::temp_dir("embstore");
  const std::string path = (dir / "e.h5").string();
  const int d = 4;
  const float a[d] = {1, 0, 0, 0}, b[d] = {0, 1, 0, 0}, c[d] = {0, 0, 1, 0};
  const nlohmann::json attrs = {{"model", "m"}, {"model_sha256", "x"}};
  {
    EmbeddingWriter w(path, d, false, attrs, true);
    EXPECT_EQ(w.add("a", a), 0);
    EXPECT_EQ(w.add("b", b), 1);
    w.sync();
  }  // killed: no finish, the log stays
  {
    std::FILE* f = std::fopen((path + ".rows").c_str(), "ab");  // half a row, as a kill mid-write leaves
    std::fwrite("\x01\x00\x00\x00zz", 1, 6, f);
    std::fclose(f);
  }
  {
    EmbeddingWriter w(path, d, false, attrs, true);
    EXPECT_TRUE(w.has("a"));
    EXPECT_TRUE(w.has("b"));
    EXPECT_FALSE(w.has("zz"));
    EXPECT_EQ(w.reuse("a"), 0);
    EXPECT_EQ(w.add("c", c), 1);  // "b" is not in this run's inputs: not in its file
    w.finish(true);
  }
  EXPECT_FALSE(fs::exists(path + ".rows"));
  h5::File f(path, 'r');
  EXPECT_EQ(f.read_strings("ids"), (std::vector<std::string>{"a", "c"}));
  std::vector<float> rows(2 * d);
  f.read_rows("embeddings", 0, 2, rows.data());
  EXPECT_EQ(rows, (std::vector<float>{1, 0, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(f.read_attr_string("/", "model"), "m");
  // Another model's log is not reused.
  {
    EmbeddingWriter w(path, d, false, attrs, true);
    w.add("a", a);
    w.sync();
  }
  EmbeddingWriter other(path, d, false, {{"model", "n"}, {"model_sha256", "y"}}, true);
  EXPECT_FALSE(other.has("a"));
}

TEST(SemDedup, ProbingTheSecondClusterFindsPairsTheClusteringSplits) {
  // Items uniform on the sphere: no structure for k-means, so boundaries split many pairs.
  std::mt19937_64 rng(33);
  const int d = 32;
  const int64_t n = 6000, planted = 1000;
  std::vector<float> x = unit_rows(rng, n, d);
  std::normal_distribution<float> g(0, 0.15f / std::sqrt(static_cast<float>(d)));
  for (int64_t p = 0; p < planted; ++p) {
    double s = 0;
    for (int j = 0; j < d; ++j) s += std::pow(x[(n - planted + p) * d + j] = x[p * d + j] + g(rng), 2);
    for (int j = 0; j < d; ++j) x[(n - planted + p) * d + j] /= static_cast<float>(std::sqrt(s));
  }
  const std::vector<float> orig = x;
  auto found = [&](int probe) {
    std::vector<float> work = orig;
    SemDedupOptions o;
    o.clusters = 20, o.eps = 0.05, o.probe = probe;
    const SemDedupResult r = semantic_dedup(work.data(), n, d, o);
    int pairs = 0;
    for (int64_t p = 0; p < planted; ++p) pairs += r.duplicate_of[p] >= 0 || r.duplicate_of[n - planted + p] >= 0;
    for (int64_t i = 0; i < n; ++i) {
      if (r.duplicate_of[i] < 0) continue;
      const int64_t j = r.duplicate_of[i];
      double s = 0;
      for (int k = 0; k < d; ++k) s += orig[i * d + k] * orig[j * d + k];
      EXPECT_GE(s, 0.95 - 1e-5) << "probe " << probe;   // every removal names a real near-duplicate
      EXPECT_LT(r.duplicate_of[j], 0) << "probe " << probe;  // ...that is kept: one of each pair stays
    }
    return pairs;
  };
  const int one = found(1), two = found(2);
  EXPECT_LT(one, 950);   // the clustering splits pairs...
  EXPECT_GE(two, 990);   // ...which the second cluster recovers
}
