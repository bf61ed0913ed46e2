// SPDX-License-Identifier: Apache-2.0
#include "reel/dedup/kmeans.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "reel/core/cancel.h"
#include "reel/core/status.h"

namespace reel {

namespace {
std::vector<float> row_norms2(const float* x, int64_t n, int d) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < d; ++j) s += static_cast<double>(x[i * d + j]) * x[i * d + j];
    out[static_cast<size_t>(i)] = static_cast<float>(s);
  }
  return out;
}

// x·c for every row of x against centroids c (m x d), 2048 rows at a time through sgemm:
// per_row(i, dots) sees row i's m dot products.
template <typename PerRow>
void dot_rows(const float* x, int64_t n, int d, const float* c, int m, PerRow per_row) {
  constexpr int64_t kRows = 2048;
  std::vector<float> dots(static_cast<size_t>(kRows) * m);
  for (int64_t r0 = 0; r0 < n; r0 += kRows) {
    throw_if_cancelled();
    const int64_t rows = std::min(kRows, n - r0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), m, d, 1.0f, x + r0 * d, d, c, d, 0.0f,
                dots.data(), m);
    for (int64_t i = 0; i < rows; ++i) per_row(r0 + i, dots.data() + i * m);
  }
}

// Updates best/dist2 of every row with centroids c (m x d): d2 = |x|^2 - 2 x·c + |c|^2.
void relax(const float* x, const std::vector<float>& xn, int64_t n, int d, const float* c, int m, int c_offset, int32_t* best,
           float* dist2) {
  if (m <= 0) return;
  const std::vector<float> cn = row_norms2(c, m, d);
  dot_rows(x, n, d, c, m, [&](int64_t g, const float* row) {
    for (int j = 0; j < m; ++j) {
      const float d2 = std::max(0.0f, xn[g] - 2 * row[j] + cn[static_cast<size_t>(j)]);
      if (d2 < dist2[g]) dist2[g] = d2, best[g] = c_offset + j;
    }
  });
}

// k-means++ on weighted points (w may be empty: unit weights).
std::vector<float> plus_plus(const float* x, int64_t n, int d, const std::vector<double>& w, int k, std::mt19937_64& rng) {
  std::vector<float> c(static_cast<size_t>(k) * d);
  std::vector<float> xn = row_norms2(x, n, d);
  std::vector<float> d2(static_cast<size_t>(n), std::numeric_limits<float>::max());
  std::vector<int32_t> best(static_cast<size_t>(n), 0);
  auto weight = [&](int64_t i) { return w.empty() ? 1.0 : w[static_cast<size_t>(i)]; };
  std::vector<double> cum(static_cast<size_t>(n));
  int64_t pick = 0;
  {
    for (int64_t i = 0; i < n; ++i) cum[i] = (i ? cum[i - 1] : 0) + weight(i);
    pick = std::upper_bound(cum.begin(), cum.end(), std::uniform_real_distribution<double>(0, cum.back())(rng)) - cum.begin();
  }
  for (int j = 0; j < k; ++j) {
    pick = std::min<int64_t>(pick, n - 1);
    std::copy(x + pick * d, x + (pick + 1) * d, c.begin() + static_cast<size_t>(j) * d);
    relax(x, xn, n, d, c.data() + static_cast<size_t>(j) * d, 1, j, best.data(), d2.data());
    for (int64_t i = 0; i < n; ++i) cum[i] = (i ? cum[i - 1] : 0) + weight(i) * d2[i];
    if (!(cum.back() > 0)) {  // fewer distinct points than k: repeat the last
      for (int r = j + 1; r < k; ++r) std::copy(c.begin() + j * d, c.begin() + (j + 1) * d, c.begin() + static_cast<size_t>(r) * d);
      break;
    }
    pick = std::upper_bound(cum.begin(), cum.end(), std::uniform_real_distribution<double>(0, cum.back())(rng)) - cum.begin();
  }
  return c;
}

std::vector<float> parallel_init(const float* x, int64_t n, int d, int k, std::mt19937_64& rng) {
  const double l = 2.0 * k;
  std::vector<float> xn = row_norms2(x, n, d);
  std::vector<float> d2(static_cast<size_t>(n), std::numeric_limits<float>::max());
  std::vector<int32_t> best(static_cast<size_t>(n), 0);
  std::vector<int64_t> chosen = {std::uniform_int_distribution<int64_t>(0, n - 1)(rng)};
  std::vector<float> cand(x + chosen[0] * d, x + (chosen[0] + 1) * d);
  relax(x, xn, n, d, cand.data(), 1, 0, best.data(), d2.data());
  std::uniform_real_distribution<double> u(0, 1);
  for (int round = 0; round < 5; ++round) {
    double psi = 0;
    for (float v : d2) psi += v;
    if (!(psi > 0)) break;
    std::vector<int64_t> added;
    for (int64_t i = 0; i < n; ++i)
      if (u(rng) < l * d2[i] / psi) added.push_back(i);
    if (added.empty()) continue;
    std::vector<float> block(added.size() * d);
    for (size_t a = 0; a < added.size(); ++a) std::copy(x + added[a] * d, x + (added[a] + 1) * d, block.begin() + a * d);
    relax(x, xn, n, d, block.data(), static_cast<int>(added.size()), static_cast<int>(chosen.size()), best.data(), d2.data());
    chosen.insert(chosen.end(), added.begin(), added.end());
    cand.insert(cand.end(), block.begin(), block.end());
  }
  const int64_t m = static_cast<int64_t>(chosen.size());
  if (m <= k) {  // too few candidates: top up with k-means++ over everything
    return plus_plus(x, n, d, {}, k, rng);
  }
  std::vector<double> w(static_cast<size_t>(m), 0.0);
  for (int64_t i = 0; i < n; ++i) w[static_cast<size_t>(best[i])] += 1.0;
  return plus_plus(cand.data(), m, d, w, k, rng);
}
}  // namespace

void second_nearest(const float* x, int64_t n, int d, const float* c, int k, const int32_t* nearest, int32_t* second,
                    float* second_dist2) {
  const std::vector<float> xn = row_norms2(x, n, d), cn = row_norms2(c, k, d);
  dot_rows(x, n, d, c, k, [&](int64_t i, const float* row) {
    float best = std::numeric_limits<float>::max();
    int32_t arg = nearest[i];
    for (int j = 0; j < k; ++j) {
      if (j == nearest[i]) continue;
      const float d2 = cn[static_cast<size_t>(j)] - 2 * row[j];  // |x|^2 is the same for every centroid
      if (d2 < best) best = d2, arg = j;
    }
    second[i] = arg;
    second_dist2[i] = std::max(0.0f, xn[static_cast<size_t>(i)] + best);
  });
}

void assign_nearest(const float* x, int64_t n, int d, const float* c, int k, int32_t* assign, float* dist2) {
  const std::vector<float> xn = row_norms2(x, n, d);
  std::fill(dist2, dist2 + n, std::numeric_limits<float>::max());
  std::fill(assign, assign + n, 0);
  relax(x, xn, n, d, c, k, 0, assign, dist2);
}

KMeansResult kmeans(const float* x, int64_t n, int d, const KMeansOptions& o) {
  if (n <= 0 || d <= 0) throw Error(Code::InvalidArgument, "k-means on an empty set");
  const int k = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(o.k, n)));
  std::mt19937_64 rng(o.seed);
  // The training sample: a seeded random subset (sorted, so it reads x in order).
  const int64_t max_train = o.max_train > 0 ? o.max_train : 128LL * k;
  std::vector<float> sample;
  const float* t = x;
  int64_t nt = n;
  if (n > max_train) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    for (int64_t i = 0; i < max_train; ++i) std::swap(idx[i], idx[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
    idx.resize(static_cast<size_t>(max_train));
    std::sort(idx.begin(), idx.end());
    sample.resize(static_cast<size_t>(max_train) * d);
    for (int64_t i = 0; i < max_train; ++i) std::copy(x + idx[i] * d, x + (idx[i] + 1) * d, sample.begin() + i * d);
    t = sample.data(), nt = max_train;
  }
  KMeansResult r;
  r.centroids = o.init == "kmeans++" ? plus_plus(t, nt, d, {}, k, rng) : parallel_init(t, nt, d, k, rng);
  std::vector<int32_t> a(static_cast<size_t>(nt));
  std::vector<float> d2(static_cast<size_t>(nt));
  double prev = std::numeric_limits<double>::max();
  for (int it = 0; it < o.max_iter; ++it) {
    assign_nearest(t, nt, d, r.centroids.data(), k, a.data(), d2.data());
    double inertia = 0;
    for (float v : d2) inertia += v;
    r.iterations = it + 1;
    r.inertia = inertia;
    // Centroids: means of their members (double sums); an empty one takes the farthest point.
    std::vector<double> sum(static_cast<size_t>(k) * d, 0.0);
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    for (int64_t i = 0; i < nt; ++i) {
      const int c = a[i];
      ++count[c];
      for (int j = 0; j < d; ++j) sum[static_cast<size_t>(c) * d + j] += t[i * d + j];
    }
    for (int c = 0; c < k; ++c) {
      if (count[c] == 0) {
        const int64_t far = std::max_element(d2.begin(), d2.end()) - d2.begin();
        std::copy(t + far * d, t + (far + 1) * d, r.centroids.begin() + static_cast<size_t>(c) * d);
        d2[far] = 0;
        continue;
      }
      for (int j = 0; j < d; ++j) r.centroids[static_cast<size_t>(c) * d + j] = static_cast<float>(sum[static_cast<size_t>(c) * d + j] / count[c]);
    }
    if (prev - inertia <= o.tol * inertia) break;
    prev = inertia;
  }
  r.assign.resize(static_cast<size_t>(n));
  r.dist2.resize(static_cast<size_t>(n));
  assign_nearest(x, n, d, r.centroids.data(), k, r.assign.data(), r.dist2.data());
  return r;
}

}  // namespace reel
