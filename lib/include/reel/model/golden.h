// SPDX-License-Identifier: Apache-2.0
// Reading reference tensors (golden files, see weights/FORMAT.md) and the error measure
// they are compared with. Shared by `reel tokenize verify` and the tests.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "reel/io/h5.h"
#include "reel/model/ops.h"

namespace reel {

// (1, C, T, H, W) or (1, C, H, W) float dataset -> Act (T, C, H, W).
Act read_ncthw(const h5::File& f, const std::string& dataset);

// max |got - ref| / RMS(ref) (the golden README's measure); +inf on a size mismatch.
double rel_error(std::span<const float> got, std::span<const float> ref);

}  // namespace reel
