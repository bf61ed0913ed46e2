// SPDX-License-Identifier: Apache-2.0
// reel tokenize encode | decode | roundtrip as runner stages, and the clip-level helpers
// they share with eval.
//
// encode: one record per clip with "tokens": {path (the latents index), group, file (the
// clip's own HDF5 file), model, model_sha256, window, frames, latent_shape|indices_shape};
// see latents_store.h for why the latents survive a kill. decode: clip records (or every clip
// of a latents file) back to mp4s. roundtrip: encode + decode in memory, mp4 out. All three
// resume from a ledger beside their output.
#pragma once
#include <memory>
#include <string>

#include "reel/model/latents_io.h"
#include "reel/model/pipeline.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct TileOptions {
  int tile = 0, overlap = 64;
};

struct TokenizeConfig {
  std::string model;      // model file (HDF5, weights/FORMAT.md)
  std::string output;     // encode: latents index file; decode/roundtrip: folder
  int window = 17;        // frames per causal window (1 + k*tc), 0 = whole clip
  TileOptions tile;
  LatentWriteOptions write;
  int decode_threads = 0; // FFmpeg decoder threads
  int compute_threads = 0; // OpenMP/BLAS threads of one record (0 = the library default)
};

// Loads a model; a missing or corrupt file is a ModelError (exit 4) naming the file.
std::unique_ptr<Tokenizer> load_model(const std::string& path);
// --device for the tokenizer: "auto" and "cpu" run on the CPU (logged as such); an explicit
// CUDA request is DeviceUnavailable (exit 5) while the tokenizer has no CUDA path.
void resolve_tokenizer_device(const std::string& request);

// Decodes `source` and encodes it window by window.
ClipLatents encode_source(const Tokenizer& tok, const std::string& source, int window, double* fps,
                          const TileOptions& tile, int decode_threads);
// Decodes latents into an mp4 at `fps` (atomically); returns the frames written.
int64_t write_reconstruction(const Tokenizer& tok, const ClipLatents& lat, double fps, const std::string& out,
                             const TileOptions& tile);
// The name a clip's outputs are stored under: its record id (sanitised) or UUIDv5(source).
std::string clip_key(const Json& rec, const std::string& source);

std::unique_ptr<Stage> make_encode_stage(const TokenizeConfig& config);
std::unique_ptr<Stage> make_decode_stage(const TokenizeConfig& config);
std::unique_ptr<Stage> make_roundtrip_stage(const TokenizeConfig& config);

// One JSON line per clip of a latents file, {"source", "tokens": {"path", "group"}}: what
// `reel tokenize decode FILE` feeds its stage. Throws InvalidArgument naming the file when it
// cannot be read.
std::string latents_file_records(const std::string& path);

}  // namespace reel
