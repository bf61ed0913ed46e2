// SPDX-License-Identifier: Apache-2.0
#include "reel/core/backend.h"

#include <thread>

#include "reel/core/log.h"
#include "reel/core/status.h"
#ifdef REEL_HAVE_CUDA
#include "reel/cuda/cuda_backend.h"
#endif

namespace reel {

bool cuda_compiled() {
#ifdef REEL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count(std::string* why_none) {
#ifdef REEL_HAVE_CUDA
  return cuda::device_count(why_none);
#else
  if (why_none) *why_none = "built without CUDA (REEL_CUDA=OFF or no nvcc at configure time)";
  return 0;
#endif
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  out.push_back({"cpu", std::to_string(std::thread::hardware_concurrency()) + " threads"});
#ifdef REEL_HAVE_CUDA
  int n = cuda::device_count(nullptr);
  for (int i = 0; i < n; ++i) out.push_back({"cuda:" + std::to_string(i), cuda::device_description(i)});
#endif
  return out;
}

Device resolve_device(const std::string& request) {
  Device d;
  if (request == "cpu") return d;
  if (request == "auto") {
    if (cuda_device_count() > 0) {
      d.kind = DeviceKind::Cuda;
      REEL_INFO("device", "auto: using cuda:0");
    }
    return d;
  }
  if (request.rfind("cuda", 0) == 0) {
    int idx = 0;
    if (request.size() > 4) {
      if (request[4] != ':') throw Error(Code::InvalidArgument, "bad device '" + request + "' (auto|cpu|cuda|cuda:N)");
      try {
        idx = std::stoi(request.substr(5));
      } catch (...) {
        throw Error(Code::InvalidArgument, "bad device '" + request + "' (auto|cpu|cuda|cuda:N)");
      }
    }
    std::string why;
    int n = cuda_device_count(&why);
    if (idx < 0 || idx >= n)
      throw Error(Code::DeviceUnavailable, "device " + request + " is not available: " +
                                               (n == 0 ? why : std::to_string(n) + " CUDA device(s) present"));
    d.kind = DeviceKind::Cuda;
    d.index = idx;
    return d;
  }
  throw Error(Code::InvalidArgument, "bad device '" + request + "' (auto|cpu|cuda|cuda:N)");
}

std::unique_ptr<Backend> make_cpu_backend(int threads);  // backend/cpu/backend_cpu.cpp

std::unique_ptr<Backend> make_backend(const Device& d, int threads) {
  if (d.kind == DeviceKind::Cpu) return make_cpu_backend(threads);
  throw Error(Code::DeviceUnavailable, "device " + d.name() + ": the tokenizer's CUDA backend is not built yet; use --device cpu");
}

}  // namespace reel
