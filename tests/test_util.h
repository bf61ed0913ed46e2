// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tests: data locations, tensor comparison, golden-file reading.
#pragma once
#include <filesystem>

#include "reel/io/atomic_file.h"
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "reel/io/h5.h"
#include "reel/model/golden.h"
#include "reel/model/ops.h"

namespace reel::test {

inline std::string data_dir() { return REEL_TEST_DATA_DIR; }          // tests/
inline std::string videos_dir() { return REEL_SAMPLE_VIDEOS_DIR; }    // datasets/videos
inline std::string reel_binary() { return REEL_BINARY; }
inline std::string video(const std::string& name) { return videos_dir() + "/" + name; }  // a sample video
// True if `p` lies inside `root` (after normalisation).
inline bool path_within(const std::filesystem::path& root, const std::filesystem::path& p) {
  return reel::path_is_within(root, p);
}

inline double rel_error(std::span<const float> got, std::span<const float> ref) { return reel::rel_error(got, ref); }
inline Act read_act(const h5::File& f, const std::string& ds) { return reel::read_ncthw(f, ds); }

// Uniform random activations in [-1, 1] from a seed.
inline Act random_act(int T, int C, int H, int W, uint32_t seed) {
  Act a(T, C, H, W);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : a.v) v = u(rng);
  return a;
}

// `frames` RGB24 frames of w x h random bytes from a seed: a clip for the window plumbing.
inline std::vector<std::vector<uint8_t>> random_clip(int frames, int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> clip(frames, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3));
  for (auto& f : clip)
    for (auto& p : f) p = static_cast<uint8_t>(rng());
  return clip;
}

}  // namespace reel::test
