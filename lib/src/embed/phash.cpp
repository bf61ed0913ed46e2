// SPDX-License-Identifier: Apache-2.0
#include "reel/embed/phash.h"

#include <algorithm>
#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace reel {

uint64_t dct_hash(const uint8_t* rgb, int w, int h) {
  const cv::Mat frame(h, w, CV_8UC3, const_cast<uint8_t*>(rgb));
  cv::Mat grey, small, f, d;
  cv::cvtColor(frame, grey, cv::COLOR_RGB2GRAY);
  cv::resize(grey, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  small.convertTo(f, CV_32F);
  cv::dct(f, d);
  float c[64];
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) c[y * 8 + x] = d.at<float>(y, x);
  float rest[63];
  std::copy(c + 1, c + 64, rest);
  std::nth_element(rest, rest + 31, rest + 63);
  const float median = rest[31];
  uint64_t bits = 0;
  for (int i = 0; i < 64; ++i)
    if (c[i] > median) bits |= uint64_t{1} << i;
  return bits;
}

std::string hash_hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool parse_hash_hex(const std::string& s, uint64_t* out) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return false;
  *out = std::stoull(s, nullptr, 16);
  return true;
}

}  // namespace reel
