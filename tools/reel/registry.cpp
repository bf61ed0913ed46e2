// SPDX-License-Identifier: Apache-2.0
// The list of subcommands (main and reel run's step parser share it).
#include "commands.h"

namespace reel::cli {

void register_all(CLI::App& app, int* exit_code) {
  register_scenes(app, exit_code);
  register_split(app, exit_code);
  register_filter(app, exit_code);
  register_embed(app, exit_code);
  register_dedup(app, exit_code);
  register_caption(app, exit_code);
  register_shard(app, exit_code);
  register_run(app, exit_code);
  register_slurm(app, exit_code);
  register_tokenize(app, exit_code);
  register_eval(app, exit_code);
  register_report(app, exit_code);
  register_merge(app, exit_code);
  register_info(app, exit_code);
}

}  // namespace reel::cli
