// SPDX-License-Identifier: Apache-2.0
// The CUDA backend as a module: the reel binary does not map cuDNN or cuBLAS, the module opens
// on a machine without a GPU (its reason for zero devices is the runtime's, not a load
// failure), errors thrown inside it are reel::Errors here, and a missing or foreign module is
// reported with what went wrong.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli_util.h"
#include "core/cuda_plugin.h"
#include "reel/core/backend.h"
#include "reel/core/status.h"

using namespace reel;

namespace {

std::string ldd(const std::string& file) {
  std::string out;
  FILE* p = popen(("ldd '" + file + "' 2>&1").c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  return out;
}

TEST(CudaPlugin, TheBinaryLinksNeitherCudnnNorCublas) {
  const std::string deps = ldd(REEL_BINARY);
  ASSERT_NE(deps.find("libc.so"), std::string::npos) << deps;
  EXPECT_EQ(deps.find("cudnn"), std::string::npos) << deps;
  EXPECT_EQ(deps.find("cublas"), std::string::npos) << deps;
}

TEST(CudaPlugin, ModuleOpensWithoutAGpu) {
  if (!cuda_compiled()) GTEST_SKIP() << "built without CUDA";
  std::string why;
  ASSERT_NE(cuda_plugin(&why), nullptr) << why;
  if (cuda_device_count(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_NE(why.find("CUDA compiled"), std::string::npos) << why;
  // Thrown inside the module (the backend's context finds no device), caught here by type.
  try {
    make_backend(Device{DeviceKind::Cuda, 0}, 0, DType::BF16);
    FAIL() << "expected DeviceUnavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::DeviceUnavailable) << e.what();
  }
}

TEST(CudaPlugin, MissingOrForeignModulesAreReportedWithTheReason) {
  std::string why;
  EXPECT_EQ(open_cuda_plugin("/nonexistent/libreel_cuda.so", &why), nullptr);
  EXPECT_NE(why.find("/nonexistent/libreel_cuda.so"), std::string::npos) << why;
  // A real shared library that is not a reel backend.
  why.clear();
  const std::string libc = "libc.so.6";
  EXPECT_EQ(open_cuda_plugin(libc, &why), nullptr);
  EXPECT_NE(why.find("not a reel CUDA backend"), std::string::npos) << why;
}

}  // namespace
