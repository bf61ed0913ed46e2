// SPDX-License-Identifier: Apache-2.0
// Input enumeration shared by every subcommand.
//
// Positional arguments may be files, directories (searched recursively for video files,
// sorted), or URLs (anything with "://"). With no positional argument, or with "-", records
// are read from stdin: JSON Lines (the source is taken from "path", "source", "src" or "url";
// every other key is kept and passed through to the output records) or plain paths, one per
// line. Blank lines and lines starting with '#' are ignored.
#pragma once
#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reel {

struct InputItem {
  std::string source;     // path or URL as given (paths made absolute)
  nlohmann::json record;  // the upstream record (object), empty object for plain paths
  std::string error;      // set when the line itself could not be understood
};

bool is_url(const std::string& s);
bool has_video_extension(const std::string& path);

// Expands positional arguments (files, directories, URLs, "-" for stdin).
std::vector<InputItem> expand_inputs(const std::vector<std::string>& args, std::istream& stdin_stream);

// Parses one stdin line into an item; returns false for blank/comment lines.
bool parse_input_line(const std::string& line, InputItem* item);

}  // namespace reel
