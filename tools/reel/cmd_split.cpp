// SPDX-License-Identifier: Apache-2.0
// reel split: cut videos into clips (per shot or fixed-stride windows), one record per clip.
#include "commands.h"
#include "common.h"
#include "reel/stages/split.h"
#include "scene_options.h"

namespace reel::cli {

void register_split(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("split", "Cut videos into clips (per shot or fixed windows); one JSON line per clip");
  struct Opts {
    std::vector<std::string> inputs;
    SplitConfig c;
    RunnerCli runner;
    SceneDeviceCli devices;
  };
  auto o = std::make_shared<Opts>();
  SplitConfig& c = o->c;
  cmd->add_option("inputs", o->inputs,
                  "Videos, directories, URLs, record files (.jsonl; `reel scenes` records are cut at their cuts), or - for "
                  "stdin (default)");
  cmd->add_option("-o,--output", c.outdir, "Output directory for <id>.mp4 and <id>.json")->required();
  cmd->add_option("--mode", c.plan.mode, "scenes: one clip per shot; stride: fixed windows")
      ->capture_default_str()->check(CLI::IsMember({"scenes", "stride"}));
  cmd->add_option("--clip-len", c.plan.clip_len, "Stride mode: clip length in seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--stride", c.plan.stride, "Stride mode: seconds between clip starts")->check(CLI::PositiveNumber);
  cmd->add_option("--min-len", c.plan.min_len, "Drop clips shorter than this (seconds); a last stride window at least this "
                                                 "long is kept")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-len", c.plan.max_len, "Cut longer shots into pieces of at most this (seconds, 0 = no limit)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--crop", c.plan.crop, "Trim this many seconds off each end of every shot")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-clips", c.plan.max_clips,
                  "At most this many clips per video, the first ones (0 = all); in stride mode, or with shots from an upstream "
                  "`reel scenes`, only the start of the video is read")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--keep-transitions", c.plan.keep_transitions,
                "Keep the frames of gradual transitions, cutting at each one's middle (default: no clip holds them)");
  cmd->add_flag("--exact", c.exact, "Re-encode for frame-accurate clips (default: stream copy at keyframes)");
  cmd->add_option("--encoder", c.encode.encoder, "auto|libx264|libopenh264|libvpx-vp9|mpeg4 (with --exact)")
      ->capture_default_str();
  cmd->add_option("--crf", c.encode.crf, "libx264 quality (with --exact)")->capture_default_str()->check(CLI::Range(0, 51));
  cmd->add_flag("--force", c.force, "Rewrite clips that are already complete");
  cmd->add_flag("--redetect", c.redetect, "Detect shots again even when input records carry scenes.cuts");
  add_scene_options(cmd, &c.scene);
  add_scene_device_options(cmd, &o->devices);
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nClips are <outdir>/<id>.mp4 with a <id>.json record beside; id = UUIDv5(source + span). A killed run resumes:\n"
      "finished videos come from <outdir>/.ledger/, finished clips of a half-done video from their sidecars.\nExamples:\n"
      "  reel split datasets/videos -o clips/ > clips.jsonl\n"
      "  reel scenes videos/ | reel split -o clips/ > clips.jsonl\n"
      "  reel split --mode stride --clip-len 4 --stride 4 --exact in.mp4 -o clips/" +
      exit_code_footer());
  cmd->callback([cmd, o, exit_code] {
    if (o->c.plan.mode == "stride" && (o->c.plan.clip_len <= 0 || o->c.plan.stride <= 0))
      throw CLI::ValidationError("--mode stride", "needs --clip-len and --stride");
    o->c.scene.threads = globals().threads;
    apply_scene_devices(cmd, o->devices, &o->c.scene, &o->runner);
    o->c.encode.threads = globals().threads;
    auto stage = make_split_stage(o->c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
