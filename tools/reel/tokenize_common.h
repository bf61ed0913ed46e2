// SPDX-License-Identifier: Apache-2.0
// Pieces shared by the `reel tokenize` subcommands (cmd_tokenize*.cpp).
#pragma once
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "reel/model/pipeline.h"

namespace reel::cli {
std::unique_ptr<Tokenizer> load_model(const std::string& path);
void apply_threads();
// Resolves --device for the tokenizer. The tokenizer runs on the CPU for now: "auto" picks
// the CPU, an explicit "cuda[:N]" is an error (exit 5), never a silent fallback.
void check_device(const std::string& request);
void add_device_option(CLI::App* cmd, std::string* device);
struct TileOpts {
  int tile = 0, overlap = 64;
};
void add_tile_options(CLI::App* cmd, TileOpts* t);
ClipLatents encode_source(const Tokenizer& tok, const std::string& source, int window, double* fps,
                          const TileOpts& tile = {});
// Decodes a clip's latents into an mp4 at `fps` (atomically); returns the frames written.
int64_t write_reconstruction(const Tokenizer& tok, const ClipLatents& lat, double fps, const std::filesystem::path& out,
                             const TileOpts& tile);
std::string clip_key(const nlohmann::json& rec, const std::string& source);

void register_tokenize_roundtrip(CLI::App* cmd, int* exit_code);
void register_tokenize_verify(CLI::App* cmd, int* exit_code);
void register_tokenize_bench(CLI::App* cmd, int* exit_code);
void register_tokenize_info(CLI::App* cmd, int* exit_code);
}  // namespace reel::cli
