// SPDX-License-Identifier: Apache-2.0
// reel slurm: a pipeline file as a Slurm array job plus a dependent merge job.
//
// The array runs the pipeline's per-input steps (those before the first step that needs every
// input, such as dedup), task i as shard i/N (REEL_SHARD, so a resubmitted subset keeps its
// numbering): each writes DIR/records/records.shard-I-of-N.jsonl atomically and then a
// completion record DIR/done/task-I.json. The merge job (sbatch --dependency=afterok) joins the
// shards' records with reel merge and runs the remaining steps over them into
// DIR/result.jsonl. Stage outputs are the pipeline's own (sharded names, ledgers per shard),
// so a cancelled or failed task resubmitted with --resubmit-failed resumes where it stopped.
#pragma once
#include <string>
#include <vector>

#include "reel/pipeline/pipeline_file.h"

namespace reel {

struct SlurmJob {
  std::string pipeline;             // absolute path of the pipeline file
  std::string dir;                  // absolute job folder
  std::string workdir;              // where the tasks run (relative paths in the pipeline)
  std::string reel;                 // absolute path of the reel binary the scripts call
  int tasks = 1;                    // array size N
  int array_steps = 0, total_steps = 0;  // steps 1..array_steps in the array, the rest in the merge
  std::vector<std::string> inputs;  // the first step's inputs, if not the file's
  std::vector<std::string> sbatch;  // options of both jobs ("--partition=gpu", "--time=04:00:00", ...)
  std::vector<std::string> array_sbatch;  // of the array only ("--gpus-per-task=1", ...)
  std::vector<std::string> submitted;     // job ids, in order of submission (array, merge, ...)
};

// Steps before the first one that needs all inputs (at least 1): what the array runs.
int per_input_steps(const PipelineFile& pf);

// Writes DIR/array.sbatch, DIR/merge.sbatch and DIR/job.json (and the folders); OutputError
// when DIR cannot be written.
void write_slurm_job(const SlurmJob& job);
SlurmJob load_slurm_job(const std::string& dir);  // InvalidArgument if DIR holds no job
void save_slurm_job(const SlurmJob& job);

// Array indices without a completion record.
std::vector<int> unfinished_tasks(const SlurmJob& job);

struct Submission {
  std::string array_id;  // empty when no array task needed submitting
  std::string merge_id;
};
// Submits the array (only `tasks`, all when empty) and the merge job after it, through sbatch;
// a pending merge job of an earlier submission is cancelled first (scancel). Records the ids.
// ServiceUnavailable when sbatch fails, with its message.
Submission submit_slurm_job(SlurmJob& job, const std::vector<int>& tasks);

// "0-3", "1,3,7": Slurm's --array syntax for these indices (sorted, ranges joined).
std::string array_spec(std::vector<int> tasks);

}  // namespace reel
