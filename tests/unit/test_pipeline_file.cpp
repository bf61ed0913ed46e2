// SPDX-License-Identifier: Apache-2.0
// reel run's pipeline files: the steps as command-line words, and every mistake naming its line.
#include <gtest/gtest.h>

#include "reel/core/status.h"
#include "reel/pipeline/pipeline_file.h"

namespace reel {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_pipeline(text, "p.yaml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::InvalidArgument);
    return e.what();
  }
  return "";
}

TEST(PipelineFile, StepsBecomeCommandLines) {
  const PipelineFile f = parse_pipeline(
      "inputs: [a.mp4, b/]\n"
      "stages:\n"
      "  - split: {output: c, max-len: 4}\n"
      "  - filter:\n"
      "      score_only: true\n"
      "      nsfw: false\n"
      "      min-score: [quality.sharpness=50, motion.global_mean=0.001]\n"
      "  - tokenize encode: {model: m.h5, o: l.h5}\n"
      "  - dedup\n"
      "  - caption: {prompt: \"true\", extra-body: '{\"a\": 1}'}\n",
      "p.yaml");
  EXPECT_EQ(f.inputs, (std::vector<std::string>{"a.mp4", "b/"}));
  ASSERT_EQ(f.steps.size(), 5u);
  EXPECT_EQ(step_words(f.steps[0]), (std::vector<std::string>{"split", "--output", "c", "--max-len", "4"}));
  EXPECT_EQ(step_words(f.steps[1]), (std::vector<std::string>{"filter", "--score-only", "--min-score", "quality.sharpness=50",
                                                              "--min-score", "motion.global_mean=0.001"}));
  EXPECT_EQ(step_words(f.steps[2]), (std::vector<std::string>{"tokenize", "encode", "--model", "m.h5", "-o", "l.h5"}));
  EXPECT_EQ(step_words(f.steps[3]), (std::vector<std::string>{"dedup"}));
  // A quoted "true" is a value, not a flag.
  EXPECT_EQ(step_words(f.steps[4]), (std::vector<std::string>{"caption", "--prompt", "true", "--extra-body", "{\"a\": 1}"}));
  EXPECT_EQ(f.steps[1].line, 4);
  EXPECT_EQ(f.steps[1].options[0].line, 5);
  EXPECT_EQ(f.steps[3].line, 9);
}

TEST(PipelineFile, MistakesNameTheLine) {
  EXPECT_EQ(error_of("stages:\n  - shard: {output: d, size: {a: 1}}\n"), "p.yaml:2: --size: a mapping is not an option value");
  EXPECT_EQ(error_of("stages:\n  - split\nstagez: 1\n"), "p.yaml:3: unknown key 'stagez' (the file has 'stages' and optionally 'inputs')");
  EXPECT_EQ(error_of("stages: []\n"), "p.yaml:1: 'stages' must be a list of stages");
  EXPECT_EQ(error_of("stages:\n  - {a: 1, b: 2}\n"),
            "p.yaml:2: a stage is its name, or its name with a mapping of options (- filter: {score-only: true})");
  EXPECT_EQ(error_of("stages:\n  - filter: [1]\n"), "p.yaml:2: filter: options must be a mapping (name: value)");
  EXPECT_EQ(error_of("- a\n"), "p.yaml:1: the file must be a mapping with a 'stages' list");
  EXPECT_NE(error_of("stages:\n  - split: {output: [1, 2}\n").find("p.yaml:2: not YAML"), std::string::npos);
  EXPECT_THROW(load_pipeline_file("/no/such/pipeline.yaml"), Error);
}

}  // namespace
}  // namespace reel
