// SPDX-License-Identifier: Apache-2.0
// Timing of a tokenizer's encode and decode on seeded random input (reel tokenize bench):
// best of `repeat` runs, multiply-adds counted by the operators, peak RSS.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reel/model/tokenizer.h"

namespace reel {

// "1,3,T,H,W" -> {1, 3, T, H, W}; throws InvalidArgument naming the bad part.
std::vector<int> parse_bench_shape(const std::string& s);

// only: "" both halves, "encode" or "decode" (decode still encodes first, untimed).
nlohmann::json bench_tokenizer(const Tokenizer& tok, const std::vector<int>& shape, int repeat, uint64_t seed,
                               const std::string& only, int threads);

}  // namespace reel
