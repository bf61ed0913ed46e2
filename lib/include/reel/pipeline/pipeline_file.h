// SPDX-License-Identifier: Apache-2.0
// The pipeline file of `reel run` (YAML, read with yaml-cpp):
//
//   inputs: [datasets/videos]          # optional: the first step's inputs (else the command line or stdin)
//   stages:
//     - split: {output: out/clips, max-len: 4}
//     - filter: {score-only: true}
//     - embed: {output: out/embeddings.h5}
//     - dedup                           # no options
//     - tokenize encode: {model: weights/reel-cv4x8x8-w32.h5, output: out/latents.h5}
//     - shard: {output: out/dataset, shard-size: 1000}
//
// Each stage is a subcommand and its options are that subcommand's long options, without the
// dashes (score-only or score_only): a scalar is the option's value, `true` a flag (`false`
// leaves it out), a list repeats the option. Every mistake is an error naming file and line.
#pragma once
#include <string>
#include <vector>

namespace reel {

struct PipelineOption {
  std::string name;                 // "--score-only", "-o"
  std::vector<std::string> values;  // empty: a flag
  int line = 0;                     // 1-based, in the file
};

struct PipelineStep {
  std::vector<std::string> command;  // {"tokenize", "encode"}
  std::vector<PipelineOption> options;
  int line = 0;
};

struct PipelineFile {
  std::string path;
  std::vector<std::string> inputs;
  std::vector<PipelineStep> steps;
};

// Throws Error(InvalidArgument) "FILE:LINE: what is wrong" (also when the file is missing or not YAML).
PipelineFile load_pipeline_file(const std::string& path);
PipelineFile parse_pipeline(const std::string& text, const std::string& path);

// The step as command-line words: {"filter", "--score-only", "--nsfw-model", "m.onnx"}.
std::vector<std::string> step_words(const PipelineStep& step);

}  // namespace reel
