// SPDX-License-Identifier: Apache-2.0
// Scene-detection options shared by `reel scenes` and `reel split`.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.h"
#include "reel/media/scene_detect.h"

namespace reel::cli {

struct SceneCliOptions {
  std::string detector = "structure";
  double threshold = -1;
  int min_scene_len = 15;
  int analysis_width = 256;
};

inline void add_scene_options(CLI::App* cmd, SceneCliOptions* o) {
  cmd->add_option("--detector", o->detector,
                  "structure (flicker-robust default) | content (HSV, PySceneDetect-style) | adaptive | histogram")
      ->capture_default_str()->check(CLI::IsMember(scene_detectors()))->group("Scene detection");
  cmd->add_option("--threshold", o->threshold,
                  "Cut threshold; default per detector: structure 55, content 27, adaptive 3, histogram 0.05")
      ->group("Scene detection");
  cmd->add_option("--min-scene-len", o->min_scene_len, "Minimum frames between cuts")->capture_default_str()
      ->check(CLI::NonNegativeNumber)->group("Scene detection");
  cmd->add_option("--analysis-width", o->analysis_width, "Width frames are analysed at")->capture_default_str()
      ->check(CLI::Range(16, 4096))->group("Scene detection");
}

inline SceneOptions to_scene_options(const SceneCliOptions& o) {
  SceneOptions so;
  so.detector = o.detector;
  so.threshold = o.threshold;
  so.min_scene_len = o.min_scene_len;
  so.analysis_width = o.analysis_width;
  so.threads = globals().threads;
  return so;
}

nlohmann::json scene_record(const SceneResult& r, bool with_scores);

}  // namespace reel::cli
