// SPDX-License-Identifier: Apache-2.0
#include "av_util.h"

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "media/remote_io.h"
#include "reel/media/limits.h"
#include "reel/storage/remote_file.h"

namespace reel::av {

namespace {
// FFmpeg reaches far more than files and web servers through a URL (concat:, subfile:, pipe:,
// udp:, ...); a path in a record from someone else's script must not. REEL_PROTOCOLS widens it.
const std::string& allowed_protocols() {
  static const std::string p = [] {
    const char* e = std::getenv("REEL_PROTOCOLS");
    return std::string(e && *e ? e : "file,http,https,s3,tcp,tls,crypto");
  }();
  return p;
}

// The URL's scheme as FFmpeg would take it ("file" for a plain path).
std::string scheme_of(const std::string& url) {
  size_t i = 0;
  while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) || url[i] == '+' || url[i] == '-' || url[i] == '.' ||
                            url[i] == '_' || url[i] == ','))
    ++i;
  if (i < 2 || i >= url.size() || url[i] != ':' || !std::isalpha(static_cast<unsigned char>(url[0]))) return "file";
  std::string s = url.substr(0, i);
  if (const size_t comma = s.find(','); comma != std::string::npos) s.resize(comma);  // "subfile,,start,..." is subfile
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

FormatPtr open_input(const std::string& url) {
  static std::once_flag once;
  std::call_once(once, [] {
    avformat_network_init();
    av_log_set_level(AV_LOG_QUIET);  // we report errors ourselves, with context
  });
  const std::string scheme = scheme_of(url);
  if (("," + allowed_protocols() + ",").find("," + scheme + ",") == std::string::npos)
    throw Error(Code::InvalidArgument, "cannot open " + url.substr(0, 200) + ": protocol '" + scheme +
                                           "' is not allowed (allowed: " + allowed_protocols() + "; REEL_PROTOCOLS changes it)");
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw Error(Code::OutOfMemory, "cannot open " + url + ": no memory");
  // s3:// and http(s):// are read by ranged requests of our own (remote_io), with retries.
  // REEL_FFMPEG_HTTP=1 leaves http(s) to FFmpeg's protocol instead.
  const char* ffmpeg_http = std::getenv("REEL_FFMPEG_HTTP");
  const bool ours = scheme == "s3" || ((scheme == "http" || scheme == "https") && !(ffmpeg_http && *ffmpeg_http == '1'));
  if (ours) {
    try {
      raw->pb = open_remote_io(url);
    } catch (...) {
      avformat_free_context(raw);
      throw;
    }
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", allowed_protocols().c_str(), 0);  // nested opens too (playlists)
  // Network sources: fail instead of hanging forever on a dead server.
  av_dict_set(&opts, "rw_timeout", "30000000", 0);
  AVIOContext* pb = raw->pb;
  int err = avformat_open_input(&raw, url.c_str(), nullptr, &opts);  // frees raw on failure
  av_dict_free(&opts);
  if (err < 0) {
    const std::string why = ours ? remote_io_error(pb) : "";
    if (ours) free_remote_io(pb);
    if (!why.empty()) throw Error(Code::IoError, why);
    fail("cannot open " + url, err);
  }
  FormatPtr fmt(raw);
  // The probe decodes a few frames: their size is bounded before the decoder allocates one.
  std::vector<AVDictionary*> probe(fmt->nb_streams, nullptr);
  if (media_limits().max_pixels > 0)
    for (auto& d : probe) av_dict_set_int(&d, "max_pixels", std::min<int64_t>(media_limits().max_pixels, INT32_MAX), 0);
  err = avformat_find_stream_info(fmt.get(), probe.empty() ? nullptr : probe.data());
  for (auto& d : probe) av_dict_free(&d);
  if (err < 0) {
    const std::string why = ours ? remote_io_error(fmt->pb) : "";
    if (!why.empty()) throw Error(Code::IoError, why);
    fail("cannot read stream info of " + url, err);
  }
  return fmt;
}

void FormatCloser::operator()(AVFormatContext* p) const {
  AVIOContext* pb = p && (p->flags & AVFMT_FLAG_CUSTOM_IO) ? p->pb : nullptr;
  avformat_close_input(&p);
  free_remote_io(pb);
}

std::string read_error(AVFormatContext* fmt) {
  return fmt && (fmt->flags & AVFMT_FLAG_CUSTOM_IO) ? remote_io_error(fmt->pb) : "";
}

FormatPtr open_stream(const std::string& url, int stream_index, AVStream** st) {
  FormatPtr fmt = open_input(url);
  if (stream_index < 0 || stream_index >= static_cast<int>(fmt->nb_streams))
    throw Error(Code::InvalidData, "stream " + std::to_string(stream_index) + " missing in " + url);
  for (unsigned i = 0; i < fmt->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index) fmt->streams[i]->discard = AVDISCARD_ALL;
  *st = fmt->streams[stream_index];
  return fmt;
}

}  // namespace reel::av
