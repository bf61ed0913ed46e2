// SPDX-License-Identifier: Apache-2.0
// The process's one CUDA device context for FFmpeg decoders (private to lib/src/media).
#pragma once
#include <string>

struct AVBufferRef;

namespace reel::av {

// The shared CUDA device, or nullptr when there is none (`why` says FFmpeg's reason). Creating a
// CUDA context costs a good part of a second, so every decoder shares one: the caller takes its
// own reference (av_buffer_ref) and may not unref this one.
AVBufferRef* cuda_device(std::string* why);

// Logs that a decoder asked for NVDEC and decodes `source` on the CPU, and why: a line per file,
// never silently (a warning the first time a reason comes up, then at info level).
void note_cpu_fallback(const std::string& source, const std::string& why);

}  // namespace reel::av
