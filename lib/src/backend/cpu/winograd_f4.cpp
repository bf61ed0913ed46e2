// SPDX-License-Identifier: Apache-2.0
// 3x3 stride-1 "same" convolution by Winograd F(4x4, 3x3): each 4x4 output tile comes from a
// 6x6 input tile through 36 element-wise products, 2.25 multiplies per output instead of 9
// (F(2x2,3x3) needs 4). Same structure as winograd.cpp: 36 GEMMs M_k = U_k V_k over chunks of
// tiles of all frames. Interpolation points 0, +-1, +-2 and infinity (Lavin & Gray, 2015);
// the larger transform constants cost some float accuracy, which tests/ops measures against
// direct loops and the golden tests bound at 1e-4 end to end.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

void ops_mac_add(uint64_t n);

namespace {

constexpr float kG[6][3] = {{1.f / 4, 0, 0},
                            {-1.f / 6, -1.f / 6, -1.f / 6},
                            {-1.f / 6, 1.f / 6, -1.f / 6},
                            {1.f / 24, 1.f / 12, 1.f / 6},
                            {1.f / 24, -1.f / 12, 1.f / 6},
                            {0, 0, 1}};

// B^T d for one column of six values (and, applied to rows, d B).
inline void bt6(const float* d, int s, float* o, int os) {
  o[0 * os] = 4 * d[0] - 5 * d[2 * s] + d[4 * s];
  o[1 * os] = -4 * d[1 * s] - 4 * d[2 * s] + d[3 * s] + d[4 * s];
  o[2 * os] = 4 * d[1 * s] - 4 * d[2 * s] - d[3 * s] + d[4 * s];
  o[3 * os] = -2 * d[1 * s] - d[2 * s] + 2 * d[3 * s] + d[4 * s];
  o[4 * os] = 2 * d[1 * s] - d[2 * s] - 2 * d[3 * s] + d[4 * s];
  o[5 * os] = 4 * d[1 * s] - 5 * d[3 * s] + d[5 * s];
}

// A^T m for six values -> four.
inline void at6(const float* m, int s, float* o, int os) {
  const float a = m[1 * s] + m[2 * s], b = m[1 * s] - m[2 * s], c = m[3 * s] + m[4 * s], d = m[3 * s] - m[4 * s];
  o[0 * os] = m[0] + a + c;
  o[1 * os] = b + 2 * d;
  o[2 * os] = a + 4 * c;
  o[3 * os] = b + 8 * d + m[5 * s];
}

// Scratch that keeps its pages between calls: a fresh zero-filled vector per call cost more
// in page faults and memset than the transforms themselves.
float* scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// U[k][co][ci] = (G g G^T)[k], k = 6*i + j. Blocks of input channels are transformed into a
// local [36][block] tile first, so that memory sees 36 runs of whole cache lines rather than
// 36 interleaved single-float streams.
void winograd4_weights(const ConvW& w, float* U) {
  const int Ci = w.ci, Co = w.co;
  constexpr int kBlock = 32;
#pragma omp parallel for schedule(static)
  for (int oc = 0; oc < Co; ++oc) {
    float tile[36][kBlock];
    for (int ic0 = 0; ic0 < Ci; ic0 += kBlock) {
      const int nb = std::min(kBlock, Ci - ic0);
      for (int q = 0; q < nb; ++q) {
        const float* g = w.w + (static_cast<size_t>(oc) * Ci + ic0 + q) * 9;
        float t[6][3];
        for (int i = 0; i < 6; ++i)
          for (int c = 0; c < 3; ++c) t[i][c] = kG[i][0] * g[c] + kG[i][1] * g[3 + c] + kG[i][2] * g[6 + c];
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 6; ++j) tile[6 * i + j][q] = t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2];
      }
      for (int k = 0; k < 36; ++k)
        std::copy(tile[k], tile[k] + nb, U + (static_cast<size_t>(k) * Co + oc) * Ci + ic0);
    }
  }
}

}  // namespace

Act conv3x3_winograd_f4(const Act& x, const ConvW& w) {
  OpScope prof_("conv3x3_winograd4");
  const int Ci = w.ci, Co = w.co, H = x.H, W = x.W;
  Act y(x.T, Co, H, W);
  const int th = (H + 3) / 4, tw = (W + 3) / 4;
  const int P = th * tw;
  thread_local std::vector<float> u_buf, v_buf, m_buf;
  float* U = scratch(u_buf, static_cast<size_t>(36) * Co * Ci);
  winograd4_weights(w, U);
  ops_mac_add(static_cast<uint64_t>(x.T) * Co * Ci * 9 * static_cast<uint64_t>(H) * W);  // counted as direct
  const int64_t total = static_cast<int64_t>(x.T) * P;
  const int chunk = static_cast<int>(std::max<int64_t>(32, std::min<int64_t>(total, (2u << 20) / (36u * std::max(Ci, Co)) * 2)));
  float* V = scratch(v_buf, static_cast<size_t>(36) * Ci * chunk);
  float* M = scratch(m_buf, static_cast<size_t>(36) * Co * chunk);
  const size_t plane_in = static_cast<size_t>(H) * W;
  for (int64_t p0 = 0; p0 < total; p0 += chunk) {
    const int np = static_cast<int>(std::min<int64_t>(chunk, total - p0));
#pragma omp parallel for schedule(static)
    for (int ic = 0; ic < Ci; ++ic) {
      // 16 tiles at a time into a local [36][16] block, then 36 cache-line runs into V.
      float blk[36][16];
      for (int q0 = 0; q0 < np; q0 += 16) {
        const int nq = std::min(16, np - q0);
        for (int qq = 0; qq < nq; ++qq) {
          const int64_t gp = p0 + q0 + qq;
          const int t = static_cast<int>(gp / P), p = static_cast<int>(gp % P), ty = p / tw, tx = p % tw;
          const float* plane = x.frame(t) + static_cast<size_t>(ic) * plane_in;
          const int y0 = 4 * ty - 1, x0 = 4 * tx - 1;
          float d[6][6];
          if (y0 >= 0 && y0 + 6 <= H && x0 >= 0 && x0 + 6 <= W) {
            for (int i = 0; i < 6; ++i)
              for (int j = 0; j < 6; ++j) d[i][j] = plane[static_cast<size_t>(y0 + i) * W + x0 + j];
          } else {
            for (int i = 0; i < 6; ++i)
              for (int j = 0; j < 6; ++j) {
                const int yy = y0 + i, xx = x0 + j;
                d[i][j] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? plane[static_cast<size_t>(yy) * W + xx] : 0.0f;
              }
          }
          float b[6][6], v[6][6];
          for (int j = 0; j < 6; ++j) bt6(&d[0][j], 6, &b[0][j], 6);  // columns: B^T d
          for (int i = 0; i < 6; ++i) bt6(&b[i][0], 1, &v[i][0], 1);  // rows: (B^T d) B
          for (int k = 0; k < 36; ++k) blk[k][qq] = v[k / 6][k % 6];
        }
        for (int k = 0; k < 36; ++k) std::copy(blk[k], blk[k] + nq, V + (static_cast<size_t>(k) * Ci + ic) * np + q0);
      }
    }
    for (int k = 0; k < 36; ++k)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Co, np, Ci, 1.0f, U + static_cast<size_t>(k) * Co * Ci, Ci,
                  V + static_cast<size_t>(k) * Ci * np, np, 0.0f, M + static_cast<size_t>(k) * Co * np, np);
#pragma omp parallel for schedule(static)
    for (int oc = 0; oc < Co; ++oc) {
      const float bias = w.b ? w.b[oc] : 0.0f;
      for (int q = 0; q < np; ++q) {
        const int64_t gp = p0 + q;
        const int t = static_cast<int>(gp / P), p = static_cast<int>(gp % P), ty = p / tw, tx = p % tw;
        float* plane = y.frame(t) + static_cast<size_t>(oc) * plane_in;
        float m[6][6], a[4][6], r[4][4];
        for (int k = 0; k < 36; ++k) m[k / 6][k % 6] = M[(static_cast<size_t>(k) * Co + oc) * np + q];
        for (int j = 0; j < 6; ++j) at6(&m[0][j], 6, &a[0][j], 6);  // A^T m
        for (int i = 0; i < 4; ++i) at6(&a[i][0], 1, &r[i][0], 1);  // (A^T m) A
        const int yb = 4 * ty, xb = 4 * tx;
        const int ni = std::min(4, H - yb), nj = std::min(4, W - xb);
        for (int i = 0; i < ni; ++i)
          for (int j = 0; j < nj; ++j) plane[static_cast<size_t>(yb + i) * W + xb + j] = r[i][j] + bias;
      }
    }
  }
  return y;
}

}  // namespace reel
