// SPDX-License-Identifier: Apache-2.0
// Decoded 4:2:0 pictures to RGB levels and network input on the CPU: the reference of
// Backend::yuv420_frame (the CUDA kernel computes the same integers, backend/device_math.h).
#include <algorithm>

#include "backend/device_math.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"

namespace reel {

namespace {
void check_host(const Yuv420& p) {
  if (!p || !p.u || !p.v || p.width <= 0 || p.height <= 0)
    throw Error(Code::Internal, "yuv420: a picture without planes");
  if (p.on_device) throw Error(Code::Internal, "yuv420: the CPU reads host pictures only (this one is on cuda:" +
                                                   std::to_string(p.device) + ")");
}

template <class Put>
void each_pixel(const Yuv420& p, Put put) {
  const dm::YuvFixed m = dm::yuv_fixed(p.bt709, p.full_range);
#pragma omp parallel for schedule(static)
  for (int py = 0; py < p.height; ++py)
    for (int px = 0; px < p.width; ++px) {
      int rgb[3];
      dm::yuv420_rgb(p.y, p.y_pitch, p.u, p.v, p.uv_pitch, p.uv_step, p.width, p.height, px, py, m, rgb);
      put(px, py, rgb);
    }
}
}  // namespace

void yuv420_to_rgb24(const Yuv420& p, uint8_t* rgb) {
  check_host(p);
  each_pixel(p, [&](int x, int y, const int* v) {
    uint8_t* o = rgb + (static_cast<size_t>(y) * p.width + x) * 3;
    for (int c = 0; c < 3; ++c) o[c] = static_cast<uint8_t>(v[c]);
  });
}

void yuv420_to_frame(const Yuv420& p, Act& a, int t, int pad_top, int pad_left) {
  check_host(p);
  if (a.C != 3 || pad_top < 0 || pad_left < 0 || pad_top + p.height > a.H || pad_left + p.width > a.W)
    throw Error(Code::Internal, "yuv420: the picture does not fit the frame");
  float* f = a.frame(t);
  const size_t plane = a.plane();
  std::fill(f, f + 3 * plane, 0.0f);
  each_pixel(p, [&](int x, int y, const int* v) {
    const size_t i = static_cast<size_t>(y + pad_top) * a.W + x + pad_left;
    for (int c = 0; c < 3; ++c) f[c * plane + i] = dm::level_to_unit(v[c]);
  });
}

}  // namespace reel
