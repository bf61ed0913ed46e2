// SPDX-License-Identifier: Apache-2.0
// Cosmos-Curate's bucket bins at their edges, the option parsers, and the .npy header.
#include <gtest/gtest.h>

#include <cstring>

#include "reel/core/status.h"
#include "reel/io/npy.h"
#include "reel/shard/buckets.h"

namespace reel {
namespace {

std::string bucket(const std::vector<std::string>& dims, int w, int h, double d) {
  BucketOptions o;
  o.dims = dims;
  const Bucket b = bucket_of(o, w, h, d);
  return b.fits ? b.path : "none: " + b.why;
}

TEST(Buckets, ResolutionByTheShortSide) {
  EXPECT_EQ(bucket({"resolution"}, 1920, 1080, 0), "resolution_1080");
  EXPECT_EQ(bucket({"resolution"}, 1080, 1920, 0), "resolution_1080");  // portrait
  EXPECT_EQ(bucket({"resolution"}, 1920, 1079, 0), "resolution_720");
  EXPECT_EQ(bucket({"resolution"}, 1280, 720, 0), "resolution_720");
  EXPECT_EQ(bucket({"resolution"}, 1280, 719, 0), "resolution_lt_720");
}

TEST(Buckets, AspectEdgesBelongToTheUpperBin) {
  EXPECT_EQ(bucket({"aspect"}, 64, 100, 0), "aspect_ratio_9_16");   // 0.64
  EXPECT_EQ(bucket({"aspect"}, 65, 100, 0), "aspect_ratio_3_4");    // 0.65
  EXPECT_EQ(bucket({"aspect"}, 88, 100, 0), "aspect_ratio_1_1");    // 0.88
  EXPECT_EQ(bucket({"aspect"}, 116, 100, 0), "aspect_ratio_4_3");   // 1.16
  EXPECT_EQ(bucket({"aspect"}, 1549, 1000, 0), "aspect_ratio_4_3");
  EXPECT_EQ(bucket({"aspect"}, 155, 100, 0), "aspect_ratio_16_9");  // 1.55
  EXPECT_EQ(bucket({"aspect"}, 1920, 1080, 0), "aspect_ratio_16_9");
}

TEST(Buckets, DurationBinsAndTheClipThatFitsNone) {
  EXPECT_EQ(bucket({"duration"}, 1, 1, 5.0), "duration_5_10");
  EXPECT_EQ(bucket({"duration"}, 1, 1, 9.999), "duration_5_10");
  EXPECT_EQ(bucket({"duration"}, 1, 1, 10.0), "duration_10_30");
  EXPECT_EQ(bucket({"duration"}, 1, 1, 30.0), "duration_30_inf");
  EXPECT_EQ(bucket({"duration"}, 1, 1, 4.99), "none: duration 4.99 s is under the lowest duration bin (5 s)");
  BucketOptions o;
  o.dims = {"duration", "aspect", "resolution"};
  o.duration_edges = {0, 2.5};
  EXPECT_EQ(bucket_of(o, 1920, 1080, 2.4).path, "duration_0_2.5/aspect_ratio_16_9/resolution_1080");
  EXPECT_EQ(bucket_of(o, 1920, 1080, 2.5).path, "duration_2.5_inf/aspect_ratio_16_9/resolution_1080");
  EXPECT_FALSE(bucket_of(o, 0, 0, 3).fits);  // no frame size
  EXPECT_EQ(bucket({}, 0, 0, -1), "");       // no buckets: one flat set
}

TEST(Buckets, OptionParsers) {
  EXPECT_EQ(parse_bucket_dims("aspect,duration"), (std::vector<std::string>{"aspect", "duration"}));
  EXPECT_THROW(parse_bucket_dims("resolution,fps"), Error);
  EXPECT_THROW(parse_bucket_dims("aspect,aspect"), Error);
  EXPECT_EQ(parse_duration_edges("0,2.5,10"), (std::vector<double>{0, 2.5, 10}));
  EXPECT_THROW(parse_duration_edges("5,5"), Error);
  EXPECT_THROW(parse_duration_edges("5,x"), Error);
  EXPECT_THROW(parse_duration_edges("-1"), Error);
}

TEST(Npy, HeaderIsAlignedAndDescribesTheArray) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  for (const auto& [shape, want] : std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{6}, "'shape': (6,)"}, {{2, 3}, "'shape': (2, 3)"}, {{1, 2, 3}, "'shape': (1, 2, 3)"}}) {
    const std::string b = npy_bytes(shape, v);
    ASSERT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t hlen = static_cast<unsigned char>(b[8]) | static_cast<unsigned char>(b[9]) << 8;
    EXPECT_EQ((10 + hlen) % 64, 0u);
    const std::string dict = b.substr(10, hlen);
    EXPECT_NE(dict.find("'descr': '<f4'"), std::string::npos);
    EXPECT_NE(dict.find(want), std::string::npos) << dict;
    EXPECT_EQ(dict.back(), '\n');
    EXPECT_EQ(b.size(), 10 + hlen + sizeof v);
    EXPECT_EQ(b.size(), npy_size(shape, 4));
    EXPECT_EQ(std::memcmp(b.data() + 10 + hlen, v, sizeof v), 0);
  }
  const uint16_t ids[2] = {63999, 7};
  EXPECT_NE(npy_bytes({2}, ids).find("'<u2'"), std::string::npos);
}

}  // namespace
}  // namespace reel
