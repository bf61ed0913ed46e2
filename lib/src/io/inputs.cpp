// SPDX-License-Identifier: Apache-2.0
#include "reel/io/inputs.h"

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

namespace {
std::string normalise(const std::string& s) {
  if (is_url(s) || s.empty()) return s;
  std::error_code ec;
  fs::path p = fs::absolute(s, ec);
  return ec ? s : p.lexically_normal().string();
}

void add_path(const std::string& arg, std::vector<InputItem>* out) {
  std::error_code ec;
  if (!is_url(arg) && fs::is_directory(arg, ec)) {
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && has_video_extension(it->path().string())) found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());
    for (auto& f : found) out->push_back({normalise(f), nlohmann::json::object(), ""});
    return;
  }
  out->push_back({normalise(arg), nlohmann::json::object(), ""});
}
}  // namespace

bool parse_input_line(const std::string& raw, InputItem* item) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.pop_back();
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos || line[b] == '#') return false;
  line = line.substr(b);
  item->record = nlohmann::json::object();
  item->error.clear();
  if (line[0] == '{') {
    try {
      item->record = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      item->source = "";
      item->error = std::string("bad JSON line: ") + e.what();
      return true;
    }
    for (const char* key : {"path", "source", "src", "url"}) {
      auto it = item->record.find(key);
      if (it != item->record.end() && it->is_string()) {
        item->source = normalise(it->get<std::string>());
        return true;
      }
    }
    item->source = "";
    item->error = "record has no \"path\", \"source\", \"src\" or \"url\" string";
    return true;
  }
  item->source = normalise(line);
  return true;
}

std::vector<InputItem> expand_inputs(const std::vector<std::string>& args, std::istream& in) {
  std::vector<InputItem> out;
  bool use_stdin = args.empty();
  for (const auto& a : args) {
    if (a == "-") {
      use_stdin = true;
      continue;
    }
    add_path(a, &out);
  }
  if (use_stdin) {
    std::string line;
    while (std::getline(in, line)) {
      InputItem item;
      if (!parse_input_line(line, &item)) continue;
      if (item.error.empty() && item.record.empty()) {
        add_path(item.source, &out);
        continue;
      }
      out.push_back(std::move(item));
    }
  }
  return out;
}

}  // namespace reel
