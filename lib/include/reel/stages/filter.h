// SPDX-License-Identifier: Apache-2.0
// reel filter: scores every clip from one decode and keeps the clips that pass.
//
// Scores go under "scores", one object per scorer ("motion", "quality"; see filter/*.h). The
// decision goes under "filter": {"kept", "reasons": [{"score", "value", "threshold", "rule"}]}.
// Kept records go to stdout; rejected ones to the rejected file (if any), in input order,
// each with its reasons; with score_only every record goes to stdout. A clip without a
// usable frame is rejected with a reason, never dropped silently.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct ScoreRule {
  std::string score;  // "motion.global_mean", "quality.sharpness", ...
  double threshold = 0;
  bool minimum = true;  // true: reject below threshold; false: reject above
};

struct FilterConfig {
  bool motion = true, quality = true, text = false;
  std::string nsfw_model;        // open_nsfw ONNX file: runs the safety scorer ("" = off)
  // Where open_nsfw runs (--device, --devices): worker i on targets[i % size]; empty: the CPU.
  std::vector<ComputeTarget> targets;
  std::vector<std::string> model_cards;  // users' ONNX models, one learned score each (filter/learned.h)
  std::vector<ScoreRule> rules;  // the thresholds (defaults: default_filter_rules())
  double min_width = 0, min_height = 0, min_fps = 0;
  std::string rejected;          // file for rejected records ("" = dropped from stdout only)
  bool score_only = false;
  int decode_threads = 0;
  std::string ledger;            // resume ledger ("" = <rejected>.ledger.jsonl when rejected is set)
};

// NeMo Curator's motion defaults (global_mean >= 0.00098, per_patch_min_256 >= 1e-6),
// reel's quality defaults (black_fraction <= 0.5, frozen_fraction <= 0.5) and text defaults
// (text_area <= 0.1, no burned-in overlay) and open_nsfw's usual cut (nsfw <= 0.8), each
// applied only when its scorer runs.
std::vector<ScoreRule> default_filter_rules();
// "NAME=VALUE" for --min-score / --max-score; throws InvalidArgument.
ScoreRule parse_score_rule(const std::string& spec, bool minimum);

std::unique_ptr<Stage> make_filter_stage(const FilterConfig& config);

}  // namespace reel
