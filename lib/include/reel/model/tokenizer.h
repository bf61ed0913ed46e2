// SPDX-License-Identifier: Apache-2.0
// The Cosmos-family tokenizer (CV/DV video, CI/DI image) on a compute backend (the CPU's by
// default; reel/core/backend.h).
//
// A Tokenizer is built from a ModelConfig: the builder lists every tensor the config needs
// (name and shape, official state_dict names) and the loader checks a weights file against
// that list tensor by tensor. Model files are HDF5: a `config` JSON attribute and a
// `weights/` group (float32, float16 or bfloat16 stored as uint16 with dtype="bfloat16");
// weights/FORMAT.md documents it. Unused extra tensors are ignored with a warning; missing
// ones, wrong shapes and wrong dtypes are Error(ModelError) naming the tensor.
//
// Video clips are (T, 3, H, W) activations in [-1, 1] with T = 1 + k * temporal_compression
// and H, W multiples of spatial_compression; images are processed as independent frames.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/model/config.h"
#include "reel/model/ops.h"

namespace reel {

// Called with (module path, output) after every main module, names as in the golden files.
using TapFn = std::function<void(const std::string&, const Act&)>;

struct TensorSpec {
  std::string name;            // without the "weights/" prefix
  std::vector<int64_t> shape;
  bool encoder = true;         // counted in the encoder's parameters (else decoder)
};

class Tokenizer {
 public:
  // Loads an HDF5 model file (throws Error(ModelError|NotFound)).
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  // Random weights (uniform, fan-in scaled) from a seed, for benchmarks and tests.
  static std::unique_ptr<Tokenizer> random(const ModelConfig& config, uint64_t seed);
  ~Tokenizer();

  const ModelConfig& config() const;
  // Every tensor the config needs, in build order.
  static std::vector<TensorSpec> expected_tensors(const ModelConfig& config);
  int64_t parameter_count(bool encoder) const;
  const std::string& checksum() const;  // SHA-256 over the used tensors as float32
  const std::string& source() const;

  // x: (T, 3, H, W) in [-1, 1]. Returns the latent (continuous) or the normalised FSQ codes
  // (discrete, then *indices receives (t, h, w) token ids).
  Act encode(const Act& x, std::vector<int32_t>* indices = nullptr, const TapFn& tap = nullptr) const;
  // latent: (t, latent_dim, h, w) latent or FSQ codes. Returns (T, 3, H, W), not clamped.
  Act decode(const Act& latent, const TapFn& tap = nullptr) const;
  Act decode_indices(const std::vector<int32_t>& indices, int t, int h, int w, const TapFn& tap = nullptr) const;

  // Batched: `windows` independent windows of equal length in one pass, their frames one after
  // another in x (windows * T frames) and in the result. Each window's output is what encode/decode
  // of that window alone gives, to float32 rounding: the ops along T run window by window, while
  // the frame-wise ops see the whole batch at once (bigger GEMMs and kernel launches on a GPU,
  // whose blocking, like the CPU's shared Winograd GEMMs, may round differently).
  Act encode_batch(const Act& x, int windows, std::vector<int32_t>* indices = nullptr, const TapFn& tap = nullptr) const;
  // The same for input already in the backend's memory (Backend::yuv420_frame's frames, joined).
  Act encode_batch(const Tensor& x, int windows, std::vector<int32_t>* indices = nullptr, const TapFn& tap = nullptr) const;
  // The same, returning once the pass is queued on the backend, its latent on the way to the
  // host (Backend::download_async): a GPU runs it while the caller queues the next. A discrete
  // model's token ids come back before this returns (the codes are then ready too).
  std::unique_ptr<PendingDownload> encode_batch_async(const Tensor& x, int windows, std::vector<int32_t>* indices = nullptr,
                                                      const TapFn& tap = nullptr) const;
  Act decode_batch(const Act& latent, int windows, const TapFn& tap = nullptr) const;
  Act decode_indices_batch(const std::vector<int32_t>& indices, int windows, int t, int h, int w,
                           const TapFn& tap = nullptr) const;

  // Frames out for `frames_in` input frames (1 + k*tc -> 1 + k), and the reverse.
  int latent_frames(int frames_in) const;
  int output_frames(int latent_frames) const;

  // The backend the network runs on (the CPU backend unless told): the weights are uploaded to
  // it once, here. Host Acts go in and come out of encode and decode whatever the backend.
  void use_backend(std::unique_ptr<Backend> be);
  const Backend& backend() const;

  // Saves config + weights (float32) to an HDF5 model file.
  void save(const std::string& path) const;

  struct Impl;

 private:
  Tokenizer();
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel
