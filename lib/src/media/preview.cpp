// SPDX-License-Identifier: Apache-2.0
#include "reel/media/preview.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavutil/base64.h>
}

#include "reel/core/status.h"
#include "reel/media/decoder.h"

namespace reel {

std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int w, int h, int max_side, int quality) {
  cv::Mat src(h, w, CV_8UC3, const_cast<uint8_t*>(rgb)), bgr;
  cv::cvtColor(src, bgr, cv::COLOR_RGB2BGR);
  const int side = std::max(w, h);
  if (max_side > 0 && side > max_side) {
    const double s = double(max_side) / side;
    const int nw = std::max(1, int(std::lround(w * s))), nh = std::max(1, int(std::lround(h * s)));
    cv::Mat small;
    cv::resize(bgr, small, cv::Size(nw, nh), 0, 0, cv::INTER_AREA);
    bgr = small;
  }
  std::vector<uint8_t> out;
  if (!cv::imencode(".jpg", bgr, out, {cv::IMWRITE_JPEG_QUALITY, quality}))
    throw Error(Code::Internal, "JPEG encoding failed");
  return out;
}

std::vector<uint8_t> error_heatmap(const uint8_t* ref, const uint8_t* dist, int w, int h, double full_scale) {
  cv::Mat err(h, w, CV_8UC1);
  const size_t n = size_t(w) * h;
  const double k = 255.0 / (3.0 * full_scale);
  for (size_t i = 0; i < n; ++i) {
    int s = 0;
    for (int c = 0; c < 3; ++c) s += std::abs(int(ref[3 * i + c]) - int(dist[3 * i + c]));
    err.data[i] = static_cast<uint8_t>(std::min(255.0, s * k + 0.5));
  }
  cv::Mat bgr, rgb;
  cv::applyColorMap(err, bgr, cv::COLORMAP_INFERNO);
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return std::vector<uint8_t>(rgb.data, rgb.data + n * 3);
}

std::vector<uint8_t> video_thumbnail(const std::string& source, int max_side, int quality) {
  DecodeOptions o;
  o.threads = 1;
  o.fast_scale = true;
  o.downscale_only = true;
  auto probe = VideoDecoder::open(source, o);
  const VideoInfo& info = probe->info();
  if (info.display_width >= info.display_height)
    o.out_width = std::min(max_side, info.display_width);
  else
    o.out_height = std::min(max_side, info.display_height);
  auto dec = VideoDecoder::open(source, o);
  if (dec->info().duration_s > 0.5) {
    // Seek near the middle; frames before the target are decoded and skipped.
    const double mid = dec->info().duration_s / 2;
    const int64_t pts = dec->first_pts() + int64_t(mid * dec->info().tb_den / std::max(1, dec->info().tb_num));
    dec->seek(pts, 0);
    Frame f, last;
    while (dec->next(&f)) {
      last = std::move(f);
      if (last.time_s >= mid - 1e-3) break;
    }
    if (!last.data.empty()) return encode_jpeg(last.data.data(), last.width, last.height, max_side, quality);
    dec = VideoDecoder::open(source, o);
  }
  Frame f;
  if (!dec->next(&f)) throw Error(Code::InvalidData, "no decodable video frame in " + source);
  return encode_jpeg(f.data.data(), f.width, f.height, max_side, quality);
}

std::string base64(const std::vector<uint8_t>& bytes) {
  std::string out(AV_BASE64_SIZE(bytes.size()), '\0');
  av_base64_encode(out.data(), static_cast<int>(out.size()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace reel
