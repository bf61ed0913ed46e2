// SPDX-License-Identifier: Apache-2.0
// reel slurm PIPELINE --array N: the pipeline as a Slurm array plus a merge job (pipeline/slurm.h).
#include <unistd.h>

#include <filesystem>

#include "commands.h"
#include "common.h"
#include "reel/pipeline/pipeline_file.h"
#include "reel/pipeline/slurm.h"

namespace fs = std::filesystem;

namespace reel::cli {

namespace {
std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "reel" : p.string();
}

nlohmann::json summary(const SlurmJob& job, const Submission* s, const std::vector<int>& tasks) {
  nlohmann::json j = {{"dir", job.dir},
                      {"array_script", (fs::path(job.dir) / "array.sbatch").string()},
                      {"merge_script", (fs::path(job.dir) / "merge.sbatch").string()},
                      {"tasks", job.tasks},
                      {"array_steps", job.array_steps},
                      {"merge_steps", job.total_steps - job.array_steps},
                      {"result", (fs::path(job.dir) / "result.jsonl").string()}};
  if (s) {
    j["submitted"] = {{"array_job", s->array_id}, {"merge_job", s->merge_id}, {"array", array_spec(tasks)}};
  }
  return j;
}
}  // namespace

void register_slurm(CLI::App& app, int* exit_code) {
  struct Opts {
    std::string pipeline, dir, resubmit, partition, time, account, mem;
    int tasks = 0, cpus = 0, gpus = 0;
    std::vector<std::string> inputs, extra;
    bool submit = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("slurm", "Run a pipeline file on Slurm: an array job over shards of the inputs plus a merge job");
  cmd->add_option("pipeline", o->pipeline, "The pipeline file (reel run's format)");
  cmd->add_option("inputs", o->inputs, "The first stage's inputs (default: the file's 'inputs')");
  cmd->add_option("--array", o->tasks, "Array tasks: the inputs are split into this many shards")->check(CLI::PositiveNumber);
  cmd->add_option("--dir", o->dir, "Job folder for scripts, records, completion records and logs (default: <pipeline>.slurm)");
  cmd->add_option("--partition", o->partition, "sbatch --partition");
  cmd->add_option("--time", o->time, "sbatch --time (each task and the merge)");
  cmd->add_option("--account", o->account, "sbatch --account");
  cmd->add_option("--mem", o->mem, "sbatch --mem");
  cmd->add_option("--cpus-per-task", o->cpus, "sbatch --cpus-per-task")->check(CLI::PositiveNumber);
  cmd->add_option("--gpus-per-task", o->gpus, "sbatch --gpus-per-task (the array tasks)")->check(CLI::PositiveNumber);
  cmd->add_option("--sbatch", o->extra, "Any other sbatch option for both jobs, e.g. --sbatch=--qos=high (repeatable)");
  cmd->add_flag("--submit", o->submit, "Submit both jobs through sbatch (the merge with --dependency=afterok)");
  cmd->add_option("--resubmit-failed", o->resubmit,
                  "Job folder of an earlier reel slurm: submit again only the array tasks without a completion record, and the "
                  "merge after them");
  cmd->footer(
      "\nWrites DIR/array.sbatch (task i runs the steps before the first whole-input stage, such as dedup, as shard i/N) and\n"
      "DIR/merge.sbatch (reel merge of the shards' records, then the remaining steps, into DIR/result.jsonl). A task's\n"
      "records and its completion record DIR/done/task-I.json are written only when it finishes; a cancelled or failed\n"
      "task resubmitted with --resubmit-failed resumes from the stages' ledgers.\n"
      "Prints one JSON line: the folder, the scripts and, with --submit, the job ids." +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    if (!o->resubmit.empty()) {
      SlurmJob job = load_slurm_job(fs::absolute(o->resubmit).lexically_normal().string());
      const std::vector<int> todo = unfinished_tasks(job);
      if (todo.empty() && fs::exists(fs::path(job.dir) / "result.jsonl")) {
        emit(summary(job, nullptr, todo));
        return;
      }
      const Submission s = submit_slurm_job(job, todo);
      emit(summary(job, &s, todo));
      return;
    }
    if (o->pipeline.empty()) throw CLI::RequiredError("pipeline (or --resubmit-failed DIR)");
    if (o->tasks < 1) throw CLI::RequiredError("--array");
    const PipelineFile pf = load_pipeline_file(o->pipeline);
    SlurmJob job;
    job.pipeline = fs::absolute(o->pipeline).lexically_normal().string();
    job.dir = fs::absolute(o->dir.empty() ? o->pipeline + ".slurm" : o->dir).lexically_normal().string();
    job.workdir = fs::current_path().string();
    job.reel = self_path();
    job.tasks = o->tasks;
    job.total_steps = static_cast<int>(pf.steps.size());
    job.array_steps = per_input_steps(pf);
    job.inputs = o->inputs;
    if (!o->partition.empty()) job.sbatch.push_back("--partition=" + o->partition);
    if (!o->time.empty()) job.sbatch.push_back("--time=" + o->time);
    if (!o->account.empty()) job.sbatch.push_back("--account=" + o->account);
    if (!o->mem.empty()) job.sbatch.push_back("--mem=" + o->mem);
    if (o->cpus > 0) job.sbatch.push_back("--cpus-per-task=" + std::to_string(o->cpus));
    for (const auto& e : o->extra) job.sbatch.push_back(e);
    if (o->gpus > 0) job.array_sbatch.push_back("--gpus-per-task=" + std::to_string(o->gpus));
    write_slurm_job(job);
    std::vector<int> all;
    for (int i = 0; i < job.tasks; ++i) all.push_back(i);
    if (!o->submit) {
      emit(summary(job, nullptr, all));
      return;
    }
    const Submission s = submit_slurm_job(job, all);
    emit(summary(job, &s, all));
  });
}

}  // namespace reel::cli
