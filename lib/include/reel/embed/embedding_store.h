// SPDX-License-Identifier: Apache-2.0
// Where reel embed puts its vectors: one HDF5 file per shard,
//   /ids          N variable-length UTF-8 strings (the records' ids)
//   /embeddings   N x D, float32 or float16 (--fp16), row i belongs to ids[i]
//   attributes    model, model_sha256, card (JSON), dim, dtype, count, format = "reel-embeddings/1"
// and each record references its row ({"file", "row"}).
//
// Rows become durable before their records are printed, through a row log beside the file
// ("<file>.rows": a header naming the model, then key, vector and checksum per row, fsynced on
// commit). The HDF5 file is written from the log at the end (atomically, and also when a run
// is interrupted, so the rows printed so far can be read); a finished run removes the log. A
// resumed run keeps the log: rows of inputs it resumes are reused, a torn last row is cut,
// and the final file holds exactly this run's records, in their order.
#pragma once
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel {

class EmbeddingWriter {
 public:
  // attrs: model, model_sha256, card. A log left by a run with other attrs or dim is discarded.
  EmbeddingWriter(std::string path, int dim, bool f16, nlohmann::json attrs, bool resume);
  ~EmbeddingWriter();
  EmbeddingWriter(const EmbeddingWriter&) = delete;
  EmbeddingWriter& operator=(const EmbeddingWriter&) = delete;

  const std::string& path() const { return path_; }
  // Whether the log holds a row for key (thread-safe: the runner asks from worker threads).
  bool has(const std::string& key) const;
  // The next row of the file: a new vector (dim floats), or the logged row of a resumed key
  // (-1 when the log has none).
  int64_t add(const std::string& key, const float* v);
  int64_t reuse(const std::string& key);
  void sync();                 // fsync the log: every row returned so far is durable
  void finish(bool complete);  // writes the HDF5 file; a complete run removes the log

 private:
  void open_log(bool resume);
  std::string path_, log_path_;
  int dim_;
  bool f16_;
  nlohmann::json attrs_;
  int fd_ = -1;
  uint64_t end_ = 0;  // bytes of whole rows in the log
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> logged_;  // key -> offset of its latest row's vector
  std::vector<uint64_t> rows_;                        // this run's rows: offsets into the log
  std::vector<std::string> ids_;
  bool dirty_ = false;
};

}  // namespace reel
