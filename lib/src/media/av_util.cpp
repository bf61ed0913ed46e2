// SPDX-License-Identifier: Apache-2.0
#include "av_util.h"

#include <mutex>

namespace reel::av {

FormatPtr open_input(const std::string& url) {
  static std::once_flag once;
  std::call_once(once, [] {
    avformat_network_init();
    av_log_set_level(AV_LOG_QUIET);  // we report errors ourselves, with context
  });
  AVFormatContext* raw = nullptr;
  AVDictionary* opts = nullptr;
  // Network sources: fail instead of hanging forever on a dead server.
  av_dict_set(&opts, "rw_timeout", "30000000", 0);
  int err = avformat_open_input(&raw, url.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (err < 0) fail("cannot open " + url, err);
  FormatPtr fmt(raw);
  err = avformat_find_stream_info(fmt.get(), nullptr);
  if (err < 0) fail("cannot read stream info of " + url, err);
  return fmt;
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
