// SPDX-License-Identifier: Apache-2.0
// 3x3 stride-1 "same" convolution by Winograd F(2x2, 3x3): each 2x2 output tile comes from a
// 4x4 input tile through 16 element-wise products, so the multiply count drops from 9 to 4
// per output (2.25x). Layout per frame: the 16 transformed input planes V_k (Ci x P tiles)
// and weights U_k (Co x Ci) meet in 16 OpenBLAS GEMMs, M_k = U_k V_k (Co x P), followed by
// the output transform. Tiles (of all frames together) are processed in chunks to bound the
// scratch memory.
//   U = G g G^T,  V = B^T d B,  Y = A^T M A   (Lavin & Gray, 2015)
// The result differs from direct convolution by float rounding only (checked against the
// direct loops in tests/ops and by the golden tests at 1e-4).
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

Act conv3x3_winograd(const Act& x, const ConvW& w) {
  OpScope prof_("conv3x3_winograd2");
  const int Ci = w.ci, Co = w.co, H = x.H, W = x.W;
  Act y(x.T, Co, H, W);
  const int th = (H + 1) / 2, tw = (W + 1) / 2;
  const int P = th * tw;
  // Weight transform U[k][co][ci], k = 4*i + j.
  std::vector<float> U(static_cast<size_t>(16) * Co * Ci);
#pragma omp parallel for schedule(static)
  for (int oc = 0; oc < Co; ++oc)
    for (int ic = 0; ic < Ci; ++ic) {
      const float* g = w.w + (static_cast<size_t>(oc) * Ci + ic) * 9;
      float t[4][3];  // G g
      for (int c = 0; c < 3; ++c) {
        t[0][c] = g[0 * 3 + c];
        t[1][c] = 0.5f * (g[0 * 3 + c] + g[1 * 3 + c] + g[2 * 3 + c]);
        t[2][c] = 0.5f * (g[0 * 3 + c] - g[1 * 3 + c] + g[2 * 3 + c]);
        t[3][c] = g[2 * 3 + c];
      }
      for (int i = 0; i < 4; ++i) {
        const float u0 = t[i][0], u1 = 0.5f * (t[i][0] + t[i][1] + t[i][2]), u2 = 0.5f * (t[i][0] - t[i][1] + t[i][2]),
                    u3 = t[i][2];
        const float u[4] = {u0, u1, u2, u3};
        for (int j = 0; j < 4; ++j) U[(static_cast<size_t>(4 * i + j) * Co + oc) * Ci + ic] = u[j];
      }
    }
  prof_.macs(static_cast<uint64_t>(x.T) * Co * Ci * 9 * static_cast<uint64_t>(H) * W);  // counted as direct
  // Tiles of all frames form one index space, so the 16 GEMMs stay wide (N = chunk) even at
  // the deep, low-resolution layers where one frame has only a few dozen tiles. Chunks keep
  // the V and M scratch around 8 MB (larger chunks lose more to cache misses than they gain).
  const int64_t total = static_cast<int64_t>(x.T) * P;
  const int chunk = static_cast<int>(std::max<int64_t>(64, std::min<int64_t>(total, (2u << 20) / (16u * std::max(Ci, Co)))));
  std::vector<float> V(static_cast<size_t>(16) * Ci * chunk), M(static_cast<size_t>(16) * Co * chunk);
  const size_t plane_in = static_cast<size_t>(H) * W;
  for (int64_t p0 = 0; p0 < total; p0 += chunk) {
    const int np = static_cast<int>(std::min<int64_t>(chunk, total - p0));
    // Input transform: V[k][ci][q].
#pragma omp parallel for schedule(static)
    for (int ic = 0; ic < Ci; ++ic) {
      for (int q = 0; q < np; ++q) {
        const int64_t gp = p0 + q;
        const int t = static_cast<int>(gp / P), p = static_cast<int>(gp % P), ty = p / tw, tx = p % tw;
        const float* plane = x.frame(t) + static_cast<size_t>(ic) * plane_in;
        const int y0 = 2 * ty - 1, x0 = 2 * tx - 1;
        float d[4][4];
        for (int i = 0; i < 4; ++i) {
          const int yy = y0 + i;
          for (int j = 0; j < 4; ++j) {
            const int xx = x0 + j;
            d[i][j] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? plane[static_cast<size_t>(yy) * W + xx] : 0.0f;
          }
        }
        float b[4][4];  // B^T d
        for (int j = 0; j < 4; ++j) {
          b[0][j] = d[0][j] - d[2][j];
          b[1][j] = d[1][j] + d[2][j];
          b[2][j] = d[2][j] - d[1][j];
          b[3][j] = d[1][j] - d[3][j];
        }
        for (int i = 0; i < 4; ++i) {  // (B^T d) B
          const float v0 = b[i][0] - b[i][2], v1 = b[i][1] + b[i][2], v2 = b[i][2] - b[i][1], v3 = b[i][1] - b[i][3];
          V[(static_cast<size_t>(4 * i + 0) * Ci + ic) * np + q] = v0;
          V[(static_cast<size_t>(4 * i + 1) * Ci + ic) * np + q] = v1;
          V[(static_cast<size_t>(4 * i + 2) * Ci + ic) * np + q] = v2;
          V[(static_cast<size_t>(4 * i + 3) * Ci + ic) * np + q] = v3;
        }
      }
    }
    for (int k = 0; k < 16; ++k)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Co, np, Ci, 1.0f, U.data() + static_cast<size_t>(k) * Co * Ci, Ci,
                  V.data() + static_cast<size_t>(k) * Ci * np, np, 0.0f, M.data() + static_cast<size_t>(k) * Co * np, np);
    // Output transform: Y = A^T M A, plus bias.
#pragma omp parallel for schedule(static)
    for (int oc = 0; oc < Co; ++oc) {
      const float bias = w.b ? w.b[oc] : 0.0f;
      for (int q = 0; q < np; ++q) {
        const int64_t gp = p0 + q;
        const int t = static_cast<int>(gp / P), p = static_cast<int>(gp % P), ty = p / tw, tx = p % tw;
        float* plane = y.frame(t) + static_cast<size_t>(oc) * plane_in;
        float m[4][4];
        for (int k = 0; k < 16; ++k) m[k / 4][k % 4] = M[(static_cast<size_t>(k) * Co + oc) * np + q];
        float a[2][4];  // A^T m
        for (int j = 0; j < 4; ++j) {
          a[0][j] = m[0][j] + m[1][j] + m[2][j];
          a[1][j] = m[1][j] - m[2][j] - m[3][j];
        }
        for (int i = 0; i < 2; ++i) {
          const float r0 = a[i][0] + a[i][1] + a[i][2], r1 = a[i][1] - a[i][2] - a[i][3];
          const int yy = 2 * ty + i;
          if (yy >= H) continue;
          plane[static_cast<size_t>(yy) * W + 2 * tx] = r0 + bias;
          if (2 * tx + 1 < W) plane[static_cast<size_t>(yy) * W + 2 * tx + 1] = r1 + bias;
        }
      }
    }
  }
  return y;
}

}  // namespace reel
