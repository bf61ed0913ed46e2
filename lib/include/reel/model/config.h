// SPDX-License-Identifier: Apache-2.0
// Configuration of a Cosmos-family tokenizer (continuous/discrete, video/image).
//
// The network is built from this config alone (never from which tensors a file holds):
// widths, number of res blocks, compression factors, patch size, legacy_mode. The JSON
// form uses the constructor argument names of the reference implementation, so the
// `config` attribute of the golden files and of released-checkpoint conversions parses as is.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reel {

struct ModelConfig {
  std::string name = "CV";          // family: CV, DV (video) or CI, DI (image)
  bool video = true;
  bool discrete = false;
  int in_channels = 3, out_channels = 3;
  int channels = 128;
  std::vector<int> channels_mult = {2, 4, 4};
  int num_res_blocks = 2;
  int z_channels = 16;
  int latent_channels = 16;         // continuous: quant_conv output channels
  int embedding_dim = 6;            // discrete: FSQ dimensions
  std::vector<int> levels = {8, 8, 8, 5, 5, 5};
  int patch_size = 4;
  int spatial_compression = 8;
  int temporal_compression = 8;     // video only
  bool legacy_mode = false;
  int num_groups = 1;               // video GroupNorm groups (1 = per-frame LayerNorm-like)

  int latent_dim() const { return discrete ? embedding_dim : latent_channels; }
  int num_spatial_downs() const;
  int num_temporal_downs() const;
  // Validates the combination; throws Error(ModelError) with the reason.
  void validate() const;
  nlohmann::json to_json() const;
  std::string arch_name() const;  // e.g. "CV8x8x8", "DI16x16"
};

// Parses the reference-style JSON config; throws Error(ModelError).
ModelConfig config_from_json(const nlohmann::json& j);

// Config of a released architecture at full width ("CV8x8x8", "DI16x16", "CV4x8x8-360p",
// ...), optionally narrowed. Throws Error(InvalidArgument) for an unknown name.
ModelConfig config_for_arch(const std::string& arch, int channels = 128, int num_res_blocks = 2);
std::vector<std::string> known_archs();

}  // namespace reel
