// SPDX-License-Identifier: Apache-2.0
// Clip-level tokenization: windows, padding and pixel conversion around a Tokenizer.
//
// Long clips are cut into independent causal windows of `window` frames (1 + k*tc; 17 by
// default like the reference, 0 = the whole clip). The last window, if short, is padded to
// 1 + k*tc frames by repeating its first frame (floor(pad/2) copies in front) and its last
// frame (the rest), and H and W are padded to multiples of 16 with centred zeros; both
// paddings are cropped away after decoding. Frames stream through: memory holds one window.
// Pixels map to [-1, 1] as x/255*2-1 and back as round((y+1)/2*255) clamped.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "reel/model/tokenizer.h"

namespace reel {

struct ClipLatents {
  int frames = 0, width = 0, height = 0;      // the clip as given
  int pad_top = 0, pad_left = 0, padded_h = 0, padded_w = 0;
  int window = 17;
  std::vector<int> window_frames;             // real frames per window
  std::vector<int> window_pad_front, window_pad_back;
  std::vector<int> window_latent_frames;
  int channels = 0, lat_h = 0, lat_w = 0;     // latent (C, sum(window_latent_frames), lat_h, lat_w)
  std::vector<float> latent;                  // continuous latents or FSQ codes, (C, t, h, w)
  std::vector<int32_t> indices;               // discrete: (t, h, w)
  int latent_t() const;
};

// How a clip's windows go through the network. tile: pixels per spatial tile (tiling.h), 0 =
// whole frames, kTileAuto = whole frames when they fit the backend's free memory, else the
// largest tile that does. batch: windows of equal length per forward pass (Tokenizer::
// encode_batch), kBatchAuto = as many as fit the backend's free memory, at most kMaxBatch, and 1
// on the CPU, where a batch runs the same per-frame GEMMs and only holds more memory. Tiles are
// encoded one window at a time. A batch computes what its windows would alone, to float32
// rounding (Tokenizer::encode_batch); the tile is chosen per window from the same plan every run.
constexpr int kTileAuto = -1;
constexpr int kBatchAuto = -1;
constexpr int kMaxBatch = 16;
struct PassOptions {
  int tile = 0, overlap = 0, batch = 1;
};

// One window's encoding: the latent or FSQ codes (t, C, h, w), and a discrete model's
// (t, h, w) token ids.
struct EncodedWindow {
  Act z;
  std::vector<int32_t> ids;
};

class WindowBatcher;  // reel/model/window_batcher.h

// How a clip reaches the network: its tokenizer directly, or through its device's batcher,
// shared with other clips (`tok` is then the batcher's, read for its config and checksum).
struct TokenizerUse {
  const Tokenizer* tok = nullptr;
  WindowBatcher* batcher = nullptr;
  TokenizerUse() = default;
  TokenizerUse(const Tokenizer& t) : tok(&t) {}  // NOLINT(google-explicit-constructor): either converts
  TokenizerUse(WindowBatcher& b);                 // NOLINT(google-explicit-constructor)
};

// Frames [t0, t0 + n) of an activation, and activations of one frame shape joined along T.
Act frames_of(const Act& a, int t0, int n);
Act join_frames(const std::vector<const Act*>& parts);

// One window of network input, padded: frames in host memory (x), or already in the backend's
// (frames, one tensor each, a repeated padding frame repeated as the same tensor: the planes
// route, where pictures are converted where the network runs).
struct WindowInput {
  Act x;
  std::vector<Tensor> frames;
  int T() const { return frames.empty() ? x.T : static_cast<int>(frames.size()); }
};

// One forward pass over windows of one length: the joined host frames uploaded, or the backend's
// frames joined there (downloaded only when the plan tiles, as tiles are cut on the host); tiled
// when the plan says so (resolve_passes makes the batch 1 then; token ids are never tiled).
Act encode_windows(const Tokenizer& tok, const std::vector<const WindowInput*>& windows, const PassOptions& plan,
                   std::vector<int32_t>* ids);

// The same pass, returned as soon as it is queued on the backend (Tokenizer::encode_batch_async):
// the latents are on their way to the host, a discrete model's token ids already here. Tiled
// passes run to the end before it returns.
struct PendingPass {
  std::unique_ptr<PendingDownload> z;
  std::vector<int32_t> ids;
};
PendingPass launch_windows(const Tokenizer& tok, const std::vector<const WindowInput*>& windows, const PassOptions& plan);

// One decode pass over n latents of equal length joined along T: tiled when the plan says so,
// else Tokenizer::decode_batch. What decode_clip and the WindowBatcher run.
Act decode_pass(const Tokenizer& tok, const Act& z, int n, const PassOptions& plan);

// Streams the frames of one clip into windows and encodes them: `passes.batch` at a time on
// the tokenizer, or through a WindowBatcher shared with other clips (then each window is handed
// over as soon as it is complete, so decoding the next window overlaps the network, and the
// batcher plans the passes). A frame comes as RGB24 (push) or as the decoder's picture
// (push_planes: converted by the tokenizer's backend, Backend::yuv420_frame, into its own memory,
// so on a GPU the frame never passes through host memory as RGB or floats); a clip may mix both.
class ClipEncoder {
 public:
  ClipEncoder(TokenizerUse use, int width, int height, int window, const PassOptions& passes = {});
  void push(const uint8_t* rgb);  // width*height*3 bytes
  void push_planes(const Yuv420& picture);  // width x height; read before it returns
  ClipLatents finish();

 private:
  void stage_window();
  void encode_staged();
  void frames_on_backend();  // the window's host frames so far become backend frames
  const Tokenizer& tok_;
  WindowBatcher* batcher_ = nullptr;
  std::deque<std::future<EncodedWindow>> handed_;  // windows with the batcher, in clip order
  ClipLatents out_;
  PassOptions passes_;    // as asked
  PassOptions resolved_;  // for windows of resolved_t_ frames
  int resolved_t_ = -1;
  std::vector<std::vector<uint8_t>> pending_;  // frames of the window being filled (RGB24)
  std::vector<Tensor> pending_frames_;         // or the backend's frames, once one came as planes
  std::vector<WindowInput> staged_;            // padded windows waiting for their pass
  std::vector<Act> windows_;                   // encoded windows, (t, C, h, w) each
};

// Decodes a clip, `passes.batch` windows of equal length at a time (through a batcher: a few
// windows of this clip in flight, the batcher making the passes); `sink` receives each output
// RGB24 frame (cropped), in order.
void decode_clip(TokenizerUse use, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink,
                 const PassOptions& passes = {});

// Input frames are padded to a multiple of this many pixels each way (16, or the spatial
// compression when larger), centred.
int padded_extent(const ModelConfig& c, int pixels);

// The passes for a window of `frames` x h x w (padded input pixels) on the tokenizer's backend:
// kTileAuto and kBatchAuto resolved from its free memory (memory_plan.h); an explicit batch
// that needs tiles runs one window at a time, and says so in the log.
PassOptions resolve_passes(const Tokenizer& tok, bool encode, int frames, int h, int w, const PassOptions& asked);

// Pixel conversions used by the pipeline (exposed for tests and eval).
void rgb_to_act_frame(const uint8_t* rgb, int w, int h, Act& a, int t, int pad_top, int pad_left);
void act_frame_to_rgb(const Act& a, int t, int pad_top, int pad_left, int w, int h, uint8_t* rgb);

}  // namespace reel
