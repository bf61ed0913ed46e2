// SPDX-License-Identifier: Apache-2.0
// The object-store pieces that need no server: s3:// URLs, where settings come from (the AWS
// CLI's order), the shared INI files, S3's XML answers, output targets.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "reel/core/status.h"
#include "reel/storage/output_target.h"
#include "reel/storage/s3.h"
#include <unistd.h>

using namespace reel;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("reel-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

TEST(S3, UrlsNameABucketAndAKey) {
  S3Location l;
  ASSERT_TRUE(parse_s3_url("s3://my-bucket/a/b c.mp4", &l));
  EXPECT_EQ(l.bucket, "my-bucket");
  EXPECT_EQ(l.key, "a/b c.mp4");
  ASSERT_TRUE(parse_s3_url("s3://my-bucket", &l));
  EXPECT_EQ(l.key, "");
  for (const char* bad : {"s3://", "s3://ab/x", "s3://Upper/x", "s3://-dash/x", "http://b/x", "s3:/b/x", "s3://bad_name/k"})
    EXPECT_FALSE(parse_s3_url(bad, &l)) << bad;
  EXPECT_FALSE(parse_s3_url(std::string("s3://bkt/a\0b", 12), &l));
}

struct FakeEnv {
  std::map<std::string, std::string> v;
  std::function<const char*(const char*)> fn() {
    return [this](const char* k) -> const char* {
      auto it = v.find(k);
      return it == v.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(S3, SettingsFollowTheAwsCliOrder) {
  const fs::path dir = temp_dir("s3settings");
  std::ofstream(dir / "credentials") << "# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
                                     << "[lab]\nAWS_ACCESS_KEY_ID=LAB\naws_secret_access_key= labsecret \naws_session_token = tok\n";
  std::ofstream(dir / "config") << "[default]\nregion = eu-west-1\n[profile lab]\nregion = ap-south-1\n"
                                << "endpoint_url = http://store:9000/\ns3 =\n  addressing_style = path\n";
  FakeEnv e;
  e.v["HOME"] = "/nonexistent";
  e.v["AWS_SHARED_CREDENTIALS_FILE"] = (dir / "credentials").string();
  e.v["AWS_CONFIG_FILE"] = (dir / "config").string();
  S3Settings s = s3_settings(e.fn());
  EXPECT_EQ(s.access_key, "DEF");
  EXPECT_EQ(s.region, "eu-west-1");
  EXPECT_EQ(s.endpoint, "");
  // The environment's keys win over the default profile's; its region over the file's.
  e.v["AWS_ACCESS_KEY_ID"] = "ENV";
  e.v["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  e.v["AWS_DEFAULT_REGION"] = "us-west-2";
  s = s3_settings(e.fn());
  EXPECT_EQ(s.access_key, "ENV");
  EXPECT_EQ(s.credentials_from, "environment");
  EXPECT_EQ(s.region, "us-west-2");
  // A named profile is used whole: its keys, token and endpoint (the slash trimmed).
  e.v["AWS_PROFILE"] = "lab";
  e.v.erase("AWS_DEFAULT_REGION");
  s = s3_settings(e.fn());
  EXPECT_EQ(s.access_key, "LAB");
  EXPECT_EQ(s.secret_key, "labsecret");
  EXPECT_EQ(s.session_token, "tok");
  EXPECT_EQ(s.region, "ap-south-1");
  EXPECT_EQ(s.endpoint, "http://store:9000");
  e.v["AWS_ENDPOINT_URL"] = "https://other";
  EXPECT_EQ(s3_settings(e.fn()).endpoint, "https://other");
  e.v["AWS_ENDPOINT_URL_S3"] = "https://s3only";
  EXPECT_EQ(s3_settings(e.fn()).endpoint, "https://s3only");
  set_s3_overrides("http://cli:1", "");
  EXPECT_EQ(s3_settings(e.fn()).endpoint, "http://cli:1");
  set_s3_overrides("", "");
  e.v["AWS_PROFILE"] = "missing";
  EXPECT_THROW(s3_settings(e.fn()), Error);
  e.v["AWS_PROFILE"] = "lab";
  e.v["AWS_ENDPOINT_URL_S3"] = "ftp://x";
  EXPECT_THROW(s3_settings(e.fn()), Error);
  e.v.erase("AWS_ENDPOINT_URL_S3");
  e.v["REEL_S3_PART_MB"] = "4";  // below S3's 5 MiB minimum part
  EXPECT_THROW(s3_settings(e.fn()), Error);
  e.v["REEL_S3_PART_MB"] = "64";
  EXPECT_EQ(s3_settings(e.fn()).part_size, uint64_t{64} << 20);
  fs::remove_all(dir);
}

TEST(S3, IniErrorsNameTheLine) {
  try {
    parse_aws_ini("[a]\nk = v\nnot a setting\n", "cfg");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cfg:3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_aws_ini("k = v\n", "cfg"), Error);
  EXPECT_THROW(parse_aws_ini("[open\n", "cfg"), Error);
}

TEST(S3, ListingsAndErrorsAreReadFromTheirXml) {
  const std::string page =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>b</Name><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>)"
      R"(<Contents><Key>v/a &amp; b.mp4</Key><Size>123</Size><ETag>&quot;e1&quot;</ETag></Contents>)"
      R"(<Contents><Key>v/c.mp4</Key><Size>18446744073709551</Size></Contents>)"
      R"(<CommonPrefixes><Prefix>v/sub/</Prefix></CommonPrefixes></ListBucketResult>)";
  const S3ListPage p = parse_list_objects_v2(page);
  ASSERT_EQ(p.objects.size(), 2u);
  EXPECT_EQ(p.objects[0].key, "v/a & b.mp4");
  EXPECT_EQ(p.objects[0].size, 123u);
  EXPECT_EQ(p.objects[0].etag, "\"e1\"");
  EXPECT_EQ(p.objects[1].size, 18446744073709551u);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_token, "tok+/=");
  EXPECT_EQ(p.prefixes, std::vector<std::string>{"v/sub/"});
  for (const std::string bad : {std::string("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"),
                                std::string("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>"),
                                std::string("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>"),
                                std::string("<Other/>"), std::string("not xml"), std::string()})
    EXPECT_THROW(parse_list_objects_v2(bad), Error) << bad;
  EXPECT_EQ(parse_s3_error("<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"), "SlowDown: Reduce your rate");
  EXPECT_EQ(parse_s3_error(""), "");
  EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>"), "u-1");
  EXPECT_THROW(parse_upload_id("<InitiateMultipartUploadResult/>"), Error);
  // An entity that would read a local file stays unexpanded (no network, no external entities).
  const std::string xxe = R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>)"
                          R"(<ListBucketResult><Contents><Key>&x;</Key><Size>1</Size></Contents></ListBucketResult>)";
  try {
    const S3ListPage q = parse_list_objects_v2(xxe);
    for (const auto& o : q.objects) EXPECT_EQ(o.key.find("root:"), std::string::npos);
  } catch (const Error&) {
  }
}

TEST(S3, OutputTargetsStageUnderTheBucketAndPrefix) {
  const fs::path stage = temp_dir("s3stage");
  ::setenv("REEL_STAGING_DIR", stage.c_str(), 1);
  const OutputTarget t("s3://bkt/runs/7/");
  EXPECT_TRUE(t.remote());
  EXPECT_EQ(t.local_dir(), (stage / "bkt/runs/7").string());
  EXPECT_EQ(t.published((stage / "bkt/runs/7/sub/x.mp4").string()), "s3://bkt/runs/7/sub/x.mp4");
  EXPECT_THROW(t.published("/elsewhere/x.mp4"), Error);
  EXPECT_THROW(OutputTarget("s3://bkt/a/../../etc"), Error);
  EXPECT_THROW(OutputTarget("ftp://h/x"), Error);
  const OutputTarget local("rel/dir/");
  EXPECT_FALSE(local.remote());
  EXPECT_EQ(local.published("/abs/f"), "/abs/f");
  ::unsetenv("REEL_STAGING_DIR");
  fs::remove_all(stage);
}

}  // namespace
