// SPDX-License-Identifier: Apache-2.0
#include "common.h"

#include <cstdio>
#include <thread>

namespace reel::cli {

Globals& globals() {
  static Globals g;
  return g;
}

int thread_count() {
  int t = globals().threads;
  if (t <= 0) t = static_cast<int>(std::thread::hardware_concurrency());
  return t > 0 ? t : 1;
}

void emit(const nlohmann::json& record) {
  write_stdout(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void add_runner_options(CLI::App* cmd, RunnerCli* r) {
  const char* g = "Runner";
  cmd->add_option("--workers", r->workers,
                  "Records in flight at once, each with its own model instance (0 = one per core; -j/--threads sets "
                  "the compute threads one record uses)")
      ->capture_default_str()->check(CLI::Range(0, 1024))->envname("REEL_WORKERS")->group(g);
  cmd->add_option("--shard", r->shard,
                  "Process only shard I of N (I/N, 0-based). Default: from Slurm, Kubernetes Indexed Jobs, Open MPI or PMI "
                  "variables, else everything")
      ->group(g);
  cmd->add_option("--shard-count", r->shard_count, "Shard count for Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX)")
      ->envname("REEL_SHARD_COUNT")->group(g);
  cmd->add_flag("--progress-json", r->progress_json, "Status lines as JSON on stderr (done, failed, items/s, ETA)")->group(g);
  cmd->add_option("--progress-interval", r->progress_interval, "Seconds between --progress-json lines")->capture_default_str()
      ->group(g);
  cmd->add_flag("--retry-errors", r->retry_errors,
                "Process records that arrive with errors (their entries are kept, marked retried) instead of passing them on")
      ->group(g);
  cmd->add_flag("--no-resume", r->no_resume, "Ignore the resume ledger: redo every input")->group(g);
  cmd->add_option("--ledger", r->ledger, "Resume ledger file (default: beside the stage's output)")->group(g);
}

RunOptions run_options(const RunnerCli& r, const std::vector<std::string>& inputs) {
  RunOptions o;
  o.inputs = inputs;
  o.workers = r.workers > 0 ? r.workers : thread_count();
  o.retry_errors = r.retry_errors;
  o.resume = !r.no_resume;
  o.ledger = r.ledger;
  o.shard = resolve_shard(r.shard, r.shard_count);
  o.progress.mode = globals().progress;
  o.progress.json = r.progress_json;
  o.progress.interval_s = r.progress_interval;
  return o;
}

namespace {
StageCapture& capture() {
  static StageCapture c;
  return c;
}
}  // namespace

void set_stage_capture(StageCapture c) { capture() = std::move(c); }

void run_and_store(std::unique_ptr<Stage> stage, const RunOptions& options, int* exit_code) {
  if (capture()) return capture()(std::move(stage), nullptr, options);
  *exit_code = run_stage(*stage, options).exit_code;
}

void run_whole_and_store(std::unique_ptr<WholeStage> stage, const RunOptions& options, int* exit_code) {
  if (capture()) return capture()(nullptr, std::move(stage), options);
  *exit_code = run_whole(*stage, options).exit_code;
}

std::string exit_code_footer() {
  return "\nExit codes: 0 success, 1 internal error, 2 usage error (bad option, missing input file), 3 some records\n"
         "failed (their records carry \"errors\"), 4 model/weights error, 5 device unavailable, 6 output unusable\n"
         "(not writable, full), 130 interrupted (every record printed is complete; a re-run resumes).\n"
         "Records are JSON Lines on stdout; logs and progress go to stderr.";
}

}  // namespace reel::cli
