// SPDX-License-Identifier: Apache-2.0
// reel shard: WebDataset tar shards (mp4 + json + txt, optionally latents and embeddings).
#include "commands.h"
#include "common.h"
#include "reel/stages/shard.h"

namespace reel::cli {

void register_shard(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    ShardConfig c;
    std::string bucket, duration_bins = "5,10,30";
    RunnerCli runner;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("shard", "Pack clips and their records into WebDataset tar shards");
  cmd->add_option("inputs", o->inputs, "Clip record files (.jsonl), clips, directories, or - for stdin (default)");
  cmd->add_option("-o,--output", o->c.out_dir, "Output folder: shards, their indexes and manifest.json")->required();
  cmd->add_option("--shard-size", o->c.max_samples, "Samples per shard (0: no limit)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shard-bytes", o->c.max_bytes, "Bytes of sample files per shard (0: no limit; e.g. 500000000)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--bucket", o->bucket, "Bucket folders by any of resolution,aspect,duration (Cosmos-Curate's bins; "
                  "default: none)");
  cmd->add_option("--duration-bins", o->duration_bins, "Duration bin edges in seconds; a clip under the first fits no bin "
                  "and is reported")->capture_default_str();
  cmd->add_option("--text", o->c.text, "The .txt member: caption (the captions' texts), enhanced (their rewrites where "
                  "there are), none")->capture_default_str()->check(CLI::IsMember({"caption", "enhanced", "none"}));
  cmd->add_flag("--latents", o->c.latents, "Add <key>.latents.npy (or .tokens.npy) from reel tokenize encode's latents file");
  cmd->add_flag("--embedding", o->c.embedding, "Add <key>.embedding.npy from reel embed's file (or the inline vector)");
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nPer sample: <key>.mp4, <key>.json (the record), <key>.txt (the caption), optionally .latents.npy/.tokens.npy and\n"
      ".embedding.npy; key = the record's id. Each shard-NNNNNN.tar has an index shard-NNNNNN.idx.json (member offsets and\n"
      "sizes); manifest.json counts samples, bytes and seconds per bucket and lists clips that fit no bucket (also errors\n"
      "in their records, exit 3). Records get \"webdataset\": {tar, key, bucket}. A re-run keeps the complete shards.\n"
      "Examples:\n"
      "  reel shard -o dataset/ --shard-size 1000 captioned.jsonl > sharded.jsonl\n"
      "  reel shard -o dataset/ --bucket resolution,aspect,duration --shard-bytes 500000000 --latents tokens.jsonl" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    if (!o->bucket.empty()) {
      o->c.buckets.dims = parse_bucket_dims(o->bucket);
      o->c.buckets.duration_edges = parse_duration_edges(o->duration_bins);
    }
    auto stage = make_shard_stage(o->c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
