// SPDX-License-Identifier: Apache-2.0
// A latents output that survives kill -9 at any moment.
//
// `reel tokenize encode -o latents.h5` writes each clip to its own HDF5 file,
// latents.h5.d/<key>.h5 (temp file, fsync, rename: complete or absent), and keeps latents.h5
// itself as an index: the same root attributes, and clips/<key> as an HDF5 external link to
// the clip's file. h5py and the HDF5 library follow the links transparently (relative to the
// index's folder), so readers see one file with every clip. The index is rewritten the same
// atomic way before records that point at new clips are printed, so after a kill the index
// names every clip whose record was printed. `reel merge` turns an index (or several shards'
// indexes) into one self-contained file.
#pragma once
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "reel/model/latents_io.h"

namespace reel {

struct LatentsHeader {
  std::string model, model_sha256, config;  // root attributes every file carries
};

class LatentsStore {
 public:
  // Opens or creates the store at `index_path`; finds the clips earlier runs completed and
  // removes their stale temp files. Throws OutputError when the location is unusable or the
  // existing file belongs to another model or is not an index.
  LatentsStore(std::string index_path, LatentsHeader header);

  const std::string& index_path() const { return index_; }
  std::string clip_file(const std::string& key) const;  // absolute path of the clip's file
  bool has(const std::string& key) const;              // complete on disk (thread-safe)
  // Writes one clip's file atomically (thread-safe; different keys in parallel).
  void write(const std::string& key, const ClipLatents& lat, const nlohmann::json& attrs, const LatentWriteOptions& opt);
  // Reads back a complete clip (resume without re-encoding).
  ClipLatents read(const std::string& key, nlohmann::json* attrs) const;
  // Notes that records pointing at `key` are about to be printed.
  void add(const std::string& key);
  // Rewrites the index if clips were added since the last commit.
  void commit();
  size_t size() const;

 private:
  std::string index_, dir_, dir_name_;
  LatentsHeader header_;
  mutable std::mutex mu_;
  std::set<std::string> on_disk_, indexed_;
  bool dirty_ = false;
};

}  // namespace reel
