// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/record.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace reel {

bool is_url(const std::string& s) { return s.find("://") != std::string::npos; }

bool has_video_extension(const std::string& path) {
  static const char* exts[] = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts",
                               ".m2ts", ".mts", ".ogv", ".ogg", ".flv", ".wmv", ".3gp", ".mxf", ".y4m"};
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : exts)
    if (ext == e) return true;
  return false;
}

std::string normalise_media(const std::string& s) {
  if (is_url(s) || s.empty()) return s;
  std::error_code ec;
  fs::path p = fs::absolute(s, ec);
  return ec ? s : p.lexically_normal().string();
}

InputItem item_for_path(const std::string& path) {
  InputItem it;
  it.media = normalise_media(path);
  it.record = Json::object();
  it.record["source"] = it.media;
  it.plain = true;
  return it;
}

bool parse_input_line(const std::string& raw, InputItem* item) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
    line.pop_back();
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos || line[b] == '#') return false;
  line = line.substr(b);
  item->record = Json::object();
  item->error.clear();
  item->media.clear();
  item->plain = false;
  if (line[0] != '{') {
    *item = item_for_path(line);
    return true;
  }
  try {
    item->record = Json::parse(line);
  } catch (const std::exception& e) {
    item->record = Json::object();
    item->error = std::string("bad JSON line: ") + e.what();
    return true;
  }
  if (!item->record.is_object()) {
    item->record = Json::object();
    item->error = "record line is not a JSON object";
    return true;
  }
  for (const char* key : {"path", "source", "src", "url"}) {
    auto it = item->record.find(key);
    if (it != item->record.end() && it->is_string() && !it->get<std::string>().empty()) {
      item->media = normalise_media(it->get<std::string>());
      break;
    }
  }
  if (item->media.empty()) {
    item->error = "record has no \"path\", \"source\", \"src\" or \"url\" string";
    return true;
  }
  // The first stage sets `source`; later ones never touch it.
  auto s = item->record.find("source");
  if (s == item->record.end() || !s->is_string()) item->record["source"] = item->media;
  return true;
}

const std::vector<std::string>& media_fields() {
  static const std::vector<std::string> k = {"frames",    "fps",       "duration_s", "width",    "height",
                                             "rotation",  "sar",       "codec",      "container", "time_base",
                                             "first_pts", "bytes",     "warnings",   "scenes"};
  return k;
}

void drop_media_fields(Json& record) {
  for (const auto& k : media_fields()) record.erase(k);
}

void add_error(Json& record, const std::string& stage, Code code, const std::string& message) {
  if (!record.contains("errors") || !record["errors"].is_array()) record["errors"] = Json::array();
  record["errors"].push_back({{"stage", stage}, {"code", code_name(code)}, {"message", message}});
}

bool has_open_errors(const Json& record) {
  auto it = record.find("errors");
  if (it == record.end() || !it->is_array()) return false;
  for (const auto& e : *it)
    if (!(e.is_object() && e.value("retried", false))) return true;
  return false;
}

void mark_errors_retried(Json& record) {
  auto it = record.find("errors");
  if (it == record.end() || !it->is_array()) return;
  for (auto& e : *it)
    if (e.is_object()) e["retried"] = true;
}

std::string item_key(const InputItem& item) {
  auto it = item.record.find("id");
  if (it != item.record.end() && it->is_string()) return it->get<std::string>();
  return item.media;
}

}  // namespace reel
