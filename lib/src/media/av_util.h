// SPDX-License-Identifier: Apache-2.0
// RAII holders and error helpers for FFmpeg objects (private to lib/src/media).
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libswscale/swscale.h>
}
#include <memory>
#include <string>

#include "reel/core/status.h"

namespace reel::av {

// Closes an input, and frees its reader when it is ours (remote_io: s3://, http(s)://).
struct FormatCloser {
  void operator()(AVFormatContext* p) const;
};
struct CodecFree {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameFree {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;

inline std::string err_str(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

// "what: FFmpeg's message" as an Error with a code chosen from the AVERROR.
[[noreturn]] inline void fail(const std::string& what, int err) {
  Code c = Code::InvalidData;
  if (err == AVERROR(ENOENT)) c = Code::NotFound;
  else if (err == AVERROR(EACCES) || err == AVERROR(EIO) || err == AVERROR(EISDIR)) c = Code::IoError;
  else if (err == AVERROR(ENOMEM)) c = Code::OutOfMemory;
  throw Error(c, what + ": " + err_str(err));
}

// Opens the input and finds stream info; throws Error with context.
FormatPtr open_input(const std::string& url);
// Why a read of this input failed, when it is a remote one of ours ("" otherwise).
std::string read_error(AVFormatContext* fmt);
// Opens the input with every stream but `stream_index` discarded; *st receives that stream.
FormatPtr open_stream(const std::string& url, int stream_index, AVStream** st);

}  // namespace reel::av
