// SPDX-License-Identifier: Apache-2.0
// reel dedup's core (dedup/semdedup.h) on synthetic L2-normalised embeddings with planted
// near-duplicates: wall time, peak RSS, and how many of the duplicates the clustered search
// finds against an exact brute-force pass over the same set.
//
// The set: `topics` random unit directions; each item is a topic plus Gaussian noise of the
// same norm (two items of one topic: cosine about 0.5), normalised; a fraction `dups` of the
// items get a planted copy, the item plus noise of norm 0.3 relative (cosine about 0.98), as
// a re-encode or crop gives. --topics 0 draws items uniformly on the sphere (no structure: the
// hardest case for clustering).
//
// Usage: bench_dedup [--n N] [--d D] [--dups F] [--topics T (default n/1000)] [--eps E]
//                    [--clusters K (default: reel's)] [--probe 2] [--exact]  (also runs brute force, for recall)
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "reel/dedup/semdedup.h"

using namespace reel;
using clk = std::chrono::steady_clock;

namespace {
double peak_rss_gb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1048576.0;
}
void normalise(float* v, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) s += static_cast<double>(v[j]) * v[j];
  const float inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int j = 0; j < d; ++j) v[j] *= inv;
}
}  // namespace

int main(int argc, char** argv) {
  int64_t n = 100000;
  int d = 512, clusters = 0, probe = 1;
  double dups = 0.05, eps = 0.1;
  int64_t topics = -1;
  bool exact = false;
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return !std::strcmp(argv[i], name) && i + 1 < argc; };
    if (arg("--n")) n = std::atoll(argv[++i]);
    else if (arg("--d")) d = std::atoi(argv[++i]);
    else if (arg("--dups")) dups = std::atof(argv[++i]);
    else if (arg("--topics")) topics = std::atoll(argv[++i]);
    else if (arg("--eps")) eps = std::atof(argv[++i]);
    else if (arg("--clusters")) clusters = std::atoi(argv[++i]);
    else if (arg("--probe")) probe = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--exact")) exact = true;
  }
  if (topics < 0) topics = std::max<int64_t>(1, n / 1000);
  // n items in all: the last `planted` are copies of the first `planted`.
  const int64_t planted = static_cast<int64_t>(n * dups);
  std::vector<float> x(static_cast<size_t>(n) * d);
  {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> g(0.f, 1.f);
    const float unit = 1.0f / std::sqrt(static_cast<float>(d));
    std::vector<float> centres(static_cast<size_t>(std::max<int64_t>(topics, 1)) * d);
    for (auto& v : centres) v = g(rng) * unit;
    std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(topics, 1) - 1);
    for (int64_t i = 0; i < n - planted; ++i) {
      float* v = x.data() + i * d;
      const float* c = centres.data() + pick(rng) * d;
      for (int j = 0; j < d; ++j) v[j] = (topics > 0 ? c[j] : 0.f) + g(rng) * unit;
      normalise(v, d);
    }
    for (int64_t p = 0; p < planted; ++p) {
      float* v = x.data() + (n - planted + p) * d;
      const float* o = x.data() + p * d;
      for (int j = 0; j < d; ++j) v[j] = o[j] + 0.3f * g(rng) * unit;
      normalise(v, d);
    }
  }
  auto pair_member = [&](int64_t i) { return i < planted || i >= n - planted; };
  auto partner = [&](int64_t i) { return i < planted ? n - planted + i : i - (n - planted); };
  std::vector<float> copy;
  if (exact) copy = x;  // semantic_dedup permutes its input
  SemDedupOptions o;
  o.eps = eps;
  o.clusters = clusters;
  o.probe = probe;
  o.nn = exact;
  const double rss0 = peak_rss_gb();
  const auto t0 = clk::now();
  const SemDedupResult r = semantic_dedup(x.data(), n, d, o);
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  int64_t removed = 0, removed_planted = 0, pairs_found = 0;
  for (int64_t i = 0; i < n; ++i)
    if (r.duplicate_of[i] >= 0) ++removed, removed_planted += pair_member(i);
  for (int64_t p = 0; p < planted; ++p) pairs_found += r.duplicate_of[p] >= 0 || r.duplicate_of[n - planted + p] >= 0;
  std::printf("{\"n\": %lld, \"d\": %d, \"topics\": %lld, \"planted_pairs\": %lld, \"eps\": %g, \"clusters\": %d, \"probe\": %d, "
              "\"kmeans_iterations\": %d, \"seconds\": %.1f, \"peak_rss_gb\": %.2f, \"data_gb\": %.2f, \"removed\": %lld, "
              "\"planted_pair_recall\": %.5f, \"removal_precision\": %.5f",
              static_cast<long long>(n), d, static_cast<long long>(topics), static_cast<long long>(planted), eps, r.clusters, probe,
              r.kmeans_iterations, secs, peak_rss_gb(), rss0, static_cast<long long>(removed),
              planted ? static_cast<double>(pairs_found) / planted : 1.0,
              removed ? static_cast<double>(removed_planted) / removed : 1.0);
  if (exact) {
    // Brute force: every item's most similar other item over the whole set; the clustered run
    // finds an item's near-duplicate when its within-cluster neighbour clears the threshold too.
    SemDedupOptions e = o;
    e.clusters = 1;
    e.nn = true;
    const auto t1 = clk::now();
    const SemDedupResult b = semantic_dedup(copy.data(), n, d, e);
    const double bsecs = std::chrono::duration<double>(clk::now() - t1).count();
    const float thr = static_cast<float>(1 - eps);
    int64_t truth = 0, found = 0, exact_removed = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact_removed += b.duplicate_of[i] >= 0;
      if (b.nn_sim[i] >= thr) {
        ++truth;
        found += r.nn_sim[i] >= thr;
      }
    }
    (void)partner;
    std::printf(", \"exact_seconds\": %.1f, \"exact_removed\": %lld, \"items_with_a_duplicate\": %lld, "
                "\"recall_vs_exact\": %.5f, \"precision_vs_exact\": 1.0",
                bsecs, static_cast<long long>(exact_removed), static_cast<long long>(truth),
                truth ? static_cast<double>(found) / truth : 1.0);
  }
  std::printf("}\n");
  return 0;
}
