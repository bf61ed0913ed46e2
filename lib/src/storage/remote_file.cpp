// SPDX-License-Identifier: Apache-2.0
#include "reel/storage/remote_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/io/atomic_file.h"
#include "reel/pipeline/shard.h"
#include "reel/storage/output_target.h"
#include "reel/storage/s3.h"
#include "storage/curl_call.h"

namespace reel {

TransferStats& transfer_stats() {
  static TransferStats s;
  return s;
}

bool is_remote_url(const std::string& url) {
  return url.rfind("s3://", 0) == 0 || url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

namespace {

class S3File : public RemoteFile {
 public:
  S3File(const std::string& url, const S3Location& loc) : loc_(loc) {
    url_ = url;
    size_ = s3_client().size(loc_);
  }
  uint64_t size() const override { return size_; }
  size_t read_at(uint64_t offset, void* buf, size_t n) override {
    if (offset >= size_) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    char* out = static_cast<char*>(buf);
    return static_cast<size_t>(s3_client().read(loc_, offset, n, [&](const char* p, size_t len) {
      std::memcpy(out, p, len);
      out += len;
    }));
  }

 private:
  S3Location loc_;
  uint64_t size_ = 0;
};

// A web server: HEAD for the size, GET with Range; one that ignores Range is read from the
// start, its first bytes skipped (still correct, only slower).
class HttpFile : public RemoteFile {
 public:
  explicit HttpFile(const std::string& url) {
    url_ = url;
    storage::Call c;
    c.method = "HEAD";
    c.url = url;
    const storage::Reply r = storage::perform_retrying(handle_, c);
    if (r.status != 200) throw Error(r.status == 404 ? Code::NotFound : Code::IoError, "cannot open " + url + ": " + storage::describe(r));
    const auto it = r.headers.find("content-length");
    if (it == r.headers.end()) throw Error(Code::IoError, "cannot open " + url + ": the server sends no Content-Length");
    size_ = std::strtoull(it->second.c_str(), nullptr, 10);
  }
  uint64_t size() const override { return size_; }
  size_t read_at(uint64_t offset, void* buf, size_t n) override {
    if (offset >= size_) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    storage::Call c;
    c.url = url_;
    char* out = static_cast<char*>(buf);
    const storage::RangeRead rr = storage::ranged_get(handle_, c, offset, n, [&](const char* p, size_t len) {
      std::memcpy(out, p, len);
      out += len;
    });
    if (rr.gave_up) throw Error(Code::IoError, "cannot read " + url_ + " (gave up): " + storage::describe(rr.last));
    if (rr.failed) throw Error(Code::IoError, "cannot read " + url_ + ": " + storage::describe(rr.last));
    return static_cast<size_t>(rr.delivered);
  }

 private:
  storage::Handle handle_;
  uint64_t size_ = 0;
};
}  // namespace

std::unique_ptr<RemoteFile> RemoteFile::open(const std::string& url) {
  S3Location loc;
  if (url.rfind("s3://", 0) == 0) {
    if (!parse_s3_url(url, &loc) || loc.key.empty()) throw Error(Code::InvalidArgument, "not an S3 object URL: " + url.substr(0, 200));
    return std::make_unique<S3File>(url, loc);
  }
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return std::make_unique<HttpFile>(url);
  throw Error(Code::InvalidArgument, "not a remote URL: " + url.substr(0, 200));
}

std::string read_remote(const std::string& url) {
  auto f = RemoteFile::open(url);
  if (f->size() > (uint64_t{4} << 30)) throw Error(Code::InvalidData, url + " is too large to read whole");
  std::string s(static_cast<size_t>(f->size()), '\0');
  const size_t got = f->read_at(0, s.data(), s.size());
  if (got != s.size()) throw Error(Code::IoError, "short read of " + url);
  return s;
}

std::string local_copy(const std::string& path_or_url) {
  if (!is_remote_url(path_or_url)) return path_or_url;
  namespace fs = std::filesystem;
  const fs::path root = staging_root();
  auto f = RemoteFile::open(path_or_url);
  // Named by a hash of the URL (a URL is no path) plus its last part, for people reading the folder.
  char h[24];
  std::snprintf(h, sizeof h, "%016llx", static_cast<unsigned long long>(fnv1a64(path_or_url)));
  std::string leaf = fs::path(path_or_url).filename().string();
  for (char& c : leaf)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  const fs::path local = root / "cache" / (std::string(h) + "-" + leaf.substr(0, 100));
  std::error_code ec;
  if (fs::is_regular_file(local, ec) && fs::file_size(local, ec) == f->size()) return local.string();
  ensure_writable_dir(local.parent_path(), "download cache");
  AtomicPath ap(local);
  {
    std::ofstream out(ap.tmp(), std::ios::binary);
    std::vector<char> buf(8 << 20);
    for (uint64_t at = 0; at < f->size();) {
      const size_t n = f->read_at(at, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), f->size() - at)));
      if (n == 0) throw Error(Code::IoError, "short read of " + path_or_url);
      out.write(buf.data(), static_cast<std::streamsize>(n));
      at += n;
    }
    if (!out.flush()) throw Error(Code::IoError, "cannot write " + ap.tmp().string());
  }
  ap.commit();
  return local.string();
}

}  // namespace reel
