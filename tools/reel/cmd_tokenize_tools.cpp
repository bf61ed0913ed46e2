// SPDX-License-Identifier: Apache-2.0
// reel tokenize roundtrip | verify | bench | info.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common.h"
#include "reel/core/log.h"
#include "reel/io/h5.h"
#include "reel/model/bench.h"
#include "reel/model/latents_io.h"
#include "reel/stages/verify.h"
#include "tokenize_common.h"

namespace fs = std::filesystem;

namespace reel::cli {
namespace {

int run_bench(const std::string& arch, const std::string& model, const std::string& shape_s, int width, int repeat,
              uint64_t seed, const std::string& only, const ComputeTarget& target) {
  apply_threads();
  const std::vector<int> shape = parse_bench_shape(shape_s);
  std::unique_ptr<Tokenizer> tok = model.empty() ? Tokenizer::random(config_for_arch(arch, width), seed) : load_model(model);
  place_tokenizer(*tok, target);
  emit(bench_tokenizer(*tok, shape, repeat, seed, only, thread_count()));
  return kExitOk;
}

int run_info(const std::string& arch, const std::string& model, int width, int blocks, const std::string& format) {
  ModelConfig cfg;
  std::unique_ptr<Tokenizer> tok;
  if (!model.empty()) {
    tok = load_model(model);
    cfg = tok->config();
  } else {
    cfg = config_for_arch(arch, width, blocks);
  }
  auto specs = Tokenizer::expected_tensors(cfg);
  int64_t enc = 0, dec = 0;
  nlohmann::json tensors = nlohmann::json::array();
  for (auto& s : specs) {
    int64_t n = 1;
    for (auto d : s.shape) n *= d;
    (s.encoder ? enc : dec) += n;
    tensors.push_back({{"name", s.name}, {"shape", s.shape}});
  }
  nlohmann::json j = {{"arch", cfg.arch_name()},
                      {"config", cfg.to_json()},
                      {"encoder_parameters", enc},
                      {"decoder_parameters", dec},
                      {"parameters", enc + dec}};
  if (tok) j["model_sha256"] = tok->checksum();
  if (format == "json") {
    j["tensors"] = tensors;
    emit(j);
  } else {
    printf("%s  encoder %.2fM  decoder %.2fM  total %.2fM parameters\n", cfg.arch_name().c_str(), enc / 1e6, dec / 1e6,
           (enc + dec) / 1e6);
    printf("config: %s\n", cfg.to_json().dump().c_str());
    for (auto& s : specs) {
      std::string sh;
      for (size_t i = 0; i < s.shape.size(); ++i) sh += (i ? "x" : "") + std::to_string(s.shape[i]);
      printf("  %-60s %s\n", s.name.c_str(), sh.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

void register_tokenize_roundtrip(CLI::App* cmd, int* exit_code) {
  struct O {
    TokenizeConfig c;
    std::vector<std::string> inputs;
    std::string device = "auto", dtype = "auto", devices;
    RunnerCli runner;
  };
  auto o = std::make_shared<O>();
  o->c.output = "recon";
  auto* c = cmd->add_subcommand("roundtrip", "Encode and decode clips; write the reconstructions as mp4");
  c->add_option("--model", o->c.model, "Model file")->required()->envname("REEL_MODEL");
  c->add_option("inputs", o->inputs, "Videos, directories, record files, or - for clip records on stdin (default)");
  c->add_option("-o,--output", o->c.output, "Output directory")->capture_default_str();
  c->add_option("--window", o->c.window, "Frames per causal window (1 + k*tc), 0 = whole clip")->capture_default_str();
  add_pass_options(c, &o->c.passes);
  add_device_option(c, &o->device, &o->dtype);
  add_devices_option(c, &o->devices);
  add_runner_options(c, &o->runner);
  c->callback([o, c, exit_code] {
    apply_devices(c, o->device, o->devices, o->dtype, &o->c.target, &o->c.devices, &o->runner);
    apply_threads();
    o->c.decode_threads = globals().threads;
    o->c.compute_threads = thread_count();
    auto stage = make_roundtrip_stage(o->c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

void register_tokenize_verify(CLI::App* cmd, int* exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto tol = std::make_shared<double>(1e-4);
  auto* c = cmd->add_subcommand("verify", "Run every case of reference golden files; one JSON line per case");
  c->add_option("golden", *files, "Golden HDF5 files (weights + cases/<k>/{input,latent|codes,indices,recon,taps})")
      ->required();
  c->add_option("--tolerance", *tol, "Pass if every relative error (max-abs / RMS) is below this")->capture_default_str();
  c->callback([=] {
    auto stage = make_verify_stage(*tol, thread_count());
    RunOptions ro;
    ro.inputs = *files;
    ro.progress.mode = globals().progress;
    run_and_store(std::move(stage), ro, exit_code);
  });
}

void register_tokenize_bench(CLI::App* cmd, int* exit_code) {
  struct O {
    std::string arch = "CV8x8x8", model, shape = "1,3,17,256,256";
    int width = 128, repeat = 1;
    std::string only, device = "cpu", dtype = "auto";
    bool random = false;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<O>();
  auto* c = cmd->add_subcommand("bench", "Time encode and decode; prints seconds and GFLOP/s as JSON");
  c->add_option("--arch", o->arch, "Architecture (with --random-weights)")->capture_default_str();
  c->add_flag("--random-weights", o->random, "Use seeded random weights instead of --model");
  c->add_option("--model", o->model, "Model file");
  c->add_option("--shape", o->shape, "Input shape B,C,T,H,W (B = 1)")->capture_default_str();
  c->add_option("--width", o->width, "Base channels of the random model")->capture_default_str();
  c->add_option("--repeat", o->repeat, "Runs; the fastest is reported")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--seed", o->seed, "Seed of weights and input")->capture_default_str();
  c->add_option("--only", o->only,
                "Time only one half (with REEL_PROFILE=1 the table then covers that half; decode still encodes first)")
      ->check(CLI::IsMember({"encode", "decode"}));
  add_device_option(c, &o->device, &o->dtype);
  c->callback([o, exit_code] {
    if (!o->random && o->model.empty()) throw CLI::ValidationError("bench", "give --model or --random-weights");
    *exit_code = run_bench(o->arch, o->random ? "" : o->model, o->shape, o->width, o->repeat, o->seed, o->only,
                           resolve_compute(o->device, o->dtype));
  });
}

void register_tokenize_info(CLI::App* cmd, int* exit_code) {
  struct O {
    std::string arch, model, format = "table";
    int width = 128, blocks = 2;
  };
  auto o = std::make_shared<O>();
  auto* c = cmd->add_subcommand("info", "Layer layout and parameter counts of an architecture or model file");
  c->add_option("--arch", o->arch, "CV4x8x8 CV8x8x8 CV8x16x16 DV4x8x8 DV8x8x8 DV8x16x16 CI8x8 CI16x16 DI8x8 DI16x16 (+ -360p)");
  c->add_option("--model", o->model, "Model file");
  c->add_option("--width", o->width, "Base channels (with --arch)")->capture_default_str();
  c->add_option("--res-blocks", o->blocks, "Res blocks per level (with --arch)")->capture_default_str();
  c->add_option("--format", o->format, "table|json")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
  c->callback([o, exit_code] {
    if (o->arch.empty() == o->model.empty()) throw CLI::ValidationError("info", "give exactly one of --arch and --model");
    *exit_code = run_info(o->arch, o->model, o->width, o->blocks, o->format);
  });
}

}  // namespace reel::cli
