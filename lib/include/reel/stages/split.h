// SPDX-License-Identifier: Apache-2.0
// reel split: cut videos into clips, one record per clip.
//
// Clips are <outdir>/<id>.mp4 with the record beside as <id>.json; id = UUIDv5(source +
// written span). An input that is a `reel scenes` record is cut at its "scenes.cuts" (the
// detector is not run again; its settings are carried into the clip records). Clip records
// keep the input's unknown keys and its `source`, drop the whole-video fields and describe
// the clip instead.
#pragma once
#include <memory>
#include <string>

#include "reel/media/clip_writer.h"
#include "reel/media/scene_detect.h"
#include "reel/pipeline/runner.h"
#include "reel/stages/split_plan.h"

namespace reel {

struct SplitConfig {
  std::string outdir;
  SpanPlan plan;
  bool exact = false;     // re-encode frame-accurately (else stream copy at keyframes)
  EncodeOptions encode;   // with exact
  bool force = false;     // rewrite clips that are complete
  bool redetect = false;  // ignore cuts given in the input records
  SceneOptions scene;
};

std::unique_ptr<Stage> make_split_stage(const SplitConfig& config);

}  // namespace reel
