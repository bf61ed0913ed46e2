// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/slurm.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/io/atomic_file.h"

namespace fs = std::filesystem;

namespace reel {

namespace {
// Single-quoted for bash.
std::string sh(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string stem_of(const std::string& pipeline) { return fs::path(pipeline).stem().string(); }

// Task i's records, named as reel merge expects a shard family ("records.shard-00001-of-00004.jsonl").
std::string part_path(const SlurmJob& job, int i) {
  char name[64];
  std::snprintf(name, sizeof name, "records.shard-%05d-of-%05d.jsonl", i, job.tasks);
  return (fs::path(job.dir) / "records" / name).string();
}

// Runs a command line; its output (stdout and stderr) and exit status.
int run_capture(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw Error(Code::ServiceUnavailable, "cannot run " + cmd);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int st = pclose(p);
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string sbatch(const std::vector<std::string>& args, const std::string& script) {
  std::string cmd = "sbatch --parsable";
  for (const auto& a : args) cmd += " " + sh(a);
  cmd += " " + sh(script);
  std::string out;
  const int rc = run_capture(cmd, &out);
  if (rc != 0) throw Error(Code::ServiceUnavailable, "sbatch " + script + " failed (" + std::to_string(rc) + "): " + out);
  const size_t semi = out.find(';');  // "id;cluster"
  return out.substr(0, semi);
}

std::string header(const SlurmJob& job, const std::string& name, const std::string& log, const std::vector<std::string>& extra) {
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=" + name + "\n";
  s += "#SBATCH --output=" + log + "\n";
  for (const auto& o : job.sbatch) s += "#SBATCH " + o + "\n";
  for (const auto& o : extra) s += "#SBATCH " + o + "\n";
  return s;
}

std::string reel_run(const SlurmJob& job, const std::string& steps, bool with_inputs) {
  std::string s = sh(job.reel) + " run " + sh(job.pipeline) + " --steps " + steps;
  if (with_inputs)
    for (const auto& i : job.inputs) s += " " + sh(i);
  return s;
}
}  // namespace

int per_input_steps(const PipelineFile& pf) {
  for (size_t i = 0; i < pf.steps.size(); ++i) {
    const auto& c = pf.steps[i].command;
    if (!c.empty() && (c[0] == "dedup" || c[0] == "merge" || c[0] == "report")) return std::max<int>(1, static_cast<int>(i));
  }
  return static_cast<int>(pf.steps.size());
}

std::string array_spec(std::vector<int> t) {
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  std::string s;
  for (size_t i = 0; i < t.size();) {
    size_t j = i;
    while (j + 1 < t.size() && t[j + 1] == t[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + std::to_string(t[i]) + (j > i ? "-" + std::to_string(t[j]) : "");
    i = j + 1;
  }
  return s;
}

void write_slurm_job(const SlurmJob& job) {
  if (job.tasks < 1) throw Error(Code::InvalidArgument, "--array must be at least 1");
  for (const char* sub : {"records", "done", "logs"}) ensure_writable_dir(fs::path(job.dir) / sub, "Slurm job folder");
  const std::string name = "reel-" + stem_of(job.pipeline);
  const std::string n = std::to_string(job.tasks);
  const std::string steps = "1-" + std::to_string(job.array_steps);

  std::string a = header(job, name, (fs::path(job.dir) / "logs" / "task-%a.log").string(), job.array_sbatch);
  a += "#SBATCH --array=0-" + std::to_string(job.tasks - 1) + "\n";
  a += "# Written by reel slurm (job.json beside it): steps " + steps + " of " + job.pipeline + ", array task i as shard i/" + n +
       ".\n# Exit 0 also when some inputs failed (exit 3): their records carry the errors, and the merge goes on.\n";
  a += "set -uo pipefail\n";
  a += "i=$SLURM_ARRAY_TASK_ID\n";
  a += "export REEL_SHARD=\"$i/" + n + "\"\n";
  a += "cd " + sh(job.workdir) + " || exit 2\n";
  a += "part=" + sh((fs::path(job.dir) / "records").string()) + "/records.shard-$(printf '%05d-of-%05d' \"$i\" " + n + ").jsonl\n";
  a += "done_file=" + sh((fs::path(job.dir) / "done").string()) + "/task-$(printf '%05d' \"$i\").json\n";
  a += reel_run(job, steps, true) + " > \"$part.tmp-$SLURM_JOB_ID\"\n";
  a += "rc=$?\n";
  a += "if [ \"$rc\" -ne 0 ] && [ \"$rc\" -ne 3 ]; then rm -f \"$part.tmp-$SLURM_JOB_ID\"; exit \"$rc\"; fi\n";
  a += "mv -f \"$part.tmp-$SLURM_JOB_ID\" \"$part\" || exit 6\n";
  a += "printf '{\"task\": %d, \"exit_code\": %d, \"job\": \"%s\", \"host\": \"%s\", \"finished\": \"%s\"}\\n' \"$i\" \"$rc\" "
       "\"${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}_$i\" \"$(hostname)\" \"$(date -u +%FT%TZ)\" > \"$done_file.tmp\" && "
       "mv -f \"$done_file.tmp\" \"$done_file\" || exit 6\n";
  a += "exit 0\n";

  std::string m = header(job, name + "-merge", (fs::path(job.dir) / "logs" / "merge.log").string(), {});
  m += "# Written by reel slurm: joins the " + n + " shards' records (reel merge)" +
       (job.array_steps < job.total_steps ? ", then runs steps " + std::to_string(job.array_steps + 1) + "-" +
                                                std::to_string(job.total_steps) + " over them"
                                          : std::string()) +
       ".\n# Exit 3 of either (some records carry errors) is a result too.\nset -uo pipefail\n";
  m += "cd " + sh(job.workdir) + " || exit 2\n";
  m += "out=" + sh((fs::path(job.dir) / "result.jsonl").string()) + "\n";
  std::string parts;
  for (int i = 0; i < job.tasks; ++i) parts += " " + sh(part_path(job, i));
  m += sh(job.reel) + " merge" + parts;
  if (job.array_steps < job.total_steps) m += " | " + reel_run(job, std::to_string(job.array_steps + 1) + "-", false);
  m += " > \"$out.tmp-$SLURM_JOB_ID\"\n";
  m += "for rc in \"${PIPESTATUS[@]}\"; do\n"
       "  if [ \"$rc\" -ne 0 ] && [ \"$rc\" -ne 3 ]; then rm -f \"$out.tmp-$SLURM_JOB_ID\"; exit \"$rc\"; fi\n"
       "done\n";
  m += "mv -f \"$out.tmp-$SLURM_JOB_ID\" \"$out\" || exit 6\n";

  write_file_atomic(fs::path(job.dir) / "array.sbatch", a);
  write_file_atomic(fs::path(job.dir) / "merge.sbatch", m);
  save_slurm_job(job);
}

void save_slurm_job(const SlurmJob& job) {
  const nlohmann::json j = {{"format", "reel-slurm/1"},    {"pipeline", job.pipeline},       {"dir", job.dir},
                            {"workdir", job.workdir},     {"reel", job.reel},               {"tasks", job.tasks},
                            {"array_steps", job.array_steps}, {"total_steps", job.total_steps}, {"inputs", job.inputs},
                            {"sbatch", job.sbatch},       {"array_sbatch", job.array_sbatch}, {"submitted", job.submitted}};
  write_file_atomic(fs::path(job.dir) / "job.json", j.dump(1) + "\n");
}

SlurmJob load_slurm_job(const std::string& dir) {
  const fs::path p = fs::path(dir) / "job.json";
  std::ifstream f(p);
  if (!f) throw Error(Code::InvalidArgument, "no Slurm job in " + dir + " (no job.json; written by reel slurm PIPELINE --array N)");
  try {
    const nlohmann::json j = nlohmann::json::parse(f);
    if (j.value("format", "") != "reel-slurm/1") throw Error(Code::InvalidArgument, p.string() + ": not a reel slurm job");
    SlurmJob job;
    job.pipeline = j.at("pipeline");
    job.dir = j.at("dir");
    job.workdir = j.at("workdir");
    job.reel = j.at("reel");
    job.tasks = j.at("tasks");
    job.array_steps = j.at("array_steps");
    job.total_steps = j.at("total_steps");
    job.inputs = j.at("inputs").get<std::vector<std::string>>();
    job.sbatch = j.at("sbatch").get<std::vector<std::string>>();
    job.array_sbatch = j.at("array_sbatch").get<std::vector<std::string>>();
    job.submitted = j.at("submitted").get<std::vector<std::string>>();
    return job;
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::InvalidArgument, p.string() + ": " + e.what());
  }
}

std::vector<int> unfinished_tasks(const SlurmJob& job) {
  std::vector<int> out;
  for (int i = 0; i < job.tasks; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "task-%05d.json", i);
    std::ifstream f(fs::path(job.dir) / "done" / name);
    bool ok = false;
    if (f) {
      const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
      ok = j.is_object() && j.value("task", -1) == i && (j.value("exit_code", -1) == 0 || j.value("exit_code", -1) == 3);
    }
    std::error_code ec;
    if (!ok || !fs::exists(part_path(job, i), ec)) out.push_back(i);
  }
  return out;
}

Submission submit_slurm_job(SlurmJob& job, const std::vector<int>& tasks) {
  // Tasks of an earlier array still queued or running have no completion record yet: submitting
  // them again would run them twice.
  for (size_t i = 0; i + 1 < job.submitted.size(); i += 2) {
    std::string out;
    if (run_capture("squeue -h -r -o %i -j " + sh(job.submitted[i]), &out) == 0 && !out.empty())
      throw Error(Code::InvalidArgument, "array job " + job.submitted[i] + " still has tasks queued or running (" +
                                             out.substr(0, out.find('\n')) + ", ...): wait for them, or scancel them first");
  }
  // A merge job still waiting on an earlier array would never run (its dependency failed).
  if (job.submitted.size() >= 2) {
    std::string out;
    run_capture("scancel --state=PENDING " + sh(job.submitted.back()), &out);
  }
  Submission s;
  std::vector<std::string> args;
  if (!tasks.empty()) {
    args.push_back("--array=" + array_spec(tasks));
    s.array_id = sbatch(args, (fs::path(job.dir) / "array.sbatch").string());
    job.submitted.push_back(s.array_id);
  }
  std::vector<std::string> margs;
  if (!s.array_id.empty()) margs.push_back("--dependency=afterok:" + s.array_id);
  s.merge_id = sbatch(margs, (fs::path(job.dir) / "merge.sbatch").string());
  job.submitted.push_back(s.merge_id);
  save_slurm_job(job);
  REEL_INFO("slurm", "submitted %s%s%s", s.array_id.empty() ? "" : ("array job " + s.array_id + " (" + array_spec(tasks) + "), ").c_str(),
            "merge job ", s.merge_id.c_str());
  return s;
}

}  // namespace reel
