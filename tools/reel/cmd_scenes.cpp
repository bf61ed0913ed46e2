// SPDX-License-Identifier: Apache-2.0
// reel scenes: shot boundaries of whole videos, one JSON line per video.
#include "commands.h"
#include "common.h"
#include "reel/stages/scenes.h"
#include "scene_options.h"

namespace reel::cli {

void register_scenes(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("scenes", "Detect shot boundaries; one JSON line per video on stdout");
  struct Opts {
    std::vector<std::string> inputs;
    ScenesConfig config;
    RunnerCli runner;
    SceneDeviceCli devices;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("inputs", o->inputs, "Videos, directories, URLs, record files (.jsonl), or - for stdin (default)");
  add_scene_options(cmd, &o->config.scene);
  add_scene_device_options(cmd, &o->devices);
  cmd->add_flag("--scores", o->config.scores, "Include the per-frame detector scores (scenes.scores)");
  add_runner_options(cmd, &o->runner);
  cmd->footer("\nThe record describes the video (frames, fps, duration_s, ...) and holds \"scenes\": {cuts, detector,\n"
              "threshold, ...}; `reel split` cuts at those cuts without detecting again.\nExamples:\n"
              "  reel scenes datasets/videos/ > scenes.jsonl\n  find /data -name '*.mp4' | reel scenes --detector adaptive" +
              exit_code_footer());
  cmd->callback([cmd, o, exit_code] {
    o->config.scene.threads = globals().threads;
    apply_scene_devices(cmd, o->devices, &o->config.scene, &o->runner);
    auto stage = make_scenes_stage(o->config);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
