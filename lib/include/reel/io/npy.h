// SPDX-License-Identifier: Apache-2.0
// NumPy's .npy format (version 1.0): a little-endian, C-order array that numpy.load and
// WebDataset's decoders read. The header is padded so the data starts 64-byte aligned.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reel {

std::string npy_bytes(const std::vector<int64_t>& shape, const float* data);     // <f4
std::string npy_bytes(const std::vector<int64_t>& shape, const uint16_t* data);  // <u2
std::string npy_bytes(const std::vector<int64_t>& shape, const int32_t* data);   // <i4
// The size npy_bytes returns for this shape and element size, without building it.
uint64_t npy_size(const std::vector<int64_t>& shape, size_t elem_size);

}  // namespace reel
