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

#include "backend/cpu/affine_row.h"
#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

namespace {

constexpr float kG[6][3] = {{1.f / 4, 0, 0},
                            {-1.f / 6, -1.f / 6, -1.f / 6},
                            {-1.f / 6, 1.f / 6, -1.f / 6},
                            {1.f / 24, 1.f / 12, 1.f / 6},
                            {1.f / 24, -1.f / 12, 1.f / 6},
                            {0, 0, 1}};

// Scratch that keeps its pages between calls: a fresh zero-filled vector per call cost more
// in page faults and memset than the transforms themselves.
float* scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// The 3x3 kernels regrouped tap-major, g9[co][e][ci] (e = 3 * row + column), once per call, so
// that the transforms below read each tap as a contiguous run over input channels.
void taps_major(const ConvW& w, float* g9) {
  const int Ci = w.ci, Co = w.co;
#pragma omp parallel for schedule(static)
  for (int oc = 0; oc < Co; ++oc) {
    const float* src = w.w + static_cast<size_t>(oc) * Ci * 9;
    float* dst = g9 + static_cast<size_t>(oc) * 9 * Ci;
    for (int ic = 0; ic < Ci; ++ic)
      for (int e = 0; e < 9; ++e) dst[static_cast<size_t>(e) * Ci + ic] = src[9 * ic + e];
  }
}

// Six of the 36 transformed weight matrices, U[6i + j][co][ci] = (G g G^T)[i][j] for j = 0..5,
// written to U6[j][co][ci]. A one-chunk convolution transforms one i at a time just before its
// six GEMMs, so U6 (6 Co Ci floats) is still in cache when they read it; the whole U (36 Co Ci,
// four times the weights) would go to memory and back on every call. Both passes are vector
// loops over input channels.
void winograd4_weights_row(const float* g9, int Co, int Ci, int i, float* U6) {
#pragma omp parallel
  {
    std::vector<float> t(3 * static_cast<size_t>(Ci));
#pragma omp for schedule(static)
    for (int oc = 0; oc < Co; ++oc) {
      const float* g = g9 + static_cast<size_t>(oc) * 9 * Ci;
      for (int c = 0; c < 3; ++c) {
        const float *g0 = g + static_cast<size_t>(c) * Ci, *g1 = g0 + 3 * static_cast<size_t>(Ci),
                    *g2 = g0 + 6 * static_cast<size_t>(Ci);
        float* tc = t.data() + static_cast<size_t>(c) * Ci;
        for (int ic = 0; ic < Ci; ++ic) tc[ic] = kG[i][0] * g0[ic] + kG[i][1] * g1[ic] + kG[i][2] * g2[ic];
      }
      const float *t0 = t.data(), *t1 = t0 + Ci, *t2 = t1 + Ci;
      for (int j = 0; j < 6; ++j) {
        float* u = U6 + (static_cast<size_t>(j) * Co + oc) * Ci;
        for (int ic = 0; ic < Ci; ++ic) u[ic] = t0[ic] * kG[j][0] + t1[ic] * kG[j][1] + t2[ic] * kG[j][2];
      }
    }
  }
}

}  // namespace

namespace {

// B^T applied element-wise across six rows (vectorised over n positions).
inline void bt6_rows(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                     const float* __restrict d3, const float* __restrict d4, const float* __restrict d5, int n,
                     float* __restrict o0, float* __restrict o1, float* __restrict o2, float* __restrict o3,
                     float* __restrict o4, float* __restrict o5) {
  for (int x = 0; x < n; ++x) {
    o0[x] = 4 * d0[x] - 5 * d2[x] + d4[x];
    o1[x] = -4 * d1[x] - 4 * d2[x] + d3[x] + d4[x];
    o2[x] = 4 * d1[x] - 4 * d2[x] - d3[x] + d4[x];
    o3[x] = -2 * d1[x] - d2[x] + 2 * d3[x] + d4[x];
    o4[x] = 2 * d1[x] - d2[x] - 2 * d3[x] + d4[x];
    o5[x] = 4 * d1[x] - 5 * d3[x] + d5[x];
  }
}

// A^T applied element-wise across six rows -> four.
inline void at6_rows(const float* __restrict m0, const float* __restrict m1, const float* __restrict m2,
                     const float* __restrict m3, const float* __restrict m4, const float* __restrict m5, int n,
                     float* __restrict o0, float* __restrict o1, float* __restrict o2, float* __restrict o3) {
  for (int x = 0; x < n; ++x) {
    const float a = m1[x] + m2[x], b = m1[x] - m2[x], c = m3[x] + m4[x], d = m3[x] - m4[x];
    o0[x] = m0[x] + a + c;
    o1[x] = b + 2 * d;
    o2[x] = a + 4 * c;
    o3[x] = b + 8 * d + m5[x];
  }
}

// Input transform of one row of tiles of one channel: the 36 values of its tw tiles, written
// as 36 contiguous runs V_k[0 .. tw). Vertical pass over whole image rows, then the horizontal
// pass on the rows split into their four phases (x mod 4), so both passes are plain
// contiguous loops over positions.
// With a prologue (scale, shift, SiLU of this plane) the six input rows pass through it first;
// rows outside the image stay zero, as the padding of the normalized tensor is.
struct RowPrologue {
  float scale, shift;
  bool silu;
};

void input_row(const float* plane, int H, int W, int ty, int tw, float* V, size_t kstride, std::vector<float>& buf,
               const RowPrologue* pro) {
  const int L = 4 * tw + 4;  // padded row: position xp = x + 1
  // Only the padding columns of vr and the zero row must be zero, and nothing writes them: clear
  // the buffer when its layout changes (another width), not for every row of every channel.
  thread_local int layout_w = -1;
  const size_t need = static_cast<size_t>(6) * L + 24 * (tw + 1) + L + static_cast<size_t>(6) * W;
  if (layout_w != W || buf.size() != need) {
    buf.assign(need, 0.0f);
    layout_w = W;
  }
  float* vr = buf.data();                               // 6 rows of L
  float* ph = vr + static_cast<size_t>(6) * L;          // 6 x 4 phases of tw + 1
  const float* zero = ph + static_cast<size_t>(24) * (tw + 1);  // L zeros
  float* pre = const_cast<float*>(zero) + L;            // 6 prologue rows of W
  const float* in[6];
  for (int a = 0; a < 6; ++a) {
    const int yy = 4 * ty - 1 + a;
    in[a] = (yy >= 0 && yy < H) ? plane + static_cast<size_t>(yy) * W : zero;
    if (pro && in[a] != zero) {
      apply_affine_row(in[a], W, pro->scale, pro->shift, pro->silu, pre + static_cast<size_t>(a) * W);
      in[a] = pre + static_cast<size_t>(a) * W;
    }
  }
  bt6_rows(in[0], in[1], in[2], in[3], in[4], in[5], W, vr + 1, vr + L + 1, vr + 2 * L + 1, vr + 3 * L + 1, vr + 4 * L + 1,
           vr + 5 * L + 1);
  for (int i = 0; i < 6; ++i) {
    const float* r = vr + static_cast<size_t>(i) * L;
    float* p = ph + static_cast<size_t>(i) * 4 * (tw + 1);
    for (int m = 0; m <= tw; ++m)
      for (int q = 0; q < 4; ++q) p[q * (tw + 1) + m] = r[4 * m + q];
  }
  for (int i = 0; i < 6; ++i) {
    const float* p = ph + static_cast<size_t>(i) * 4 * (tw + 1);
    const float *p0 = p, *p1 = p + (tw + 1), *p2 = p + 2 * (tw + 1), *p3 = p + 3 * (tw + 1);
    // Tile tx reads padded positions 4tx .. 4tx+5 = phases 0,1,2,3 at tx and 0,1 at tx + 1.
    float* o = V + static_cast<size_t>(6 * i) * kstride;
    bt6_rows(p0, p1, p2, p3, p0 + 1, p1 + 1, tw, o, o + kstride, o + 2 * kstride, o + 3 * kstride, o + 4 * kstride,
             o + 5 * kstride);
  }
}

// Output transform of one row of tiles of one output channel: M_k[0 .. tw) -> four image rows.
// M's 36 runs are zeroed once read (see conv3x3_winograd_f4: M stays all-zero between uses).
void output_row(float* M, size_t kstride, int tw, float bias, float* plane, int H, int W, int ty,
                std::vector<float>& buf) {
  buf.resize(static_cast<size_t>(24) * tw + 16 * tw + 4 * tw + 4);
  float* s = buf.data();                          // 4 x 6 rows of tw: A^T over the tile rows
  float* r = s + static_cast<size_t>(24) * tw;    // 4 x 4 rows of tw
  float* row = r + static_cast<size_t>(16) * tw;  // one interleaved image row
  for (int b = 0; b < 6; ++b) {
    const float* m = M + static_cast<size_t>(b) * kstride;
    at6_rows(m, m + 6 * kstride, m + 12 * kstride, m + 18 * kstride, m + 24 * kstride, m + 30 * kstride, tw,
             s + (0 * 6 + b) * tw, s + (1 * 6 + b) * tw, s + (2 * 6 + b) * tw, s + (3 * 6 + b) * tw);
  }
  for (int k = 0; k < 36; ++k) std::fill_n(M + static_cast<size_t>(k) * kstride, tw, 0.0f);
  for (int i = 0; i < 4; ++i) {
    const int yy = 4 * ty + i;
    if (yy >= H) break;
    const float* si = s + static_cast<size_t>(i) * 6 * tw;
    float* ri = r + static_cast<size_t>(i) * 4 * tw;
    at6_rows(si, si + tw, si + 2 * tw, si + 3 * tw, si + 4 * tw, si + 5 * tw, tw, ri, ri + tw, ri + 2 * tw, ri + 3 * tw);
    for (int tx = 0; tx < tw; ++tx)
      for (int j = 0; j < 4; ++j) row[4 * tx + j] = ri[j * tw + tx];
    float* dst = plane + static_cast<size_t>(yy) * W;
    for (int x = 0; x < W; ++x) dst[x] = row[x] + bias;
  }
}

}  // namespace

Act conv3x3_winograd_f4(const Act& x, const ConvW& w, const ChannelAffine* pre) {
  OpScope prof_("conv3x3_winograd4");
  const int Ci = w.ci, Co = w.co, H = x.H, W = x.W;
  Act y(x.T, Co, H, W, Act::Uninit{});
  const int th = (H + 3) / 4, tw = (W + 3) / 4;
  thread_local std::vector<float> u_buf, v_buf, m_buf, g9_buf;
  prof_.macs(static_cast<uint64_t>(x.T) * Co * Ci * 9 * static_cast<uint64_t>(H) * W);  // counted as direct
  // Chunks of whole tile rows (of all frames: rows of consecutive frames share the GEMMs),
  // about 8M floats (64 MB) of V and M together: 455 tiles at 512 channels. Wider GEMMs run
  // faster (about 114 GFLOP/s at N = 192, 123 at 448, 133 at 1280 for 512x512 here), and
  // this bound leaves peak memory where it was at 256x256.
  const int64_t rows = static_cast<int64_t>(x.T) * th;
  const int64_t want = std::max<int64_t>(32, (4u << 20) / (36u * std::max(Ci, Co)) * 2);
  const int64_t rows_per_chunk = std::max<int64_t>(1, std::min<int64_t>(rows, want / tw));
  const size_t cap = static_cast<size_t>(rows_per_chunk) * tw;
  float* V = scratch(v_buf, static_cast<size_t>(36) * Ci * cap);
  // M is all zeros whenever no call is using it (fresh pages are, and the output transform
  // zeroes what it has read), so the GEMMs accumulate into it (beta = 1): with beta = 0
  // OpenBLAS would first clear it in a separate pass over memory.
  float* M = scratch(m_buf, static_cast<size_t>(36) * Co * cap);
  const size_t plane_in = static_cast<size_t>(H) * W;
  // One chunk (the common case below ~1000 tiles): each i's six matrices are transformed just
  // before their GEMMs and reused from cache. Several chunks: all 36 once, up front.
  const bool one_chunk = rows_per_chunk >= rows;
  const size_t u_size = static_cast<size_t>(one_chunk ? 6 : 36) * Co * Ci;
  float* U = scratch(u_buf, u_size);
  float* g9 = scratch(g9_buf, static_cast<size_t>(9) * Co * Ci);
  taps_major(w, g9);
  if (!one_chunk)
    for (int i = 0; i < 6; ++i) winograd4_weights_row(g9, Co, Ci, i, U + static_cast<size_t>(6 * i) * Co * Ci);
  for (int64_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
    const int nr = static_cast<int>(std::min<int64_t>(rows_per_chunk, rows - r0));
    const int np = nr * tw;
#pragma omp parallel for schedule(static)
    for (int ic = 0; ic < Ci; ++ic) {
      thread_local std::vector<float> buf;
      for (int rr = 0; rr < nr; ++rr) {
        const int64_t row = r0 + rr;
        const int t = static_cast<int>(row / th), ty = static_cast<int>(row % th);
        RowPrologue p;
        if (pre) p = {pre->scale[static_cast<size_t>(t) * Ci + ic], pre->shift[static_cast<size_t>(t) * Ci + ic], pre->silu};
        input_row(x.frame(t) + static_cast<size_t>(ic) * plane_in, H, W, ty, tw,
                  V + static_cast<size_t>(ic) * np + static_cast<size_t>(rr) * tw, static_cast<size_t>(Ci) * np, buf,
                  pre ? &p : nullptr);
      }
    }
    for (int i = 0; i < 6; ++i) {
      if (one_chunk) winograd4_weights_row(g9, Co, Ci, i, U);
      const float* Ui = one_chunk ? U : U + static_cast<size_t>(6 * i) * Co * Ci;
      for (int j = 0; j < 6; ++j) {
        const int k = 6 * i + j;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Co, np, Ci, 1.0f, Ui + static_cast<size_t>(j) * Co * Ci, Ci,
                    V + static_cast<size_t>(k) * Ci * np, np, 1.0f, M + static_cast<size_t>(k) * Co * np, np);
      }
    }
#pragma omp parallel for schedule(static)
    for (int oc = 0; oc < Co; ++oc) {
      thread_local std::vector<float> buf;
      const float bias = w.b ? w.b[oc] : 0.0f;
      for (int rr = 0; rr < nr; ++rr) {
        const int64_t row = r0 + rr;
        const int t = static_cast<int>(row / th), ty = static_cast<int>(row % th);
        output_row(M + static_cast<size_t>(oc) * np + static_cast<size_t>(rr) * tw, static_cast<size_t>(Co) * np, tw, bias,
                   y.frame(t) + static_cast<size_t>(oc) * plane_in, H, W, ty, buf);
      }
    }
  }
  return y;
}

}  // namespace reel
