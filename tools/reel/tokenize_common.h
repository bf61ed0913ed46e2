// SPDX-License-Identifier: Apache-2.0
// Option helpers shared by the `reel tokenize` subcommands and `reel eval`.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common.h"
#include "reel/stages/tokenize.h"

namespace reel::cli {
void apply_threads();
void add_device_option(CLI::App* cmd, std::string* device, std::string* dtype);
// --tile, --tile-overlap and --batch.
void add_pass_options(CLI::App* cmd, PassOptions* p);
void add_batch_option(CLI::App* cmd, int* batch);
// --devices (a worker pool over devices; excludes --device, which add_device_option must have
// added first), and both in a callback: --device's target, or --devices' targets and one worker
// per device unless --workers was given.
void add_devices_option(CLI::App* cmd, std::string* devices);
void apply_devices(const CLI::App* cmd, const std::string& device, const std::string& devices, const std::string& dtype,
                   ComputeTarget* target, std::vector<ComputeTarget>* targets, RunnerCli* runner);

void register_tokenize_roundtrip(CLI::App* cmd, int* exit_code);
void register_tokenize_verify(CLI::App* cmd, int* exit_code);
void register_tokenize_bench(CLI::App* cmd, int* exit_code);
void register_tokenize_info(CLI::App* cmd, int* exit_code);
}  // namespace reel::cli
