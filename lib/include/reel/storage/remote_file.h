// SPDX-License-Identifier: Apache-2.0
// Random access to a file behind a URL (s3://, http://, https://) by HTTP Range requests, so a
// video is decoded without downloading it whole: the demuxer's reads and seeks become ranged
// GETs (media/remote_io feeds them to FFmpeg as an AVIOContext).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace reel {

// Bytes and requests of every remote read in this process (for logs and the benchmark).
struct TransferStats {
  std::atomic<uint64_t> requests{0}, bytes{0}, retries{0};
};
TransferStats& transfer_stats();

// s3://, http:// or https://.
bool is_remote_url(const std::string& url);

class RemoteFile {
 public:
  // Learns the size (HEAD); Error(NotFound) for a missing object, IoError when it cannot be reached.
  static std::unique_ptr<RemoteFile> open(const std::string& url);
  virtual ~RemoteFile() = default;
  virtual uint64_t size() const = 0;
  // Up to n bytes at offset (fewer only at the end); retries dropped connections and 5xx.
  virtual size_t read_at(uint64_t offset, void* buf, size_t n) = 0;
  const std::string& url() const { return url_; }

 protected:
  std::string url_;
};

// The whole file (for small objects: a clip to pack, a record file).
std::string read_remote(const std::string& url);

// A local path for a file that may be remote: the path itself, or for s3:// and http(s)://
// a copy downloaded (atomically, once per size) under REEL_STAGING_DIR (else
// $TMPDIR/reel-staging)/cache/. For files that must be opened by a library that reads only
// local files (HDF5: an embeddings file a record points at).
std::string local_copy(const std::string& path_or_url);

}  // namespace reel
