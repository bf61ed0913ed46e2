// SPDX-License-Identifier: Apache-2.0
#include "reel/embed/embedding_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/io/atomic_file.h"
#include "reel/io/h5.h"
#include "reel/pipeline/shard.h"

namespace fs = std::filesystem;

namespace reel {

namespace {
constexpr char kMagic[8] = {'R', 'E', 'E', 'L', 'R', 'O', 'W', 'S'};

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
  throw Error(Code::OutputError, what + " " + path + ": " + std::strerror(errno));
}

void write_all(int fd, const void* p, size_t n, const std::string& path) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) io_fail("writing", path);
    c += w, n -= static_cast<size_t>(w);
  }
}

bool read_at(int fd, uint64_t off, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = ::pread(fd, c, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r, n -= static_cast<size_t>(r), off += static_cast<uint64_t>(r);
  }
  return true;
}

uint64_t row_checksum(const std::string& key, const float* v, int dim) {
  return fnv1a64(key + std::string(reinterpret_cast<const char*>(v), sizeof(float) * dim));
}
}  // namespace

EmbeddingWriter::EmbeddingWriter(std::string path, int dim, bool f16, nlohmann::json attrs, bool resume)
    : path_(std::move(path)), log_path_(path_ + ".rows"), dim_(dim), f16_(f16), attrs_(std::move(attrs)) {
  attrs_["dim"] = dim_;
  open_log(resume);
}

EmbeddingWriter::~EmbeddingWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EmbeddingWriter::open_log(bool resume) {
  const std::string header = attrs_.dump();
  fd_ = ::open(log_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) io_fail("cannot open", log_path_);
  const auto size = static_cast<uint64_t>(::lseek(fd_, 0, SEEK_END));
  char magic[8];
  uint32_t len = 0;
  std::string theirs;
  bool ok = resume && size >= 12 && read_at(fd_, 0, magic, 8) && !std::memcmp(magic, kMagic, 8) && read_at(fd_, 8, &len, 4) &&
            len == header.size() && size >= 12 + len;
  if (ok) {
    theirs.resize(len);
    ok = read_at(fd_, 12, theirs.data(), len) && theirs == header;
  }
  if (!ok) {  // no log, another model's, or not resuming: start one
    if (size > 0) REEL_INFO("embed", "%s: starting a new row log", log_path_.c_str());
    if (::ftruncate(fd_, 0) != 0) io_fail("cannot truncate", log_path_);
    write_all(fd_, kMagic, 8, log_path_);
    len = static_cast<uint32_t>(header.size());
    write_all(fd_, &len, 4, log_path_);
    write_all(fd_, header.data(), header.size(), log_path_);
    end_ = 12 + header.size();
    dirty_ = true;
    return;
  }
  // Whole rows, each checked; anything after the last good one (a torn write) is cut.
  uint64_t off = 12 + len;
  std::vector<float> v(static_cast<size_t>(dim_));
  for (;;) {
    uint32_t klen = 0;
    if (!read_at(fd_, off, &klen, 4) || klen > (1u << 20)) break;
    std::string key(klen, '\0');
    uint64_t sum = 0;
    const uint64_t voff = off + 4 + klen;
    if (!read_at(fd_, off + 4, key.data(), klen) || !read_at(fd_, voff, v.data(), sizeof(float) * dim_) ||
        !read_at(fd_, voff + sizeof(float) * dim_, &sum, 8) || sum != row_checksum(key, v.data(), dim_))
      break;
    logged_[key] = voff;
    off = voff + sizeof(float) * dim_ + 8;
  }
  if (off < size) {
    REEL_WARN("embed", "%s: cut %llu bytes after the last whole row (a killed run)", log_path_.c_str(),
              static_cast<unsigned long long>(size - off));
    if (::ftruncate(fd_, static_cast<off_t>(off)) != 0) io_fail("cannot truncate", log_path_);
  }
  end_ = off;
}

bool EmbeddingWriter::has(const std::string& key) const {
  std::lock_guard<std::mutex> lk(mu_);
  return logged_.count(key) > 0;
}

int64_t EmbeddingWriter::add(const std::string& key, const float* v) {
  std::string row(4 + key.size() + sizeof(float) * dim_ + 8, '\0');
  const auto klen = static_cast<uint32_t>(key.size());
  const uint64_t sum = row_checksum(key, v, dim_);
  std::memcpy(row.data(), &klen, 4);
  std::memcpy(row.data() + 4, key.data(), key.size());
  std::memcpy(row.data() + 4 + key.size(), v, sizeof(float) * dim_);
  std::memcpy(row.data() + 4 + key.size() + sizeof(float) * dim_, &sum, 8);
  if (::lseek(fd_, static_cast<off_t>(end_), SEEK_SET) < 0) io_fail("seeking in", log_path_);
  write_all(fd_, row.data(), row.size(), log_path_);
  std::lock_guard<std::mutex> lk(mu_);
  const uint64_t voff = end_ + 4 + key.size();
  end_ += row.size();
  logged_[key] = voff;
  rows_.push_back(voff);
  ids_.push_back(key);
  dirty_ = true;
  return static_cast<int64_t>(rows_.size()) - 1;
}

int64_t EmbeddingWriter::reuse(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = logged_.find(key);
  if (it == logged_.end()) return -1;
  rows_.push_back(it->second);
  ids_.push_back(key);
  return static_cast<int64_t>(rows_.size()) - 1;
}

void EmbeddingWriter::sync() {
  if (!dirty_) return;
  if (::fsync(fd_) != 0) io_fail("cannot sync", log_path_);
  dirty_ = false;
}

void EmbeddingWriter::finish(bool complete) {
  sync();
  {
    AtomicPath out(path_);
    h5::File f(out.tmp().string(), 'w', Code::OutputError);
    const int64_t n = static_cast<int64_t>(rows_.size());
    f.write_strings("ids", ids_);
    f.create_matrix("embeddings", n, dim_, f16_);
    constexpr int64_t kBlock = 4096;
    std::vector<float> block(static_cast<size_t>(kBlock) * dim_);
    for (int64_t r0 = 0; r0 < n; r0 += kBlock) {
      const int64_t m = std::min(kBlock, n - r0);
      for (int64_t i = 0; i < m; ++i)
        if (!read_at(fd_, rows_[r0 + i], block.data() + i * dim_, sizeof(float) * dim_)) io_fail("reading", log_path_);
      f.write_rows("embeddings", r0, m, block.data());
    }
    for (const char* k : {"model", "model_sha256"}) f.write_attr_string("/", k, attrs_.value(k, ""));
    f.write_attr_string("/", "card", attrs_.value("card", nlohmann::json::object()).dump());
    f.write_attr_string("/", "format", "reel-embeddings/1");
    f.write_attr_string("/", "dtype", f16_ ? "float16" : "float32");
    f.write_attr_int("/", "dim", dim_);
    f.write_attr_int("/", "count", n);
    f.close();
    out.commit();
  }
  if (complete) {
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    fs::remove(log_path_, ec);
  }
}

}  // namespace reel
