// SPDX-License-Identifier: Apache-2.0
// reel scenes: shot boundaries of whole videos, one JSON line per video.
#include <iostream>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/io/inputs.h"
#include "reel/media/scene_detect.h"
#include "scene_options.h"

namespace reel::cli {

nlohmann::json scene_record(const SceneResult& r, bool with_scores) {
  nlohmann::json j;
  j["frames"] = r.frames;
  j["fps"] = r.info.fps;
  j["duration_s"] = r.duration_s;
  j["width"] = r.info.display_width;
  j["height"] = r.info.display_height;
  j["rotation"] = r.info.rotation;
  j["sar"] = std::to_string(r.info.sar_num) + ":" + std::to_string(r.info.sar_den);
  j["codec"] = r.info.codec;
  j["container"] = r.info.container;
  j["time_base"] = std::to_string(r.info.tb_num) + "/" + std::to_string(r.info.tb_den);
  j["first_pts"] = r.first_pts;
  j["cuts"] = r.cuts;
  j["detector"] = r.detector;
  j["threshold"] = r.threshold;
  if (with_scores) {
    std::vector<double> s(r.scores.begin(), r.scores.end());
    for (auto& x : s) x = std::round(x * 1000.0) / 1000.0;
    j["scores"] = s;
  }
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  return j;
}

void register_scenes(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("scenes", "Detect shot boundaries; one JSON line per video on stdout");
  struct Opts {
    std::vector<std::string> inputs;
    SceneCliOptions scene;
    bool scores = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("inputs", o->inputs, "Videos, directories, URLs, or - for records/paths on stdin (default)");
  add_scene_options(cmd, &o->scene);
  cmd->add_flag("--scores", o->scores, "Include the per-frame detector scores");
  cmd->footer("\nExample:\n  reel scenes datasets/videos/ > scenes.jsonl\n  find /data -name '*.mp4' | reel scenes --detector adaptive" +
              exit_code_footer());
  cmd->callback([o, exit_code] {
    SceneOptions so = to_scene_options(o->scene);
    auto items = expand_inputs(o->inputs, std::cin);
    Progress progress("scenes", static_cast<int64_t>(items.size()));
    int failed = 0, done = 0;
    for (auto& item : items) {
      if (g_interrupted) break;
      nlohmann::json rec = item.record.is_object() ? item.record : nlohmann::json::object();
      rec["source"] = item.source;
      if (!item.error.empty()) {
        add_error(rec, "scenes", Code::InvalidData, item.error);
        ++failed;
      } else {
        try {
          SceneResult r = detect_scenes(item.source, so);
          rec.update(scene_record(r, o->scores));
        } catch (const Error& e) {
          REEL_WARN("scenes", "%s", e.what());
          add_error(rec, "scenes", e.code(), e.what());
          ++failed;
        }
      }
      emit(rec);
      progress.tick(++done, item.source);
    }
    progress.finish();
    *exit_code = failed ? kExitPartial : kExitOk;
  });
}

}  // namespace reel::cli
