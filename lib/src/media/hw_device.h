// SPDX-License-Identifier: Apache-2.0
// The process's one CUDA device context for FFmpeg decoders (private to lib/src/media).
#pragma once
#include <string>

struct AVBufferRef;

namespace reel::av {

// The shared FFmpeg device of CUDA device `index`, or nullptr when there is none (`why` says
// FFmpeg's reason). Opening one costs a good part of a second, so every decoder of a device shares
// it: the caller takes its own reference (av_buffer_ref) and may not unref this one. It runs in
// the device's primary context, the one the CUDA runtime (reel's backend) uses, so NVDEC's
// pictures are device memory that backend's kernels can read.
AVBufferRef* cuda_device(int index, std::string* why);

// Logs that a decoder asked for NVDEC and decodes `source` on the CPU, and why: a line per file,
// never silently (a warning the first time a reason comes up, then at info level).
void note_cpu_fallback(const std::string& source, const std::string& why);

}  // namespace reel::av
