// SPDX-License-Identifier: Apache-2.0
#include "reel/io/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "reel/core/status.h"
#include "reel/io/atomic_file.h"

namespace reel {

struct TarWriter::Impl {
  AtomicPath path;
  int fd = -1;
  uint64_t written = 0;
  archive* a = nullptr;
  bool closed = false;

  explicit Impl(std::filesystem::path p) : path(std::move(p)) {}

  static la_ssize_t on_write(archive*, void* self, const void* buf, size_t n) {
    auto* w = static_cast<Impl*>(self);
    const char* p = static_cast<const char*>(buf);
    size_t left = n;
    while (left > 0) {
      const ssize_t k = ::write(w->fd, p, left);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return -1;
      p += k, left -= static_cast<size_t>(k);
    }
    w->written += n;
    return static_cast<la_ssize_t>(n);
  }

  [[noreturn]] void fail(const std::string& what) const {
    const char* why = a ? archive_error_string(a) : nullptr;
    throw Error(Code::OutputError, path.final_path().string() + ": " + what + (why ? std::string(": ") + why : ""));
  }

  TarMember header(const std::string& name, uint64_t size) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);  // fixed: the same inputs give the same bytes
    const int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) fail("cannot write the header of " + name);
    return {name, written, size};
  }

  void data(const void* p, size_t n, const std::string& name) {
    if (n && archive_write_data(a, p, n) != static_cast<la_ssize_t>(n)) fail("cannot write " + name);
  }
};

TarWriter::TarWriter(std::filesystem::path final_path) : impl_(std::make_unique<Impl>(std::move(final_path))) {
  Impl& w = *impl_;
  w.fd = ::open(w.path.tmp().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd < 0) throw Error(Code::OutputError, "cannot create " + w.path.tmp().string() + ": " + std::strerror(errno));
  w.a = archive_write_new();
  archive_write_set_format_pax_restricted(w.a);
  // Unblocked: each write goes straight through, so the byte count is the offset in the file.
  archive_write_set_bytes_per_block(w.a, 0);
  if (archive_write_open(w.a, &w, nullptr, &Impl::on_write, nullptr) != ARCHIVE_OK) w.fail("cannot start the tar");
}

TarWriter::~TarWriter() {
  if (impl_->a) archive_write_free(impl_->a);  // also closes when commit() did not
  if (impl_->fd >= 0) ::close(impl_->fd);
}

TarMember TarWriter::add(const std::string& name, const std::string& data) {
  TarMember m = impl_->header(name, data.size());
  impl_->data(data.data(), data.size(), name);
  return m;
}

TarMember TarWriter::add_file(const std::string& name, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!in || ec) throw Error(Code::IoError, "cannot read " + path.string());
  TarMember m = impl_->header(name, size);
  std::vector<char> buf(1 << 20);
  uint64_t left = size;
  while (left > 0) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) throw Error(Code::IoError, path.string() + " got shorter while it was read");
    impl_->data(buf.data(), got, name);
    left -= got;
  }
  return m;
}

uint64_t TarWriter::bytes() const { return impl_->written; }

uint64_t TarWriter::commit() {
  Impl& w = *impl_;
  if (archive_write_close(w.a) != ARCHIVE_OK) w.fail("cannot finish the tar");
  archive_write_free(w.a);
  w.a = nullptr;
  if (::close(w.fd) != 0) {
    w.fd = -1;
    throw Error(Code::OutputError, "cannot close " + w.path.tmp().string() + ": " + std::strerror(errno));
  }
  w.fd = -1;
  w.path.commit();
  return w.written;
}

}  // namespace reel
