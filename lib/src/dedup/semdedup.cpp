// SPDX-License-Identifier: Apache-2.0
#include "reel/dedup/semdedup.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "reel/core/cancel.h"
#include "reel/core/status.h"

namespace reel {

int default_clusters(int64_t n) { return static_cast<int>(std::max<int64_t>(1, (n + 1999) / 2000)); }

namespace {
// Rows [0, m) of one cluster in rank order: for each row, the best similarity to an earlier
// row (and with nn to any other row).
void compare_cluster(const float* x, int64_t m, int d, bool nn, float* max_sim, int64_t* arg, float* nn_sim) {
  constexpr int64_t kB = 1024;
  std::vector<float> s(static_cast<size_t>(kB) * kB);
  for (int64_t i = 0; i < m; ++i) max_sim[i] = -2, arg[i] = -1, nn_sim[i] = -2;
  for (int64_t i0 = 0; i0 < m; i0 += kB) {
    const int64_t rows = std::min(kB, m - i0);
    const int64_t jend = nn ? m : i0 + rows;
    for (int64_t j0 = 0; j0 < jend; j0 += kB) {
      const int64_t cols = std::min(kB, jend - j0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(cols), d, 1.0f, x + i0 * d, d,
                  x + j0 * d, d, 0.0f, s.data(), static_cast<int>(cols));
      for (int64_t a = 0; a < rows; ++a) {
        const int64_t i = i0 + a;
        const float* row = s.data() + a * cols;
        for (int64_t b = 0; b < cols; ++b) {
          const int64_t j = j0 + b;
          if (j == i) continue;
          if (j < i && row[b] > max_sim[i]) max_sim[i] = row[b], arg[i] = j;
          if (row[b] > nn_sim[i]) nn_sim[i] = row[b];
        }
      }
    }
  }
}

// run(g) for every group: those of at least 8192 items one at a time (BLAS's own threads in
// their sgemm), the rest in parallel, one thread each (OpenBLAS runs single-threaded inside an
// OpenMP region).
template <typename Size, typename Run>
void run_groups(int64_t groups, Size size, Run run) {
  constexpr int64_t kLarge = 8192;
  for (int64_t g = 0; g < groups; ++g)
    if (size(g) >= kLarge) {
      throw_if_cancelled();
      run(g);
    }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t g = 0; g < groups; ++g)
    if (size(g) < kLarge) run(g);
  throw_if_cancelled();
}

// Applies the permutation (out[p] = in[perm[p]]) to the rows of x in place, one row of scratch.
void permute_rows(float* x, int d, const std::vector<int64_t>& perm) {
  const int64_t n = static_cast<int64_t>(perm.size());
  std::vector<char> done(static_cast<size_t>(n), 0);
  std::vector<float> tmp(static_cast<size_t>(d));
  for (int64_t start = 0; start < n; ++start) {
    if (done[start] || perm[start] == start) continue;
    std::copy(x + start * d, x + (start + 1) * d, tmp.begin());
    int64_t p = start;
    for (;;) {
      done[p] = 1;
      const int64_t q = perm[p];
      if (q == start) {
        std::copy(tmp.begin(), tmp.end(), x + p * d);
        break;
      }
      std::copy(x + q * d, x + (q + 1) * d, x + p * d);
      p = q;
    }
  }
}
// --probe 2: each item is compared inside its own cluster and inside its second-nearest one
// (as a guest), every set in one global rank order, so a pair split by a cluster boundary is
// still compared and a pair met in two sets gets the same answer in both.
// A cluster takes at most as many guests as it has members, those nearest to it relative to
// their own centroid (the smallest margin), so no set grows past twice its cluster (in high
// dimensions a few "hub" centroids are second-nearest to a large share of all items).
template <typename Before>
void probe_sets(const float* x, int64_t n, int d, const SemDedupOptions& o, const std::vector<float>& centroids, int k,
                const std::vector<float>& dist2, Before before, SemDedupResult& r) {
  std::vector<int32_t> second(static_cast<size_t>(n));
  std::vector<float> second_d2(static_cast<size_t>(n));
  second_nearest(x, n, d, centroids.data(), k, r.cluster.data(), second.data(), second_d2.data());
  std::vector<int64_t> home(static_cast<size_t>(k), 0);
  for (int64_t i = 0; i < n; ++i) ++home[r.cluster[i]];
  std::vector<std::vector<int64_t>> guests(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) guests[second[i]].push_back(i);
  std::vector<char> guest(static_cast<size_t>(n), 0);
  for (int c = 0; c < k; ++c) {
    auto& g = guests[c];
    const size_t cap = static_cast<size_t>(home[c]);
    if (g.size() > cap) {
      std::nth_element(g.begin(), g.begin() + cap, g.end(),
                       [&](int64_t a, int64_t b) { return second_d2[a] - dist2[a] < second_d2[b] - dist2[b]; });
      g.resize(cap);
    }
    for (int64_t i : g) guest[i] = 1;
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), before);
  std::vector<std::vector<int64_t>> sets(static_cast<size_t>(k));
  for (int64_t i : order) {  // appended in rank order, so every set is in rank order
    sets[r.cluster[i]].push_back(i);
    if (guest[i]) sets[second[i]].push_back(i);
  }
  struct Found {
    std::vector<float> max_sim, nn_sim;
    std::vector<int64_t> arg;
  };
  std::vector<Found> found(static_cast<size_t>(k));
  auto run = [&](int64_t c) {
    const auto& members = sets[c];
    const int64_t m = static_cast<int64_t>(members.size());
    std::vector<float> rows(static_cast<size_t>(m) * d);
    for (int64_t p = 0; p < m; ++p) std::copy(x + members[p] * d, x + (members[p] + 1) * d, rows.begin() + p * d);
    Found& f = found[c];
    f.max_sim.resize(m), f.nn_sim.resize(m), f.arg.resize(m);
    compare_cluster(rows.data(), m, d, o.nn, f.max_sim.data(), f.arg.data(), f.nn_sim.data());
  };
  run_groups(k, [&](int64_t c) { return static_cast<int64_t>(sets[c].size()); }, run);
  std::vector<int64_t> arg(static_cast<size_t>(n), -1);
  for (int c = 0; c < k; ++c)
    for (size_t p = 0; p < sets[c].size(); ++p) {
      const int64_t i = sets[c][p];
      const Found& f = found[c];
      if (f.arg[p] >= 0 && f.max_sim[p] > r.max_sim[i]) r.max_sim[i] = f.max_sim[p], arg[i] = sets[c][f.arg[p]];
      if (o.nn) r.nn_sim[i] = std::max(r.nn_sim[i], f.nn_sim[p]);
    }
  const float threshold = static_cast<float>(1.0 - o.eps);
  for (int64_t i = 0; i < n; ++i)
    if (arg[i] >= 0 && r.max_sim[i] >= threshold) r.duplicate_of[i] = arg[i];
}

}  // namespace

SemDedupResult semantic_dedup(float* x, int64_t n, int d, const SemDedupOptions& o, const std::vector<double>* score) {
  SemDedupResult r;
  r.cluster.assign(static_cast<size_t>(n), 0);
  r.duplicate_of.assign(static_cast<size_t>(n), -1);
  r.max_sim.assign(static_cast<size_t>(n), -2);
  if (o.nn) r.nn_sim.assign(static_cast<size_t>(n), -2);
  if (n == 0) return r;
  if (o.rank == "score" && (!score || static_cast<int64_t>(score->size()) != n))
    throw Error(Code::InvalidArgument, "ranking by score needs one score per item");
  const int k = static_cast<int>(std::min<int64_t>(n, o.clusters > 0 ? o.clusters : default_clusters(n)));
  r.clusters = k;
  std::vector<float> centroids;
  std::vector<float> dist2;  // to the nearest centroid (k > 1)
  if (k == 1) {  // exact: one cluster, ranked by distance to the mean
    centroids.assign(static_cast<size_t>(d), 0.f);
    std::vector<double> mean(static_cast<size_t>(d), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) mean[j] += x[i * d + j];
    for (int j = 0; j < d; ++j) centroids[j] = static_cast<float>(mean[j] / n);
  } else {
    KMeansOptions ko = o.kmeans;
    ko.k = k;
    ko.seed = o.seed;
    KMeansResult km = kmeans(x, n, d, ko);
    r.cluster = std::move(km.assign);
    centroids = std::move(km.centroids);
    dist2 = std::move(km.dist2);
    r.kmeans_iterations = km.iterations;
  }
  // Cosine distance of each item to its centroid.
  std::vector<float> cos_dist(static_cast<size_t>(n));
  std::vector<double> cnorm(static_cast<size_t>(k), 0.0);
  for (int c = 0; c < k; ++c) {
    double s = 0;
    for (int j = 0; j < d; ++j) s += static_cast<double>(centroids[static_cast<size_t>(c) * d + j]) * centroids[static_cast<size_t>(c) * d + j];
    cnorm[c] = std::sqrt(s);
  }
  for (int64_t i = 0; i < n; ++i) {
    const float* c = centroids.data() + static_cast<size_t>(r.cluster[i]) * d;
    double dot = 0;
    for (int j = 0; j < d; ++j) dot += static_cast<double>(x[i * d + j]) * c[j];
    cos_dist[i] = static_cast<float>(1.0 - (cnorm[r.cluster[i]] > 0 ? dot / cnorm[r.cluster[i]] : 0.0));
  }
  std::vector<uint64_t> tiebreak(static_cast<size_t>(n));
  {
    std::mt19937_64 rng(o.seed);
    for (auto& t : tiebreak) t = rng();
  }
  // Rank order inside a cluster (ties: input order); it orders the probe sets too.
  auto before = [&](int64_t a, int64_t b) {
    if (o.rank == "hard") return cos_dist[a] > cos_dist[b];
    if (o.rank == "easy") return cos_dist[a] < cos_dist[b];
    if (o.rank == "random") return tiebreak[a] < tiebreak[b];
    return (*score)[a] > (*score)[b];
  };
  if (o.probe > 1 && k > 1) {
    probe_sets(x, n, d, o, centroids, k, dist2, before, r);
    return r;
  }
  // Items grouped by cluster, each cluster in rank order.
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
    if (r.cluster[a] != r.cluster[b]) return r.cluster[a] < r.cluster[b];
    return before(a, b);
  });
  permute_rows(x, d, perm);
  std::vector<int64_t> start = {0};
  for (int64_t p = 1; p < n; ++p)
    if (r.cluster[perm[p]] != r.cluster[perm[p - 1]]) start.push_back(p);
  start.push_back(n);
  const int64_t groups = static_cast<int64_t>(start.size()) - 1;
  std::vector<float> max_sim(static_cast<size_t>(n)), nn_sim(static_cast<size_t>(n));
  std::vector<int64_t> arg(static_cast<size_t>(n));
  auto run = [&](int64_t g) {
    const int64_t a = start[g], m = start[g + 1] - a;
    compare_cluster(x + a * d, m, d, o.nn, max_sim.data() + a, arg.data() + a, nn_sim.data() + a);
    for (int64_t i = 0; i < m; ++i)
      if (arg[a + i] >= 0) arg[a + i] += a;
  };
  run_groups(groups, [&](int64_t g) { return start[g + 1] - start[g]; }, run);
  const float threshold = static_cast<float>(1.0 - o.eps);
  for (int64_t p = 0; p < n; ++p) {
    const int64_t i = perm[p];
    r.max_sim[i] = max_sim[p];
    if (o.nn) r.nn_sim[i] = nn_sim[p];
    if (arg[p] >= 0 && max_sim[p] >= threshold) r.duplicate_of[i] = perm[arg[p]];
  }
  return r;
}

}  // namespace reel
