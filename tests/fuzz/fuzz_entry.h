// SPDX-License-Identifier: Apache-2.0
// Entry points shared by the libFuzzer targets (tests/fuzz, clang, -DREEL_BUILD_FUZZERS=ON)
// and the deterministic smoke test that runs them in every CI build: untrusted bytes must end
// in a reel::Error or a clean result, never in a crash, an assert or a hang.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "reel/core/status.h"
#include <cstdio>
#include <filesystem>

#include "reel/pipeline/ledger.h"
#include "reel/pipeline/pipeline_file.h"
#include "reel/pipeline/record.h"
#include "reel/model/config.h"

namespace reel::fuzz {

// One stdin line of any subcommand (JSON Lines record or plain path).
inline void input_line(const uint8_t* data, size_t size) {
  InputItem item;
  parse_input_line(std::string(reinterpret_cast<const char*>(data), size), &item);
}

// A resume ledger left by a killed (or tampered-with) run: reopening it must cut or set it
// aside, never crash.
inline void ledger_file(const uint8_t* data, size_t size, const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    Ledger l(path, "fuzz", nlohmann::json::object());
    (void)l.find("k");
  } catch (const Error&) {
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(path + ".stale", ec);
}

// The `config` attribute of a model file.
inline void model_config(const uint8_t* data, size_t size) {
  try {
    auto j = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size));
    ModelConfig c = config_from_json(j);
    (void)c.arch_name();
  } catch (const nlohmann::json::exception&) {
  } catch (const Error&) {
  }
}

// A reel run pipeline file (YAML): an Error naming the line, or steps, never a crash.
inline void pipeline_file(const uint8_t* data, size_t size) {
  try {
    const PipelineFile f = parse_pipeline(std::string(reinterpret_cast<const char*>(data), size), "p.yaml");
    for (const auto& s : f.steps) (void)step_words(s);
  } catch (const Error&) {
  }
}

}  // namespace reel::fuzz
