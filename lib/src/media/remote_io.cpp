// SPDX-License-Identifier: Apache-2.0
#include "media/remote_io.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}
#include <algorithm>
#include <cstring>
#include <future>
#include <memory>
#include <vector>

#include "reel/core/status.h"
#include "reel/storage/remote_file.h"

namespace reel::av {

namespace {
constexpr size_t kAvioBuffer = 64 << 10;
constexpr size_t kFirstFetch = 256 << 10;  // after a seek: an index, a header, one GOP
constexpr size_t kMaxFetch = 8 << 20;      // sequential reading doubles up to this

// One window of the file, refilled by a ranged read; the window grows while reads stay
// sequential, so a whole-file decode costs a few dozen requests, a seek only one small one.
// Once reading is plainly sequential (a window of kPrefetchFrom or more), the next window is
// fetched on another thread while the demuxer works through this one, so decoding does not
// wait on the network.
constexpr size_t kPrefetchFrom = 4 << 20;

struct Source {
  std::unique_ptr<RemoteFile> file;
  uint64_t pos = 0;
  std::vector<uint8_t> window;
  uint64_t window_at = 0;
  size_t fetch = kFirstFetch;
  std::string error;
  // The window being fetched ahead, at next_at (the file's reader is used by one thread at a time:
  // any other read first waits for it).
  std::future<std::vector<uint8_t>> next;
  uint64_t next_at = 0;

  ~Source() { settle(); }

  void settle() {
    if (next.valid()) try {
        next.get();
      } catch (...) {
      }
  }

  std::vector<uint8_t> fetch_at(uint64_t at, size_t n) {
    std::vector<uint8_t> w(n);
    w.resize(file->read_at(at, w.data(), n));
    return w;
  }

  void prefetch() {
    const uint64_t at = window_at + window.size();
    if (fetch < kPrefetchFrom || at >= file->size()) return;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(std::min(fetch * 2, kMaxFetch), file->size() - at));
    next_at = at;
    next = std::async(std::launch::async, [this, at, n] { return fetch_at(at, n); });
  }

  int read(uint8_t* buf, int size) {
    if (pos >= file->size()) return AVERROR_EOF;
    if (pos < window_at || pos >= window_at + window.size()) {
      const bool sequential = !window.empty() && pos == window_at + window.size();
      try {
        if (next.valid() && sequential && next_at == pos) {
          window = next.get();
          fetch = std::min(fetch * 2, kMaxFetch);
        } else {
          settle();
          fetch = sequential ? std::min(fetch * 2, kMaxFetch) : kFirstFetch;
          const size_t n = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(fetch, static_cast<size_t>(size)), file->size() - pos));
          window = fetch_at(pos, n);
        }
      } catch (const Error& e) {
        error = e.what();
        window.clear();
        return e.code() == Code::Cancelled ? AVERROR_EXIT : AVERROR(EIO);
      }
      window_at = pos;
      if (window.empty()) return AVERROR_EOF;
      prefetch();
    }
    const size_t off = static_cast<size_t>(pos - window_at);
    const size_t n = std::min(static_cast<size_t>(size), window.size() - off);
    std::memcpy(buf, window.data() + off, n);
    pos += n;
    return static_cast<int>(n);
  }

  int64_t seek(int64_t offset, int whence) {
    const int64_t size = static_cast<int64_t>(file->size());
    switch (whence & ~AVSEEK_FORCE) {
      case AVSEEK_SIZE: return size;
      case SEEK_SET: break;
      case SEEK_CUR: offset += static_cast<int64_t>(pos); break;
      case SEEK_END: offset += size; break;
      default: return AVERROR(EINVAL);
    }
    if (offset < 0) return AVERROR(EINVAL);
    pos = static_cast<uint64_t>(offset);
    return offset;
  }
};

int read_cb(void* opaque, uint8_t* buf, int size) { return static_cast<Source*>(opaque)->read(buf, size); }
int64_t seek_cb(void* opaque, int64_t offset, int whence) { return static_cast<Source*>(opaque)->seek(offset, whence); }
}  // namespace

AVIOContext* open_remote_io(const std::string& url) {
  auto src = std::make_unique<Source>();
  src->file = RemoteFile::open(url);
  auto* buf = static_cast<unsigned char*>(av_malloc(kAvioBuffer));
  if (!buf) throw Error(Code::OutOfMemory, "no memory for the read buffer of " + url);
  AVIOContext* pb = avio_alloc_context(buf, kAvioBuffer, 0, src.get(), read_cb, nullptr, seek_cb);
  if (!pb) {
    av_free(buf);
    throw Error(Code::OutOfMemory, "no memory for the reader of " + url);
  }
  pb->seekable = AVIO_SEEKABLE_NORMAL;
  src.release();
  return pb;
}

void free_remote_io(AVIOContext* pb) {
  if (!pb) return;
  delete static_cast<Source*>(pb->opaque);
  av_freep(&pb->buffer);
  avio_context_free(&pb);
}

std::string remote_io_error(AVIOContext* pb) { return pb && pb->opaque ? static_cast<Source*>(pb->opaque)->error : ""; }

}  // namespace reel::av
