// SPDX-License-Identifier: Apache-2.0
// Single-head attention of the tokenizer's mid block.
// Spatial: per frame, scores for a block of queries against all H*W keys (scratch
// Bq x N, never N x N), row softmax, then out[:, block] = V x P^T.
// Temporal: per pixel, causal T x T attention on gathered (T, C) vectors.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

void ops_mac_add(uint64_t n);

void attention_spatial(const Act& q, const Act& k, const Act& v, Act& out) {
  OpScope prof_("attention");
  const int C = q.C, N = static_cast<int>(q.plane());
  const float scale = 1.0f / std::sqrt(static_cast<float>(C));
  out = Act(q.T, C, q.H, q.W);
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
      for (int i = 0; i < nb; ++i) {
        float* row = s.data() + static_cast<size_t>(i) * N;
        float m = -INFINITY;
        for (int j = 0; j < N; ++j) {
          row[j] *= scale;
          m = std::max(m, row[j]);
        }
        double sum = 0.0;
        for (int j = 0; j < N; ++j) {
          row[j] = std::exp(row[j] - m);
          sum += row[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int j = 0; j < N; ++j) row[j] *= inv;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, nb, N, 1.0f, V, N, s.data(), N, 0.0f, O + q0, N);
    }
  }
}

void attention_temporal_causal(const Act& q, const Act& k, const Act& v, Act& out) {
  OpScope prof_("attention");
  const int T = q.T, C = q.C;
  const long N = static_cast<long>(q.plane());
  const float scale = 1.0f / std::sqrt(static_cast<float>(C));
  out = Act(T, C, q.H, q.W);
  ops_mac_add(static_cast<uint64_t>(N) * T * (T + 1) * C);
#pragma omp parallel
  {
    std::vector<float> qb(static_cast<size_t>(T) * C), kb(qb.size()), vb(qb.size()), w(T);
#pragma omp for schedule(static)
    for (long p = 0; p < N; ++p) {
      for (int t = 0; t < T; ++t)
        for (int c = 0; c < C; ++c) {
          const size_t off = static_cast<size_t>(c) * N + p;
          qb[t * C + c] = q.frame(t)[off];
          kb[t * C + c] = k.frame(t)[off];
          vb[t * C + c] = v.frame(t)[off];
        }
      for (int t = 0; t < T; ++t) {
        float m = -INFINITY;
        for (int u = 0; u <= t; ++u) {
          float d = 0.0f;
          for (int c = 0; c < C; ++c) d += qb[t * C + c] * kb[u * C + c];
          w[u] = d * scale;
          m = std::max(m, w[u]);
        }
        float sum = 0.0f;
        for (int u = 0; u <= t; ++u) {
          w[u] = std::exp(w[u] - m);
          sum += w[u];
        }
        for (int c = 0; c < C; ++c) {
          float acc = 0.0f;
          for (int u = 0; u <= t; ++u) acc += w[u] * vb[u * C + c];
          out.frame(t)[static_cast<size_t>(c) * N + p] = acc / sum;
        }
      }
    }
  }
}

}  // namespace reel
