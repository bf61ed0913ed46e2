// SPDX-License-Identifier: Apache-2.0
// reel scenes: shot boundaries of whole videos, one record per video.
//
// The record describes the video at `path` (frames, fps, duration_s, width, height, ...) and
// holds the detection under "scenes": {cuts, transitions, detector, threshold, min_scene_len,
// analysis_width[, scores, many]}, which `reel split` reuses instead of detecting again.
// transitions: [{first, last, kind}], the gradual transitions (frames first..last mix two shots).
#pragma once
#include <memory>

#include "reel/media/scene_detect.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct ScenesConfig {
  SceneOptions scene;
  bool scores = false;  // per-frame detector scores too
};

// The media-description fields of a decoded video (frames, fps, ...; see record.h).
Json media_description(const SceneResult& r);
// [{first, last, kind}] of gradual transitions.
Json transitions_json(const std::vector<Transition>& ts);
// The "scenes" object: cuts, transitions and the settings that produced them.
Json scenes_object(const SceneResult& r, const SceneOptions& o, bool with_scores);

std::unique_ptr<Stage> make_scenes_stage(const ScenesConfig& config);

}  // namespace reel
