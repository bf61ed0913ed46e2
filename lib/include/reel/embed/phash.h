// SPDX-License-Identifier: Apache-2.0
// A perceptual fingerprint of a frame (the DCT hash, "pHash"): luma area-averaged to 32 x 32,
// its 2-D DCT-II, and one bit per coefficient of the 8 x 8 lowest frequencies: set when the
// coefficient is above the median of those 64 without the DC term. Re-encodes, rescaling and
// small colour changes flip few bits; different pictures differ in about half.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reel {

uint64_t dct_hash(const uint8_t* rgb, int w, int h);
inline int hamming(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }
std::string hash_hex(uint64_t h);
// Parses 16 hex digits; false when it is not one.
bool parse_hash_hex(const std::string& s, uint64_t* out);

}  // namespace reel
