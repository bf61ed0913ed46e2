// SPDX-License-Identifier: Apache-2.0
// reel filter: motion and technical quality scores; keeps the clips that pass.
#include <algorithm>

#include "commands.h"
#include "common.h"
#include "tokenize_common.h"
#include "reel/stages/filter.h"

namespace reel::cli {

void register_filter(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    FilterConfig c;
    bool no_motion = false, no_quality = false;
    double min_motion = 0.00098, min_motion_patch = 1e-6, min_sharpness = 0, max_black = 0.5, max_frozen = 0.5;
    double max_text_area = 0.1, max_nsfw = 0.8;
    bool allow_overlay = false, nsfw = false;
    std::string nsfw_model = REEL_DEFAULT_NSFW_MODEL;
    std::vector<std::string> min_scores, max_scores;
    std::string device = "auto", dtype = "auto", devices;
    RunnerCli runner;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("filter", "Score clips (motion, technical quality) and keep those that pass");
  cmd->add_option("inputs", o->inputs, "Clips, directories, record files (.jsonl), or - for clip records on stdin (default)");
  cmd->add_option("--rejected", o->c.rejected, "Write rejected records here, each with its reasons (JSONL)");
  cmd->add_flag("--score-only", o->c.score_only, "Keep every record; only add scores and the decision");
  cmd->add_flag("--no-motion", o->no_motion, "Skip the motion scorer");
  cmd->add_flag("--no-quality", o->no_quality, "Skip the technical-quality scorer");
  cmd->add_flag("--text", o->c.text, "Run the text-overlay scorer (Tesseract on one frame a second; slower)");
  cmd->add_option("--max-text-area", o->max_text_area, "With --text: reject above this text.text_area")->capture_default_str();
  cmd->add_flag("--allow-overlay", o->allow_overlay, "With --text: keep clips with burned-in text (text.overlay = 1)");
  cmd->add_flag("--nsfw", o->nsfw, "Run the content-safety scorer (Yahoo's open_nsfw on one frame a second)");
  cmd->add_option("--nsfw-model", o->nsfw_model, "open_nsfw ONNX file (installed by .ci/deps.sh)")->capture_default_str()
      ->envname("REEL_NSFW_MODEL");
  cmd->add_option("--max-nsfw", o->max_nsfw, "With --nsfw: reject above this safety.nsfw")->capture_default_str();
  add_device_option(cmd, &o->device, &o->dtype);
  add_devices_option(cmd, &o->devices);
  for (const char* name : {"--device", "--dtype", "--devices"})
    cmd->get_option(name)->description(std::string("open_nsfw and model cards' towers (reel's kernels on a GPU, OpenCV DNN on the CPU): ") +
                                       cmd->get_option(name)->get_description());
  cmd->add_option("--model-card", o->c.model_cards,
                  "A user's ONNX model described by a model card (JSON; see README): adds scores.<name>.score")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--min-motion", o->min_motion, "Reject below this motion.global_mean (NeMo Curator's default)")
      ->capture_default_str();
  cmd->add_option("--min-motion-patch", o->min_motion_patch,
                  "Reject below this motion.per_patch_min_256 (NeMo Curator's default)")
      ->capture_default_str();
  cmd->add_option("--min-sharpness", o->min_sharpness, "Reject below this quality.sharpness (0 = off)")->capture_default_str();
  cmd->add_option("--max-black", o->max_black, "Reject above this quality.black_fraction")->capture_default_str();
  cmd->add_option("--max-frozen", o->max_frozen, "Reject above this quality.frozen_fraction")->capture_default_str();
  cmd->add_option("--min-width", o->c.min_width, "Reject narrower clips (pixels, as displayed)")->capture_default_str();
  cmd->add_option("--min-height", o->c.min_height, "Reject lower clips (pixels, as displayed)")->capture_default_str();
  cmd->add_option("--min-fps", o->c.min_fps, "Reject clips below this frame rate")->capture_default_str();
  cmd->add_option("--min-score", o->min_scores, "NAME=VALUE: reject below VALUE (any score, e.g. quality.contrast=20)")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--max-score", o->max_scores, "NAME=VALUE: reject above VALUE (e.g. quality.dark=0.6)")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  // Clips in parallel, one per core: exported motion vectors need slice-threaded decoding
  // (lib/media/decoder.cpp), so one clip rarely fills more than a core.
  o->runner.workers = 0;
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nScores (under \"scores\"): motion.{global_mean, per_patch_min_256, per_patch_min_256_box} from the codec's\n"
      "motion vectors (NeMo Curator's definition; -1 with a note when there are none); quality.{sharpness, brightness,\n"
      "dark, bright, contrast, colourfulness, black_fraction, frozen_fraction, longest_frozen_s}; stream.{width, height,\n"
      "fps, frames}; with --text text.{words, text_area, text_frames, overlay}; with --nsfw safety.{nsfw, nsfw_mean}. Decision under \"filter\": {kept, reasons: [{score, value, threshold, rule}]}.\nExamples:\n"
      "  reel split videos/ -o clips/ | reel filter --rejected rejected.jsonl > kept.jsonl\n"
      "  reel filter --score-only --no-motion clips/ > scored.jsonl" +
      exit_code_footer());
  cmd->callback([cmd, o, exit_code] {
    FilterConfig& c = o->c;
    if (o->nsfw || !c.model_cards.empty()) {
      ComputeTarget one;
      apply_devices(cmd, o->device, o->devices, o->dtype, &one, &c.targets, &o->runner);
      if (c.targets.empty()) c.targets = {one};
    }
    c.motion = !o->no_motion;
    c.quality = !o->no_quality;
    const int workers = o->runner.workers > 0 ? o->runner.workers : thread_count();
    c.decode_threads = std::max(1, thread_count() / workers);
    c.rules = {{"motion.global_mean", o->min_motion, true},
               {"motion.per_patch_min_256", o->min_motion_patch, true},
               {"quality.black_fraction", o->max_black, false},
               {"quality.frozen_fraction", o->max_frozen, false},
               {"text.text_area", o->max_text_area, false}};
    if (!o->allow_overlay) c.rules.push_back({"text.overlay", 0, false});
    c.rules.push_back({"safety.nsfw", o->max_nsfw, false});
    if (o->nsfw) c.nsfw_model = o->nsfw_model;
    if (o->min_sharpness > 0) c.rules.push_back({"quality.sharpness", o->min_sharpness, true});
    for (const auto& s : o->min_scores) c.rules.push_back(parse_score_rule(s, true));
    for (const auto& s : o->max_scores) c.rules.push_back(parse_score_rule(s, false));
    auto stage = make_filter_stage(c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
