// SPDX-License-Identifier: Apache-2.0
// Writing clips [start, end) of a source video to mp4 files, by stream copy or re-encode.
//
// Stream copy (fast, lossless) can only start at a keyframe and must stop at one so that
// no frame of the clip references a frame outside it. The requested span is therefore
// shrunk inward to whole GOPs; the span actually written is returned. Re-encode (exact)
// decodes the source and encodes precisely the requested frames: the clip's first frame is
// the requested one. Only the video stream is written. The display matrix (rotation) and
// the sample aspect ratio are carried over. Output goes to out_path atomically.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "reel/media/scene_detect.h"

namespace reel {

struct ClipResult {
  int64_t start = 0, end = 0;  // frames actually written, [start, end)
  std::string codec;           // codec in the output file
  std::string mode;            // "copy" or "encode"
  int64_t bytes = 0;
  std::string note;            // why the span or the mode changed, empty if not
};

struct EncodeOptions {
  std::string encoder = "auto";  // auto = libx264, else libopenh264, else mpeg4
  int crf = 18;                  // libx264 quality
  std::string preset = "veryfast";
  int threads = 0;               // source decoder threads (the encoder runs one thread: deterministic bytes)
};

// Largest whole-GOP span inside [start, end) for stream copy: {k0, k1} with k0 the first
// keyframe >= start and k1 the last keyframe <= end (or the stream end). Returns k0 >= k1
// when no whole GOP fits.
std::pair<int64_t, int64_t> copy_span(const std::vector<FrameMeta>& frames, int64_t start, int64_t end);

// True if the mp4 muxer can carry `codec_name` without re-encoding.
bool mp4_can_copy(const std::string& codec_name);

// Writes frames [start, end) of `source` (as scanned in `scan`) by stream copy.
// Throws InvalidArgument if no whole GOP fits in the span.
ClipResult write_clip_copy(const std::string& source, const SceneResult& scan, int64_t start, int64_t end,
                           const std::filesystem::path& out_path);

// Writes exactly frames [start, end) of `source`, re-encoded.
ClipResult write_clip_encode(const std::string& source, const SceneResult& scan, int64_t start, int64_t end,
                             const EncodeOptions& options, const std::filesystem::path& out_path);

// Names of the usable encoders, in order of preference.
std::vector<std::string> available_encoders();

}  // namespace reel
