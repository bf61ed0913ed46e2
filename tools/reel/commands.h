// SPDX-License-Identifier: Apache-2.0
// One register_<name>() per subcommand (one file each). A subcommand's callback stores
// the process exit code in *exit_code.
#pragma once
#include <CLI/CLI.hpp>

namespace reel::cli {
void register_scenes(CLI::App& app, int* exit_code);
void register_split(CLI::App& app, int* exit_code);
void register_tokenize(CLI::App& app, int* exit_code);
void register_eval(CLI::App& app, int* exit_code);
void register_info(CLI::App& app, int* exit_code);
void register_report(CLI::App& app, int* exit_code);
void register_merge(CLI::App& app, int* exit_code);
void register_filter(CLI::App& app, int* exit_code);
void register_embed(CLI::App& app, int* exit_code);
void register_dedup(CLI::App& app, int* exit_code);
void register_caption(CLI::App& app, int* exit_code);
void register_shard(CLI::App& app, int* exit_code);
void register_run(CLI::App& app, int* exit_code);
void register_slurm(CLI::App& app, int* exit_code);
// Every subcommand, in --help order.
void register_all(CLI::App& app, int* exit_code);

}  // namespace reel::cli
