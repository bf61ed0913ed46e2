// SPDX-License-Identifier: Apache-2.0
// Dev harness (not installed): CUDA kernels against the CPU reference without the rest of
// the library, for GPU machines that lack FFmpeg/HDF5 development files. Exits non-zero on
// a mismatch. Build: nvcc -O2 -std=c++17 -Ilib/include kernels/cuda/*.cu
//   lib/src/backend/cpu/haar.cpp tools/dev/cuda_parity.cpp -o cuda_parity
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <tuple>
#include <vector>

#include "reel/cuda/cuda_backend.h"
#include "reel/model/ops.h"

int main() {
  std::string why;
  int n = reel::cuda::device_count(&why);
  if (n == 0) {
    printf("{\"skipped\": \"%s\"}\n", why.c_str());
    return 0;
  }
  printf("{\"device\": \"%s\"}\n", reel::cuda::device_description(0).c_str());
  int failures = 0;
  for (auto [T, H, W, patch] : std::vector<std::tuple<int, int, int, int>>{
           {17, 32, 48, 4}, {1, 16, 16, 4}, {9, 18, 22, 2}, {5, 7, 9, 2}, {17, 256, 256, 4}, {17, 720, 1280, 4}}) {
    reel::Act x(T, 3, H, W);
    std::mt19937 rng(T * 131 + H);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto& v : x.v) v = u(rng);
    auto t0 = std::chrono::steady_clock::now();
    reel::Act a = reel::haar_patch3d(x, patch);
    auto t1 = std::chrono::steady_clock::now();
    reel::Act b = reel::cuda::haar_patch3d(x, patch);
    auto t2 = std::chrono::steady_clock::now();
    double err = 0;
    for (size_t i = 0; i < a.v.size(); ++i) err = std::max(err, (double)std::fabs(a.v[i] - b.v[i]));
    reel::Act c = reel::haar_patch2d(x, patch), d = reel::cuda::haar_patch2d(x, patch);
    double err2 = 0;
    for (size_t i = 0; i < c.v.size(); ++i) err2 = std::max(err2, (double)std::fabs(c.v[i] - d.v[i]));
    bool ok = a.v.size() == b.v.size() && err <= 1e-6 && err2 <= 1e-6;
    failures += !ok;
    printf("{\"op\": \"haar_patch\", \"shape\": [%d,3,%d,%d], \"patch\": %d, \"max_abs_3d\": %.3g, \"max_abs_2d\": %.3g, "
           "\"cpu_ms\": %.2f, \"cuda_ms_incl_copies\": %.2f, \"pass\": %s}\n",
           T, H, W, patch, err, err2, std::chrono::duration<double, std::milli>(t1 - t0).count(),
           std::chrono::duration<double, std::milli>(t2 - t1).count(), ok ? "true" : "false");
  }
  printf("%d passed, %d failed\n", 6 - failures, failures);
  return failures ? 1 : 0;
}
