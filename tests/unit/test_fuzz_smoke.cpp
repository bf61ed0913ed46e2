// SPDX-License-Identifier: Apache-2.0
// Runs the fuzz entry points on deterministic mutations of valid inputs, so every CI build
// exercises the parsers' error paths (the libFuzzer targets in tests/fuzz explore further).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

#include "../fuzz/fuzz_entry.h"
#include "reel/core/log.h"

namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  const int edits = 1 + rng() % 6;
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t pos = rng() % s.size();
    switch (rng() % 4) {
      case 0: s[pos] = static_cast<char>(rng() & 0xff); break;
      case 1: s.erase(pos, 1 + rng() % 8); break;
      case 2: s.insert(pos, std::string(1 + rng() % 4, static_cast<char>(rng() & 0xff))); break;
      default: s = s.substr(0, pos); break;
    }
  }
  return s;
}

TEST(FuzzSmoke, InputLines) {
  const std::string seeds[] = {R"({"path": "/data/a.mp4", "id": "x", "span": {"frames": [0, 10]}})",
                               R"({"source": "http://h/v.mp4", "errors": []})", "/plain/path.mp4", "  # comment", ""};
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) {
    std::string s = mutate(seeds[i % 5], rng);
    reel::fuzz::input_line(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  reel::InputItem item;
  ASSERT_TRUE(reel::parse_input_line(R"({"url": "http://h/x.mp4", "k": 1})", &item));
  EXPECT_EQ(item.media, "http://h/x.mp4");
  EXPECT_EQ(item.record["source"], "http://h/x.mp4");  // the first stage sets source
  EXPECT_EQ(item.record["k"], 1);
  ASSERT_TRUE(reel::parse_input_line(R"({"nope": 1})", &item));
  EXPECT_FALSE(item.error.empty());
}

TEST(FuzzSmoke, Ledgers) {
  const std::string header = R"({"options":{},"reel_ledger":1,"stage":"fuzz"})";
  const std::string seeds[] = {header + "\n" + R"({"k":"a","r":[{"id":"a"}],"p":null})" "\n",
                               header + "\n" + R"({"k":"b","r":[]})" "\n" + R"({"k":"c","r)", ""};
  const std::string path = (std::filesystem::temp_directory_path() / ("reel-fuzz-ledger-" + std::to_string(::getpid()))).string();
  std::mt19937 rng(2);
  const reel::LogLevel level = reel::log_level();
  reel::log_set_level(reel::LogLevel::Error);  // every mutant would log why it was set aside
  for (int i = 0; i < 2000; ++i) {
    std::string s = mutate(seeds[i % 3], rng);
    reel::fuzz::ledger_file(reinterpret_cast<const uint8_t*>(s.data()), s.size(), path);
  }
  reel::log_set_level(level);
  // A valid ledger with a torn last line keeps its complete entries.
  const std::string torn = seeds[1];
  {
    std::ofstream(path) << torn;
    reel::Ledger l(path, "fuzz", nlohmann::json::object());
    EXPECT_NE(l.find("b"), nullptr);
    EXPECT_EQ(l.find("c"), nullptr);
  }
  std::filesystem::remove(path);
}

TEST(FuzzSmoke, ModelConfigs) {
  const std::string seed =
      R"({"name": "DV", "channels": 8, "channels_mult": [2, 4, 4], "num_res_blocks": 1, "z_channels": 16,
          "embedding_dim": 6, "levels": [8, 8, 8, 5, 5, 5], "patch_size": 4, "spatial_compression": 8,
          "temporal_compression": 8, "legacy_mode": false, "encoder": "FACTORIZED"})";
  std::mt19937 rng(2);
  for (int i = 0; i < 20000; ++i) {
    std::string s = mutate(seed, rng);
    reel::fuzz::model_config(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  // Hostile values are rejected with a model error, not accepted or crashed on.
  for (const char* bad : {R"({"name": "CV", "channels": -5})", R"({"name": "CV", "channels_mult": []})",
                          R"({"name": "CV", "patch_size": 3})", R"({"name": "XX"})", R"({"name": "CV", "channels": "wide"})",
                          R"({"name": "DV", "levels": [8, 8], "embedding_dim": 6})",
                          // found by fuzz_model_config: a float far outside int was cast to int (undefined behaviour)
                          R"({"name": "CV", "channels": 6.66667e+43})", R"({"name": "CV", "channels": 8.5})",
                          R"({"name": "CV", "channels_mult": [2, 1e300]})", R"({"name": "CV", "z_channels": 18446744073709551615})"}) {
    EXPECT_THROW(reel::config_from_json(nlohmann::json::parse(bad)), reel::Error) << bad;
  }
}

TEST(FuzzSmoke, PipelineFiles) {
  const std::string seeds[] = {
      "inputs: [a.mp4, b/]\nstages:\n  - split: {output: c, max-len: 4}\n  - filter: {score-only: true, nsfw: false}\n"
      "  - tokenize encode:\n      model: m.h5\n      output: l.h5\n  - dedup\n",
      "stages:\n  - caption: {endpoint: \"http://h/v1\", extra-body: '{\"a\": 1}'}\n  - shard: {output: d, bucket: [a, b]}\n"};
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    std::string s = mutate(seeds[i % 2], rng);
    reel::fuzz::pipeline_file(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

TEST(FuzzSmoke, ObjectStoreAnswersAndConfigFiles) {
  const std::string xml[] = {
      R"(<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>)"
      R"(<Contents><Key>v/a.mp4</Key><Size>12</Size></Contents><CommonPrefixes><Prefix>v/</Prefix></CommonPrefixes></ListBucketResult>)",
      R"(<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>)",
      R"(<Error><Code>SlowDown</Code><Message>m</Message></Error>)"};
  const std::string ini[] = {"[default]\naws_access_key_id = A\n[profile x]\nregion = r\ns3 =\n  addressing_style = path\n",
                             "# c\n[a]\nk=v\n"};
  std::mt19937 rng(4);
  for (int i = 0; i < 20000; ++i) {
    std::string s = mutate(xml[i % 3], rng);
    reel::fuzz::s3_xml(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    std::string t = mutate(ini[i % 2], rng);
    reel::fuzz::aws_config(reinterpret_cast<const uint8_t*>(t.data()), t.size());
  }
}

// Model cards: mutants end in a ModelError or a card, and numbers a card cannot hold as int
// (a float such as 1.2e81, which nlohmann would cast with undefined behaviour, an integer past
// int's range, which it would wrap) are refused by name.
TEST(FuzzSmoke, ModelCards) {
  const std::string seed =
      R"({"name": "regressor", "model": "m.onnx", "input": {"size": [64, 48], "layout": "NCHW", "scale": 255,
          "mean": [0.48, 0.45, 0.40], "std": [0.26, 0.26, 0.27]}, "output": {"index": 1}, "reduce": "mean",
          "fps": 1, "max_frames": 16, "threshold": {"min": -100.0}})";
  const std::string path = (std::filesystem::temp_directory_path() / ("reel-fuzz-card-" + std::to_string(::getpid()))).string();
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string s = mutate(seed, rng);
    reel::fuzz::model_card(reinterpret_cast<const uint8_t*>(s.data()), s.size(), path);
  }
  auto refusal = [&](const std::string& card) -> std::string {
    std::ofstream(path) << card;
    try {
      (void)reel::load_model_card(path);
    } catch (const reel::Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal(R"({"name": "a", "model": "m.onnx", "max_frames": 1.22222e+81})").find("max_frames must be an integer"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name": "a", "model": "m.onnx", "frames": 4294967312})").find("frames must be an integer"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name": "a", "model": "m.onnx", "input": {"size": [4294967360, 48]}})").find("input.size"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"name": "a", "model": "m.onnx", "input": {"mean": ["a", 0, 0]}})").find("input.mean must list 3"),
            std::string::npos);
  std::ofstream(path) << seed;
  const reel::ModelCard c = reel::load_model_card(path);
  EXPECT_EQ(c.width, 64);
  EXPECT_EQ(c.height, 48);
  EXPECT_EQ(c.max_frames, 16);
  EXPECT_EQ(c.output_index, 1);
  std::filesystem::remove(path);
}

}  // namespace
