// SPDX-License-Identifier: Apache-2.0
// reel dedup: removes exact and near-exact copies (the DCT hashes reel embed records), then
// semantic near-duplicates (dedup/semdedup.h) among the records' embeddings, which it reads
// from the HDF5 files the records reference (any number of shards) or from inline vectors.
//
// Only ids, references and vectors are held in memory (N x D float32); the records wait in
// an unlinked temporary file. Kept records go to stdout in input order with "dedup": {kept,
// cluster, max_similarity}; duplicates to the rejected file with {duplicate_of, similarity,
// method: phash | semantic, cluster}. A record without an embedding, one whose file cannot be
// read, whose row belongs to another id, or whose dimension or model differs from the first
// file's gets an error record. With histogram, the distribution of the similarities goes to
// stderr before anything is removed.
#pragma once
#include <memory>
#include <string>

#include "reel/dedup/semdedup.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct DedupConfig {
  SemDedupOptions sem;     // eps (< 0: the model card's dedup_eps, else 0.1), clusters, rank, seed
  std::string keep_by;     // a record field ("scores.aesthetic.score"): highest ranked first
  bool phash = true;       // the exact / near-exact pass
  double phash_bits = 4;   // mean Hamming distance over the frames, at most
  std::string rejected;    // "" = duplicates are dropped
  bool histogram = false;
};

std::unique_ptr<WholeStage> make_dedup_stage(const DedupConfig& config);

}  // namespace reel
