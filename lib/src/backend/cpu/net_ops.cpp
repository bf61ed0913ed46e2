// SPDX-License-Identifier: Apache-2.0
// Reference operators of the curation networks (TransNetV2): the centred, dilated temporal
// convolution as small GEMMs per frame and tap, straight from the frames it reads; ReLU with a
// residual; floor 2x2 pooling; the per-frame channel means.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "reel/core/status.h"
#include "op_profile.h"
#include "reel/model/ops.h"

namespace reel {

void conv_time_into(const Act& x, int in_c0, const float* taps, int co, int ci, int kt, int dilation, const float* scale,
                    const float* shift, bool relu, Act& out, int out_c0) {
  if (x.T != out.T || x.H != out.H || x.W != out.W || in_c0 < 0 || in_c0 + ci > x.C || out_c0 < 0 || out_c0 + co > out.C ||
      kt % 2 == 0)
    throw Error(Code::Internal, "conv_time_into: channels or shapes out of range");
  const size_t hw = x.plane();
  const int T = x.T, half = kt / 2;
  OpScope prof_("conv_time");
  prof_.macs(static_cast<uint64_t>(T) * co * ci * kt * hw);
#pragma omp parallel for schedule(static)
  for (int t = 0; t < T; ++t) {
    float* y = out.v.data() + (static_cast<size_t>(t) * out.C + out_c0) * hw;
    std::memset(y, 0, sizeof(float) * co * hw);
    for (int k = 0; k < kt; ++k) {
      const int src = t + (k - half) * dilation;
      if (src < 0 || src >= T) continue;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, static_cast<int>(hw), ci, 1.0f,
                  taps + static_cast<size_t>(k) * co * ci, ci, x.v.data() + (static_cast<size_t>(src) * x.C + in_c0) * hw,
                  static_cast<int>(hw), 1.0f, y, static_cast<int>(hw));
    }
    if (!scale && !relu) continue;
    // While the frame's output is still in cache.
    for (int c = 0; c < co; ++c) {
      float* v = y + static_cast<size_t>(c) * hw;
      const float a = scale ? scale[c] : 1.0f, b = scale ? shift[c] : 0.0f;
      for (size_t p = 0; p < hw; ++p) {
        const float u = a * v[p] + b;
        v[p] = relu ? std::max(0.0f, u) : u;
      }
    }
  }
}

void relu_add_(Act& x, const Act& y) {
  if (x.numel() != y.numel()) throw Error(Code::Internal, "relu_add_: shape mismatch");
  float* a = x.v.data();
  const float* b = y.v.data();
  const size_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = std::max(0.0f, a[i]) + b[i];
}

void relu_(Act& x) {
  float* a = x.v.data();
  const size_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = std::max(0.0f, a[i]);
}

Act avg_pool2(const Act& x) {
  Act o(x.T, x.C, x.H / 2, x.W / 2, Act::Uninit{});
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int pc = 0; pc < planes; ++pc) {
    const float* s = x.v.data() + static_cast<size_t>(pc) * x.plane();
    float* d = o.v.data() + static_cast<size_t>(pc) * o.plane();
    for (int h = 0; h < o.H; ++h)
      for (int w = 0; w < o.W; ++w) {
        const float* p = s + static_cast<size_t>(2 * h) * x.W + 2 * w;
        d[h * o.W + w] = 0.25f * (p[0] + p[1] + p[x.W] + p[x.W + 1]);
      }
  }
  return o;
}

Act spatial_mean(const Act& x) {
  Act o(x.T, x.C, 1, 1, Act::Uninit{});
  const int planes = x.T * x.C;
  const size_t hw = x.plane();
  for (int pc = 0; pc < planes; ++pc) {
    const float* p = x.v.data() + static_cast<size_t>(pc) * hw;
    double s = 0;  // as the PyTorch reference's mean: accumulated wider than float
    for (size_t q = 0; q < hw; ++q) s += p[q];
    o.v[pc] = static_cast<float>(s / static_cast<double>(hw));
  }
  return o;
}

Act pool2d(const Act& x, bool max, int k, int stride, int pt, int pl, int pb, int pr) {
  const int Ho = (x.H + pt + pb - k) / stride + 1, Wo = (x.W + pl + pr - k) / stride + 1;
  if (k < 1 || stride < 1 || Ho < 1 || Wo < 1 || pt >= k || pl >= k || pb >= k || pr >= k)
    throw Error(Code::Internal, "pool2d: the window or its padding does not fit the frame");
  Act y(x.T, x.C, Ho, Wo, Act::Uninit{});
  const int planes = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int pc = 0; pc < planes; ++pc) {
    const float* s = x.v.data() + static_cast<size_t>(pc) * x.plane();
    float* d = y.v.data() + static_cast<size_t>(pc) * y.plane();
    for (int oy = 0; oy < Ho; ++oy) {
      const int y0 = std::max(0, oy * stride - pt), y1 = std::min(x.H, oy * stride - pt + k);
      for (int ox = 0; ox < Wo; ++ox) {
        const int x0 = std::max(0, ox * stride - pl), x1 = std::min(x.W, ox * stride - pl + k);
        float acc = max ? s[static_cast<size_t>(y0) * x.W + x0] : 0.0f;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            const float v = s[static_cast<size_t>(iy) * x.W + ix];
            acc = max ? std::max(acc, v) : acc + v;
          }
        d[static_cast<size_t>(oy) * Wo + ox] = max ? acc : acc / static_cast<float>((y1 - y0) * (x1 - x0));
      }
    }
  }
  return y;
}

Act conv2d_depthwise(const Act& x, const float* w, const float* b, int k, int stride, int pad) {
  const int Ho = (x.H + 2 * pad - k) / stride + 1, Wo = (x.W + 2 * pad - k) / stride + 1;
  if (Ho < 1 || Wo < 1) throw Error(Code::Internal, "conv2d_depthwise: the kernel is larger than the padded frame");
  Act y(x.T, x.C, Ho, Wo, Act::Uninit{});
  const int planes = x.T * x.C;
  ops_mac_add(static_cast<uint64_t>(planes) * k * k * Ho * Wo);
#pragma omp parallel for schedule(static)
  for (int pc = 0; pc < planes; ++pc) {
    const int c = pc % x.C;
    const float* s = x.v.data() + static_cast<size_t>(pc) * x.plane();
    const float* wk = w + static_cast<size_t>(c) * k * k;
    float* d = y.v.data() + static_cast<size_t>(pc) * y.plane();
    for (int oy = 0; oy < Ho; ++oy)
      for (int ox = 0; ox < Wo; ++ox) {
        float acc = b ? b[c] : 0.0f;
        for (int dy = 0; dy < k; ++dy) {
          const int iy = oy * stride + dy - pad;
          if (iy < 0 || iy >= x.H) continue;
          for (int dx = 0; dx < k; ++dx) {
            const int ix = ox * stride + dx - pad;
            if (ix >= 0 && ix < x.W) acc += wk[dy * k + dx] * s[static_cast<size_t>(iy) * x.W + ix];
          }
        }
        d[static_cast<size_t>(oy) * Wo + ox] = acc;
      }
  }
  return y;
}

void clamp_(Act& x, float lo, float hi) {
  float* a = x.v.data();
  const size_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = std::min(std::max(a[i], lo), hi);
}

Act dense(const Act& x, const float* w, const float* b, int co, const Act* add, bool relu) {
  const int K = static_cast<int>(x.frame_size());
  if (add && (add->T != x.T || add->frame_size() != static_cast<size_t>(co)))
    throw Error(Code::Internal, "dense: the added tensor's shape differs from the output's");
  OpScope prof_("dense");
  Act y(x.T, co, 1, 1, Act::Uninit{});
  for (int t = 0; t < x.T; ++t)
    for (int o = 0; o < co; ++o)
      y.v[static_cast<size_t>(t) * co + o] = (b ? b[o] : 0.0f) + (add ? add->v[static_cast<size_t>(t) * co + o] : 0.0f);
  prof_.macs(static_cast<uint64_t>(x.T) * co * K);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, x.T, co, K, 1.0f, x.v.data(), K, w, K, 1.0f, y.v.data(), co);
  if (relu) relu_(y);
  return y;
}

}  // namespace reel
