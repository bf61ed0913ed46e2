// SPDX-License-Identifier: Apache-2.0
#include "reel/model/config.h"

#include <climits>
#include <cmath>
#include <cstdint>

#include "reel/core/status.h"
#include "core/json_int.h"

namespace reel {
namespace {
int ilog2(int v) {
  int r = 0;
  while ((1 << r) < v) ++r;
  return r;
}
bool pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }
}  // namespace

int ModelConfig::num_spatial_downs() const { return ilog2(spatial_compression) - ilog2(patch_size); }
int ModelConfig::num_temporal_downs() const { return video ? ilog2(temporal_compression) - ilog2(patch_size) : 0; }

void ModelConfig::validate() const {
  auto bad = [](const std::string& why) { throw Error(Code::ModelError, "invalid model config: " + why); };
  if (name != "CV" && name != "DV" && name != "CI" && name != "DI") bad("name must be CV, DV, CI or DI, got " + name);
  if (channels <= 0 || channels > 4096) bad("channels out of range");
  if (channels_mult.empty() || channels_mult.size() > 8) bad("channels_mult must have 1..8 entries");
  for (int m : channels_mult)
    if (m <= 0 || m > 64) bad("channels_mult entries out of range");
  if (num_res_blocks < 1 || num_res_blocks > 16) bad("num_res_blocks out of range");
  if (!pow2(patch_size) || patch_size > 16) bad("patch_size must be a power of two <= 16");
  if (!pow2(spatial_compression) || spatial_compression < patch_size) bad("spatial_compression must be a power of two >= patch_size");
  if (num_spatial_downs() > static_cast<int>(channels_mult.size()) - (video ? 1 : 0) && video)
    bad("too few levels for spatial_compression");
  if (video && !pow2(temporal_compression))
    bad("temporal_compression must be a power of two");
  if (video && num_temporal_downs() < 0) bad("temporal_compression smaller than patch_size is not supported");
  if (z_channels <= 0 || latent_channels <= 0) bad("z_channels/latent_channels must be positive");
  if (discrete) {
    if (static_cast<int>(levels.size()) != embedding_dim) bad("levels must have embedding_dim entries");
    for (int l : levels)
      if (l < 2 || l > 256) bad("FSQ levels out of range");
  }
  if (video && num_groups != 1) bad("only num_groups=1 (per-frame norm) is supported for video models");
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"in_channels", in_channels},
                      {"out_channels", out_channels},
                      {"channels", channels},
                      {"channels_mult", channels_mult},
                      {"num_res_blocks", num_res_blocks},
                      {"z_channels", z_channels},
                      {"patch_size", patch_size},
                      {"patch_method", "haar"},
                      {"spatial_compression", spatial_compression},
                      {"encoder", video ? "FACTORIZED" : "Default"},
                      {"decoder", video ? "FACTORIZED" : "Default"}};
  if (video) {
    j["temporal_compression"] = temporal_compression;
    j["legacy_mode"] = legacy_mode;
    j["num_groups"] = num_groups;
  }
  if (discrete) {
    j["embedding_dim"] = embedding_dim;
    j["levels"] = levels;
    j["quantizer"] = "FSQ";
  } else {
    j["latent_channels"] = latent_channels;
  }
  return j;
}

std::string ModelConfig::arch_name() const {
  std::string s = name;
  if (video) s += std::to_string(temporal_compression) + "x";
  s += std::to_string(spatial_compression) + "x" + std::to_string(spatial_compression);
  return s;
}

namespace {
int int_field(const nlohmann::json& j, const char* key, int fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number_integer()) throw Error(Code::ModelError, std::string("config: ") + key + " must be an integer");
  const auto v = json_int(*it);
  if (!v) throw Error(Code::ModelError, std::string("config: ") + key + " is out of range");
  return static_cast<int>(*v);
}

std::vector<int> ints_field(const nlohmann::json& j, const char* key, std::vector<int> fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_array()) throw Error(Code::ModelError, std::string("config: ") + key + " must be a list of integers");
  std::vector<int> out;
  for (size_t i = 0; i < it->size(); ++i) out.push_back(int_field(nlohmann::json{{"v", (*it)[i]}}, "v", 0));
  return out;
}
}  // namespace

ModelConfig config_from_json(const nlohmann::json& j) {
  ModelConfig c;
  try {
    c.name = j.value("name", std::string("CV"));
    c.video = c.name == "CV" || c.name == "DV";
    c.discrete = c.name == "DV" || c.name == "DI";
    c.in_channels = int_field(j, "in_channels", 3);
    c.out_channels = int_field(j, "out_channels", 3);
    c.channels = int_field(j, "channels", 128);
    c.channels_mult = ints_field(j, "channels_mult", std::vector<int>{2, 4, 4});
    c.num_res_blocks = int_field(j, "num_res_blocks", 2);
    c.z_channels = int_field(j, "z_channels", 16);
    c.latent_channels = int_field(j, "latent_channels", 16);
    c.embedding_dim = int_field(j, "embedding_dim", 6);
    c.levels = ints_field(j, "levels", std::vector<int>{8, 8, 8, 5, 5, 5});
    c.patch_size = int_field(j, "patch_size", 4);
    c.spatial_compression = int_field(j, "spatial_compression", c.video ? 8 : 16);
    c.temporal_compression = int_field(j, "temporal_compression", 8);
    c.legacy_mode = j.value("legacy_mode", false);
    c.num_groups = int_field(j, "num_groups", 1);
    std::string pm = j.value("patch_method", std::string("haar"));
    if (pm != "haar") throw Error(Code::ModelError, "unsupported patch_method '" + pm + "' (only haar)");
    std::string enc = j.value("encoder", std::string(c.video ? "FACTORIZED" : "Default"));
    if (c.video && enc != "FACTORIZED") throw Error(Code::ModelError, "unsupported video encoder '" + enc + "'");
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::ModelError, std::string("bad config JSON: ") + e.what());
  }
  c.validate();
  return c;
}

std::vector<std::string> known_archs() {
  return {"CV4x8x8", "CV8x8x8", "CV8x16x16", "DV4x8x8", "DV8x8x8", "DV8x16x16", "CI8x8", "CI16x16", "DI8x8", "DI16x16",
          "CV4x8x8-360p", "DV4x8x8-360p", "CI8x8-360p", "CI16x16-360p", "DI8x8-360p", "DI16x16-360p"};
}

ModelConfig config_for_arch(const std::string& arch_in, int channels, int num_res_blocks) {
  std::string arch = arch_in;
  bool lowres = false;
  for (const char* suf : {"-360p", "-LowRes", "-lowres"}) {
    std::string s(suf);
    if (arch.size() > s.size() && arch.compare(arch.size() - s.size(), s.size(), s) == 0) {
      arch = arch.substr(0, arch.size() - s.size());
      lowres = true;
    }
  }
  ModelConfig c;
  c.channels = channels;
  c.num_res_blocks = num_res_blocks;
  if (arch.size() < 4) throw Error(Code::InvalidArgument, "unknown architecture '" + arch_in + "'");
  c.name = arch.substr(0, 2);
  c.video = c.name == "CV" || c.name == "DV";
  c.discrete = c.name == "DV" || c.name == "DI";
  if (c.name != "CV" && c.name != "DV" && c.name != "CI" && c.name != "DI")
    throw Error(Code::InvalidArgument, "unknown architecture '" + arch_in + "'");
  int a = 0, b = 0, d = 0;
  if (c.video) {
    if (sscanf(arch.c_str() + 2, "%dx%dx%d", &a, &b, &d) != 3 || b != d)
      throw Error(Code::InvalidArgument, "unknown architecture '" + arch_in + "'");
    c.temporal_compression = a;
    c.spatial_compression = b;
  } else {
    if (sscanf(arch.c_str() + 2, "%dx%d", &b, &d) != 2 || b != d)
      throw Error(Code::InvalidArgument, "unknown architecture '" + arch_in + "'");
    c.spatial_compression = b;
  }
  c.z_channels = c.name == "DI" ? 256 : 16;
  c.latent_channels = 16;
  if (lowres) {
    c.patch_size = 2;
    if (arch == "DV4x8x8") c.z_channels = 256;
  } else if (arch == "CV4x8x8") {
    c.channels_mult = {2, 4};  // the released CV4x8x8 has two levels in encoder and decoder
  }
  c.validate();
  return c;
}

}  // namespace reel
