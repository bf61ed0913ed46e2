// SPDX-License-Identifier: Apache-2.0
// Bounds on what a video may make reel allocate, checked before the memory is taken: inputs
// come from other people's scripts, and a few hundred bytes can declare a 65536x65536 frame
// (a decompression bomb) or a billion frames.
#pragma once
#include <cstdint>

namespace reel {

struct MediaLimits {
  int64_t max_pixels = 40'000'000;  // per frame: 8K UHD (33.2 M) fits
  int64_t max_frames = 10'000'000;  // per video: 46 hours at 60 fps
};

// Process-wide (the CLI's --max-pixels / --max-frames); 0 or less switches a bound off.
void set_media_limits(const MediaLimits& limits);
const MediaLimits& media_limits();

}  // namespace reel
