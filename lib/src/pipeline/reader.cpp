// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/reader.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "reel/storage/remote_file.h"
#include "reel/storage/s3.h"

namespace fs = std::filesystem;

namespace reel {

std::vector<std::string> list_videos(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && has_video_extension(it->path().string())) found.push_back(it->path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

namespace {
bool is_record_file(const std::string& p) {
  const std::string ext = fs::path(p).extension().string();
  return ext == ".jsonl" || ext == ".ndjson";
}
// An s3:// URL that names no video or record file is a prefix, read like a directory.
bool is_s3_prefix(const std::string& p) { return p.rfind("s3://", 0) == 0 && !has_video_extension(p) && !is_record_file(p); }
bool is_dir(const std::string& p) {
  if (is_s3_prefix(p)) return true;
  std::error_code ec;
  return !is_url(p) && fs::is_directory(p, ec);
}
std::vector<std::string> list_dir(const std::string& p) { return is_s3_prefix(p) ? list_s3_videos(p) : list_videos(p); }
}  // namespace

std::vector<std::string> list_s3_videos(const std::string& url) {
  S3Location loc;
  if (!parse_s3_url(url, &loc)) throw Error(Code::InvalidArgument, "not an s3://bucket/prefix URL: " + url.substr(0, 200));
  std::string prefix = loc.key;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  std::vector<std::string> found;
  std::vector<S3Object> objects;
  try {
    objects = s3_client().list(loc.bucket, prefix);
  } catch (const Error& e) {  // an input named on the command line that cannot be read: a usage error
    if (e.code() == Code::Cancelled) throw;
    throw Error(Code::InvalidArgument, e.what());
  }
  for (const S3Object& o : objects)
    if (has_video_extension(o.key)) found.push_back("s3://" + loc.bucket + "/" + o.key);
  return found;  // S3 lists keys in byte order: already sorted
}

RecordReader::RecordReader(std::vector<std::string> args, std::istream* in, bool records_only)
    : args_(std::move(args)), stdin_(in), records_only_(records_only) {
  if (args_.empty()) args_.push_back("-");
}

int64_t RecordReader::count_if_known() const {
  int64_t n = 0;
  for (const auto& a : args_) {
    if (a == "-" || is_record_file(a) || records_only_) return -1;
    if (is_dir(a)) {
      auto it = listed_.find(a);
      if (it == listed_.end()) it = listed_.emplace(a, list_dir(a)).first;
      n += static_cast<int64_t>(it->second.size());
    } else {
      ++n;
    }
  }
  return n;
}

bool RecordReader::next_line(std::istream& in, InputItem* out) {
  std::string line;
  while (std::getline(in, line)) {
    InputItem item;
    if (!parse_input_line(line, &item)) continue;
    if (item.plain && is_dir(item.media)) {  // a plain directory line
      dir_ = list_dir(item.media);
      dir_pos_ = 0;
      if (dir_.empty()) continue;
      *out = item_for_path(dir_[dir_pos_++]);
      return true;
    }
    item.origin = origin_;
    *out = std::move(item);
    return true;
  }
  return false;
}

bool RecordReader::next(InputItem* out) {
  for (;;) {
    if (dir_pos_ < dir_.size()) {
      *out = item_for_path(dir_[dir_pos_++]);
      return true;
    }
    if (lines_) {
      if (next_line(*lines_, out)) return true;
      if (dir_pos_ < dir_.size()) continue;
      lines_ = nullptr;
      file_.reset();
      continue;
    }
    if (arg_ >= args_.size()) return false;
    const std::string a = args_[arg_++];
    origin_ = a;
    if (a == "-") {
      lines_ = stdin_;
    } else if (is_record_file(a) && is_remote_url(a)) {
      file_ = std::make_unique<std::istringstream>(read_remote(a));
      lines_ = file_.get();
    } else if (is_record_file(a) || (records_only_ && !is_dir(a) && !is_url(a))) {
      file_ = std::make_unique<std::ifstream>(a);
      if (!*file_) throw Error(Code::NotFound, "cannot open record file " + a);
      lines_ = file_.get();
    } else if (is_dir(a)) {
      auto it = listed_.find(a);
      dir_ = it != listed_.end() ? std::move(it->second) : list_dir(a);
      if (it != listed_.end()) listed_.erase(it);
      dir_pos_ = 0;
    } else {
      *out = item_for_path(a);
      out->origin = a;
      return true;
    }
  }
}

}  // namespace reel
