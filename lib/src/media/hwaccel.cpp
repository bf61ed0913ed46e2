// SPDX-License-Identifier: Apache-2.0
#include "reel/media/hwaccel.h"

extern "C" {
#include <libavutil/buffer.h>
#include <libavutil/dict.h>
#include <libavutil/hwcontext.h>
}

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "av_util.h"
#include "hw_device.h"
#include "reel/core/log.h"
#include "reel/core/status.h"

namespace reel {

namespace {
std::atomic<HwAccel> g_default{HwAccel::None};
}

HwAccel parse_hwaccel(const std::string& name) {
  if (name == "none") return HwAccel::None;
  if (name == "cuda") return HwAccel::Cuda;
  throw Error(Code::InvalidArgument, "unknown --hwaccel '" + name + "' (none|cuda)");
}

void set_default_hwaccel(HwAccel a) { g_default = a == HwAccel::Default ? HwAccel::None : a; }
HwAccel default_hwaccel() { return g_default.load(); }

bool cuda_decode_available(std::string* why) { return av::cuda_device(0, why) != nullptr; }

namespace av {

AVBufferRef* cuda_device(int index, std::string* why) {
  struct Opened {
    AVBufferRef* device = nullptr;  // lives as long as the process
    std::string failure;
  };
  static std::mutex mu;
  static std::map<int, Opened> opened;
  std::lock_guard<std::mutex> lock(mu);
  auto it = opened.find(index);
  if (it == opened.end()) {
    Opened o;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "primary_ctx", "1", 0);
    const int err = av_hwdevice_ctx_create(&o.device, AV_HWDEVICE_TYPE_CUDA, std::to_string(index).c_str(), opts, 0);
    av_dict_free(&opts);
    if (err < 0) {
      o.device = nullptr;
      o.failure = "no CUDA device " + std::to_string(index) + " FFmpeg can open (" + err_str(err) + ")";
    }
    it = opened.emplace(index, std::move(o)).first;
  }
  if (!it->second.device && why) *why = it->second.failure;
  return it->second.device;
}

void note_cpu_fallback(const std::string& source, const std::string& why) {
  static std::mutex mu;
  static std::set<std::string> said;  // reasons warned about already
  std::lock_guard<std::mutex> lock(mu);
  if (said.insert(why).second) REEL_WARN("decode", "--hwaccel cuda: %s; decoding on the CPU: %s", why.c_str(), source.c_str());
  else REEL_INFO("decode", "--hwaccel cuda: decoding on the CPU (%s): %s", why.c_str(), source.c_str());
}

}  // namespace av
}  // namespace reel
