// SPDX-License-Identifier: Apache-2.0
// The record contract every stage follows (docs/records.md says it for users).
//
// A record is one JSON object per line. Keys reel owns:
//   id       the clip's UUID (set by the stage that creates the clip)
//   source   the original video: set once by the first stage, never overwritten
//   path     the media file the record describes now (a stage that writes new media moves it)
//   span     where the clip lies in `source`
//   errors   list of {stage, code, message}; entries are appended, never removed
// plus the media-description fields (frames, fps, width, ...) that describe `path` and are
// dropped whenever `path` changes, and one namespaced object per stage ("scenes", "tokens",
// "eval", ...). Unknown keys pass through untouched.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reel/core/status.h"

namespace reel {

using Json = nlohmann::json;

// One input of a stage run: a record line, a plain path, or a path from the command line.
struct InputItem {
  std::string media;   // the file or URL to read: the record's path, else source, src or url
  Json record;         // always an object; its "source" is set (contract rule above)
  std::string error;   // the line itself could not be understood (the record then has no media)
  int64_t seq = -1;    // position among the inputs this process owns (output order)
  bool plain = false;  // a bare path (command line or a plain line), not a JSON record
  std::string origin;  // where it was read: "-" (stdin), a record file, or the argument
};

// Parses one input line (JSON record or plain path); false for blank and '#' lines.
bool parse_input_line(const std::string& line, InputItem* item);
// An item for a path or URL given on the command line or as a plain line.
InputItem item_for_path(const std::string& path);

bool is_url(const std::string& s);
bool has_video_extension(const std::string& path);
// Absolute, lexically normal path (URLs unchanged).
std::string normalise_media(const std::string& s);

// The keys that describe the media at `path` (frames, fps, duration_s, width, height, ...).
const std::vector<std::string>& media_fields();
// Removes them (and the given stage objects) when a stage makes a record for other media.
void drop_media_fields(Json& record);

// Appends {"stage", "code", "message"} to record["errors"].
void add_error(Json& record, const std::string& stage, Code code, const std::string& message);
// True if the record carries an error entry not yet marked retried.
bool has_open_errors(const Json& record);
// --retry-errors: marks every current entry {"retried": true} (kept, never removed).
void mark_errors_retried(Json& record);

// The key a record is tracked under for resume: "id" if it is a string, else the media.
std::string item_key(const InputItem& item);

}  // namespace reel
