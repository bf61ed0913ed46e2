// SPDX-License-Identifier: Apache-2.0
// Semantic near-duplicate removal with NeMo Curator's semantics (stages/deduplication/semantic):
//   1. k-means over the L2-normalised embeddings (kmeans.h);
//   2. inside each cluster, items ranked by cosine distance to the centroid: "hard" = farthest
//      first (their default), "easy" = nearest first, "random" (seeded), or by a score
//      (highest first, e.g. an aesthetic score through reel dedup --keep-by);
//   3. an item is a duplicate when its maximum cosine similarity to any earlier-ranked item of
//      its cluster (kept or not, as theirs) is >= 1 - eps; it names that item.
// One cluster compares every pair: exact. The similarity blocks run through sgemm; clusters in
// parallel (OpenMP), a large one with BLAS's own threads.
// reel's addition, probe = 2: each item is also a guest in its second-nearest cluster, every
// set ordered by the same global rank (inside one cluster the order above), so pairs that the
// clustering splits are still compared; a cluster takes at most as many guests as it has
// members (those with the smallest margin between their two centroids): at most four times
// the comparisons.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reel/dedup/kmeans.h"

namespace reel {

struct SemDedupOptions {
  double eps = 0.1;
  int clusters = 0;  // 0: default_clusters(n)
  std::string rank = "hard";  // hard | easy | random | score
  uint64_t seed = 42;
  bool nn = false;   // also each item's nearest-neighbour similarity inside its cluster (twice the work)
  int probe = 1;     // 2: also compare each item inside its second-nearest cluster (reel's addition)
  KMeansOptions kmeans;  // k is set from clusters
};

struct SemDedupResult {
  std::vector<int32_t> cluster;       // per item
  std::vector<int64_t> duplicate_of;  // -1: kept; else the item it duplicates
  std::vector<float> max_sim;         // to the earlier-ranked items of its cluster (-2: first-ranked)
  std::vector<float> nn_sim;          // with nn: to the most similar other item of its cluster (-2: alone)
  int clusters = 0, kmeans_iterations = 0;
};

// ceil(n / 2000): clusters of about 2000 items, so one cluster's pairs take a few milliseconds
// and the planted near-duplicates of the benchmark stay together (recall in README).
int default_clusters(int64_t n);

// x: n x d, rows L2-normalised; may be permuted in place (grouped by cluster, in rank order).
// score: with rank "score", n values, higher ranked first.
SemDedupResult semantic_dedup(float* x, int64_t n, int d, const SemDedupOptions& o, const std::vector<double>* score = nullptr);

}  // namespace reel
