// SPDX-License-Identifier: Apache-2.0
// Finite scalar quantisation as in the reference (all in float32):
//   half_l = (L-1)(1+1e-3)/2, offset = 0.5 for even L, shift = atanh(offset/half_l)
//   q = round_half_even(tanh(z + shift) * half_l - offset), code = q / (L/2)
//   index = sum_i (q_i + L_i/2) * basis_i, basis = cumulative product of the levels.
#include <cmath>

#include "backend/device_math.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"

namespace reel {

void fsq_quantize(const Act& z, const std::vector<int>& levels, Act* codes, std::vector<int32_t>* indices) {
  const int D = static_cast<int>(levels.size());
  if (z.C != D) throw Error(Code::Internal, "fsq: channel count != number of levels");
  dm::FsqCodebook cb;
  if (!dm::fsq_codebook(levels.data(), D, &cb)) throw Error(Code::Internal, "fsq: " + std::to_string(D) + " axes, at most 16");
  *codes = Act(z.T, D, z.H, z.W);
  indices->assign(static_cast<size_t>(z.T) * z.plane(), 0);
  const size_t HW = z.plane();
  for (int t = 0; t < z.T; ++t)
    for (size_t p = 0; p < HW; ++p)
      (*indices)[t * HW + p] =
          static_cast<int32_t>(dm::fsq_encode(z.frame(t) + p, static_cast<long>(HW), cb, codes->frame(t) + p));
}

Act fsq_dequantize(const std::vector<int32_t>& indices, int T, int H, int W, const std::vector<int>& levels) {
  const int D = static_cast<int>(levels.size());
  dm::FsqCodebook cb;
  if (!dm::fsq_codebook(levels.data(), D, &cb)) throw Error(Code::Internal, "fsq: " + std::to_string(D) + " axes, at most 16");
  int64_t total = 1;
  for (int l : levels) total *= l;
  Act codes(T, D, H, W);
  const size_t HW = static_cast<size_t>(H) * W;
  if (indices.size() != static_cast<size_t>(T) * HW) throw Error(Code::Internal, "fsq: index count mismatch");
  for (int t = 0; t < T; ++t)
    for (size_t p = 0; p < HW; ++p) {
      const int64_t idx = indices[t * HW + p];
      if (idx < 0 || idx >= total)
        throw Error(Code::InvalidData, "token id " + std::to_string(idx) + " outside [0, " + std::to_string(total) + ")");
      dm::fsq_decode(idx, cb, codes.frame(t) + p, static_cast<long>(HW));
    }
  return codes;
}

}  // namespace reel
