// SPDX-License-Identifier: Apache-2.0
// One row of a ChannelAffine (reel/model/ops.h): out[i] = a * in[i] + b, then SiLU if asked.
// Shared by apply_affine and the convolution prologues; in and out may be the same.
#pragma once
#include <cstddef>

namespace reel {

void apply_affine_row(const float* in, size_t n, float a, float b, bool then_silu, float* out);

}  // namespace reel
