// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/ledger.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "reel/core/crash_point.h"
#include "reel/core/log.h"

namespace fs = std::filesystem;

namespace reel {

Ledger::Ledger(const std::string& path, const std::string& stage, const Json& fingerprint) : path_(path) {
  const Json header = {{"reel_ledger", 1}, {"stage", stage}, {"options", fingerprint}};
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path(), ec);
  int64_t good = 0;  // bytes up to the last complete line
  bool fresh = true;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    bool first = true;
    while (in && std::getline(in, line)) {
      if (in.eof()) break;  // no newline: torn by a kill
      Json j;
      try {
        j = Json::parse(line);
      } catch (const std::exception&) {
        break;
      }
      if (first) {
        first = false;
        if (j != header) {
          const std::string stale = path + ".stale";
          REEL_WARN("resume", "%s was written by another stage or with other options; moved to %s, starting afresh",
                    path.c_str(), stale.c_str());
          fs::rename(path, stale, ec);
          good = 0;
          break;
        }
        fresh = false;
      } else if (j.is_object() && j.contains("k") && j["k"].is_string()) {
        done_[j["k"].get<std::string>()] = {{"r", j.value("r", Json::array())}, {"p", j.value("p", Json())}};
      } else {
        break;
      }
      good = static_cast<int64_t>(in.tellg());
    }
  }
  if (!fresh && fs::exists(path, ec) && static_cast<int64_t>(fs::file_size(path, ec)) > good) {
    REEL_INFO("resume", "%s: dropping a torn last line", path.c_str());
    fs::resize_file(path, static_cast<uintmax_t>(good), ec);
  }
  f_ = std::fopen(path.c_str(), fresh ? "wb" : "ab");
  if (!f_)
    throw Error(Code::OutputError, "cannot write the resume ledger " + path + ": " + std::strerror(errno) +
                                       " (is the output location writable?)");
  if (fresh) {
    const std::string h = header.dump() + "\n";
    std::fwrite(h.data(), 1, h.size(), f_);
    dirty_ = true;
    sync();
  }
  if (!done_.empty()) REEL_INFO("resume", "%s: %zu inputs already done", path.c_str(), done_.size());
}

Ledger::~Ledger() {
  if (!f_) return;
  try {
    sync();
  } catch (const Error& e) {
    REEL_ERROR("resume", "%s", e.what());
  }
  std::fclose(f_);
}

const Json* Ledger::find(const std::string& key) const {
  auto it = done_.find(key);
  return it == done_.end() ? nullptr : &it->second;
}

void Ledger::append(const std::string& key, const Json& records, const Json& payload) {
  Json line = {{"k", key}, {"r", records}};
  if (!payload.is_null()) line["p"] = payload;
  const std::string s = line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  if (crash_due("ledger-line")) {  // a kill in the middle of writing the line
    std::fwrite(s.data(), 1, s.size() / 2, f_);
    std::fflush(f_);
    crash_now();
  }
  if (std::fwrite(s.data(), 1, s.size(), f_) != s.size())
    throw Error(Code::OutputError, "writing the resume ledger " + path_ + ": " + std::strerror(errno));
  dirty_ = true;  // done_ holds what earlier runs finished only: workers read it concurrently
}

void Ledger::sync() {
  if (!dirty_) return;
  if (std::fflush(f_) != 0 || ::fsync(fileno(f_)) != 0)
    throw Error(Code::OutputError, "writing the resume ledger " + path_ + ": " + std::strerror(errno));
  dirty_ = false;
}

}  // namespace reel
