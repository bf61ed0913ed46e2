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
#include <vector>

#include "reel/core/backend.h"
#include "reel/model/latents_io.h"
#include "reel/model/pipeline.h"
#include "reel/model/window_batcher.h"
#include "reel/pipeline/runner.h"

namespace reel {

// --tile, --tile-overlap and --batch (reel/model/pipeline.h): by default whole frames when they
// fit the backend's free memory, and as many windows per pass as fit (one on the CPU).
inline PassOptions default_passes() { return PassOptions{kTileAuto, 64, kBatchAuto}; }

struct TokenizeConfig {
  std::string model;      // model file (HDF5, weights/FORMAT.md)
  ComputeTarget target;   // CPU fp32 unless --device/--dtype say otherwise
  // --devices: worker i computes on devices[i % n] (a model instance each); empty: on target.
  std::vector<ComputeTarget> devices;
  const ComputeTarget& target_of(int worker) const { return devices.empty() ? target : devices[worker % devices.size()]; }
  std::string output;     // encode: latents index file; decode/roundtrip: folder
  int window = 17;        // frames per causal window (1 + k*tc), 0 = whole clip
  PassOptions passes = default_passes();
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

// --devices all|cpu|cuda:N,...: a target per device, the dtype applied to each. "all" is every
// CUDA device (none is DeviceUnavailable, exit 5, like any explicit GPU request); a device
// named twice or mixed with "all" is InvalidArgument.
std::vector<ComputeTarget> resolve_computes(const std::string& devices, const std::string& dtype);

// Whether the workers of a target share one model instance behind a WindowBatcher: on a GPU
// (one copy of the weights, windows of several clips in a pass, decode overlapping compute), or
// when --batch N > 1 asks for batches on the CPU. Otherwise each worker has its own instance
// (the CPU's default: its workers compute in parallel).
bool shares_device(const ComputeTarget& t, const PassOptions& passes);

// The model instances of a stage's workers over its devices (--devices): worker i on
// devices[i % n], or every worker on `target` when devices is empty.
class DevicePool {
 public:
  DevicePool(std::string model, const ComputeTarget& target, std::vector<ComputeTarget> devices, PassOptions passes,
             int compute_threads);
  ~DevicePool();  // logs each batcher's windows per pass
  // Device 0's instance (open() reads its checksum; a lone worker then takes it over).
  const Tokenizer& first();
  // Worker `index`'s tokenizer; `own` receives the instance when the worker has one of its own.
  // Called on the runner's thread before the run.
  TokenizerUse worker(int index, std::unique_ptr<Tokenizer>* own);

 private:
  struct Slot {
    std::unique_ptr<Tokenizer> tok;
    std::unique_ptr<WindowBatcher> batcher;  // destroyed before tok
    bool handed = false;
  };
  std::string model_;
  std::vector<ComputeTarget> targets_;
  PassOptions passes_;
  int threads_;
  std::vector<Slot> slots_;
};

// How decoded frames become network input: swscale's RGB24 on the host, or the decoder's
// pictures converted by the tokenizer's backend (Backend::yuv420_frame). Auto: pictures on a
// CUDA tokenizer, where NVDEC's (--hwaccel cuda) never leave device memory and a CPU decode's
// cross the bus as 8-bit planes (1.5 bytes a pixel instead of 12 of floats); RGB24 on the CPU.
// The two differ only by swscale's chroma filter (test_yuv_frames.cpp measures it).
enum class InputRoute { Auto, Rgb, Planes };

// Decodes `source` and encodes it window by window.
ClipLatents encode_source(const TokenizerUse& use, const std::string& source, int window, double* fps,
                          const PassOptions& passes, int decode_threads, InputRoute route = InputRoute::Auto);
// Decodes latents into an mp4 at `fps` (atomically); returns the frames written.
int64_t write_reconstruction(const TokenizerUse& use, const ClipLatents& lat, double fps, const std::string& out,
                             const PassOptions& passes);
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
