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
#include <functional>
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

// Streams RGB24 frames of one clip into windows and encodes them.
class ClipEncoder {
 public:
  // tile > 0: encode each window in overlapping spatial tiles (see tiling.h).
  ClipEncoder(const Tokenizer& tok, int width, int height, int window, int tile = 0, int tile_overlap = 0);
  void push(const uint8_t* rgb);  // width*height*3 bytes
  ClipLatents finish();

 private:
  void flush();
  const Tokenizer& tok_;
  ClipLatents out_;
  std::vector<std::vector<uint8_t>> pending_;
  std::vector<Act> windows_;  // encoded windows, (t, C, h, w) each
  int tile_ = 0, overlap_ = 0;
};

// Decodes a clip window by window; `sink` receives each output RGB24 frame (cropped).
void decode_clip(const Tokenizer& tok, const ClipLatents& lat, const std::function<void(const uint8_t*)>& sink,
                 int tile = 0, int tile_overlap = 0);

// Pixel conversions used by the pipeline (exposed for tests and eval).
void rgb_to_act_frame(const uint8_t* rgb, int w, int h, Act& a, int t, int pad_top, int pad_left);
void act_frame_to_rgb(const Act& a, int t, int pad_top, int pad_left, int w, int h, uint8_t* rgb);

}  // namespace reel
