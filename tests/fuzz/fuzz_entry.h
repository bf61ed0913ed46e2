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
#include "reel/filter/learned.h"
#include "reel/model/config.h"
#include "reel/model/tokenizer.h"
#include "reel/storage/s3.h"

namespace reel::fuzz {

// One stdin line of any subcommand (JSON Lines record or plain path).
inline void input_line(const uint8_t* data, size_t size) {
  InputItem item;
  parse_input_line(std::string(reinterpret_cast<const char*>(data), size), &item);
}

// A resume ledger left by a killed (or tampered-with) run: reopening it must cut or set it
// aside, never crash.
inline void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
}

inline void ledger_file(const uint8_t* data, size_t size, const std::string& path) {
  write_bytes(path, data, size);
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

// An answer from an object store (ListObjectsV2, CreateMultipartUpload, an error body).
inline void s3_xml(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  try {
    const S3ListPage p = parse_list_objects_v2(xml);
    for (const auto& o : p.objects) (void)o.key.size();
  } catch (const Error&) {
  }
  try {
    (void)parse_upload_id(xml);
  } catch (const Error&) {
  }
  try {
    (void)parse_s3_error(xml);
  } catch (const Error&) {
  }
}

// ~/.aws/credentials or ~/.aws/config.
inline void aws_config(const uint8_t* data, size_t size) {
  try {
    (void)parse_aws_ini(std::string(reinterpret_cast<const char*>(data), size), "config");
  } catch (const Error&) {
  }
}

// A model card (JSON) as reel filter --model and reel embed --card read it; its network is
// not loaded (that is OpenCV's parser, not ours).
inline void model_card(const uint8_t* data, size_t size, const std::string& path) {
  write_bytes(path, data, size);
  try {
    (void)load_model_card(path);
  } catch (const Error&) {
  }
  std::remove(path.c_str());
}

// A tokenizer weights file (HDF5): every tensor checked by name, shape and dtype, or ModelError.
inline void weights_file(const uint8_t* data, size_t size, const std::string& path) {
  write_bytes(path, data, size);
  try {
    (void)Tokenizer::load(path);
  } catch (const Error&) {
  }
  std::remove(path.c_str());
}

}  // namespace reel::fuzz
