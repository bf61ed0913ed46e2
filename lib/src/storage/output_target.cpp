// SPDX-License-Identifier: Apache-2.0
#include "reel/storage/output_target.h"

#include <cstdlib>
#include <filesystem>

#include "reel/core/status.h"
#include "reel/io/atomic_file.h"
#include "reel/pipeline/record.h"
#include "reel/storage/s3.h"

namespace fs = std::filesystem;

namespace reel {

std::string staging_root() {
  const char* st = std::getenv("REEL_STAGING_DIR");
  const char* tmp = std::getenv("TMPDIR");
  const fs::path root = st && *st ? fs::path(st) : fs::path(tmp && *tmp ? tmp : "/tmp") / "reel-staging";
  return fs::absolute(root).lexically_normal().string();
}

OutputTarget::OutputTarget(const std::string& spec) : spec_(spec) {
  if (spec.rfind("s3://", 0) == 0) {
    S3Location loc;
    if (!parse_s3_url(spec, &loc)) throw Error(Code::InvalidArgument, "not an s3://bucket/prefix URL: " + spec.substr(0, 200));
    bucket_ = loc.bucket;
    prefix_ = loc.key;
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
    // The prefix becomes a staging path: no part of it may climb out of the staging directory.
    for (const auto& part : fs::path(prefix_))
      if (part == ".." || part == ".")
        throw Error(Code::InvalidArgument, "an S3 output prefix may not contain '.' or '..' parts: " + spec.substr(0, 200));
    if (!prefix_.empty()) prefix_ += '/';
    local_ = (fs::path(staging_root()) / bucket_ / prefix_).lexically_normal().string();
    while (local_.size() > 1 && local_.back() == '/') local_.pop_back();
  } else if (is_url(spec)) {
    throw Error(Code::InvalidArgument, "outputs go to a local folder or s3://bucket/prefix, not " + spec.substr(0, 200));
  } else {
    local_ = fs::absolute(spec).lexically_normal().string();
    while (local_.size() > 1 && local_.back() == '/') local_.pop_back();
  }
}

OutputTarget OutputTarget::for_file(const std::string& path, std::string* local) {
  const size_t slash = path.rfind('/');
  OutputTarget t(slash == std::string::npos ? std::string(".") : path.substr(0, slash));
  *local = t.remote() ? (fs::path(t.local_dir()) / path.substr(slash + 1)).string() : fs::absolute(path).lexically_normal().string();
  return t;
}

std::string OutputTarget::published(const std::string& local_file) const {
  if (!remote()) return local_file;
  const fs::path rel = fs::path(local_file).lexically_relative(local_);
  if (rel.empty() || *rel.begin() == "..") throw Error(Code::Internal, local_file + " is not under " + local_);
  return "s3://" + bucket_ + "/" + prefix_ + rel.generic_string();
}

void OutputTarget::publish(const std::string& local_file, bool drop_local) const {
  if (!remote()) return;
  S3Location loc;
  parse_s3_url(published(local_file), &loc);
  s3_client().put_file(local_file, loc);
  if (drop_local) {
    std::error_code ec;
    fs::remove(local_file, ec);
  }
}

bool OutputTarget::present(const std::string& name, int64_t bytes) const {
  std::error_code ec;
  if (name.rfind("s3://", 0) != 0) {
    if (!fs::is_regular_file(name, ec)) return false;
    return bytes < 0 || static_cast<int64_t>(fs::file_size(name, ec)) == bytes;
  }
  S3Location loc;
  if (!parse_s3_url(name, &loc)) return false;
  try {
    const uint64_t n = s3_client().size(loc);
    return bytes < 0 || static_cast<int64_t>(n) == bytes;
  } catch (const Error& e) {
    if (e.code() == Code::NotFound) return false;
    throw;
  }
}

}  // namespace reel
