// SPDX-License-Identifier: Apache-2.0
// reel merge: join the record files and latents files of a sharded run into one.
#include "commands.h"
#include "common.h"
#include "reel/stages/merge.h"

namespace reel::cli {

void register_merge(CLI::App& app, int* exit_code) {
  auto c = std::make_shared<MergeConfig>();
  auto* cmd = app.add_subcommand("merge", "Join the shards of a run: record files to stdout, latents files into one (-o)");
  cmd->add_option("inputs", c->inputs, "Record files (.jsonl) and latents files (.h5) of every shard")->required();
  cmd->add_option("-o,--output", c->latents_out, "Merged latents file (self-contained HDF5), when latents are given");
  cmd->footer(
      "\nFails, naming it, when a shard of a name.shard-I-of-N family is missing, or a clip or record is in two inputs.\n"
      "Records come out sorted by source, span start and id, whatever the sharding.\nExample:\n"
      "  reel merge out/clips.shard-*.jsonl > clips.jsonl\n  reel merge out/latents.shard-*.h5 -o latents.h5" +
      exit_code_footer());
  cmd->callback([c, exit_code] {
    auto stage = make_merge_stage(*c);
    RunOptions ro;
    ro.inputs = c->inputs;
    ro.progress.mode = "never";
    run_whole_and_store(std::move(stage), ro, exit_code);
  });
}

}  // namespace reel::cli
