// SPDX-License-Identifier: Apache-2.0
// Scene-detection options shared by `reel scenes` and `reel split`.
#pragma once
#include <CLI/CLI.hpp>

#include <filesystem>

#include "common.h"
#include "reel/media/scene_detect.h"
#include "tokenize_common.h"

namespace reel::cli {

inline void add_scene_options(CLI::App* cmd, SceneOptions* o) {
  const char* g = "Scene detection";
  cmd->add_option("--detector", o->detector,
                  "structure (flicker-robust default) | content (HSV, PySceneDetect-style) | adaptive | histogram | "
                  "transnetv2 (learned; hard cuts and gradual transitions)")
      ->capture_default_str()->check(CLI::IsMember(scene_detectors()))->group(g);
  cmd->add_option("--threshold", o->threshold,
                  "Cut threshold; default per detector: structure 55, content 27, adaptive 3, histogram 0.05, transnetv2 0.5")
      ->group(g);
  cmd->add_option("--min-scene-len", o->min_scene_len, "Minimum frames between cuts")->capture_default_str()
      ->check(CLI::NonNegativeNumber)->group(g);
  cmd->add_option("--analysis-width", o->analysis_width, "Width frames are analysed at")->capture_default_str()
      ->check(CLI::Range(16, 4096))->group(g);
  cmd->add_option("--shot-model", o->model, "transnetv2: the ONNX file (default weights/transnetv2.onnx, made by the set-up)")
      ->group(g);
}

// Where transnetv2 computes: --device/--dtype, or --devices for one worker per device.
struct SceneDeviceCli {
  std::string device = "auto", dtype = "auto", devices;
};

inline void add_scene_device_options(CLI::App* cmd, SceneDeviceCli* d) {
  const char* g = "Scene detection";
  add_device_option(cmd, &d->device, &d->dtype);
  add_devices_option(cmd, &d->devices);
  for (const char* name : {"--device", "--dtype", "--devices"})
    cmd->get_option(name)->description(std::string("transnetv2: ") + cmd->get_option(name)->get_description())->group(g);
}

// In the callback: the targets of --device or --devices when the detector is the learned one
// on reel's kernels (an ONNX --shot-model runs in OpenCV DNN on the CPU, and says so in the log).
inline void apply_scene_devices(const CLI::App* cmd, const SceneDeviceCli& d, SceneOptions* o, RunnerCli* runner) {
  if (o->detector != "transnetv2" || std::filesystem::path(o->model).extension() == ".onnx") return;
  ComputeTarget one;
  std::vector<ComputeTarget> many;
  apply_devices(cmd, d.device, d.devices, d.dtype, &one, &many, runner);
  o->targets = many.empty() ? std::vector<ComputeTarget>{one} : many;
}

}  // namespace reel::cli
