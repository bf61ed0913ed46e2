// SPDX-License-Identifier: Apache-2.0
#include "reel/media/metrics.h"

#include <algorithm>
#include <cmath>

namespace reel {
namespace {

std::vector<float> to_float(const Plane& p) {
  std::vector<float> out(static_cast<size_t>(p.width) * p.height);
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x) out[static_cast<size_t>(y) * p.width + x] = p.data[static_cast<size_t>(y) * p.stride + x * p.step];
  return out;
}

std::vector<float> gaussian11() {
  std::vector<float> g(11);
  double s = 0;
  for (int i = 0; i < 11; ++i) s += (g[i] = static_cast<float>(std::exp(-((i - 5) * (i - 5)) / (2 * 1.5 * 1.5))));
  for (auto& v : g) v = static_cast<float>(v / s);
  return g;
}

// Separable "valid" filtering with the 11-tap Gaussian: (W-10) x (H-10) output.
std::vector<double> filter_valid(const std::vector<double>& img, int w, int h, const std::vector<float>& g) {
  const int ow = w - 10, oh = h - 10;
  std::vector<double> tmp(static_cast<size_t>(ow) * h), out(static_cast<size_t>(ow) * oh);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      for (int k = 0; k < 11; ++k) s += g[k] * img[static_cast<size_t>(y) * w + x + k];
      tmp[static_cast<size_t>(y) * ow + x] = s;
    }
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      for (int k = 0; k < 11; ++k) s += g[k] * tmp[static_cast<size_t>(y + k) * ow + x];
      out[static_cast<size_t>(y) * ow + x] = s;
    }
  return out;
}

// Mean SSIM and mean contrast-structure term of two float images.
void ssim_terms(const std::vector<double>& a, const std::vector<double>& b, int w, int h, double* ssim, double* cs) {
  static const std::vector<float> g = gaussian11();
  if (w < 11 || h < 11) {
    *ssim = *cs = 1.0;
    return;
  }
  const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
  std::vector<double> aa(a.size()), bb(a.size()), ab(a.size());
  for (size_t i = 0; i < a.size(); ++i) aa[i] = a[i] * a[i], bb[i] = b[i] * b[i], ab[i] = a[i] * b[i];
  auto ma = filter_valid(a, w, h, g), mb = filter_valid(b, w, h, g);
  auto saa = filter_valid(aa, w, h, g), sbb = filter_valid(bb, w, h, g), sab = filter_valid(ab, w, h, g);
  double s_sum = 0, cs_sum = 0;
  for (size_t i = 0; i < ma.size(); ++i) {
    const double va = saa[i] - ma[i] * ma[i], vb = sbb[i] - mb[i] * mb[i], cov = sab[i] - ma[i] * mb[i];
    const double c = (2 * cov + C2) / (va + vb + C2);
    s_sum += (2 * ma[i] * mb[i] + C1) / (ma[i] * ma[i] + mb[i] * mb[i] + C1) * c;
    cs_sum += c;
  }
  *ssim = s_sum / ma.size();
  *cs = cs_sum / ma.size();
}

std::vector<double> as_double(const Plane& p) {
  auto f = to_float(p);
  return std::vector<double>(f.begin(), f.end());
}

// 2x2 block means: floor(w/2) x floor(h/2).
std::vector<double> half(const std::vector<double>& img, int w, int h, int* ow_out, int* oh_out) {
  const int ow = w / 2, oh = h / 2;
  std::vector<double> out(static_cast<size_t>(ow) * oh);
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x)
      out[static_cast<size_t>(y) * ow + x] =
          0.25 * (img[(2 * y) * static_cast<size_t>(w) + 2 * x] + img[(2 * y) * static_cast<size_t>(w) + 2 * x + 1] +
                  img[(2 * y + 1) * static_cast<size_t>(w) + 2 * x] + img[(2 * y + 1) * static_cast<size_t>(w) + 2 * x + 1]);
  *ow_out = ow;
  *oh_out = oh;
  return out;
}

}  // namespace

double plane_mse(const Plane& a, const Plane& b) {
  double s = 0;
  for (int y = 0; y < a.height; ++y) {
    const uint8_t* pa = a.data + static_cast<size_t>(y) * a.stride;
    const uint8_t* pb = b.data + static_cast<size_t>(y) * b.stride;
    for (int x = 0; x < a.width; ++x) {
      const int d = int(pa[x * a.step]) - int(pb[x * b.step]);
      s += d * d;
    }
  }
  return s / (static_cast<double>(a.width) * a.height);
}

double plane_mae(const Plane& a, const Plane& b) {
  double s = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      s += std::abs(int(a.data[static_cast<size_t>(y) * a.stride + x * a.step]) - int(b.data[static_cast<size_t>(y) * b.stride + x * b.step]));
  return s / (static_cast<double>(a.width) * a.height);
}

double psnr_from_mse(double mse) { return mse <= 1e-10 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / mse); }

double plane_ssim_8x8(const Plane& a, const Plane& b) {
  // x264's SSIM, which FFmpeg's ssim filter uses: sums over 4x4 blocks, windows of 2x2 blocks
  // (8x8 pixels) at a 4-pixel step, integer constants scaled for 64-pixel sums.
  const int bw = a.width / 4, bh = a.height / 4;
  if (bw < 2 || bh < 2) return plane_ssim(a, b);
  struct Sums {
    int64_t s1, s2, ss, s12;
  };
  std::vector<Sums> blk(static_cast<size_t>(bw) * bh);
  for (int by = 0; by < bh; ++by)
    for (int bx = 0; bx < bw; ++bx) {
      Sums q{0, 0, 0, 0};
      for (int y = 4 * by; y < 4 * by + 4; ++y)
        for (int x = 4 * bx; x < 4 * bx + 4; ++x) {
          const int u = a.data[static_cast<size_t>(y) * a.stride + size_t(x) * a.step];
          const int v = b.data[static_cast<size_t>(y) * b.stride + size_t(x) * b.step];
          q.s1 += u, q.s2 += v, q.ss += u * u + v * v, q.s12 += u * v;
        }
      blk[static_cast<size_t>(by) * bw + bx] = q;
    }
  const double c1 = std::floor(.01 * .01 * 255 * 255 * 64 + .5), c2 = std::floor(.03 * .03 * 255 * 255 * 64 * 63 + .5);
  double total = 0;
  for (int by = 0; by + 1 < bh; ++by)
    for (int bx = 0; bx + 1 < bw; ++bx) {
      int64_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const Sums& q = blk[static_cast<size_t>(by + dy) * bw + bx + dx];
          s1 += q.s1, s2 += q.s2, ss += q.ss, s12 += q.s12;
        }
      const double vars = double(ss * 64 - s1 * s1 - s2 * s2), covar = double(s12 * 64 - s1 * s2);
      total += (2.0 * s1 * s2 + c1) * (2.0 * covar + c2) / ((double(s1 * s1 + s2 * s2) + c1) * (vars + c2));
    }
  return total / (double(bw - 1) * (bh - 1));
}

double plane_ssim(const Plane& a, const Plane& b) {
  double s, cs;
  ssim_terms(as_double(a), as_double(b), a.width, a.height, &s, &cs);
  return s;
}

double plane_ms_ssim(const Plane& a, const Plane& b, bool weight_last_scale) {
  static const double w[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  auto x = as_double(a), y = as_double(b);
  int W = a.width, H = a.height;
  double result = 1.0;
  for (int s = 0; s < 5; ++s) {
    double ss, cs;
    ssim_terms(x, y, W, H, &ss, &cs);
    if (s < 4) {
      result *= std::pow(std::max(cs, 0.0), w[s]);
      int nw, nh;
      x = half(x, W, H, &nw, &nh);
      y = half(y, W, H, &nw, &nh);
      W = nw;
      H = nh;
    } else {
      result *= weight_last_scale ? std::pow(std::max(ss, 0.0), w[s]) : ss;
    }
  }
  return result;
}

Stats summarize(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  Stats s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  auto q = [&](double p) {
    double pos = p * (v.size() - 1);
    size_t i = static_cast<size_t>(pos);
    double f = pos - i;
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
  };
  s.median = q(0.5);
  s.p5 = q(0.05);
  s.p95 = q(0.95);
  s.min = v.front();
  s.max = v.back();
  return s;
}

}  // namespace reel
