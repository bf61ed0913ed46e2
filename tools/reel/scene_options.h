// SPDX-License-Identifier: Apache-2.0
// Scene-detection options shared by `reel scenes` and `reel split`.
#pragma once
#include <CLI/CLI.hpp>

#include "common.h"
#include "reel/media/scene_detect.h"

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

}  // namespace reel::cli
