// SPDX-License-Identifier: Apache-2.0
// A decoded 8-bit 4:2:0 picture as its planes (yuv420p, yuvj420p or NV12), borrowed from the
// decoder: what a backend converts to network input without the picture ever becoming RGB24 in
// host memory. NVDEC's pictures live in device memory (on_device), so a CUDA backend on that
// device reads them where they were decoded.
#pragma once
#include <cstdint>

namespace reel {

struct Yuv420 {
  const uint8_t* y = nullptr;  // width x height, rows y_pitch bytes apart
  const uint8_t* u = nullptr;  // (width+1)/2 x (height+1)/2 samples, rows uv_pitch apart,
  const uint8_t* v = nullptr;  //   uv_step bytes from one sample to the next (NV12: 2, v = u + 1)
  int y_pitch = 0, uv_pitch = 0, uv_step = 1;
  int width = 0, height = 0;
  bool bt709 = false;       // the colour matrix: BT.709, else BT.601
  bool full_range = false;  // 0-255 levels (JPEG), else 16-235 / 16-240
  bool on_device = false;   // device memory of CUDA device `device`
  int device = 0;
  explicit operator bool() const { return y != nullptr; }
};

}  // namespace reel
