// SPDX-License-Identifier: Apache-2.0
// reel report: one self-contained HTML page for the records of a curation run or evaluation.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/report/report.h"

namespace fs = std::filesystem;

namespace reel::cli {
namespace {

struct ReportOpts {
  std::vector<std::string> runs;
  std::string output = "report.html";
  ReportOptions report;
  bool no_thumbnails = false;
};

// Feeds one JSONL stream to the builder; returns the number of lines that were not JSON objects.
int64_t read_run(std::istream& in, const std::string& name, ReportBuilder* b) {
  b->begin_run(name);
  std::string line;
  int64_t bad = 0, n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      if (bad++ < 5) REEL_WARN("report", "%s:%lld: not a JSON object, skipped", name.c_str(), static_cast<long long>(n));
      continue;
    }
    b->add(j);
  }
  return bad;
}

}  // namespace

void register_report(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ReportOpts>();
  auto* cmd = app.add_subcommand("report", "One self-contained HTML page for the records of runs (curation and/or eval)");
  cmd->add_option("runs", o->runs, "JSONL files of records from any reel stage ('-' or none: stdin)");
  cmd->add_option("-o,--output", o->output, "HTML file to write")->capture_default_str();
  cmd->add_option("--title", o->report.title, "Page title")->capture_default_str();
  cmd->add_option("--thumbnails", o->report.thumbnails, "Clips with an embedded thumbnail (worst half + even sample)")
      ->capture_default_str();
  cmd->add_flag("--no-thumbnails", o->no_thumbnails, "Do not decode clips for thumbnails");
  cmd->add_option("--worst", o->report.worst, "Evaluation clips shown with original|reconstruction|error previews")
      ->capture_default_str();
  cmd->add_option("--scatter-points", o->report.scatter_points, "Clips per scatter plot (evenly sampled)")->capture_default_str();
  cmd->add_option("--page-size", o->report.page_size, "Table rows per page")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->footer(
      "\nThe page has no external resources: styles, SVG charts, images (base64) and a small script are inline.\n"
      "Records sharing an id are merged, so the outputs of several stages of one run can be given together.\n"
      "Examples:\n  reel eval --previews out/previews --model M.h5 clips/ > eval.jsonl && reel report eval.jsonl -o report.html\n"
      "  reel split videos/ -o clips/ > split.jsonl && reel report split.jsonl" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    o->report.decode_thumbnails = !o->no_thumbnails;
    ReportBuilder b(o->report);
    int64_t bad = 0;
    if (o->runs.empty()) o->runs.push_back("-");
    for (auto& r : o->runs) {
      if (r == "-") {
        bad += read_run(std::cin, "-", &b);
        continue;
      }
      std::ifstream in(r);
      if (!in) throw Error(Code::InvalidArgument, "cannot read run file " + r);
      bad += read_run(in, r, &b);
    }
    const std::string page = b.html();
    write_file_atomic(o->output, page);
    REEL_INFO("report", "wrote %s (%.1f MB)", o->output.c_str(), page.size() / 1e6);
    emit({{"report", o->output}, {"bytes", page.size()}, {"skipped_lines", bad}});
    *exit_code = bad ? kExitPartial : kExitOk;
  });
}

}  // namespace reel::cli
