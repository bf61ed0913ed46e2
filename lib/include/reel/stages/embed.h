// SPDX-License-Identifier: Apache-2.0
// reel embed: one embedding per clip from a model card's network (embed/embedder.h), with a
// DCT hash of each sampled frame for exact and near-exact copies (embed/phash.h).
//
// Each record gets "embedding": {"model", "dim", "frames" (the indices of the sampled frames),
// "phash": [16 hex digits per sampled frame], "file", "row"} (the row of the shard's HDF5 file, embed/embedding_store.h),
// and with inline "vector": [D floats] (then the file is optional).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct EmbedConfig {
  std::string card;        // model card (default_embed_card_path())
  std::string output;      // HDF5 file (shard suffix added); "" only with inline
  bool inline_vector = false;
  bool fp16 = false;
  bool resume = true;
  int decode_threads = 1;
  std::string ledger;      // "" = <output>.ledger.jsonl
  // Where the network runs (--device, --devices): worker i on targets[i % size]; empty: the CPU.
  std::vector<ComputeTarget> targets;
};

std::unique_ptr<Stage> make_embed_stage(const EmbedConfig& config);

}  // namespace reel
