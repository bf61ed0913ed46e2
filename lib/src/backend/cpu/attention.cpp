// SPDX-License-Identifier: Apache-2.0
// Single-head attention of the tokenizer's mid block.
// Spatial: per frame, scores for a block of queries against all H*W keys (scratch
// Bq x N, never N x N), row softmax, then out[:, block] = V x P^T.
// Temporal: causal T x T attention at every pixel, computed for blocks of pixels at once so
// every loop runs along contiguous pixels (T is small: 3 to 5 latent frames per window).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/op_profile.h"
#include "backend/cpu/vec_math.h"
#include "reel/model/ops.h"

namespace reel {

void ops_mac_add(uint64_t n);

namespace {

// row <- softmax(scale * row), vectorised; sums in float lanes per block, double across blocks.
void softmax_row(float* row, int n, float scale) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int j = 0; j < n; ++j) {
    row[j] *= scale;
    m = std::max(m, row[j]);
  }
  double sum = 0.0;
  for (int j0 = 0; j0 < n; j0 += 1024) {
    const int j1 = std::min(n, j0 + 1024);
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = j0; j < j1; ++j) {
      row[j] = exp_vec(row[j] - m);
      s += row[j];
    }
    sum += s;
  }
  const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
  for (int j = 0; j < n; ++j) row[j] *= inv;
}

}  // namespace

void attention_spatial(const Act& q, const Act& k, const Act& v, Act& out) {
  OpScope prof_("attention");
  const int C = q.C, N = static_cast<int>(q.plane());
  const float scale = 1.0f / std::sqrt(static_cast<float>(C));
  out = Act(q.T, C, q.H, q.W, Act::Uninit{});
  const int bq = std::max(16, std::min(N, (4 << 20) / std::max(1, N)));
  std::vector<float> s(static_cast<size_t>(bq) * N);
  ops_mac_add(static_cast<uint64_t>(q.T) * 2 * N * N * C);
  for (int t = 0; t < q.T; ++t) {
    const float *Q = q.frame(t), *K = k.frame(t), *V = v.frame(t);
    float* O = out.frame(t);
    for (int q0 = 0; q0 < N; q0 += bq) {
      const int nb = std::min(bq, N - q0);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nb, N, C, 1.0f, Q + q0, N, K, N, 0.0f, s.data(), N);
#pragma omp parallel for schedule(static)
      for (int i = 0; i < nb; ++i) softmax_row(s.data() + static_cast<size_t>(i) * N, N, scale);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, nb, N, 1.0f, V, N, s.data(), N, 0.0f, O + q0, N);
    }
  }
}

void attention_temporal_causal(const Act& q, const Act& k, const Act& v, Act& out) {
  OpScope prof_("attention");
  const int T = q.T, C = q.C;
  const long N = static_cast<long>(q.plane());
  const float scale = 1.0f / std::sqrt(static_cast<float>(C));
  out = Act(T, C, q.H, q.W, Act::Uninit{});
  ops_mac_add(static_cast<uint64_t>(N) * T * (T + 1) * C);
  constexpr long kBlock = 64;
  const long blocks = (N + kBlock - 1) / kBlock;
#pragma omp parallel
  {
    // s[t][u][i]: score of query frame t against key frame u <= t at pixel p0 + i.
    std::vector<float> s(static_cast<size_t>(T) * T * kBlock), m(kBlock), sum(kBlock);
#pragma omp for schedule(static)
    for (long b = 0; b < blocks; ++b) {
      const long p0 = b * kBlock;
      const int n = static_cast<int>(std::min(kBlock, N - p0));
      for (int t = 0; t < T; ++t)
        for (int u = 0; u <= t; ++u) {
          float* st = s.data() + (static_cast<size_t>(t) * T + u) * kBlock;
          std::fill(st, st + n, 0.0f);
          for (int c = 0; c < C; ++c) {
            const float* qa = q.frame(t) + static_cast<size_t>(c) * N + p0;
            const float* ka = k.frame(u) + static_cast<size_t>(c) * N + p0;
#pragma omp simd
            for (int i = 0; i < n; ++i) st[i] += qa[i] * ka[i];
          }
        }
      for (int t = 0; t < T; ++t) {
        float* st = s.data() + static_cast<size_t>(t) * T * kBlock;
        std::fill(m.begin(), m.end(), -INFINITY);
        for (int u = 0; u <= t; ++u)
          for (int i = 0; i < n; ++i) m[i] = std::max(m[i], st[u * kBlock + i] * scale);
        std::fill(sum.begin(), sum.end(), 0.0f);
        for (int u = 0; u <= t; ++u)
#pragma omp simd
          for (int i = 0; i < n; ++i) {
            st[u * kBlock + i] = exp_vec(st[u * kBlock + i] * scale - m[i]);
            sum[i] += st[u * kBlock + i];
          }
        for (int i = 0; i < n; ++i) sum[i] = 1.0f / sum[i];
        for (int c = 0; c < C; ++c) {
          float* o = out.frame(t) + static_cast<size_t>(c) * N + p0;
          for (int i = 0; i < n; ++i) o[i] = 0.0f;
          for (int u = 0; u <= t; ++u) {
            const float* va = v.frame(u) + static_cast<size_t>(c) * N + p0;
#pragma omp simd
            for (int i = 0; i < n; ++i) o[i] += st[u * kBlock + i] * va[i];
          }
#pragma omp simd
          for (int i = 0; i < n; ++i) o[i] *= sum[i];
        }
      }
    }
  }
}

}  // namespace reel
