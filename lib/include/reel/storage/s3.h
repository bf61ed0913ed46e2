// SPDX-License-Identifier: Apache-2.0
// Amazon S3 and S3-compatible object stores (MinIO, Ceph, moto), through libcurl.
//
// Requests are signed by libcurl's AWS Signature V4 (CURLOPT_AWS_SIGV4): reel builds the
// canonical URL (keys URI-encoded, query parameters sorted) and curl signs it. Credentials and
// the endpoint are found the way the AWS CLI finds them (s3_settings). Every request retries
// with backoff and full jitter on dropped connections, 500, 503 SlowDown and the like.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reel {

struct S3Location {
  std::string bucket, key;
  std::string url() const { return "s3://" + bucket + "/" + key; }
};
// "s3://bucket/key..." (key may be empty); false for anything else or an invalid bucket name.
bool parse_s3_url(const std::string& url, S3Location* out);

struct S3Settings {
  std::string access_key, secret_key, session_token;
  std::string region = "us-east-1";
  std::string endpoint;      // "" = AWS (virtual-hosted style); else path style at this URL
  std::string profile = "default";
  std::string credentials_from;  // "environment", "~/.aws/credentials [profile]", "none" (for messages)
  uint64_t part_size = uint64_t{16} << 20;  // multipart upload part (S3 allows 5 MiB .. 5 GiB)
};

// Process-wide choices of the command line (--s3-endpoint, --s3-profile); empty keeps the
// environment's.
void set_s3_overrides(const std::string& endpoint, const std::string& profile);

// The settings, in the AWS CLI's order: the overrides; AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL;
// AWS_PROFILE (else "default"); AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// else the profile in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials), else in the config file (AWS_CONFIG_FILE, else ~/.aws/config, section
// "[profile NAME]"); AWS_REGION, AWS_DEFAULT_REGION, else the profile's region; the config
// file's endpoint_url. REEL_S3_PART_MB sets the part size. `getenv` is injectable for tests.
S3Settings s3_settings(const std::function<const char*(const char*)>& getenv = nullptr);

// "[section]" -> key -> value of an AWS-style INI file (comments with # or ;, keys
// lower-cased, values trimmed). Throws InvalidData naming the line of a malformed one.
std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> parse_aws_ini(const std::string& text,
                                                                                                  const std::string& path);

struct S3Object {
  std::string key;
  uint64_t size = 0;
  std::string etag;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> prefixes;  // CommonPrefixes, with a delimiter
  bool truncated = false;
  std::string next_token;
};

// The XML answers S3 gives. Throw InvalidData on anything malformed.
S3ListPage parse_list_objects_v2(const std::string& xml);
std::string parse_upload_id(const std::string& xml);  // InitiateMultipartUploadResult
// "<Code>: <Message>" of an S3 error body ("" when it is not one).
std::string parse_s3_error(const std::string& xml);

class S3Client {
 public:
  explicit S3Client(S3Settings settings);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Settings& settings() const { return s_; }
  // The HTTP URL of an object (query: "a=1&b=2", already sorted and encoded).
  std::string http_url(const S3Location& loc, const std::string& query = "") const;

  // Size of an object; Error(NotFound) when there is none.
  uint64_t size(const S3Location& loc);
  bool exists(const S3Location& loc);
  // Every object under the prefix, in key order (ListObjectsV2, all pages).
  std::vector<S3Object> list(const std::string& bucket, const std::string& prefix);
  // Bytes [offset, offset + n) of an object, written to `sink` as they arrive; a dropped
  // connection resumes after the bytes already delivered. Returns the bytes delivered
  // (fewer than n only at the end of the object).
  uint64_t read(const S3Location& loc, uint64_t offset, uint64_t n, const std::function<void(const char*, size_t)>& sink);
  // Uploads a local file; above part_size as a multipart upload, completed only when every
  // part is in (a failed upload is aborted: readers never see a partial object).
  void put_file(const std::string& path, const S3Location& loc);
  void put_bytes(const std::string& bytes, const S3Location& loc);
  void remove(const S3Location& loc);

  // The parts of a request libcurl needs to sign it (for RemoteFile and the tests).
  struct Signing {
    std::string sigv4, userpwd;
    std::vector<std::string> headers;
  };
  Signing signing() const;

 private:
  S3Settings s_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One client per thread and settings, for the stages' workers.
S3Client& s3_client();

}  // namespace reel
