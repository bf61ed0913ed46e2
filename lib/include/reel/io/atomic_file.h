// SPDX-License-Identifier: Apache-2.0
// Atomic file output: everything reel writes goes to "<path>.tmp-<host>-<pid>" first and is
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

// Removes "<name>.tmp-<host>-<pid>" files in `dir` (not recursive) whose process on this host
// is gone (or a zombie), and other hosts' temp files untouched for a day: what killed runs
// left. Returns how many it removed.
int remove_stale_temps(const std::filesystem::path& dir);

// ensure_writable_dir, then remove_stale_temps, logging (under `component`) what it removed:
// what every stage does to its output folder before it writes.
void prepare_output_dir(const std::filesystem::path& dir, const std::string& what, const char* component);

// The temp name AtomicPath uses for `final_path` in process `pid` of this host.
std::filesystem::path temp_path_for(const std::filesystem::path& final_path, long pid);

// Throws Error(OutputError) naming the directory and what to do when it cannot be created
// or written.
void ensure_writable_dir(const std::filesystem::path& dir, const std::string& what);

// True if `child`, after lexical normalisation, stays inside `root`.
bool path_is_within(const std::filesystem::path& root, const std::filesystem::path& child);

}  // namespace reel
