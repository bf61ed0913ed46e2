// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/scenes.h"

#include <cmath>

namespace reel {

Json media_description(const SceneResult& r) {
  Json j;
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
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  return j;
}

Json transitions_json(const std::vector<Transition>& ts) {
  Json a = Json::array();
  for (const Transition& t : ts) a.push_back({{"first", t.first}, {"last", t.last}, {"kind", t.kind}});
  return a;
}

Json scenes_object(const SceneResult& r, const SceneOptions& o, bool with_scores) {
  Json j = {{"cuts", r.cuts},
            {"transitions", transitions_json(r.transitions)},
            {"detector", r.detector},
            {"threshold", r.threshold},
            {"min_scene_len", o.min_scene_len},
            {"analysis_width", o.analysis_width}};
  if (with_scores) {
    const double scale = r.many.empty() ? 1e3 : 1e6;  // transnetv2's probabilities: finer
    auto rounded = [scale](const std::vector<float>& v) {
      std::vector<double> out(v.begin(), v.end());
      for (auto& x : out) x = std::round(x * scale) / scale;
      return out;
    };
    j["scores"] = rounded(r.scores);
    if (!r.many.empty()) j["many"] = rounded(r.many);
  }
  return j;
}

namespace {

class ScenesProcessor : public Processor {
 public:
  explicit ScenesProcessor(const ScenesConfig& c) : c_(c) {}
  StageOutput process(const InputItem& item) override {
    const SceneResult r = detect_scenes(item.media, c_.scene);
    Json rec = item.record;
    rec["path"] = item.media;
    rec.update(media_description(r));
    rec["scenes"] = scenes_object(r, c_.scene, c_.scores);
    return {{rec}, Json()};
  }

 private:
  const ScenesConfig& c_;
};

class ScenesStage : public Stage {
 public:
  explicit ScenesStage(ScenesConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "scenes"; }
  std::unique_ptr<Processor> processor(int) override { return std::make_unique<ScenesProcessor>(c_); }

 private:
  ScenesConfig c_;
};

}  // namespace

std::unique_ptr<Stage> make_scenes_stage(const ScenesConfig& config) { return std::make_unique<ScenesStage>(config); }

}  // namespace reel
