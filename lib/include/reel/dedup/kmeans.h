// SPDX-License-Identifier: Apache-2.0
// k-means (Lloyd) on row vectors, with distances through BLAS (x·c by sgemm, blocks of rows):
// the clustering NeMo Curator's semantic dedup runs before comparing items inside clusters.
//   - seeding: k-means|| (Bahmani et al.: 5 rounds oversampling 2k candidates with probability
//     proportional to the squared distance, then weighted k-means++ on the candidates) or
//     k-means++ (Arthur & Vassilvitskii), from a fixed seed;
//   - Lloyd iterations on a training sample of at most max_train rows (all rows when fewer;
//     faiss trains the same way), until the inertia improves by less than tol (relative) or
//     max_iter; an emptied cluster is reseeded with the point farthest from its centroid;
//   - finally every row is assigned to its nearest centroid.
// Deterministic for a seed and thread count (BLAS sums in its own order, so assignments at
// exact ties may differ between machines).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reel {

struct KMeansOptions {
  int k = 1;
  int max_iter = 300;       // NeMo Curator's
  double tol = 1e-4;        // NeMo Curator's
  uint64_t seed = 42;       // NeMo Curator's
  std::string init = "kmeans||";  // kmeans|| | kmeans++
  int64_t max_train = 0;    // 0: 128 * k rows
};

struct KMeansResult {
  std::vector<float> centroids;  // k x d
  std::vector<int32_t> assign;   // n
  std::vector<float> dist2;      // n: squared distance to the assigned centroid
  int iterations = 0;
  double inertia = 0;            // on the training sample, last iteration
};

KMeansResult kmeans(const float* x, int64_t n, int d, const KMeansOptions& o);

// The second-nearest centroid of every row, given its nearest (k >= 2), and its squared distance.
void second_nearest(const float* x, int64_t n, int d, const float* c, int k, const int32_t* nearest, int32_t* second,
                    float* second_dist2);

// Nearest centroid of every row (squared Euclidean distance), blocks of rows through sgemm.
void assign_nearest(const float* x, int64_t n, int d, const float* c, int k, int32_t* assign, float* dist2);

}  // namespace reel
