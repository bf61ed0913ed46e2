// SPDX-License-Identifier: Apache-2.0
// Streams the inputs of a stage run, one item at a time, in a fixed order.
//
// Positional arguments are files, directories (searched recursively for video files, in
// sorted order), s3://bucket/prefix (the video objects under it, in key order), record files
// (*.jsonl, read line by line, local or remote), URLs (anything with "://"), or
// "-" for stdin; no argument at all means stdin. Stdin and record files hold JSON Lines
// records or plain paths, one per line (a plain path may name a directory too). Nothing is
// read ahead: a pipeline's next stage starts on the first record while the previous one
// still works, and memory does not grow with the input.
#pragma once
#include <fstream>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reel/pipeline/record.h"

namespace reel {

class RecordReader {
 public:
  // records_only: every file argument is a record file, whatever its name (reel report, merge).
  RecordReader(std::vector<std::string> args, std::istream* stdin_stream, bool records_only = false);
  // Next item, false at the end. Items are numbered by the caller.
  bool next(InputItem* out);
  // Number of items if it is known without reading stdin or record files (-1 otherwise).
  int64_t count_if_known() const;

 private:
  bool next_line(std::istream& in, InputItem* out);
  std::vector<std::string> args_;
  size_t arg_ = 0;
  std::istream* stdin_;
  std::istream* lines_ = nullptr;  // stdin or an open record file, while reading it
  std::unique_ptr<std::istream> file_;
  std::vector<std::string> dir_;   // pending files of an expanded directory
  size_t dir_pos_ = 0;
  std::string origin_;
  bool records_only_ = false;
  // Directory listings made by count_if_known, reused when the directory is read.
  mutable std::map<std::string, std::vector<std::string>> listed_;
};

// Video files under a directory, recursively, sorted.
std::vector<std::string> list_videos(const std::string& dir);
// Video objects under an s3://bucket/prefix (ListObjectsV2, every page), in key order.
std::vector<std::string> list_s3_videos(const std::string& url);

}  // namespace reel
