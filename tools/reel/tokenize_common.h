// SPDX-License-Identifier: Apache-2.0
// Option helpers shared by the `reel tokenize` subcommands and `reel eval`.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "reel/stages/tokenize.h"

namespace reel::cli {
void apply_threads();
void add_device_option(CLI::App* cmd, std::string* device, std::string* dtype);
void add_tile_options(CLI::App* cmd, TileOptions* t);

void register_tokenize_roundtrip(CLI::App* cmd, int* exit_code);
void register_tokenize_verify(CLI::App* cmd, int* exit_code);
void register_tokenize_bench(CLI::App* cmd, int* exit_code);
void register_tokenize_info(CLI::App* cmd, int* exit_code);
}  // namespace reel::cli
