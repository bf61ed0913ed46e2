// SPDX-License-Identifier: Apache-2.0
#include "effnet_cpu.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "reel/core/status.h"
#include "reel/io/h5.h"
#include "reel/model/ops.h"
#include "backend/cpu/op_profile.h"
#include "effnet_weights.h"

namespace reel {

namespace {
using effnet::Block;
using effnet::Conv;
using effnet::Net;
using effnet::out_size;

inline float relu6(float v) { return std::min(std::max(v, 0.0f), 6.0f); }

// Columns per GEMM call: output and input blocks of about 256 KB, so the GEMM finds the bias
// (and residual) written just before still in cache.
int column_block(int co, int ci, int hw) {
  const int nb = std::max(64, (65536 / (co + ci)) / 16 * 16);
  return std::min(nb, hw);
}

// y (co, hw) = c.w (co, K) x (K, hw) + b [+ residual], K = ci * k * k (the stem passes its
// im2col rows). The bias (and residual) is written first and the GEMM adds to it (beta 1), a
// block of columns at a time so that block is still in cache: no pass to zero y, none to add
// afterwards. ReLU6 is left to the consumer (the depthwise convolution's input copy, the
// pooling), which reads the values anyway. Inside a parallel region OpenBLAS (OpenMP build)
// runs on the calling thread; outside it uses the operator threads.
void pointwise(const Conv& c, const float* x, int hw, float* y, const float* residual) {
  const int K = c.ci * c.k * c.k;
  OpScope prof(c.k == 1 ? "effnet_1x1" : "effnet_stem_gemm");
  prof.macs(static_cast<uint64_t>(c.co) * K * hw);
  const int nb = column_block(c.co, K, hw);
  for (int p0 = 0; p0 < hw; p0 += nb) {
    const int n = std::min(nb, hw - p0);
    for (int o = 0; o < c.co; ++o) {
      float* v = y + static_cast<size_t>(o) * hw + p0;
      const float b = c.b[o];
      if (residual) {
        const float* r = residual + static_cast<size_t>(o) * hw + p0;
        for (int p = 0; p < n; ++p) v[p] = b + r[p];
      } else {
        std::fill(v, v + n, b);
      }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.co, n, K, 1.0f, c.w.data(), K, x + p0, hw, 1.0f, y + p0, hw);
  }
}


// Eight floats in one AVX register (GCC/Clang vector extension: the compiler keeps these in
// registers, which it does not reliably do for a float array it would have to vectorise itself).
typedef float v8 __attribute__((vector_size(32)));
inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Output columns [j0, j0 + B) of every row of one depthwise channel: B / 8 accumulators stay
// in registers across the K x K taps (one load per eight multiply-adds), then bias and ReLU6.
// Reads may run past a phase row by up to B - 1 floats (into the next row or the buffer's
// slack); those lanes are never stored.
template <int K, int S, int B>
void depthwise_rows(const float* ph, int Hp, int pw, const float* wk, float bias, float* y, int Ho, int Wo) {
  constexpr int NV = B / 8;
  for (int ho = 0; ho < Ho; ++ho) {
    float* dst = y + static_cast<size_t>(ho) * Wo;
    for (int j0 = 0; j0 < Wo; j0 += B) {
      v8 acc[NV];
      for (int q = 0; q < NV; ++q) acc[q] = v8{} + bias;
      for (int dy = 0; dy < K; ++dy)
        for (int dx = 0; dx < K; ++dx) {
          const v8 wv = v8{} + wk[dy * K + dx];
          const float* src = ph + (static_cast<size_t>(dx % S) * Hp + ho * S + dy) * pw + dx / S + j0;
          for (int q = 0; q < NV; ++q) acc[q] += wv * load8(src + 8 * q);
        }
      const v8 zero{}, six = zero + 6.0f;
      for (int q = 0; q < NV; ++q) {
        acc[q] = acc[q] > zero ? acc[q] : zero;
        acc[q] = acc[q] < six ? acc[q] : six;
      }
      if (j0 + B <= Wo) {
        std::memcpy(dst + j0, acc, sizeof acc);
      } else {
        float out[B];
        std::memcpy(out, acc, sizeof out);
        std::copy(out, out + (Wo - j0), dst + j0);
      }
    }
  }
}

template <int K, int S>
void depthwise_rows_k(const float* ph, int Hp, int pw, const float* wk, float bias, float* y, int Ho, int Wo) {
  if (Wo >= 32) depthwise_rows<K, S, 32>(ph, Hp, pw, wk, bias, y, Ho, Wo);
  else if (Wo >= 12) depthwise_rows<K, S, 16>(ph, Hp, pw, wk, bias, y, Ho, Wo);
  else depthwise_rows<K, S, 8>(ph, Hp, pw, wk, bias, y, Ho, Wo);
}

// One channel of a depthwise k x k convolution (k 3 or 5) of ReLU6(x) (its producer leaves
// the activation to this copy), zero padding (k-1)/2, stride 1 or 2, then bias and ReLU6. The zero-padded input is laid out as `s` column phases (for stride 2
// the even and the odd columns), so output column j reads phase dx % s at j + dx / s: every
// inner loop runs over contiguous floats.
void depthwise_channel(const float* x, int H, int W, const float* wk, float bias, int k, int s, float* y, int Ho, int Wo,
                       Floats& buf) {
  const int p = (k - 1) / 2, Hp = H + 2 * p, Wp = W + 2 * p;
  const int pw = (Wp + s - 1) / s;  // columns per phase
  const size_t used = static_cast<size_t>(s) * Hp * pw;
  buf.resize(used + 32);  // slack for the last row's overrun
  float* ph = buf.data();
  std::fill(ph, ph + used + 32, 0.0f);  // one memset beats zeroing only the borders, row by row
  for (int r = 0; r < H; ++r) {
    const float* src = x + static_cast<size_t>(r) * W;
    if (s == 1) {
      float* dst = ph + static_cast<size_t>(r + p) * pw + p;
      for (int c = 0; c < W; ++c) dst[c] = relu6(src[c]);
      continue;
    }
    // Padded column 2m + phase is input column 2m + phase - p.
    for (int phase = 0; phase < 2; ++phase) {
      float* dst = ph + (static_cast<size_t>(phase) * Hp + r + p) * pw;
      const int m0 = (p - phase + 1) / 2, m1 = (W - 1 + p - phase) / 2;  // 0 <= 2m + phase - p < W
      const float* col = src + phase - p;
      for (int m = m0; m <= m1; ++m) dst[m] = relu6(col[2 * m]);
    }
  }
  if (k == 3 && s == 1) depthwise_rows_k<3, 1>(ph, Hp, pw, wk, bias, y, Ho, Wo);
  else if (k == 3) depthwise_rows_k<3, 2>(ph, Hp, pw, wk, bias, y, Ho, Wo);
  else if (s == 1) depthwise_rows_k<5, 1>(ph, Hp, pw, wk, bias, y, Ho, Wo);
  else depthwise_rows_k<5, 2>(ph, Hp, pw, wk, bias, y, Ho, Wo);
}

void depthwise(const Conv& c, const float* x, int H, int W, int s, float* y, int Ho, int Wo, bool parallel) {
  const size_t in_plane = static_cast<size_t>(H) * W, out_plane = static_cast<size_t>(Ho) * Wo;
  const int kk = c.k * c.k;
  OpScope prof(s == 1 ? "effnet_depthwise_s1" : "effnet_depthwise_s2");
  prof.macs(static_cast<uint64_t>(c.co) * kk * out_plane);
#pragma omp parallel if (parallel)
  {
    Floats buf;
#pragma omp for schedule(static)
    for (int ch = 0; ch < c.co; ++ch)
      depthwise_channel(x + ch * in_plane, H, W, c.w.data() + ch * kk, c.b[ch], c.k, s, y + ch * out_plane, Ho, Wo, buf);
  }
}

// The stem: 3x3, stride 2, padding 1, 3 -> 32, as im2col + GEMM (27 rows); its ReLU6 is
// applied by block 0's depthwise convolution, the only reader.
void stem(const Conv& c, const float* x, int H, int W, float* y, int Ho, int Wo, Floats& col) {
  const size_t hw = static_cast<size_t>(Ho) * Wo;
  OpScope prof("effnet_stem_im2col");
  col.resize(27 * hw);
  for (int ci = 0; ci < 3; ++ci)
    for (int dy = 0; dy < 3; ++dy)
      for (int dx = 0; dx < 3; ++dx) {
        float* row = col.data() + ((ci * 3 + dy) * 3 + dx) * hw;
        for (int ho = 0; ho < Ho; ++ho) {
          const int r = 2 * ho + dy - 1;
          for (int wo = 0; wo < Wo; ++wo) {
            const int q = 2 * wo + dx - 1;
            row[ho * Wo + wo] = r >= 0 && r < H && q >= 0 && q < W ? x[(static_cast<size_t>(ci) * H + r) * W + q] : 0.0f;
          }
        }
      }
  pointwise(c, col.data(), static_cast<int>(hw), y, nullptr);
}

// The whole network on one frame; `parallel`: the depthwise loops and OpenBLAS use the
// operator threads (one frame at a time), else everything runs on the calling thread.
void forward_frame(const Net& w, const float* x, int H, int W, float* out, bool parallel) {
  Floats a, b, e, d, col;
  int h = out_size(H, 3, 2), wd = out_size(W, 3, 2);
  a.resize(static_cast<size_t>(32) * h * wd);
  stem(w.stem, x, H, W, a.data(), h, wd, col);
  for (const Block& bl : w.blocks) {
    const size_t hw = static_cast<size_t>(h) * wd;
    const float* in = a.data();
    if (bl.expand) {
      e.resize(bl.mid * hw);
      pointwise(bl.ex, a.data(), static_cast<int>(hw), e.data(), nullptr);
      in = e.data();
    }
    const int ho = out_size(h, bl.k, bl.stride), wo = out_size(wd, bl.k, bl.stride);
    const size_t ohw = static_cast<size_t>(ho) * wo;
    d.resize(bl.mid * ohw);
    depthwise(bl.dw, in, h, wd, bl.stride, d.data(), ho, wo, parallel);
    b.resize(bl.cout * ohw);
    pointwise(bl.pr, d.data(), static_cast<int>(ohw), b.data(), bl.skip ? a.data() : nullptr);
    std::swap(a, b);
    h = ho, wd = wo;
  }
  const size_t hw = static_cast<size_t>(h) * wd;
  const int dim = w.head.co;
  e.resize(dim * hw);
  pointwise(w.head, a.data(), static_cast<int>(hw), e.data(), nullptr);
  for (int c = 0; c < dim; ++c) {
    double sum = 0;
    for (size_t p = 0; p < hw; ++p) sum += relu6(e[c * hw + p]);
    out[c] = static_cast<float>(sum / static_cast<double>(hw));
  }
}
}  // namespace

struct EffNetLite0Cpu::Weights {
  Net net;
};

EffNetLite0Cpu::EffNetLite0Cpu(const std::string& path) : w_(std::make_unique<Weights>()) { w_->net = effnet::load(path); }

EffNetLite0Cpu::~EffNetLite0Cpu() = default;

std::vector<float> EffNetLite0Cpu::features(const float* x, int n, int h, int w) const {
  if (n < 1 || h < 1 || w < 1) throw Error(Code::InvalidArgument, "EfficientNet-Lite0: no frames to run");
  std::vector<float> out(static_cast<size_t>(n) * kDim);
  const size_t frame = static_cast<size_t>(3) * h * w;
  const int threads = omp_get_max_threads();
  if (n >= 2 && threads > 1) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < n; ++i) forward_frame(w_->net, x + i * frame, h, w, out.data() + static_cast<size_t>(i) * kDim, false);
  } else {
    for (int i = 0; i < n; ++i) forward_frame(w_->net, x + i * frame, h, w, out.data() + static_cast<size_t>(i) * kDim, true);
  }
  return out;
}

}  // namespace reel
