// SPDX-License-Identifier: Apache-2.0
// Convolutions as GEMMs on OpenBLAS.
//   conv2d: per frame, im2col over a band of output rows (bounded scratch), then
//           out[Co, band] = W[Co, Ci*kh*kw] x col[Ci*kh*kw, band].
//   conv_temporal: the kt source frames of an output frame are adjacent in the
//           frame-major layout whenever no clamping is involved, so the stacked matrix
//           [x_a; x_b; x_c] is read in place and one GEMM with K = kt*Ci computes the frame.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "reel/core/status.h"
#include "backend/cpu/op_profile.h"
#include "reel/model/ops.h"

namespace reel {

static std::atomic<uint64_t> g_macs{0};
uint64_t ops_mac_count() { return g_macs.load(); }
void ops_mac_reset() { g_macs = 0; }
void ops_mac_add(uint64_t n) { g_macs += n; }
void ops_set_threads(int n) {
  if (n <= 0) return;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

namespace {
// Rows o of `frames` consecutive (co x ld) blocks start as b[o] (0 without bias), n each.
void fill_bias(float* out, const float* b, int co, size_t n, size_t ld, int frames = 1) {
#pragma omp parallel for schedule(static)
  for (int p = 0; p < frames * co; ++p) std::fill_n(out + p * ld, n, b ? b[p % co] : 0.0f);
}
}  // namespace

namespace {
// REEL_CONV=im2col|winograd2|winograd4 picks the 3x3 path everywhere (for comparisons);
// the default is Winograd F(4x4,3x3).
int conv3x3_path() {
  static const int path = [] {
    const char* e = std::getenv("REEL_CONV");
    const std::string v = e ? e : "";
    return v == "im2col" ? 0 : v == "winograd2" ? 2 : 4;
  }();
  return path;
}
}  // namespace

Act conv2d(const Act& x, const ConvW& w, int stride, int pt, int pl, int pb, int pr, const ChannelAffine* pre) {
  if (w.ci != x.C) throw Error(Code::Internal, "conv2d: channel mismatch");
  const bool same3x3 = w.kh == 3 && w.kw == 3 && stride == 1 && pt == 1 && pl == 1 && pb == 1 && pr == 1;
  if (same3x3 && x.H >= 4 && x.W >= 4 && conv3x3_path() == 4) return conv3x3_winograd_f4(x, w, pre);
  // The other paths read their input as it is: normalize it first.
  if (pre) return conv2d(apply_affine(x, *pre), w, stride, pt, pl, pb, pr);
  if (same3x3 && x.H >= 4 && x.W >= 4 && conv3x3_path() == 2) return conv3x3_winograd(x, w);
  return conv2d_im2col(x, w, stride, pt, pl, pb, pr);
}

Act conv2d_im2col(const Act& x, const ConvW& w, int stride, int pt, int pl, int pb, int pr) {
  const bool pointwise = w.kh == 1 && w.kw == 1 && stride == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0;
  OpScope prof_(pointwise ? "conv1x1" : "conv2d_im2col");
  if (w.ci != x.C) throw Error(Code::Internal, "conv2d: channel mismatch");
  const int Ho = (x.H + pt + pb - w.kh) / stride + 1;
  const int Wo = (x.W + pl + pr - w.kw) / stride + 1;
  Act y(x.T, w.co, Ho, Wo, Act::Uninit{});
  const size_t HWo = static_cast<size_t>(Ho) * Wo;
  const int K = w.ci * w.kh * w.kw;
  // Rows of output per band: keep the im2col scratch near 16 MB.
  int band = std::max(1, static_cast<int>((4u << 20) / (static_cast<size_t>(K) * Wo + 1)));
  band = std::min(band, Ho);
  // Kept between calls: a fresh zero-filled 16 MB buffer per call costs page faults and a memset.
  thread_local std::vector<float> col_buf;
  if (!pointwise && col_buf.size() < static_cast<size_t>(K) * band * Wo) col_buf.resize(static_cast<size_t>(K) * band * Wo);
  float* col = col_buf.data();
  prof_.macs(static_cast<uint64_t>(x.T) * w.co * K * HWo);
  for (int t = 0; t < x.T; ++t) {
    const float* in = x.frame(t);
    float* out = y.frame(t);
    fill_bias(out, w.b, w.co, HWo, HWo);
    if (pointwise) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, w.co, static_cast<int>(HWo), w.ci, 1.0f, w.w, w.ci, in,
                  static_cast<int>(x.plane()), 1.0f, out, static_cast<int>(HWo));
      continue;
    }
    for (int r0 = 0; r0 < Ho; r0 += band) {
      const int r1 = std::min(Ho, r0 + band);
      const int ncol = (r1 - r0) * Wo;
#pragma omp parallel for schedule(static)
      for (int row = 0; row < K; ++row) {
        const int c = row / (w.kh * w.kw), ky = (row / w.kw) % w.kh, kx = row % w.kw;
        const float* plane = in + static_cast<size_t>(c) * x.plane();
        float* dst = col + static_cast<size_t>(row) * ncol;
        for (int oy = r0; oy < r1; ++oy) {
          const int iy = oy * stride + ky - pt;
          float* d = dst + static_cast<size_t>(oy - r0) * Wo;
          if (iy < 0 || iy >= x.H) {
            std::memset(d, 0, sizeof(float) * Wo);
            continue;
          }
          const float* src = plane + static_cast<size_t>(iy) * x.W;
          for (int ox = 0; ox < Wo; ++ox) {
            const int ix = ox * stride + kx - pl;
            d[ox] = (ix >= 0 && ix < x.W) ? src[ix] : 0.0f;
          }
        }
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, w.co, ncol, K, 1.0f, w.w, K, col, ncol, 1.0f,
                  out + static_cast<size_t>(r0) * Wo, static_cast<int>(HWo));
    }
  }
  return y;
}

namespace {

// The causal stride-1 case (time_pad = kt - 1), scattered by input frame: frame t feeds
// outputs t .. t+kt-1, which are adjacent in the frame-major layout, so one GEMM with the kt
// weight slices stacked along M (W_{kt-1}; ...; W_0) adds x_t's contribution to all of them.
// Each input frame is read (packed) once instead of kt times; the replicated frames in front
// fold into frame 0's weights (output j sees x_0 through W_0 + ... + W_{kt-1-j}).
Act conv_temporal_causal(const Act& x, const ConvW& w, OpScope& prof) {
  const int kt = w.kt, Co = w.co, Ci = w.ci, T = x.T;
  Act y(T, Co, x.H, x.W, Act::Uninit{});
  const size_t HW = x.plane();
  const size_t slice = static_cast<size_t>(Co) * Ci;
  // Kept between calls (a fresh zero-filled pair per call cost more than filling it).
  thread_local std::vector<float> stack_buf, first_buf;
  if (stack_buf.size() < kt * slice) stack_buf.resize(kt * slice), first_buf.resize(kt * slice);
  float *stack = stack_buf.data(), *first = first_buf.data();
#pragma omp parallel for schedule(static)
  for (int o = 0; o < Co; ++o)
    for (int c = 0; c < Ci; ++c) {
      const float* wk = w.w + (static_cast<size_t>(o) * Ci + c) * kt;  // the kt taps of (o, c)
      float s = 0.0f;
      for (int k = 0; k < kt; ++k) {
        // block d = kt-1-k -> output t + d; frame 0's block d sums taps 0 .. kt-1-d.
        const size_t at = static_cast<size_t>(kt - 1 - k) * slice + static_cast<size_t>(o) * Ci + c;
        s += wk[k];
        stack[at] = wk[k];
        first[at] = s;
      }
    }
  fill_bias(y.v.data(), w.b, Co, HW, HW, T);
  const uint64_t macs = static_cast<uint64_t>(T) * Co * Ci * kt * HW;
  prof.macs(macs);
  for (int t = 0; t < T; ++t) {
    const int blocks = std::min(kt, T - t);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blocks * Co, static_cast<int>(HW), Ci, 1.0f,
                t == 0 ? first : stack, Ci, x.frame(t), static_cast<int>(HW), 1.0f, y.frame(t), static_cast<int>(HW));
  }
  return y;
}

}  // namespace

Act conv_temporal(const Act& x, const ConvW& w, int time_stride, int time_pad) {
  OpScope prof_("conv_temporal");
  if (w.ci != x.C || w.kh != 1 || w.kw != 1) throw Error(Code::Internal, "conv_temporal: bad weight shape");
  if (time_stride == 1 && time_pad == w.kt - 1 && w.kt > 1) return conv_temporal_causal(x, w, prof_);
  const int kt = w.kt;
  const int To = (x.T + time_pad - kt) / time_stride + 1;
  Act y(To, w.co, x.H, x.W, Act::Uninit{});
  const size_t HW = x.plane();
  const int K = kt * w.ci;
  // Repack (Co, Ci, kt) -> (Co, kt, Ci) so the K axis matches stacked frames.
  std::vector<float> wp(static_cast<size_t>(w.co) * K);
  for (int o = 0; o < w.co; ++o)
    for (int c = 0; c < w.ci; ++c)
      for (int k = 0; k < kt; ++k) wp[(static_cast<size_t>(o) * kt + k) * w.ci + c] = w.w[(static_cast<size_t>(o) * w.ci + c) * kt + k];
  std::vector<float> stack;
  prof_.macs(static_cast<uint64_t>(To) * w.co * K * HW);
  for (int j = 0; j < To; ++j) {
    float* out = y.frame(j);
    fill_bias(out, w.b, w.co, HW, HW);
    const int first = j * time_stride - time_pad;
    const float* src;
    if (first >= 0) {
      src = x.frame(first);  // frames first .. first+kt-1 are contiguous
    } else {
      stack.resize(static_cast<size_t>(K) * HW);
      for (int k = 0; k < kt; ++k)
        std::memcpy(stack.data() + static_cast<size_t>(k) * x.frame_size(), x.frame(std::max(0, first + k)),
                    sizeof(float) * x.frame_size());
      src = stack.data();
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, w.co, static_cast<int>(HW), K, 1.0f, wp.data(), K, src,
                static_cast<int>(HW), 1.0f, out, static_cast<int>(HW));
  }
  return y;
}

}  // namespace reel
