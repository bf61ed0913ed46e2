// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/report_stage.h"

#include "reel/core/log.h"
#include "reel/io/atomic_file.h"

namespace reel {
namespace {

class ReportStage : public WholeStage {
 public:
  ReportStage(const ReportOptions& o, std::string output) : b_(o), output_(std::move(output)) {}
  std::string name() const override { return "report"; }
  bool records_only() const override { return true; }
  int64_t failed() const override { return bad_; }
  void add(const InputItem& it) override {
    if (it.origin != run_) b_.begin_run(run_ = it.origin);
    // Records need no media here: eval's aggregate lines are shown as run summaries.
    if (!it.plain && it.record.is_object() && !it.record.empty()) {
      b_.add(it.record);
    } else if (bad_++ < 5) {
      REEL_WARN("report", "%s: a line that is not a JSON object, skipped (%s)", it.origin.c_str(), it.error.c_str());
    }
  }
  std::vector<Json> finish() override {
    const std::string page = b_.html();
    write_file_atomic(output_, page);
    REEL_INFO("report", "wrote %s (%.1f MB)", output_.c_str(), page.size() / 1e6);
    return {{{"report", output_}, {"bytes", page.size()}, {"skipped_lines", bad_}}};
  }

 private:
  ReportBuilder b_;
  std::string output_, run_ = "\x01";
  int64_t bad_ = 0;
};

}  // namespace

std::unique_ptr<WholeStage> make_report_stage(const ReportOptions& options, const std::string& output) {
  return std::make_unique<ReportStage>(options, output);
}

}  // namespace reel
