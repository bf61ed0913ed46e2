// SPDX-License-Identifier: Apache-2.0
// Cosmos-Curate's dataset buckets, by the clip's display size and duration:
//   resolution_{1080|720|lt_720}            the short side: >= 1080, >= 720, less
//   aspect_ratio_{9_16|3_4|1_1|4_3|16_9}    width / height with bin edges 0.65, 0.88, 1.16, 1.55
//   duration_{5_10|10_30|30_inf}            seconds, edges 5, 10, 30 (configurable)
// joined as folders in the order the dimensions were asked for. A clip under the lowest
// duration edge fits no bin: Cosmos-Curate drops it silently; reel reports it.
#pragma once
#include <string>
#include <vector>

namespace reel {

struct BucketOptions {
  std::vector<std::string> dims;                  // resolution, aspect, duration; empty: no buckets
  std::vector<double> duration_edges = {5, 10, 30};  // ascending
};

struct Bucket {
  bool fits = false;
  std::string path;  // "resolution_720/aspect_ratio_16_9/duration_5_10" ("" without buckets)
  std::string why;   // when it fits no bin
};

Bucket bucket_of(const BucketOptions& o, int width, int height, double duration_s);

// "resolution,aspect,duration" (any of them, each once); throws InvalidArgument otherwise.
std::vector<std::string> parse_bucket_dims(const std::string& spec);
// "5,10,30": ascending, non-negative; throws InvalidArgument otherwise.
std::vector<double> parse_duration_edges(const std::string& spec);

}  // namespace reel
