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

#include "reel/core/backend.h"
#include "reel/model/latents_io.h"
#include "reel/model/pipeline.h"
#include "reel/pipeline/runner.h"

namespace reel {

// tile: pixels per spatial tile; 0 = whole frames; kTileAuto = whole frames when they fit the
// backend's free memory, else the largest tile that does (reel/model/memory_plan.h). The CPU
// backend always fits (the OS decides), so auto means whole frames there.
constexpr int kTileAuto = -1;
struct TileOptions {
  int tile = kTileAuto, overlap = 64;
};

// Where the tokenizer computes: --device and --dtype resolved.
struct ComputeTarget {
  Device device;
  DType dtype = DType::F32;
  std::string describe() const { return device.name() + " " + dtype_name(dtype); }
};

struct TokenizeConfig {
  std::string model;      // model file (HDF5, weights/FORMAT.md)
  ComputeTarget target;   // CPU fp32 unless --device/--dtype say otherwise
  std::string output;     // encode: latents index file; decode/roundtrip: folder
  int window = 17;        // frames per causal window (1 + k*tc), 0 = whole clip
  TileOptions tile;
  LatentWriteOptions write;
  int decode_threads = 0; // FFmpeg decoder threads
  int compute_threads = 0; // OpenMP/BLAS threads of one record (0 = the library default)
};

// Loads a model; a missing or corrupt file is a ModelError (exit 4) naming the file. With a
// target, the weights then go to that device in that dtype.
std::unique_ptr<Tokenizer> load_model(const std::string& path);
std::unique_ptr<Tokenizer> load_model(const std::string& path, const ComputeTarget& target);
// Moves a tokenizer onto a target (a no-op for CPU fp32, where every tokenizer starts).
void place_tokenizer(Tokenizer& tok, const ComputeTarget& target);
// --device auto|cpu|cuda|cuda:N and --dtype auto|fp32|bf16|fp16. "auto" takes the first GPU
// and logs why it did or did not; an explicit cuda request without a device is
// DeviceUnavailable (exit 5), never a fallback; a 16-bit dtype on the CPU is InvalidArgument.
ComputeTarget resolve_compute(const std::string& device, const std::string& dtype);

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
