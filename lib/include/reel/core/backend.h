// SPDX-License-Identifier: Apache-2.0
// Compute backends and devices. The CPU backend is always present; the CUDA backend is
// compiled when nvcc was found at configure time and is usable only when a device and a
// driver exist at run time. Device requests are "auto" (first GPU, else CPU), "cpu",
// "cuda" or "cuda:N"; an explicit CUDA request without a usable device is an error
// (Code::DeviceUnavailable, exit 5), never a silent fallback.
#pragma once
#include <string>
#include <vector>

namespace reel {

struct DeviceInfo {
  std::string name;        // "cpu", "cuda:0", ...
  std::string description; // model name and memory
};

bool cuda_compiled();
// Number of usable CUDA devices (0 when not compiled, no driver or no device).
int cuda_device_count(std::string* why_none = nullptr);
std::vector<DeviceInfo> list_devices();

enum class DeviceKind { Cpu, Cuda };
struct Device {
  DeviceKind kind = DeviceKind::Cpu;
  int index = 0;
  std::string name() const { return kind == DeviceKind::Cpu ? "cpu" : "cuda:" + std::to_string(index); }
};
// Resolves a request string; throws Error(DeviceUnavailable) or Error(InvalidArgument).
Device resolve_device(const std::string& request);

}  // namespace reel
