// SPDX-License-Identifier: Apache-2.0
// reel merge: joins what the shards of a run wrote into one.
//
// Record files (*.jsonl) are concatenated into one stream on stdout, sorted by source, then
// span start, then id, so the result does not depend on how the work was sharded. Latents
// files (indexes or merged files) are copied into one self-contained HDF5 file (-o), every
// clip's data and attributes included. Merging fails, naming the file or clip, when a shard of
// a "name.shard-I-of-N.ext" family is missing, when two inputs hold the same clip or record,
// or when latents of different models are mixed.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "reel/pipeline/runner.h"

namespace reel {

struct MergeConfig {
  std::vector<std::string> inputs;  // as given, for the missing-shard check
  std::string latents_out;          // merged latents file (needed when latents are given)
};

// Throws InvalidArgument naming the first missing shard of any family in `files`.
void check_shard_families(const std::vector<std::string>& files);

std::unique_ptr<WholeStage> make_merge_stage(const MergeConfig& config);

}  // namespace reel
