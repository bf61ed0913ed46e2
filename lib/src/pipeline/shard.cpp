// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/shard.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "reel/core/status.h"

namespace reel {

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

int32_t jump_hash(uint64_t key, int32_t buckets) {
  int64_t b = -1, j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<int32_t>(b);
}

bool Shard::owns(const std::string& source) const {
  return count <= 1 || jump_hash(fnv1a64(source), count) == index;
}

std::string Shard::suffix() const {
  if (count <= 1) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, ".shard-%05d-of-%05d", index, count);
  return buf;
}

std::string Shard::name(const std::string& path) const {
  if (count <= 1) return path;
  std::filesystem::path p(path);
  std::filesystem::path out = p.parent_path() / (p.stem().string() + suffix() + p.extension().string());
  return out.string();
}

namespace {
bool to_int(const char* s, long* v) {
  if (!s || !*s) return false;
  char* end = nullptr;
  long x = std::strtol(s, &end, 10);
  if (*end) return false;
  *v = x;
  return true;
}

Shard checked(long index, long count, const std::string& origin) {
  if (count < 1 || index < 0 || index >= count)
    throw Error(Code::InvalidArgument, "shard " + std::to_string(index) + "/" + std::to_string(count) + " from " + origin +
                                           " is out of range (want 0 <= index < count)");
  return Shard{static_cast<int>(index), static_cast<int>(count), origin};
}
}  // namespace

Shard parse_shard(const std::string& spec) {
  const size_t slash = spec.find('/');
  long i = 0, n = 0;
  if (slash == std::string::npos || !to_int(spec.substr(0, slash).c_str(), &i) || !to_int(spec.substr(slash + 1).c_str(), &n))
    throw Error(Code::InvalidArgument, "--shard wants I/N (for example 3/16), got '" + spec + "'");
  return checked(i, n, "--shard " + spec);
}

Shard shard_from_env(int count_hint, const std::function<const char*(const char*)>& getenv_fn) {
  auto env = [&](const char* k) -> const char* { return getenv_fn ? getenv_fn(k) : std::getenv(k); };
  // Set by whoever launched the process (reel slurm's scripts): it wins over what the scheduler
  // says, since a resubmitted subset of an array (--array=2,5) numbers its tasks differently.
  if (const char* s = env("REEL_SHARD"); s && *s) {
    Shard sh = parse_shard(s);
    sh.origin = std::string("REEL_SHARD=") + s;
    return sh;
  }
  long id, a, b, step = 1, rank, size;
  // Slurm: array task (one process per task) and/or tasks of a step (srun -n).
  long arr_index = 0, arr_count = 1;
  std::string origin;
  if (to_int(env("SLURM_ARRAY_TASK_ID"), &id)) {
    to_int(env("SLURM_ARRAY_TASK_STEP"), &step);
    if (step < 1) step = 1;
    long min = 0;
    to_int(env("SLURM_ARRAY_TASK_MIN"), &min);
    arr_index = (id - min) / step;
    if (to_int(env("SLURM_ARRAY_TASK_COUNT"), &a)) arr_count = a;
    else if (to_int(env("SLURM_ARRAY_TASK_MAX"), &b)) arr_count = (b - min) / step + 1;
    else throw Error(Code::InvalidArgument, "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor _MAX");
    origin = "SLURM_ARRAY_TASK_ID=" + std::to_string(id) + " of SLURM_ARRAY_TASK_COUNT=" + std::to_string(arr_count);
  }
  long procid = 0, ntasks = 1;
  if (to_int(env("SLURM_PROCID"), &procid) && to_int(env("SLURM_NTASKS"), &ntasks) && ntasks > 1) {
    origin += (origin.empty() ? "" : ", ") + std::string("SLURM_PROCID=") + std::to_string(procid) + " of SLURM_NTASKS=" +
              std::to_string(ntasks);
  } else {
    procid = 0, ntasks = 1;
  }
  if (!origin.empty()) return checked(arr_index * ntasks + procid, arr_count * ntasks, origin);
  if (to_int(env("JOB_COMPLETION_INDEX"), &id)) {
    long n = count_hint;
    if (n <= 0 && !to_int(env("REEL_SHARD_COUNT"), &n))
      throw Error(Code::InvalidArgument,
                  "JOB_COMPLETION_INDEX is set (Kubernetes Indexed Job) but the count is unknown: pass --shard-count or set "
                  "REEL_SHARD_COUNT to the Job's completions");
    return checked(id, n, "JOB_COMPLETION_INDEX=" + std::to_string(id) + " of " + std::to_string(n));
  }
  if (to_int(env("OMPI_COMM_WORLD_RANK"), &rank) && to_int(env("OMPI_COMM_WORLD_SIZE"), &size))
    return checked(rank, size, "OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + " of OMPI_COMM_WORLD_SIZE=" + std::to_string(size));
  if (to_int(env("PMI_RANK"), &rank) && to_int(env("PMI_SIZE"), &size))
    return checked(rank, size, "PMI_RANK=" + std::to_string(rank) + " of PMI_SIZE=" + std::to_string(size));
  return Shard{};
}

Shard resolve_shard(const std::string& spec, int count_hint) {
  if (!spec.empty()) return parse_shard(spec);
  return shard_from_env(count_hint);
}

}  // namespace reel
