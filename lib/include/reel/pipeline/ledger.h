// SPDX-License-Identifier: Apache-2.0
// The completion ledger: how a killed run resumes exactly.
//
// One JSON line per finished input, appended after everything its records point at is
// durable and before the records are printed: {"k": key, "r": [records], "p": payload}. The
// first line names the stage and a fingerprint of the options that shape its outputs; a
// ledger written with other options is set aside (renamed *.stale) rather than trusted. A
// line torn by a kill is cut off when the ledger is reopened. A re-run prints the records of
// finished inputs from the ledger instead of computing them again, so its stdout equals that
// of an uninterrupted run.
#pragma once
#include <cstdio>
#include <string>
#include <unordered_map>

#include "reel/pipeline/record.h"

namespace reel {

class Ledger {
 public:
  // Opens (creating) `path`. Throws Error(OutputError) when it cannot be written.
  Ledger(const std::string& path, const std::string& stage, const Json& fingerprint);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // The entry of a finished input ({"r": [...], "p": ...}), or nullptr.
  const Json* find(const std::string& key) const;
  size_t size() const { return done_.size(); }
  // Buffered; durable after sync().
  void append(const std::string& key, const Json& records, const Json& payload);
  void sync();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  FILE* f_ = nullptr;
  std::unordered_map<std::string, Json> done_;
  bool dirty_ = false;
};

}  // namespace reel
