// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the reel subcommands: global options, the runner options every record
// stage takes, and the exit-code footer of --help.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reel/core/status.h"
#include "reel/media/limits.h"
#include "reel/pipeline/runner.h"

namespace reel::cli {

struct Globals {
  std::string log_level = "info";
  std::string progress = "auto";  // auto|always|never
  int threads = 0;                // 0 = all cores
  std::string s3_endpoint, s3_profile;
  MediaLimits limits;
  std::string hwaccel = "none";   // none|cuda: video decode on NVDEC
};
Globals& globals();

// Options of the stage runner (lib/pipeline/runner.h), per subcommand.
struct RunnerCli {
  int workers = 1;  // 0: one per core (thread_count()); a stage sets its own default before add_runner_options
  std::string shard;
  int shard_count = 0;
  bool progress_json = false;
  double progress_interval = 10;
  bool retry_errors = false;
  bool no_resume = false;
  std::string ledger;
};
void add_runner_options(CLI::App* cmd, RunnerCli* r);
// Resolves the shard (--shard, else the cluster's environment) and fills RunOptions.
RunOptions run_options(const RunnerCli& r, const std::vector<std::string>& inputs);
// Runs a stage and stores its exit code; while a capture is set (reel run), hands the stage
// and its options to the capture instead, so a pipeline file's steps are parsed, checked and
// built by the same subcommand definitions as the command line.
void run_and_store(std::unique_ptr<Stage> stage, const RunOptions& options, int* exit_code);
void run_whole_and_store(std::unique_ptr<WholeStage> stage, const RunOptions& options, int* exit_code);
using StageCapture = std::function<void(std::unique_ptr<Stage>, std::unique_ptr<WholeStage>, const RunOptions&)>;
void set_stage_capture(StageCapture capture);  // an empty function ends capturing

// Writes one JSON line on stdout (non-record outputs: info, bench, verify).
void emit(const nlohmann::json& record);

// Footer shared by --help texts.
std::string exit_code_footer();

// Compute threads a record may use (globals().threads or the number of cores).
int thread_count();

}  // namespace reel::cli
