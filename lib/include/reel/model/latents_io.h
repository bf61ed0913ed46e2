// SPDX-License-Identifier: Apache-2.0
// Storage of tokenized clips in an HDF5 latents file.
//
// Layout: one group per clip, `clips/<key>`, holding
//   latent   (C, t, h, w) float16 or float32   continuous models
//   indices  (t, h, w) uint16 or int32        discrete models (token ids 0..63999)
// and attributes: source, record (the input record as JSON), frames, width, height, fps,
// model, model_sha256, config, window, window_frames / window_pad_front / window_pad_back /
// window_latent_frames (JSON lists: the window layout), pad_top, pad_left, padded_h, padded_w.
// Keys are restricted to [A-Za-z0-9._-] so no record field can escape the clips/ group.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "reel/io/h5.h"
#include "reel/model/pipeline.h"

namespace reel {

struct LatentWriteOptions {
  bool latent_fp16 = true;      // continuous latents as float16 (else float32)
  bool indices_uint16 = true;   // token ids as uint16 (else int32)
};

// A clip id as a file and HDF5 group name: letters, digits, '-', '_' and '.' kept, anything
// else '_', never starting with '.'; an id that needed any change gets "-<fnv1a64 hex>" so that
// distinct ids never share a name (ids from records are untrusted: "../../x", "/abs", NUL).
std::string sanitize_key(const std::string& key);
void write_clip_latents(h5::File& f, const std::string& key, const ClipLatents& lat, const nlohmann::json& attrs,
                        const LatentWriteOptions& opt);
// Reads a clip group; attrs receives the JSON attributes (source, fps, ...).
ClipLatents read_clip_latents(const h5::File& f, const std::string& key, nlohmann::json* attrs);

}  // namespace reel
