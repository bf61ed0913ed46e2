// SPDX-License-Identifier: Apache-2.0
#include "reel/shard/buckets.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "reel/core/status.h"

namespace reel {

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}
}  // namespace

Bucket bucket_of(const BucketOptions& o, int width, int height, double duration_s) {
  Bucket b;
  for (const auto& dim : o.dims) {
    std::string part;
    if (dim == "resolution") {
      if (width <= 0 || height <= 0) return {false, "", "no frame size in the record or the file"};
      const int short_side = std::min(width, height);
      part = short_side >= 1080 ? "resolution_1080" : short_side >= 720 ? "resolution_720" : "resolution_lt_720";
    } else if (dim == "aspect") {
      if (width <= 0 || height <= 0) return {false, "", "no frame size in the record or the file"};
      const double r = static_cast<double>(width) / height;
      part = r < 0.65 ? "aspect_ratio_9_16" : r < 0.88 ? "aspect_ratio_3_4" : r < 1.16 ? "aspect_ratio_1_1"
             : r < 1.55 ? "aspect_ratio_4_3" : "aspect_ratio_16_9";
    } else if (dim == "duration") {
      const auto& e = o.duration_edges;
      if (e.empty() || !(duration_s >= e.front()))
        return {false, "", "duration " + number(duration_s) + " s is under the lowest duration bin (" +
                               (e.empty() ? std::string("none") : number(e.front()) + " s") + ")"};
      size_t i = std::upper_bound(e.begin(), e.end(), duration_s) - e.begin() - 1;
      part = "duration_" + number(e[i]) + "_" + (i + 1 < e.size() ? number(e[i + 1]) : std::string("inf"));
    }
    b.path += (b.path.empty() ? "" : "/") + part;
  }
  b.fits = true;
  return b;
}

std::vector<std::string> parse_bucket_dims(const std::string& spec) {
  std::vector<std::string> dims = split_list(spec);
  for (const auto& d : dims) {
    if (d != "resolution" && d != "aspect" && d != "duration")
      throw Error(Code::InvalidArgument, "--bucket: unknown dimension '" + d + "' (resolution, aspect, duration)");
    if (std::count(dims.begin(), dims.end(), d) > 1) throw Error(Code::InvalidArgument, "--bucket: '" + d + "' twice");
  }
  return dims;
}

std::vector<double> parse_duration_edges(const std::string& spec) {
  std::vector<double> edges;
  for (const auto& s : split_list(spec)) {
    size_t used = 0;
    double v = -1;
    try {
      v = std::stod(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used != s.size() || !(v >= 0)) throw Error(Code::InvalidArgument, "--duration-bins: '" + s + "' is not a number of seconds");
    if (!edges.empty() && !(v > edges.back())) throw Error(Code::InvalidArgument, "--duration-bins must ascend");
    edges.push_back(v);
  }
  if (edges.empty()) throw Error(Code::InvalidArgument, "--duration-bins: no edge");
  return edges;
}

}  // namespace reel
