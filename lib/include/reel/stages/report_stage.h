// SPDX-License-Identifier: Apache-2.0
// reel report as a whole-input stage: every record of every run file into one HTML page
// (see report/report.h); prints one line {"report", "bytes", "skipped_lines"}.
#pragma once
#include <memory>
#include <string>

#include "reel/pipeline/runner.h"
#include "reel/report/report.h"

namespace reel {

std::unique_ptr<WholeStage> make_report_stage(const ReportOptions& options, const std::string& output);

}  // namespace reel
