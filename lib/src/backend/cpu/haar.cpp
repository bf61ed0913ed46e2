// SPDX-License-Identifier: Apache-2.0
// Haar wavelet (un)patching. One level maps each 2x2x2 (video) or 2x2 (image) block to
// its subbands: coefficient = sum of the block with sign -1 on the odd sample of every
// axis whose band is high, divided by 8 (video) or 4 (image). This equals the reference's
// separable a=1/sqrt(2) filters followed by the 1/(2*sqrt(2)) or 1/2 scaling. Odd sizes
// are reflect-padded by one sample (the reference pads (0, 1) with mode "reflect").
#include <cstring>

#include "backend/cpu/op_profile.h"
#include "backend/device_math.h"
#include "reel/model/ops.h"

namespace reel {
namespace {
using dm::refl;

// One butterfly stage along a row: lo = a + b, hi = a - b.
inline void butterfly(const float* a, const float* b, int n, float* lo, float* hi) {
  for (int w = 0; w < n; ++w) {
    lo[w] = a[w] + b[w];
    hi[w] = a[w] - b[w];
  }
}

// Video level: (T, C, H, W) -> (ceil(T/2), 8C, ceil(H/2), ceil(W/2)), subband 4t+2h+w.
// The eight signed sums of each 2x2x2 block as three butterfly stages (w, then h, then t),
// each a vector loop along an output row.
Act level3d(const Act& x) {
  const int To = (x.T + 1) / 2, Ho = (x.H + 1) / 2, Wo = (x.W + 1) / 2;
  Act y(To, 8 * x.C, Ho, Wo, Act::Uninit{});
  const int jobs = To * x.C;
#pragma omp parallel
  {
    // w stage: [dt][dh][wb][Wo]; h stage: [dt][hb][wb][Wo].
    std::vector<float> ws(8 * static_cast<size_t>(Wo)), hs(8 * static_cast<size_t>(Wo));
    auto wrow = [&](int dt, int dh, int wb) { return ws.data() + static_cast<size_t>(4 * dt + 2 * dh + wb) * Wo; };
    auto hrow = [&](int dt, int hb, int wb) { return hs.data() + static_cast<size_t>(4 * dt + 2 * hb + wb) * Wo; };
    const int full = x.W / 2;  // outputs whose odd sample exists (the last one reflects when W is odd)
#pragma omp for schedule(static)
    for (int job = 0; job < jobs; ++job) {
      const int t = job / x.C, c = job % x.C;
      const float* f[2] = {x.frame(refl(2 * t, x.T)) + static_cast<size_t>(c) * x.plane(),
                           x.frame(refl(2 * t + 1, x.T)) + static_cast<size_t>(c) * x.plane()};
      for (int h = 0; h < Ho; ++h) {
        const int hh[2] = {refl(2 * h, x.H), refl(2 * h + 1, x.H)};
        for (int dt = 0; dt < 2; ++dt)
          for (int dh = 0; dh < 2; ++dh) {
            const float* r = f[dt] + static_cast<size_t>(hh[dh]) * x.W;
            float *lo = wrow(dt, dh, 0), *hi = wrow(dt, dh, 1);
            for (int w = 0; w < full; ++w) {
              lo[w] = r[2 * w] + r[2 * w + 1];
              hi[w] = r[2 * w] - r[2 * w + 1];
            }
            for (int w = full; w < Wo; ++w) {
              const float a = r[refl(2 * w, x.W)], b = r[refl(2 * w + 1, x.W)];
              lo[w] = a + b;
              hi[w] = a - b;
            }
          }
        for (int dt = 0; dt < 2; ++dt)
          for (int wb = 0; wb < 2; ++wb) {
            butterfly(wrow(dt, 0, wb), wrow(dt, 1, wb), Wo, hrow(dt, 0, wb), hrow(dt, 1, wb));
          }
        for (int hb = 0; hb < 2; ++hb)
          for (int wb = 0; wb < 2; ++wb) {
            const float *a = hrow(0, hb, wb), *b = hrow(1, hb, wb);
            const size_t off = static_cast<size_t>(h) * Wo;
            float* lo = y.frame(t) + (static_cast<size_t>(2 * hb + wb) * x.C + c) * y.plane() + off;
            float* hi = y.frame(t) + (static_cast<size_t>(4 + 2 * hb + wb) * x.C + c) * y.plane() + off;
            for (int w = 0; w < Wo; ++w) {
              lo[w] = 0.125f * (a[w] + b[w]);
              hi[w] = 0.125f * (a[w] - b[w]);
            }
          }
      }
    }
  }
  return y;
}

// Inverse of a video level: the same three butterflies (t, then h, then w; scale 1), the last
// one writing even and odd pixels of the two output rows of both output frames.
Act ilevel3d(const Act& x) {
  const int C = x.C / 8;
  Act y(2 * x.T, C, 2 * x.H, 2 * x.W, Act::Uninit{});
  const int jobs = x.T * C;
  const int Wi = x.W;
#pragma omp parallel
  {
    std::vector<float> ts(8 * static_cast<size_t>(Wi)), hs(8 * static_cast<size_t>(Wi));
    auto trow = [&](int dt, int hb, int wb) { return ts.data() + static_cast<size_t>(4 * dt + 2 * hb + wb) * Wi; };
    auto hrow = [&](int dt, int dh, int wb) { return hs.data() + static_cast<size_t>(4 * dt + 2 * dh + wb) * Wi; };
#pragma omp for schedule(static)
    for (int job = 0; job < jobs; ++job) {
      const int t = job / C, c = job % C;
      for (int h = 0; h < x.H; ++h) {
        const size_t off = static_cast<size_t>(h) * Wi;
        for (int hb = 0; hb < 2; ++hb)
          for (int wb = 0; wb < 2; ++wb) {
            const float* a = x.frame(t) + (static_cast<size_t>(2 * hb + wb) * C + c) * x.plane() + off;
            const float* b = x.frame(t) + (static_cast<size_t>(4 + 2 * hb + wb) * C + c) * x.plane() + off;
            butterfly(a, b, Wi, trow(0, hb, wb), trow(1, hb, wb));
          }
        for (int dt = 0; dt < 2; ++dt)
          for (int wb = 0; wb < 2; ++wb) {
            butterfly(trow(dt, 0, wb), trow(dt, 1, wb), Wi, hrow(dt, 0, wb), hrow(dt, 1, wb));
          }
        for (int dt = 0; dt < 2; ++dt)
          for (int dh = 0; dh < 2; ++dh) {
            const float *a = hrow(dt, dh, 0), *b = hrow(dt, dh, 1);
            float* o = y.frame(2 * t + dt) + static_cast<size_t>(c) * y.plane() + static_cast<size_t>(2 * h + dh) * y.W;
            for (int w = 0; w < Wi; ++w) {
              o[2 * w] = a[w] + b[w];
              o[2 * w + 1] = a[w] - b[w];
            }
          }
      }
    }
  }
  return y;
}

// Image level: (T, C, H, W) -> (T, 4C, H/2, W/2), subband 2w+h.
Act level2d(const Act& x) {
  const int Ho = (x.H + 1) / 2, Wo = (x.W + 1) / 2;
  Act y(x.T, 4 * x.C, Ho, Wo, Act::Uninit{});
  const int jobs = x.T * x.C;
#pragma omp parallel for schedule(static)
  for (int job = 0; job < jobs; ++job) {
    const int t = job / x.C, c = job % x.C;
    const float* f = x.frame(t) + static_cast<size_t>(c) * x.plane();
    for (int h = 0; h < Ho; ++h)
      for (int w = 0; w < Wo; ++w) {
        float v[4];  // index 2dw+dh
        for (int dw = 0; dw < 2; ++dw)
          for (int dh = 0; dh < 2; ++dh)
            v[2 * dw + dh] = f[static_cast<size_t>(refl(2 * h + dh, x.H)) * x.W + refl(2 * w + dw, x.W)];
        float sb[4];
        dm::haar_block<4>(v, 0.25f, sb);
        for (int s = 0; s < 4; ++s)
          y.frame(t)[(static_cast<size_t>(s) * x.C + c) * y.plane() + static_cast<size_t>(h) * Wo + w] = sb[s];
      }
  }
  return y;
}

Act ilevel2d(const Act& x) {
  const int C = x.C / 4;
  Act y(x.T, C, 2 * x.H, 2 * x.W, Act::Uninit{});
  const int jobs = x.T * C;
#pragma omp parallel for schedule(static)
  for (int job = 0; job < jobs; ++job) {
    const int t = job / C, c = job % C;
    for (int h = 0; h < x.H; ++h)
      for (int w = 0; w < x.W; ++w) {
        float coef[4];
        for (int s = 0; s < 4; ++s)
          coef[s] = x.frame(t)[(static_cast<size_t>(s) * C + c) * x.plane() + static_cast<size_t>(h) * x.W + w];
        float px[4];
        dm::haar_block<4>(coef, 1.0f, px);
        for (int d = 0; d < 4; ++d) {
          const int dw = d >> 1, dh = d & 1;
          y.frame(t)[static_cast<size_t>(c) * y.plane() + static_cast<size_t>(2 * h + dh) * y.W + 2 * w + dw] = px[d];
        }
      }
  }
  return y;
}

int levels_of(int patch) {
  int n = 0;
  while ((1 << n) < patch) ++n;
  return n;
}
}  // namespace

Act haar_patch3d(const Act& x, int patch) {
  OpScope prof_("haar");
  Act cur(x.T + patch - 1, x.C, x.H, x.W, Act::Uninit{});
  for (int i = 0; i < patch; ++i) std::memcpy(cur.frame(i), x.frame(0), sizeof(float) * x.frame_size());
  if (x.T > 1) std::memcpy(cur.frame(patch), x.frame(1), sizeof(float) * x.frame_size() * (x.T - 1));
  for (int l = 0; l < levels_of(patch); ++l) cur = level3d(cur);
  return cur;
}

Act haar_unpatch3d(const Act& x, int patch) {
  OpScope prof_("haar");
  Act cur = x;
  for (int l = 0; l < levels_of(patch); ++l) cur = ilevel3d(cur);
  const int drop = patch - 1;
  Act y(cur.T - drop, cur.C, cur.H, cur.W, Act::Uninit{});
  std::memcpy(y.v.data(), cur.frame(drop), sizeof(float) * y.v.size());
  return y;
}

Act haar_patch2d(const Act& x, int patch) {
  Act cur = x;
  for (int l = 0; l < levels_of(patch); ++l) cur = level2d(cur);
  return cur;
}

Act haar_unpatch2d(const Act& x, int patch) {
  Act cur = x;
  for (int l = 0; l < levels_of(patch); ++l) cur = ilevel2d(cur);
  return cur;
}

}  // namespace reel
