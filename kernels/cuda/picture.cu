// SPDX-License-Identifier: Apache-2.0
// Decoded 4:2:0 pictures (NVDEC's NV12 surfaces, or host pictures copied over) to network input:
// one thread per output pixel, the integer conversion of backend/device_math.h that the CPU
// reference runs, so both give the same levels bit for bit.
#include "ops.cuh"

namespace reel::cuda {
namespace {

template <class T>
__global__ void k_yuv420_frame(const uint8_t* __restrict__ y, int y_pitch, const uint8_t* __restrict__ u,
                               const uint8_t* __restrict__ v, int uv_pitch, int uv_step, int w, int h, dm::YuvFixed m,
                               T* __restrict__ out, int H, int W, int pt, int pl, long n) {
  const long plane = static_cast<long>(H) * W;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % W), oy = static_cast<int>(i / W);
    const int px = ox - pl, py = oy - pt;
    float r = 0.0f, g = 0.0f, b = 0.0f;  // the zero padding around the picture
    if (px >= 0 && px < w && py >= 0 && py < h) {
      int rgb[3];
      dm::yuv420_rgb(y, y_pitch, u, v, uv_pitch, uv_step, w, h, px, py, m, rgb);
      r = dm::level_to_unit(rgb[0]);
      g = dm::level_to_unit(rgb[1]);
      b = dm::level_to_unit(rgb[2]);
    }
    out[i] = Cvt<T>::st(r);
    out[plane + i] = Cvt<T>::st(g);
    out[2 * plane + i] = Cvt<T>::st(b);
  }
}

}  // namespace

void yuv420_frame(const Context& c, cudaStream_t s, const Yuv420& p, void* y, int H, int W, int pt, int pl) {
  const long n = static_cast<long>(H) * W;
  const dm::YuvFixed m = dm::yuv_fixed(p.bt709, p.full_range);
  REEL_DTYPE_DISPATCH(c.dtype(), T,
                      k_yuv420_frame<T><<<blocks_for(n), 256, 0, s>>>(p.y, p.y_pitch, p.u, p.v, p.uv_pitch, p.uv_step, p.width,
                                                                        p.height, m, static_cast<T*>(y), H, W, pt, pl, n));
  REEL_CUDA_CHECK_LAUNCH("yuv420_frame");
}

}  // namespace reel::cuda
