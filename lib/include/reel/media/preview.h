// SPDX-License-Identifier: Apache-2.0
// Small images for people to look at: JPEG thumbnails of clips and frames, and error heatmaps
// of reconstructions (what `reel eval --previews` writes and `reel report` embeds).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reel {

// JPEG bytes of a packed RGB24 image, shrunk (area averaging) so that its longer side is at
// most max_side (0 = keep the size).
std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int w, int h, int max_side = 0, int quality = 85);

// Per-pixel absolute error, averaged over R, G and B, as an RGB24 "inferno" heatmap: black is
// exact, bright yellow is an error of `full_scale` levels or more. The scale is fixed rather
// than per image so that heatmaps of different clips compare at a glance.
std::vector<uint8_t> error_heatmap(const uint8_t* ref, const uint8_t* dist, int w, int h, double full_scale = 48.0);

// JPEG of the middle frame of a video (the first frame when the duration is unknown).
// Throws Error(NotFound|InvalidData) like VideoDecoder::open.
std::vector<uint8_t> video_thumbnail(const std::string& source, int max_side = 160, int quality = 80);

// RFC 4648 base64, for data: URIs.
std::string base64(const std::vector<uint8_t>& bytes);

}  // namespace reel
