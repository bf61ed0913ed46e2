// SPDX-License-Identifier: Apache-2.0
// FFmpeg reads of s3:// and http(s):// inputs through storage/RemoteFile: an AVIOContext whose
// reads are ranged GETs, so the demuxer's seeks (an mp4 index at the end, a split of one
// shot) fetch only the bytes they touch. Private to lib/src/media.
#pragma once
extern "C" {
#include <libavformat/avio.h>
}
#include <string>

namespace reel::av {

// An AVIOContext over the URL (Error when it cannot be opened); free with free_remote_io.
AVIOContext* open_remote_io(const std::string& url);
void free_remote_io(AVIOContext* pb);
// The last transfer error behind an AVERROR(EIO) from this context ("" if none).
std::string remote_io_error(AVIOContext* pb);

}  // namespace reel::av
