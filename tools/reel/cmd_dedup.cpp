// SPDX-License-Identifier: Apache-2.0
// reel dedup: exact and semantic near-duplicate removal over reel embed's records.
#include "commands.h"
#include "common.h"
#include "reel/stages/dedup.h"

namespace reel::cli {

void register_dedup(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    DedupConfig c;
    bool no_phash = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("dedup", "Remove exact and near-duplicate clips (DCT hashes, then k-means + cosine similarity)");
  cmd->add_option("inputs", o->inputs, "Record files from reel embed (.jsonl), or - for stdin (default)");
  o->c.sem.eps = -1;
  cmd->add_option("--eps", o->c.sem.eps, "Duplicates have cosine similarity >= 1 - eps (default: the embedding model card's "
                  "dedup_eps, 0.2 for the default model; else NeMo Curator's 0.1)")
      ->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--clusters", o->c.sem.clusters,
                  "k-means clusters (0 = ceil(N / 2000); 1 = compare every pair, exact)")->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--probe", o->c.sem.probe,
                  "1: compare inside each item's cluster (NeMo Curator); 2: also inside its second-nearest cluster, "
                  "finding pairs the clustering splits (about 4x the comparisons)")
      ->capture_default_str()->check(CLI::Range(1, 2));
  cmd->add_option("--rank", o->c.sem.rank, "Which item of a duplicate group is kept: hard (farthest from the centroid, "
                  "NeMo's default), easy (nearest), random")->capture_default_str()
      ->check(CLI::IsMember({"hard", "easy", "random"}));
  cmd->add_option("--keep-by", o->c.keep_by, "Keep the item with the highest value of this record field instead "
                  "(e.g. scores.aesthetic.score; records without it rank last)");
  cmd->add_option("--seed", o->c.sem.seed, "k-means and random-rank seed")->capture_default_str();
  cmd->add_option("--kmeans-init", o->c.sem.kmeans.init, "kmeans|| or kmeans++")->capture_default_str()
      ->check(CLI::IsMember({"kmeans||", "kmeans++"}));
  cmd->add_option("--kmeans-iter", o->c.sem.kmeans.max_iter, "At most this many Lloyd iterations")->capture_default_str();
  cmd->add_flag("--no-phash", o->no_phash, "Skip the exact / near-exact pass on the frames' DCT hashes");
  cmd->add_option("--phash-bits", o->c.phash_bits, "Copies differ by at most this mean Hamming distance per frame hash (of 64)")
      ->capture_default_str();
  cmd->add_option("--rejected", o->c.rejected, "Write the duplicates here (JSONL), each naming what it duplicates");
  cmd->add_flag("--histogram", o->c.histogram,
                "Print the distribution of nearest-neighbour similarities to stderr (look at it before choosing --eps)");
  cmd->footer(
      "\nExamples:\n"
      "  reel embed -o emb.h5 clips.jsonl | reel dedup --rejected dups.jsonl > unique.jsonl\n"
      "  reel dedup --histogram --clusters 1 embedded.jsonl > /dev/null     # look before choosing --eps\n"
      "  cat shard-*.jsonl | reel dedup --keep-by scores.aesthetic.score > unique.jsonl" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    o->c.phash = !o->no_phash;
    auto stage = make_dedup_stage(o->c);
    RunOptions ro;  // the whole set in one process: a shard would only see its own duplicates
    ro.inputs = o->inputs;
    ro.progress.mode = globals().progress;
    run_whole_and_store(std::move(stage), ro, exit_code);
  });
}

}  // namespace reel::cli
