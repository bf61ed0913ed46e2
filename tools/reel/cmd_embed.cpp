// SPDX-License-Identifier: Apache-2.0
// reel embed: clip embeddings from a model card's ONNX network into HDF5.
#include "commands.h"
#include "common.h"
#include "reel/embed/embedder.h"
#include "reel/stages/embed.h"
#include "tokenize_common.h"

namespace reel::cli {

void register_embed(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    EmbedConfig c;
    RunnerCli runner;
    std::string device = "auto", dtype = "auto", devices;
  };
  auto o = std::make_shared<Opts>();
  o->c.card = default_embed_card_path();
  auto* cmd = app.add_subcommand("embed", "Embed clips with an image or video model (ONNX + model card) into HDF5");
  cmd->add_option("inputs", o->inputs, "Clips, directories, record files (.jsonl), or - for clip records on stdin (default)");
  cmd->add_option("-o,--output", o->c.output, "HDF5 file for the embeddings (one per shard: the shard is added to the name)");
  cmd->add_option("--model-card", o->c.card, "Model card (JSON) of the embedding network")->capture_default_str()
      ->envname("REEL_EMBED_CARD");
  cmd->add_flag("--inline", o->c.inline_vector, "Also put each vector into its record (embedding.vector); -o is then optional");
  cmd->add_flag("--fp16", o->c.fp16, "Store the matrix as float16 (half the size; about 3 decimal digits)");
  add_device_option(cmd, &o->device, &o->dtype);
  add_devices_option(cmd, &o->devices);
  cmd->get_option("--device")->description("EfficientNet-Lite0 (.h5 cards): " + cmd->get_option("--device")->get_description() +
                                           "; ONNX models run in OpenCV DNN on the CPU");
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nEach record gets \"embedding\": {model, dim, frames, phash (a 64-bit DCT hash per sampled frame, hex), file, row}.\n"
      "The default model is EfficientNet-Lite0 (ImageNet, 1280-d pooled features): a visual-similarity embedding for\n"
      "near-duplicates and search by example, not text-aligned. Users' CLIP/SigLIP/InternVideo exports load through a card.\n"
      "Examples:\n"
      "  reel split videos/ -o clips/ | reel embed -o emb/clips.h5 | reel dedup --rejected dups.jsonl > unique.jsonl\n"
      "  reel embed --model-card my_clip.json --fp16 -o emb.h5 clips.jsonl > embedded.jsonl" +
      exit_code_footer());
  cmd->callback([cmd, o, exit_code] {
    o->c.resume = !o->runner.no_resume;
    ComputeTarget one;
    apply_devices(cmd, o->device, o->devices, o->dtype, &one, &o->c.targets, &o->runner);
    if (o->c.targets.empty()) o->c.targets = {one};
    o->c.decode_threads = thread_count();
    auto stage = make_embed_stage(o->c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
