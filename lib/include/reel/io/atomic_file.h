// SPDX-License-Identifier: Apache-2.0
// Atomic file output: everything reel writes goes to "<path>.tmp-<pid>" first and is
// renamed over the final path only when complete, so a killed job never leaves a
// half-written file under a final name (and a re-run can trust what exists).
#pragma once
#include <filesystem>
#include <string>

namespace reel {

// Writes `data` to `path` atomically (temp file in the same directory + fsync + rename).
void write_file_atomic(const std::filesystem::path& path, const std::string& data);

// A temporary sibling path that is removed on destruction unless commit() renamed it.
class AtomicPath {
 public:
  explicit AtomicPath(std::filesystem::path final_path);
  ~AtomicPath();
  AtomicPath(const AtomicPath&) = delete;
  AtomicPath& operator=(const AtomicPath&) = delete;
  const std::filesystem::path& tmp() const { return tmp_; }
  const std::filesystem::path& final_path() const { return final_; }
  void commit();  // fsyncs and renames tmp -> final

 private:
  std::filesystem::path final_, tmp_;
  bool committed_ = false;
};

// Removes "<name>.tmp-<pid>" files in `dir` (not recursive) whose process is gone: what a
// killed run left. Returns how many it removed.
int remove_stale_temps(const std::filesystem::path& dir);

// Throws Error(OutputError) naming the directory and what to do when it cannot be created
// or written.
void ensure_writable_dir(const std::filesystem::path& dir, const std::string& what);

// True if `child`, after lexical normalisation, stays inside `root`.
bool path_is_within(const std::filesystem::path& root, const std::filesystem::path& child);

}  // namespace reel
