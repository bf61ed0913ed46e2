// SPDX-License-Identifier: Apache-2.0
// reel tokenize encode|decode (+ roundtrip|verify|bench|info): the Cosmos-compatible tokenizer.
#include <cstdlib>
#include <map>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "reel/model/ops.h"
#include "tokenize_common.h"

namespace reel::cli {

void apply_threads() { ops_set_threads(thread_count()); }

void add_device_option(CLI::App* cmd, std::string* device, std::string* dtype) {
  cmd->add_option("--device", *device, "auto|cpu|cuda|cuda:N (auto: the first GPU if there is one, else the CPU)")
      ->capture_default_str()
      ->envname("REEL_DEVICE");
  cmd->add_option("--dtype", *dtype, "auto|fp32|bf16|fp16: activations and weights (auto: bf16 on CUDA, fp32 on the CPU)")
      ->capture_default_str()
      ->envname("REEL_DTYPE");
}

void add_batch_option(CLI::App* cmd, int* batch) {
  cmd->add_option("--batch", *batch,
                  "auto|N: windows of a clip per forward pass; auto = as many as fit the device's free memory (at most " +
                      std::to_string(kMaxBatch) + "), 1 on the CPU. Each window's latents are what it gives alone, to float32 rounding")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"auto", std::to_string(kBatchAuto)}}))
      ->check(CLI::Validator(
          [](std::string& v) {
            const int n = std::atoi(v.c_str());
            return n == kBatchAuto || (n >= 1 && n <= 1024) ? std::string() : "--batch wants auto or 1..1024, got " + v;
          },
          "auto|1..1024"))
      ->default_str("auto");
}

void add_pass_options(CLI::App* cmd, PassOptions* p) {
  cmd->add_option("--tile", p->tile,
                  "auto|0|N: spatial tiles of N pixels (0 = whole frames); auto = whole frames when they fit the "
                  "device's free memory, else the largest tile that does")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"auto", std::to_string(kTileAuto)}}))
      ->check(CLI::Range(kTileAuto, 1 << 20))
      ->default_str("auto");
  cmd->add_option("--tile-overlap", p->overlap, "Overlap of neighbouring tiles in pixels, blended linearly")->capture_default_str();
  add_batch_option(cmd, &p->batch);
}

void add_devices_option(CLI::App* cmd, std::string* devices) {
  auto* opt = cmd->add_option("--devices", *devices,
                              "all|cpu|cuda:0,cuda:1,...: one worker per device, each with its own model instance, records "
                              "in input order (all = every CUDA device; with cpu, --workers N sets the pool)")
                  ->envname("REEL_DEVICES");
  if (auto* one = cmd->get_option_no_throw("--device")) opt->excludes(one);
}

void apply_devices(const CLI::App* cmd, const std::string& device, const std::string& devices, const std::string& dtype,
                   ComputeTarget* target, std::vector<ComputeTarget>* targets, RunnerCli* runner) {
  if (devices.empty()) {
    *target = resolve_compute(device, dtype);
    return;
  }
  *targets = resolve_computes(devices, dtype);
  if (cmd->count("--workers") == 0 && std::getenv("REEL_WORKERS") == nullptr)
    runner->workers = static_cast<int>(targets->size());
}

namespace {

struct Opts {
  TokenizeConfig c;
  std::vector<std::string> inputs;
  std::string device = "auto", dtype = "auto", devices;
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
  add_pass_options(enc, &e->c.passes);
  add_device_option(enc, &e->device, &e->dtype);
  add_devices_option(enc, &e->devices);
  add_runner_options(enc, &e->runner);
  enc->callback([e, enc, exit_code] {
    apply_devices(enc, e->device, e->devices, e->dtype, &e->c.target, &e->c.devices, &e->runner);
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
  add_pass_options(dec, &d->c.passes);
  add_device_option(dec, &d->device, &d->dtype);
  add_devices_option(dec, &d->devices);
  add_runner_options(dec, &d->runner);
  dec->callback([d, dec, exit_code] {
    apply_devices(dec, d->device, d->devices, d->dtype, &d->c.target, &d->c.devices, &d->runner);
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
