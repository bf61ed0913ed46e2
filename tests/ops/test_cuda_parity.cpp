// SPDX-License-Identifier: Apache-2.0
// CUDA kernels against the CPU reference on random inputs. Skipped (with the reason) when
// the build has no CUDA backend or the machine no device; REEL_TEST_REQUIRE_CUDA=1 turns
// the skip into a failure so a GPU run cannot pass vacuously.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"
#ifdef REEL_HAVE_CUDA
#include "reel/cuda/cuda_backend.h"
#endif

using namespace reel;

namespace {

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda_device_count(&why) == 0) {
      const char* req = std::getenv("REEL_TEST_REQUIRE_CUDA");
      if (req && req[0] == '1') FAIL() << "REEL_TEST_REQUIRE_CUDA=1 but " << why;
      GTEST_SKIP() << why;
    }
  }
};

using test::random_act;

TEST_F(CudaParity, HaarPatcherMatchesCpu) {
#ifdef REEL_HAVE_CUDA
  for (auto [T, H, W, patch] : std::vector<std::tuple<int, int, int, int>>{{17, 32, 48, 4}, {1, 16, 16, 4}, {9, 18, 22, 2}, {5, 7, 9, 2}}) {
    Act x = random_act(T, 3, H, W, static_cast<uint32_t>(T * 131 + H));
    Act a = haar_patch3d(x, patch), b = cuda::haar_patch3d(x, patch);
    ASSERT_EQ(a.v.size(), b.v.size());
    for (size_t i = 0; i < a.v.size(); ++i) ASSERT_NEAR(a.v[i], b.v[i], 1e-6f) << i;
    Act c = haar_patch2d(x, patch), d = cuda::haar_patch2d(x, patch);
    for (size_t i = 0; i < c.v.size(); ++i) ASSERT_NEAR(c.v[i], d.v[i], 1e-6f) << i;
  }
#endif
}

TEST(CudaBackend, ExplicitCudaRequestWithoutDeviceIsAnError) {
  std::string why;
  if (cuda_device_count(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    resolve_device("cuda");
    FAIL() << "expected DeviceUnavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::DeviceUnavailable);
  }
  EXPECT_EQ(resolve_device("auto").kind, DeviceKind::Cpu);
  EXPECT_THROW(resolve_device("gpu"), Error);
}

}  // namespace
