// SPDX-License-Identifier: Apache-2.0
// reel report: one self-contained HTML page for the records of a curation run or evaluation.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/stages/report_stage.h"

namespace fs = std::filesystem;

namespace reel::cli {

void register_report(CLI::App& app, int* exit_code) {
  struct ReportOpts {
    std::vector<std::string> runs;
    std::string output = "report.html";
    ReportOptions report;
    bool no_thumbnails = false;
  };
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
    for (const auto& r : o->runs)
      if (r != "-" && !std::filesystem::is_regular_file(r))
        throw Error(Code::InvalidArgument, "cannot read run file " + r + ": no such file");
    auto stage = make_report_stage(o->report, o->output);
    RunOptions ro;
    ro.inputs = o->runs;
    ro.progress.mode = "never";
    run_whole_and_store(std::move(stage), ro, exit_code);
  });
}

}  // namespace reel::cli
