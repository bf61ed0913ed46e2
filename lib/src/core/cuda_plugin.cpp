// SPDX-License-Identifier: Apache-2.0
#include "core/cuda_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "reel/core/log.h"

namespace fs = std::filesystem;

namespace reel {

std::vector<std::string> cuda_plugin_candidates() {
  std::vector<std::string> out;
  if (const char* e = std::getenv("REEL_CUDA_PLUGIN"); e && *e) return {e};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / "libreel_cuda.so").string());
    out.push_back((exe.parent_path().parent_path() / "lib" / "libreel_cuda.so").string());
  }
#ifdef REEL_CUDA_PLUGIN_DIR
  out.push_back(std::string(REEL_CUDA_PLUGIN_DIR) + "/libreel_cuda.so");
#endif
  return out;
}

const cuda::Plugin* open_cuda_plugin(const std::string& path, std::string* why) {
  // RTLD_LOCAL: the module's cuDNN/cuBLAS symbols stay its own.
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    if (why) *why = dlerror();
    return nullptr;
  }
  using Entry = const cuda::Plugin* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(h, "reel_cuda_plugin"));
  const cuda::Plugin* p = entry ? entry() : nullptr;
  if (!p || p->abi != cuda::kCudaPluginAbi || !p->device_count || !p->device_description || !p->make_backend) {
    if (why)
      *why = path + ": not a reel CUDA backend of this build (" +
             (p ? "plugin ABI " + std::to_string(p->abi) + ", expected " + std::to_string(cuda::kCudaPluginAbi)
                : std::string("no reel_cuda_plugin entry")) + "); rebuild it with this reel";
    dlclose(h);
    return nullptr;
  }
  return p;  // the handle stays open for the life of the process
}

const cuda::Plugin* cuda_plugin(std::string* why) {
  static std::once_flag once;
  static const cuda::Plugin* plugin = nullptr;
  static std::string reason;
  std::call_once(once, [] {
    const auto candidates = cuda_plugin_candidates();
    std::string first_error;
    for (const auto& c : candidates) {
      std::error_code ec;
      if (!fs::exists(c, ec)) continue;
      std::string e;
      if ((plugin = open_cuda_plugin(c, &e))) {
        REEL_VERBOSE("device", "CUDA backend: %s", c.c_str());
        return;
      }
      if (first_error.empty()) first_error = e;
    }
    if (!first_error.empty()) {
      reason = "the CUDA backend module could not be loaded: " + first_error;
    } else {
      reason = "the CUDA backend module libreel_cuda.so was not found (looked in";
      for (const auto& c : candidates) reason += " " + c;
      reason += "; set REEL_CUDA_PLUGIN to its path)";
    }
  });
  if (!plugin && why) *why = reason;
  return plugin;
}

}  // namespace reel
