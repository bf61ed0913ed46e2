// SPDX-License-Identifier: Apache-2.0
// reel tokenize encode|decode (+ roundtrip|verify|bench|info): the Cosmos-compatible tokenizer.
#include <sstream>

#include "commands.h"
#include "common.h"
#include "reel/model/ops.h"
#include "tokenize_common.h"

namespace reel::cli {

void apply_threads() { ops_set_threads(thread_count()); }

void add_device_option(CLI::App* cmd, std::string* device) {
  cmd->add_option("--device", *device, "auto|cpu|cuda|cuda:N (the tokenizer runs on the CPU for now: auto = cpu)")
      ->capture_default_str()
      ->envname("REEL_DEVICE");
}

void add_tile_options(CLI::App* cmd, TileOptions* t) {
  cmd->add_option("--tile", t->tile, "Process frames in spatial tiles of this many pixels (0 = whole frames); bounds memory")
      ->capture_default_str();
  cmd->add_option("--tile-overlap", t->overlap, "Overlap of neighbouring tiles in pixels, blended linearly")->capture_default_str();
}

namespace {

struct Opts {
  TokenizeConfig c;
  std::vector<std::string> inputs;
  std::string device = "auto";
  bool fp32 = false, int32 = false;
  RunnerCli runner;
};

void add_model_option(CLI::App* cmd, std::string* model) {
  cmd->add_option("--model", *model, "Model file (HDF5, see weights/FORMAT.md)")->required()->envname("REEL_MODEL");
}

}  // namespace

void register_tokenize(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("tokenize", "Cosmos-compatible causal video/image tokenizer (encode, decode, verify)");
  cmd->require_subcommand(1);
  cmd->footer(exit_code_footer());

  auto e = std::make_shared<Opts>();
  e->c.output = "latents.h5";
  auto* enc = cmd->add_subcommand("encode", "Encode videos/images into latents or tokens (HDF5); one record per clip");
  add_model_option(enc, &e->c.model);
  enc->add_option("inputs", e->inputs, "Videos, images, directories, record files, or - for clip records on stdin (default)");
  enc->add_option("-o,--output", e->c.output,
                  "Latents index file; each clip lands in <output>.d/<key>.h5 (a re-run skips clips already there)")
      ->capture_default_str();
  enc->add_option("--window", e->c.window, "Frames per causal window (1 + k*tc), 0 = whole clip")->capture_default_str();
  enc->add_flag("--fp32", e->fp32, "Store continuous latents as float32 (default float16)");
  enc->add_flag("--int32", e->int32, "Store token ids as int32 (default uint16)");
  add_tile_options(enc, &e->c.tile);
  add_device_option(enc, &e->device);
  add_runner_options(enc, &e->runner);
  enc->callback([e, exit_code] {
    resolve_tokenizer_device(e->device);
    apply_threads();
    e->c.write.latent_fp16 = !e->fp32;
    e->c.write.indices_uint16 = !e->int32;
    e->c.decode_threads = globals().threads;
    e->c.compute_threads = thread_count();
    auto stage = make_encode_stage(e->c);
    run_and_store(std::move(stage), run_options(e->runner, e->inputs), exit_code);
  });

  auto d = std::make_shared<Opts>();
  d->c.output = "recon";
  auto* dec = cmd->add_subcommand("decode", "Decode latents back to mp4 videos, one per clip");
  add_model_option(dec, &d->c.model);
  dec->add_option("latents", d->inputs,
                  "Latents files written by `reel tokenize encode`, or - for its records on stdin (default)");
  dec->add_option("-o,--output", d->c.output, "Output directory")->capture_default_str();
  add_tile_options(dec, &d->c.tile);
  add_runner_options(dec, &d->runner);
  dec->callback([d, exit_code] {
    apply_threads();
    d->c.compute_threads = thread_count();
    // A latents file stands for the records of its clips.
    std::string lines;
    std::vector<std::string> rest;
    for (const auto& in : d->inputs) {
      if (in.size() > 3 && (in.ends_with(".h5") || in.ends_with(".hdf5"))) lines += latents_file_records(in);
      else rest.push_back(in);
    }
    std::istringstream clips(lines);
    auto stage = make_decode_stage(d->c);
    RunOptions ro = run_options(d->runner, rest);
    if (!lines.empty()) {
      ro.inputs.insert(ro.inputs.begin(), "-");
      ro.in = &clips;
    }
    run_and_store(std::move(stage), ro, exit_code);
  });

  register_tokenize_roundtrip(cmd, exit_code);
  register_tokenize_verify(cmd, exit_code);
  register_tokenize_bench(cmd, exit_code);
  register_tokenize_info(cmd, exit_code);
}

}  // namespace reel::cli
