// SPDX-License-Identifier: Apache-2.0
// What the report keeps of each record: a compact row (numbers as float, no JSON), so that
// 100 000 clips stay small in memory.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "reel/report/report.h"

namespace reel::report {

struct Row {
  int run = 0;
  std::string base_dir;  // directory of the run file: relative media paths also resolve there
  std::string id, source, path, distorted;
  std::vector<float> metrics;  // by Table::metric_names, NaN where the record had none
  std::vector<std::string> errors;  // "stage: code"
  std::string error_message;
  int filter = -1;  // -1 not filtered, 0 removed, 1 kept
  std::vector<std::string> reasons;
  std::string dup_group;
  int dup_kept = -1;
  std::string caption;
  std::vector<float> per_frame;  // eval PSNR-Y per frame
  int preview_frame = -1;
  std::string preview_original, preview_reconstruction, preview_error;

  float metric(int i) const { return i >= 0 && size_t(i) < metrics.size() ? metrics[i] : NAN; }
};

struct RunInfo {
  std::string name;
  int64_t records = 0;
  std::vector<nlohmann::json> aggregates;
};

struct Table {
  std::vector<RunInfo> runs;
  std::vector<Row> rows;
  std::unordered_map<std::string, size_t> by_key;
  std::vector<std::string> metric_names;
  std::map<std::string, int> metric_index;
  int metric(const std::string& name);           // index, added if new
  int find(const std::string& name) const;       // index, -1 if no record has it (Row::metric(-1) is NaN)
};

void absorb(Table& t, int run, const std::string& base_dir, const nlohmann::json& record);
std::string render_html(const Table& t, const ReportOptions& o);

}  // namespace reel::report
