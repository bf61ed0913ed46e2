// SPDX-License-Identifier: Apache-2.0
// Shard assignment: --shard, every cluster engine's variables, and the stable hash.
#include <gtest/gtest.h>

#include <map>

#include "reel/core/status.h"
#include "reel/pipeline/shard.h"

using namespace reel;

namespace {

Shard from(const std::map<std::string, std::string>& env, int hint = 0) {
  return shard_from_env(hint, [&](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(Shard, ParsesAndNames) {
  Shard s = parse_shard("3/16");
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 16);
  EXPECT_EQ(s.name("out/latents.h5"), "out/latents.shard-00003-of-00016.h5");
  EXPECT_EQ(Shard{}.name("latents.h5"), "latents.h5");
  for (const char* bad : {"16/16", "-1/4", "a/4", "3", "3/0", "1/2/3"}) EXPECT_THROW(parse_shard(bad), Error) << bad;
}

TEST(Shard, ReadsEveryClusterEngine) {
  Shard a = from({{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_COUNT", "10"}, {"SLURM_ARRAY_TASK_MIN", "0"}});
  EXPECT_EQ(a.index, 7);
  EXPECT_EQ(a.count, 10);
  EXPECT_NE(a.origin.find("SLURM_ARRAY_TASK_ID=7"), std::string::npos);
  // --array=10-40:10 -> tasks 10, 20, 30, 40 are shards 0..3 of 4.
  Shard b = from({{"SLURM_ARRAY_TASK_ID", "30"}, {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_MAX", "40"},
                  {"SLURM_ARRAY_TASK_STEP", "10"}});
  EXPECT_EQ(b.index, 2);
  EXPECT_EQ(b.count, 4);
  // srun -n 4 inside an array task of 3: 12 shards.
  Shard c = from({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}});
  EXPECT_EQ(c.index, 9);
  EXPECT_EQ(c.count, 12);
  Shard d = from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "8"}});
  EXPECT_EQ(d.index, 3);
  EXPECT_EQ(d.count, 8);
  EXPECT_EQ(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).count, 1);  // a plain sbatch job
  Shard k = from({{"JOB_COMPLETION_INDEX", "4"}}, 6);
  EXPECT_EQ(k.index, 4);
  EXPECT_EQ(k.count, 6);
  EXPECT_EQ(from({{"JOB_COMPLETION_INDEX", "4"}, {"REEL_SHARD_COUNT", "5"}}).count, 5);
  EXPECT_THROW(from({{"JOB_COMPLETION_INDEX", "4"}}), Error);  // the count must be given
  Shard m = from({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_EQ(m.index, 1);
  EXPECT_EQ(m.count, 2);
  Shard p = from({{"PMI_RANK", "5"}, {"PMI_SIZE", "6"}});
  EXPECT_EQ(p.index, 5);
  EXPECT_EQ(from({}).count, 1);
  EXPECT_THROW(from({{"SLURM_ARRAY_TASK_ID", "12"}, {"SLURM_ARRAY_TASK_COUNT", "10"}}), Error);
}

TEST(Shard, EveryInputHasOneOwnerAndFewMoveWhenTheCountGrows) {
  const int n = 20000;
  std::vector<int> per(4, 0);
  int moved = 0;
  for (int i = 0; i < n; ++i) {
    const std::string src = "/data/videos/" + std::to_string(i * 7919) + ".mp4";
    int owners = 0;
    for (int s = 0; s < 4; ++s)
      if (Shard{s, 4, ""}.owns(src)) ++owners, ++per[s];
    ASSERT_EQ(owners, 1) << src;
    const uint64_t h = fnv1a64(src);
    if (jump_hash(h, 4) != jump_hash(h, 5)) ++moved;
  }
  for (int c : per) EXPECT_NEAR(c, n / 4, n / 40);  // balanced within 10%
  // Growing 4 -> 5 shards moves about a fifth of the inputs (mod-N hashing would move 80%).
  EXPECT_NEAR(moved, n / 5, n / 50);
  EXPECT_EQ(jump_hash(fnv1a64("/data/a.mp4"), 1000), jump_hash(fnv1a64("/data/a.mp4"), 1000));  // stable
}

}  // namespace
