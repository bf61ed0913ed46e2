// SPDX-License-Identifier: Apache-2.0
// reel tokenize roundtrip | verify | bench | info.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common.h"
#include "reel/core/log.h"
#include "reel/io/h5.h"
#include "reel/model/golden.h"
#include "reel/model/latents_io.h"
#include "tokenize_common.h"

namespace fs = std::filesystem;

namespace reel::cli {
namespace {

double peak_rss_mb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

int run_verify(const std::vector<std::string>& files, double tol) {
  apply_threads();
  int failed = 0;
  for (const auto& path : files) {
    std::unique_ptr<Tokenizer> tok;
    try {
      tok = Tokenizer::load(path);
      h5::File f(path, 'r', Code::InvalidData);
      for (const auto& k : f.list("cases")) {
        const std::string base = "cases/" + k;
        nlohmann::json rec = {{"file", path}, {"case", k}, {"model", tok->config().arch_name()}};
        nlohmann::json taps = nlohmann::json::object();
        double worst = 0;
        auto tap = [&](const std::string& name, const Act& a) {
          if (!f.exists(base + "/taps/" + name)) return;
          double e = rel_error(a.v, read_ncthw(f, base + "/taps/" + name).v);
          taps[name] = e;
          worst = std::max(worst, e);
        };
        Act x = read_ncthw(f, base + "/input");
        std::vector<int32_t> idx;
        Act z = tok->encode(x, &idx, tap);
        Act rec_out;
        if (tok->config().discrete) {
          double ec = rel_error(z.v, read_ncthw(f, base + "/codes").v);
          rec["codes"] = ec;
          worst = std::max(worst, ec);
          auto ref = f.read_int32(base + "/indices");
          size_t eq = 0;
          for (size_t i = 0; i < ref.size() && i < idx.size(); ++i) eq += ref[i] == idx[i];
          rec["indices_equal"] = ref.empty() ? 0.0 : double(eq) / ref.size();
          rec_out = tok->decode_indices(ref, z.T, z.H, z.W, tap);
        } else {
          Act lat = read_ncthw(f, base + "/latent");
          double el = rel_error(z.v, lat.v);
          rec["latent"] = el;
          worst = std::max(worst, el);
          rec_out = tok->decode(lat, tap);
        }
        double er = rel_error(rec_out.v, read_ncthw(f, base + "/recon").v);
        rec["recon"] = er;
        worst = std::max(worst, er);
        rec["taps"] = taps;
        rec["max_rel_error"] = worst;
        bool ok = worst < tol && (!rec.contains("indices_equal") || rec["indices_equal"].get<double>() >= 0.999);
        rec["pass"] = ok;
        if (!ok) ++failed;
        emit(rec);
      }
    } catch (const Error& e) {
      nlohmann::json rec = {{"file", path}};
      add_error(rec, "verify", e.code(), e.what());
      emit(rec);
      ++failed;
    }
  }
  return failed ? kExitPartial : kExitOk;
}

int run_bench(const std::string& arch, const std::string& model, const std::string& shape_s, int width, int repeat,
              uint64_t seed, const std::string& only) {
  apply_threads();
  std::unique_ptr<Tokenizer> tok;
  if (!model.empty()) tok = load_model(model);
  else tok = Tokenizer::random(config_for_arch(arch, width), seed);
  std::vector<int> shape;
  std::stringstream ss(shape_s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end || v <= 0 || v > 1 << 16)
      throw Error(Code::InvalidArgument, "--shape " + shape_s + ": '" + part + "' is not a positive integer (want 1,3,T,H,W)");
    shape.push_back(static_cast<int>(v));
  }
  if (shape.size() != 5 || shape[0] != 1 || shape[1] != 3)
    throw Error(Code::InvalidArgument, "--shape " + shape_s + ": want 1,3,T,H,W");
  Act x(shape[2], 3, shape[3], shape[4]);
  uint64_t s = seed * 2654435761u + 1;
  for (auto& v : x.v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<float>((s >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
  }
  using clk = std::chrono::steady_clock;
  double enc_best = 1e30, dec_best = 1e30;
  uint64_t enc_macs = 0, dec_macs = 0;
  Act z;
  std::vector<int32_t> idx;
  for (int r = 0; r < repeat; ++r) {
    ops_mac_reset();
    auto t0 = clk::now();
    z = tok->encode(x, &idx);
    auto t1 = clk::now();
    enc_macs = ops_mac_count();
    enc_best = std::min(enc_best, std::chrono::duration<double>(t1 - t0).count());
    if (only == "encode") continue;
    if (only == "decode") op_profile_reset();
    ops_mac_reset();
    t1 = clk::now();
    Act y = tok->decode(z);
    auto t2 = clk::now();
    dec_macs = ops_mac_count();
    dec_best = std::min(dec_best, std::chrono::duration<double>(t2 - t1).count());
  }
  nlohmann::json j = {{"arch", tok->config().arch_name()},
                      {"channels", tok->config().channels},
                      {"shape", shape},
                      {"threads", thread_count()},
                      {"repeat", repeat},
                      {"peak_rss_mb", peak_rss_mb()}};
  if (only != "decode") {
    j["encode_s"] = enc_best;
    j["encode_gmac"] = enc_macs / 1e9;
    j["encode_gflops"] = 2.0 * enc_macs / 1e9 / enc_best;
  }
  if (only != "encode") {
    j["decode_s"] = dec_best;
    j["decode_gmac"] = dec_macs / 1e9;
    j["decode_gflops"] = 2.0 * dec_macs / 1e9 / dec_best;
  }
  emit(j);
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
    std::string device = "auto";
    RunnerCli runner;
  };
  auto o = std::make_shared<O>();
  o->c.output = "recon";
  auto* c = cmd->add_subcommand("roundtrip", "Encode and decode clips; write the reconstructions as mp4");
  c->add_option("--model", o->c.model, "Model file")->required()->envname("REEL_MODEL");
  c->add_option("inputs", o->inputs, "Videos, directories, record files, or - for clip records on stdin (default)");
  c->add_option("-o,--output", o->c.output, "Output directory")->capture_default_str();
  c->add_option("--window", o->c.window, "Frames per causal window (1 + k*tc), 0 = whole clip")->capture_default_str();
  add_tile_options(c, &o->c.tile);
  add_device_option(c, &o->device);
  add_runner_options(c, &o->runner);
  c->callback([o, exit_code] {
    resolve_tokenizer_device(o->device);
    apply_threads();
    o->c.decode_threads = globals().threads;
    o->c.compute_threads = thread_count();
    auto stage = make_roundtrip_stage(o->c);
    run_and_store(*stage, run_options(o->runner, o->inputs), exit_code);
  });
}

void register_tokenize_verify(CLI::App* cmd, int* exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto tol = std::make_shared<double>(1e-4);
  auto* c = cmd->add_subcommand("verify", "Run every case of reference golden files; one JSON line per case");
  c->add_option("golden", *files, "Golden HDF5 files (weights + cases/<k>/{input,latent|codes,indices,recon,taps})")
      ->required();
  c->add_option("--tolerance", *tol, "Pass if every relative error (max-abs / RMS) is below this")->capture_default_str();
  c->callback([=] { *exit_code = run_verify(*files, *tol); });
}

void register_tokenize_bench(CLI::App* cmd, int* exit_code) {
  struct O {
    std::string arch = "CV8x8x8", model, shape = "1,3,17,256,256";
    int width = 128, repeat = 1;
    std::string only;
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
  c->callback([o, exit_code] {
    if (!o->random && o->model.empty()) throw CLI::ValidationError("bench", "give --model or --random-weights");
    *exit_code = run_bench(o->arch, o->random ? "" : o->model, o->shape, o->width, o->repeat, o->seed, o->only);
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
