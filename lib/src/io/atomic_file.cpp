// SPDX-License-Identifier: Apache-2.0
#include "reel/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "reel/core/crash_point.h"
#include "reel/core/log.h"
#include "reel/core/status.h"

namespace fs = std::filesystem;

namespace reel {
namespace {
void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

namespace {
const std::string& host_name() {
  static const std::string h = [] {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return std::string("host");
    std::string s(buf);
    for (char& c : s)
      if (c == '/' || c == '-') c = '_';
    return s;
  }();
  return h;
}

// A process that can still write: it exists and is not a zombie waiting to be reaped.
bool process_alive(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return true;
  char buf[512] = {0};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const char* paren = std::strrchr(buf, ')');  // the state follows "(comm) "
  if (!n || !paren || !paren[1] || !paren[2]) return true;
  return paren[2] != 'Z' && paren[2] != 'X';
}
}  // namespace

// "<name>.tmp-<host>-<pid>": the host keeps a shared filesystem's temp files of other nodes
// apart, the pid tells whether the writer on this host is gone.
fs::path temp_path_for(const fs::path& final_path, long pid) {
  fs::path p = final_path;
  p += ".tmp-" + host_name() + "-" + std::to_string(pid);
  return p;
}

AtomicPath::AtomicPath(fs::path final_path) : final_(std::move(final_path)) { tmp_ = temp_path_for(final_, ::getpid()); }

AtomicPath::~AtomicPath() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void AtomicPath::commit() {
  fsync_path(tmp_);
  crash_point("before-rename");
  std::error_code ec;
  fs::rename(tmp_, final_, ec);
  if (ec) throw Error(Code::IoError, "rename " + tmp_.string() + " -> " + final_.string() + ": " + ec.message());
  committed_ = true;
}

void write_file_atomic(const fs::path& path, const std::string& data) {
  AtomicPath ap(path);
  int fd = ::open(ap.tmp().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(Code::IoError, "open " + ap.tmp().string() + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw Error(Code::IoError, "write " + ap.tmp().string() + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  ap.commit();
}

int remove_stale_temps(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  const std::string mine = ".tmp-" + host_name() + "-";
  const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t at = name.rfind(".tmp-");
    if (at == std::string::npos) continue;
    bool stale = false;
    if (name.compare(at, mine.size(), mine) == 0) {
      char* end = nullptr;
      const long pid = std::strtol(name.c_str() + at + mine.size(), &end, 10);
      stale = !*end && pid > 0 && pid != ::getpid() && !process_alive(pid);
    } else {
      // Another host's (or an older naming): only when nobody can have touched it for a day.
      std::error_code tec;
      const auto t = fs::last_write_time(it->path(), tec);
      stale = !tec && t < day_ago;
    }
    if (!stale) continue;
    std::error_code rec;
    fs::remove(it->path(), rec);
    if (!rec) ++removed;
  }
  return removed;
}

void ensure_writable_dir(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error(Code::OutputError, "cannot create " + what + " " + dir.string() + ": " +
                                       (ec ? ec.message() : std::string("a file of that name exists")) +
                                       " (choose another -o, or fix its permissions)");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(Code::OutputError, what + " " + dir.string() + " is not writable: " + std::strerror(errno) +
                                       " (choose another -o, or fix its permissions)");
}

void prepare_output_dir(const fs::path& dir, const std::string& what, const char* component) {
  ensure_writable_dir(dir, what);
  if (const int n = remove_stale_temps(dir)) REEL_INFO(component, "%s: removed %d temporary files of a killed run", dir.c_str(), n);
}

bool path_is_within(const fs::path& root, const fs::path& child) {
  fs::path r = fs::absolute(root).lexically_normal();
  fs::path c = fs::absolute(child).lexically_normal();
  auto rit = r.begin();
  auto cit = c.begin();
  for (; rit != r.end(); ++rit, ++cit) {
    if (rit->empty()) continue;  // trailing separator
    if (cit == c.end() || *rit != *cit) return false;
  }
  return true;
}

}  // namespace reel
