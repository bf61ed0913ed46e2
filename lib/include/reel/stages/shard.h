// SPDX-License-Identifier: Apache-2.0
// reel shard: WebDataset tar shards a training job streams. Per sample (key = the record's id):
//   <key>.mp4            the clip file itself (its own extension: .mp4, .mkv, ...)
//   <key>.json           the record as it came in
//   <key>.txt            the caption text, windows joined by newlines (or their rewrites)
//   <key>.latents.npy    continuous latents (C, t, h, w) float32, or <key>.tokens.npy (t, h, w)
//                        uint16 token ids, from the latents HDF5 the record points at (--latents)
//   <key>.embedding.npy  the clip embedding, float32 (--embedding)
// in <out>/<bucket>/shard-NNNNNN.tar (optionally bucketed, shard/buckets.h), each with an index
// shard-NNNNNN.idx.json (keys, and each member's byte offset and size in the tar), and a
// manifest.json of the dataset (per bucket: shards, samples, bytes, seconds; clips that fit no
// bucket, reported with the reason; totals). A shard closes at --shard-size samples or
// --shard-bytes bytes of sample files, whichever comes first.
//
// Writes: one writer per shard (the runner's collect thread, in input order), tar and index
// each atomic. Which sample goes into which shard depends only on the inputs and options, so a
// killed run, re-run, finds its complete shards on disk (index present, sizes and options
// matching, the same keys in the same order) and keeps them without rewriting; the shard
// being filled when it was killed is written again. Sharded runs (--shard I/N) put the shard
// suffix in every name (shard-000000.shard-00003-of-00016.tar, manifest.shard-...json).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "reel/pipeline/runner.h"
#include "reel/shard/buckets.h"

namespace reel {

struct ShardConfig {
  std::string out_dir;
  int64_t max_samples = 1000;  // per shard; 0: no limit
  int64_t max_bytes = 0;       // bytes of sample files per shard (before tar headers); 0: no limit
  BucketOptions buckets;
  std::string text = "caption";  // caption | enhanced (each window's rewrite where it has one) | none
  bool latents = false, embedding = false;
};

std::unique_ptr<Stage> make_shard_stage(const ShardConfig& config);

}  // namespace reel
