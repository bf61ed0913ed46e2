// SPDX-License-Identifier: Apache-2.0
// Integers read from untrusted JSON (model cards, configs, file attributes). nlohmann's
// get<int>() casts a float to int, which is undefined behaviour out of range (1e81), and wraps
// an integer past int's range into a small one: reel accepts only a JSON integer inside the
// range the field allows, and lets the caller say what is wrong.
#pragma once
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace reel {

inline std::optional<int64_t> json_int(const nlohmann::json& j, int64_t lo = std::numeric_limits<int32_t>::min(),
                                       int64_t hi = std::numeric_limits<int32_t>::max()) {
  if (!j.is_number_integer()) return std::nullopt;
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (hi < 0 || u > static_cast<uint64_t>(hi) || static_cast<int64_t>(u) < lo) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  const int64_t v = j.get<int64_t>();
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace reel
