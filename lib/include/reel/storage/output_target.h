// SPDX-License-Identifier: Apache-2.0
// Where a stage writes its files: a local directory, or an s3://bucket/prefix.
//
// Files are always written locally first (atomically, as everywhere in reel): into the
// directory itself, or for S3 into a staging directory (REEL_STAGING_DIR, else
// $TMPDIR/reel-staging, then bucket/prefix), from where publish() uploads each one when it is
// complete (a multipart upload above the part size, visible only once whole) and may drop
// the staged copy. Records name files by where they were published, so the next stage reads
// s3:// clips by ranged reads. The ledger stays in the staging directory: keep it on shared
// storage for a job that may resume on another node (without it, the stage redoes its inputs,
// rewriting the same objects).
#pragma once
#include <cstdint>
#include <string>

namespace reel {

// REEL_STAGING_DIR, else $TMPDIR/reel-staging (else /tmp/reel-staging), absolute.
std::string staging_root();

class OutputTarget {
 public:
  OutputTarget() = default;
  // A local path or an s3:// URL (Error(InvalidArgument) for another URL).
  explicit OutputTarget(const std::string& spec);
  // The target of one output file (a local path or s3://bucket/key): its folder's, and in
  // *local where the file is written: the path itself (absolute), or its place in the staging
  // folder.
  static OutputTarget for_file(const std::string& path, std::string* local);
  bool remote() const { return !bucket_.empty(); }
  // Where files are written before they are published.
  const std::string& local_dir() const { return local_; }
  // The name a record carries for a file written under local_dir().
  std::string published(const std::string& local_file) const;
  // Uploads (remote) a complete file; drop_local removes the staged copy afterwards.
  void publish(const std::string& local_file, bool drop_local) const;
  // Whether the published file is there with this size (-1: any).
  bool present(const std::string& published_name, int64_t bytes) const;
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_, local_, bucket_, prefix_;  // prefix_ ends with '/' unless empty
};

}  // namespace reel
