// SPDX-License-Identifier: Apache-2.0
#include "reel/core/backend.h"

#include <thread>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "core/cuda_plugin.h"

namespace reel {

bool cuda_compiled() {
#ifdef REEL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

namespace {
// The CUDA module, or nullptr with the reason.
const cuda::Plugin* cuda_or_why(std::string* why) {
#ifdef REEL_HAVE_CUDA
  return cuda_plugin(why);
#else
  if (why) *why = "built without CUDA (REEL_CUDA=OFF or no nvcc at configure time)";
  return nullptr;
#endif
}
std::string cuda_description(int index) {
  const cuda::Plugin* p = cuda_or_why(nullptr);
  return p ? p->device_description(index) : "";
}
}  // namespace

int cuda_device_count(std::string* why_none) {
  const cuda::Plugin* p = cuda_or_why(why_none);
  return p ? p->device_count(why_none) : 0;
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  out.push_back({"cpu", std::to_string(std::thread::hardware_concurrency()) + " threads"});
  const int n = cuda_device_count(nullptr);
  for (int i = 0; i < n; ++i) out.push_back({"cuda:" + std::to_string(i), cuda_description(i)});
  return out;
}

Device resolve_device(const std::string& request) {
  Device d;
  if (request == "cpu") return d;
  if (request == "auto") {
    std::string why;
    if (cuda_device_count(&why) > 0) {
      d.kind = DeviceKind::Cuda;
      REEL_INFO("device", "auto: cuda:0 (%s)", cuda_description(0).c_str());
    } else {
      REEL_INFO("device", "auto: cpu (%s)", why.c_str());
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

std::unique_ptr<Backend> make_backend(const Device& d, int threads, DType dtype) {
  if (d.kind == DeviceKind::Cpu) {
    if (dtype != DType::F32)
      throw Error(Code::InvalidArgument, std::string("--dtype ") + dtype_name(dtype) + ": the CPU backend computes in fp32 only");
    return make_cpu_backend(threads);
  }
  std::string why;
  const cuda::Plugin* p = cuda_or_why(&why);
  if (!p) throw Error(Code::DeviceUnavailable, "device " + d.name() + ": " + why);
  return std::unique_ptr<Backend>(p->make_backend(d.index, dtype));
}

DType parse_dtype(const std::string& name, const Device& d) {
  if (name == "auto") return d.kind == DeviceKind::Cuda ? DType::BF16 : DType::F32;
  if (name == "fp32" || name == "float32") return DType::F32;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  if (name == "fp16" || name == "float16") return DType::F16;
  throw Error(Code::InvalidArgument, "bad dtype '" + name + "' (auto|fp32|bf16|fp16)");
}

}  // namespace reel
