// SPDX-License-Identifier: Apache-2.0
// Which share of the inputs this process owns, without a coordinator.
//
// An input belongs to shard jump_hash(fnv1a64(source), N): every rank decides alone and
// agrees with the others, the share of an input never depends on the inputs around it (adding
// inputs moves none), and growing N moves only about 1/N of them. All clips of one video have
// the same source and so stay together.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace reel {

struct Shard {
  int index = 0, count = 1;
  std::string origin = "none";  // where index and count came from, for the log

  bool sharded() const { return count > 1; }
  bool owns(const std::string& source) const;
  // ".shard-00003-of-00016", empty when not sharded.
  std::string suffix() const;
  // "latents.h5" -> "latents.shard-00003-of-00016.h5" (unchanged when not sharded).
  std::string name(const std::string& path) const;
};

// "I/N" with 0 <= I < N; throws InvalidArgument otherwise.
Shard parse_shard(const std::string& spec);

// From the environment, in this order: REEL_SHARD ("I/N"), Slurm array tasks (SLURM_ARRAY_TASK_ID with
// SLURM_ARRAY_TASK_COUNT, or _MIN/_MAX/_STEP) combined with SLURM_PROCID/SLURM_NTASKS,
// Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX with `count_hint` or REEL_SHARD_COUNT),
// Open MPI (OMPI_COMM_WORLD_RANK/SIZE), PMI (PMI_RANK/PMI_SIZE). `getenv` is injectable for
// tests. Throws InvalidArgument on inconsistent values.
Shard shard_from_env(int count_hint = 0, const std::function<const char*(const char*)>& getenv = nullptr);

// --shard if given, else the environment.
Shard resolve_shard(const std::string& spec, int count_hint);

uint64_t fnv1a64(const std::string& s);
// Lamping & Veach's jump consistent hash: bucket in [0, buckets).
int32_t jump_hash(uint64_t key, int32_t buckets);

}  // namespace reel
