// SPDX-License-Identifier: Apache-2.0
// reel eval: full-reference quality of reconstructions, one record per clip ("eval": {...})
// and, after a complete run, one aggregate record ({"aggregate", "clips", "failed",
// "passed"[, "frechet"]}).
//
// An input is a clip to round-trip through a tokenizer (with a model), or a reference whose
// record names the distorted file in "reconstruction.path". The round trip streams: only one
// window of decoded source frames is held at a time.
#pragma once
#include <memory>
#include <string>

#include "reel/media/feature_net.h"
#include "reel/model/pipeline.h"
#include "reel/pipeline/runner.h"
#include "reel/stages/tokenize.h"

namespace reel {

struct EvalConfig {
  std::string model;            // round trip through this tokenizer ("" = compare files)
  int window = 17;
  bool ssim = true, ms_ssim = true;
  int per_frame = 0;            // 0 none, 1 psnr_y (for the report), 2 every series
  std::string previews;         // folder for worst-frame JPEGs ("" = none)
  FeatureNetSpec features;      // path "" = no Fréchet distance
  int feature_stride = 4;
  int decode_threads = 0;
  int compute_threads = 0;      // OpenMP/BLAS threads of one record (0 = the library default)
  ComputeTarget target;         // where --model computes
  std::vector<ComputeTarget> devices;  // --devices: worker i on devices[i % n]; empty: target
  int batch = kBatchAuto;       // windows per pass (reel/model/pipeline.h)
  std::string ledger;           // resume ledger ("" = <previews>/.ledger/eval.jsonl if previews)
};

std::unique_ptr<Stage> make_eval_stage(const EvalConfig& config);

// The records `reel eval REF DIST` and `--ref-dir/--dist-dir` feed the stage.
std::string eval_pair_record(const std::string& ref, const std::string& dist);

}  // namespace reel
